"""How a screen's buttons name the audience picker's three moves (kept apart so that each
feature keeps its own callback references)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.callbacks import CallbackRef


@dataclass(frozen=True)
class PickerRefs:
    """The references of the picker's buttons on one screen."""

    menu: CallbackRef  # back to the menu of criteria
    kind: Callable[[str], CallbackRef]  # a criterion's values (its short name: p, c, o, r, l)
    choose: Callable[[str], CallbackRef]  # an audience (all, <short>#<index>, <short>.<value>)
    by_value: bool = False  # name values (falling back to indexes) rather than indexes only

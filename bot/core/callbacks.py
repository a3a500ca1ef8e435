"""The references a choice carries back (a button's callback data): one small frozen class per
prefix, with `pack` and `parse`. The core puts them in its choices (`Button.ref`) as they are;
each channel's renderer packs them within its own limits (Telegram's 64 bytes, WhatsApp's
reply ids), and the features' routers (`handlers/`) parse them to route the press. No other
code writes or splits them.

A reference is `<prefix>:<field>:<field>…`, its fields in the order the class declares them:
`int` (digits), `bool` (`1` or `0`), `str` (no colon, except in the last field, which takes the
rest), `Literal[…]` (one of its values). Trailing fields with a default may be left out.

A reference comes back from the phone, so a modified client can send anything (up to 64 bytes
on Telegram). `parse` returns None for anything that is not a reference of its class, and the
feature answers it like every stale or forged press (`expired_button`). Ids in it go to
SQLite, whose integers stop at 2**63 - 1 (19 digits): a longer number raised OverflowError deep
in a query. The bot never writes a number that long (ids, offsets, turns, indexes are small),
so any run of 19 digits or more is a forged press, answered before a feature parses it
(`is_out_of_range`).

Routing (`pattern`, used by the routers' `choice` routes, `handlers/routing.py`): a class
that routes by `prefix` sends every reference under its prefix to its feature, which answers
a garbled one (members only: a visitor gets the way to join); an `exact` one takes only what
parses, the rest falling to the catch-all's expired answer.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal, Self

OUT_OF_RANGE = re.compile(r"\d{19,}")
_DIGITS = re.compile(r"[0-9]{1,18}")


def is_out_of_range(data: object) -> bool:
    """Whether the data carries a number no button of the bot ever had."""
    return isinstance(data, str) and OUT_OF_RANGE.search(data) is not None


def _encode(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _decode(kind: object, text: str) -> tuple[bool, object]:
    """(True, value) when `text` is a value of `kind`, else (False, None)."""
    if kind is int:
        return (True, int(text)) if _DIGITS.fullmatch(text) else (False, None)
    if kind is bool:
        return (True, text == "1") if text in ("0", "1") else (False, None)
    if typing.get_origin(kind) is Literal:
        return (True, text) if text in typing.get_args(kind) else (False, None)
    return True, text


_FIELDS: dict[type, list[tuple[dataclasses.Field[object], object]]] = {}


@dataclass(frozen=True)
class CallbackRef:
    """A reference under one prefix; subclasses declare the prefix and the fields."""

    PREFIX: ClassVar[str]
    ROUTE: ClassVar[Literal["prefix", "exact"]] = "prefix"
    _registry: ClassVar[dict[str, type[CallbackRef]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.PREFIX in CallbackRef._registry:
            raise TypeError(f"callback prefix {cls.PREFIX!r} is taken")
        CallbackRef._registry[cls.PREFIX] = cls

    @classmethod
    def _fields(cls) -> list[tuple[dataclasses.Field[object], object]]:
        # Read once per class: resolving the annotations (strings, with `from __future__
        # import annotations`) compiles each of them, about a millisecond a class — on every
        # button written and every press read, it was a broadcast's largest cost.
        found = _FIELDS.get(cls)
        if found is None:
            hints = typing.get_type_hints(cls)
            found = _FIELDS[cls] = [(f, hints[f.name]) for f in dataclasses.fields(cls)]
        return found

    def pack(self) -> str:
        """The reference as callback data."""
        parts = [self.PREFIX]
        fields = self._fields()
        values = [getattr(self, f.name) for f, _kind in fields]
        # Trailing fields left at their default are not written.
        while values and fields[len(values) - 1][0].default is not dataclasses.MISSING \
                and values[-1] == fields[len(values) - 1][0].default:
            values.pop()
        parts += [_encode(v) for v in values]
        return ":".join(parts)

    @classmethod
    def parse(cls, data: object) -> Self | None:
        """The reference `data` stands for, or None if it is not one of this class."""
        if not isinstance(data, str):
            return None
        fields = cls._fields()
        if data == cls.PREFIX:
            rest: list[str] = []
        elif data.startswith(cls.PREFIX + ":") and fields:
            rest = data[len(cls.PREFIX) + 1:].split(":", len(fields) - 1)
        else:
            return None
        required = sum(1 for f, _k in fields if f.default is dataclasses.MISSING)
        if not required <= len(rest) <= len(fields):
            return None
        values: dict[str, object] = {}
        for (field, kind), text in zip(fields, rest, strict=False):
            ok, value = _decode(kind, text)
            if not ok:
                return None
            values[field.name] = value
        return cls(**values)

    @classmethod
    def matches(cls, data: object) -> bool:
        """Whether `data` routes to this class's feature (see the module's docstring)."""
        if cls.ROUTE == "exact":
            return cls.parse(data) is not None
        return isinstance(data, str) and data.startswith(cls.PREFIX + ":")

    @classmethod
    def pattern(cls) -> Callable[[object], bool]:
        """The test a channel's handler uses to route a press to this feature."""
        return cls.matches


# --- joining ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OnboardingLanguage(CallbackRef):
    """ob:l:<language>: the language chosen before joining."""

    PREFIX = "ob:l"
    language: str


@dataclass(frozen=True)
class OnboardingConsent(CallbackRef):
    """ob:c:<1|0>: the privacy notice accepted or declined."""

    PREFIX = "ob:c"
    ROUTE = "exact"
    agreed: bool


@dataclass(frozen=True)
class OnboardingBack(CallbackRef):
    """ob:back: back to the choice of language."""

    PREFIX = "ob:back"
    ROUTE = "exact"


# --- a member's account ----------------------------------------------------------------------

@dataclass(frozen=True)
class AccountLanguage(CallbackRef):
    """ac:l:<language>: /language's choice."""

    PREFIX = "ac:l"
    language: str


@dataclass(frozen=True)
class Forget(CallbackRef):
    """ac:f:<1|0>: /forget confirmed or not."""

    PREFIX = "ac:f"
    ROUTE = "exact"
    confirmed: bool


# --- reports, field updates, reviews ---------------------------------------------------------

@dataclass(frozen=True)
class ReportStep(CallbackRef):
    """rp:<action>:<draft id>[:<argument>]: a button of the guided report (the argument is
    the step's token, a project id or a period's key)."""

    PREFIX = "rp"
    action: str
    draft_id: int
    argument: str = ""


@dataclass(frozen=True)
class MyReportsPage(CallbackRef):
    """mr:<offset>: a page of /myreports."""

    PREFIX = "mr"
    ROUTE = "exact"
    offset: int


@dataclass(frozen=True)
class Amend(CallbackRef):
    """am:<report id>: amend one of the member's reports."""

    PREFIX = "am"
    report_id: int


@dataclass(frozen=True)
class FieldUpdate(CallbackRef):
    """fu:ok:<draft>:<project> | fu:no:<draft> | fu:an:<draft>:<outbox row>."""

    PREFIX = "fu"
    action: str
    draft_id: int
    argument: str = ""


@dataclass(frozen=True)
class Review(CallbackRef):
    """rv:<ok|re|cx>:<report id>: accept, return with a comment, or cancel the comment."""

    PREFIX = "rv"
    action: str
    report_id: int


@dataclass(frozen=True)
class Notifications(CallbackRef):
    """nt:<1|0>: the notification of new reports on or off."""

    PREFIX = "nt"
    ROUTE = "exact"
    on: bool


# --- consulting --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LatestPage(CallbackRef):
    """la:<offset>:<project id, or 0 for all>: a page of /latest."""

    PREFIX = "la"
    offset: int
    project_id: int


@dataclass(frozen=True)
class OpenReport(CallbackRef):
    """lv:<report id>: one report, from a list."""

    PREFIX = "lv"
    report_id: int


# --- reminders ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reminder(CallbackRef):
    """rm:<go|1|3>:<reminder id>: report (or answer) now, or snooze for days."""

    PREFIX = "rm"
    action: str
    reminder_id: int


# --- announcements -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AnnouncementAction(CallbackRef):
    """an:<action>:<announcement id>[:<argument>]: composing, following up, "Received"."""

    PREFIX = "an"
    action: str
    announcement_id: int
    argument: str = ""


# --- surveys -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SurveyStart(CallbackRef):
    """sv:go:<campaign id>: open (or resume) a questionnaire; routed with `SurveyAnswer`."""

    PREFIX = "sv:go"
    campaign_id: int


@dataclass(frozen=True)
class SurveyAnswer(CallbackRef):
    """sv:<action>:<response id>:<step token>[:<argument>]: a button of the questionnaire
    under way, naming the step it answers."""

    PREFIX = "sv"
    action: str
    response_id: int
    token: str
    argument: str = ""


@dataclass(frozen=True)
class SurveyLaunch(CallbackRef):
    """sl:<action>[:<argument>]: the coordinator's /survey screens."""

    PREFIX = "sl"
    action: str = ""
    argument: str = ""


@dataclass(frozen=True)
class SurveyResults(CallbackRef):
    """sr:<campaign id>[:p<page of questions>|:q<question index>]: a campaign's results."""

    PREFIX = "sr"
    campaign_id: int
    part: str = ""


@dataclass(frozen=True)
class SurveyExport(CallbackRef):
    """sx:<campaign id>: a campaign's answers wide, as a spreadsheet."""

    PREFIX = "sx"
    campaign_id: int


def prefixes() -> dict[str, type[CallbackRef]]:
    """Every prefix with its class (the authorisation matrix presses each)."""
    return dict(CallbackRef._registry)

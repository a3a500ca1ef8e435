"""Checks that run before every feature: forged button data is refused in one place."""

from __future__ import annotations

from bot.core.callbacks import is_out_of_range
from bot.core.events import Choice
from bot.core.onboarding import expired_button
from bot.core.replies import Outcome
from handlers.routing import Context, Router

router = Router("guards")


def forged(data: object) -> bool:
    """Whether a press carries what no button of the bot ever had: no data at all (every
    button has some; python-telegram-bot gave such presses to the first handler with a
    pattern, this one), or an impossible number."""
    return not data or is_out_of_range(data)


@router.choice(forged)
async def out_of_range(event: Choice, ctx: Context) -> Outcome:
    """Answer a forged press as an expired button; change nothing."""
    return expired_button()

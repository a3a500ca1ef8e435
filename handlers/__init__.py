"""The features' routers over neutral events, one module per feature, in one ordered list.

Each channel's adapter reads its wire format into a neutral event (`bot/core/events.py`) and
asks `dispatch`; Telegram's is `bot/channels/telegram/adapter.py`. Nothing here imports a
channel (an import-linter contract in pyproject.toml).
"""

from __future__ import annotations

from bot.core.events import InboundEvent
from bot.core.replies import Outcome
from handlers import (
    account,
    announcements,
    consultation,
    guards,
    messages,
    onboarding,
    reminders,
    reports,
    surveys,
)
from handlers.routing import Context, Route, Router

__all__ = ["ROUTERS", "Context", "Router", "command_names", "dispatch", "route_for"]

# Order matters: the first route that takes an event answers it. `guards` refuses forged
# choice data before any feature parses it, so it comes first; `messages` holds the
# catch-alls (free input, menu labels, unknown commands, other messages, stale choices), so
# it comes last.
ROUTERS: tuple[Router, ...] = (
    guards.router,
    onboarding.router,
    account.router,
    announcements.router,
    reports.router,
    surveys.router,
    consultation.router,
    reminders.router,
    messages.router,
)


def route_for(event: InboundEvent) -> Route | None:
    """The first route of the ordered routers that takes the event."""
    for router in ROUTERS:
        route = router.route_for(event)
        if route is not None:
            return route
    return None


async def dispatch(event: InboundEvent, ctx: Context) -> Outcome | None:
    """Answer the event with the first route that takes it; None if none does."""
    route = route_for(event)
    return None if route is None else await route.call(event, ctx)


def command_names() -> set[str]:
    """Every command a feature routes by name (former names included)."""
    return {name for router in ROUTERS for name in router.command_names()}

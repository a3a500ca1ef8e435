"""Telegram handlers, one module per feature, registered in one ordered place."""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    account,
    announcements,
    consultation,
    errors,
    guards,
    messages,
    onboarding,
    reminders,
    reports,
    surveys,
    telegram_adapter,
)

# Order matters: PTB runs the first matching handler of the group, and `messages` holds the
# catch-alls (free text, unknown commands, other messages, stale buttons), so it comes last;
# `guards` refuses forged button data before any feature parses it, so it comes first.
ROUTERS = (guards, onboarding, account, announcements, reports, surveys, consultation, reminders,
           messages)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add every feature's handlers in order, then the error handler."""
    for router in ROUTERS:
        if hasattr(router, "router"):  # a feature routed over neutral events
            app.add_handlers(telegram_adapter.handlers_for(router.router))
        else:
            app.add_handlers(router.HANDLERS)
    app.add_error_handler(errors.on_error)

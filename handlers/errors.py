"""The one error handler: log first, then reassure the person."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.i18n import _
from bot.logs import redact
from bot.transport import scope as scopes
from bot.transport.context import PalabreContext
from bot.transport.processor import AlreadyHandled

log = logging.getLogger("palabre.errors")


async def on_error(update: object, context: PalabreContext) -> None:
    """Log the failed update and its exception, then tell the person nothing is lost."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    scope = scopes.maybe_current()
    if isinstance(error, AlreadyHandled):
        log.info("update %s was handled by another worker; skipped", update_id)
        if scope is not None:
            scope.skipped = True
        return
    log.error("update %s failed: %r", update_id, error, exc_info=error)
    if scope is not None and error is not None:
        scope.error = redact(f"{type(error).__name__}: {error}")[:1000]
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return  # the person blocked the bot: there is nobody to tell
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            _("Sorry, something went wrong on our side. Nothing you sent is lost; please try "
              "again in a moment."),
        )
    except TelegramError as exc:
        log.warning("could not tell chat %s about the error: %s",
                    update.effective_chat.id, redact(str(exc)))

"""The one error handler: log first, then reassure the person."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.channels.telegram import scope as scopes
from bot.channels.telegram.context import PalabreContext
from bot.channels.telegram.processor import AlreadyHandled
from bot.i18n import _
from bot.logs import redact

log = logging.getLogger("palabre.errors")


async def on_error(update: object, context: PalabreContext) -> None:
    """Log the failed update and its exception, undo its unsaved writes, tell the person."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    scope = scopes.maybe_current()
    if isinstance(error, AlreadyHandled):
        log.info("update %s was handled by another worker; skipped", update_id)
        if scope is not None:
            scope.skipped = True
        return
    log.error("update %s failed: %r", update_id, error, exc_info=error)
    # First undo what the failed handler wrote and did not commit: the message below must
    # not commit it (every outgoing call commits the update's writes first).
    await context.services.store.db.discard_unit()
    if scope is not None and error is not None:
        scope.error = redact(f"{type(error).__name__}: {error}")[:1000]
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return  # the person blocked the bot: there is nobody to tell
    if context.services.store.db.unit_saved():
        # The work was saved; only the answer failed. Never ask to redo saved work: the next
        # message shows where they stand (the lost-reply note is still set).
        text = _("✅ What you sent is saved, but my answer did not get through. Send any "
                 "message and I will show you where you are.")
    else:
        text = _("Sorry, something went wrong on our side and this message was not saved. "
                 "Please send it again in a moment.")
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        log.warning("could not tell chat %s about the error: %s",
                    update.effective_chat.id, redact(str(exc)))

"""The core's outcomes on Telegram: the replies in the update's chat, the notices to others
(a review card's message recorded), the edits, and the command menu refreshed."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.channels.telegram import render
from bot.channels.telegram import scope as scopes
from bot.channels.telegram.context import PalabreContext
from bot.core.addresses import channel_of
from bot.core.replies import Notice, Outcome
from bot.logs import redact
from bot.services import Services

log = logging.getLogger(__name__)


async def notify(bot: ExtBot[None], services: Services, notice: Notice) -> None:
    """Send a notice to a person on Telegram (a review card's message recorded)."""
    if notice.review_card and notice.report_id is not None:
        sent = await render.send_one(bot, notice.telegram_user_id, notice.reply)
        store = services.store
        async with store.transaction():
            await store.reports.record_card(notice.report_id, notice.telegram_user_id,
                                            sent.message_id, services.clock())
    else:
        await render.send_reply(bot, notice.telegram_user_id, notice.reply)


async def _notify_elsewhere(context: PalabreContext, notice: Notice) -> None:
    """A notice for a person on another channel (WhatsApp), sent by that channel's sender,
    which the application sets in `bot_data["notify_other_channel"]`."""
    other = context.application.bot_data.get("notify_other_channel")
    if other is None:
        log.warning("no channel to notify %s", notice.telegram_user_id)
        return
    # Nothing leaves about work that could still be rolled back (Telegram's own calls commit
    # the update's writes in the flood limiter; this one does not go through it).
    await context.services.store.db.flush_unit()
    try:
        await other(notice)
    except Exception as exc:  # the person acting is not to blame: logged
        log.warning("could not notify %s: %s", notice.telegram_user_id, redact(str(exc)))


async def answer(update: Update, context: PalabreContext, outcome: Outcome) -> None:
    """Render the outcome, tell the others it concerns, refresh the command menu if asked."""
    scope = scopes.maybe_current()
    if outcome.stays and scope is not None:
        scope.shows_state = True
    await render.deliver(update, context.bot, outcome)
    for notice in outcome.notices:
        if channel_of(notice.telegram_user_id) != "telegram":
            await _notify_elsewhere(context, notice)
            continue
        try:
            await notify(context.bot, context.services, notice)
        except TelegramError as exc:
            # The person acting is not to blame: their action stands, the notice is logged.
            log.warning("could not notify %s: %s", notice.telegram_user_id, redact(str(exc)))
    for edit in outcome.edits:
        try:
            await render.edit_text(context.bot, edit.chat_id, edit.message_id, edit.reply)
        except TelegramError as exc:  # deleted by its reader, say: nothing to mend
            log.info("could not update message %s: %s", edit.message_id, redact(str(exc)))
    if outcome.refresh_commands and update.effective_chat is not None and update.effective_user:
        member = await context.services.store.members.by_telegram_id(update.effective_user.id)
        await render.set_member_commands(context.bot, update.effective_chat.id, member)

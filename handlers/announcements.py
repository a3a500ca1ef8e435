"""Announcements: /announce, /announcements, their buttons, and replies to announcements."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram.context import PalabreContext
from bot.core.callbacks import AnnouncementAction
from bot.core.replies import Outcome
from handlers.common import PRIVATE, answer, members_only, now
from storage.models import Member


@members_only
async def announce(update: Update, context: PalabreContext, member: Member) -> None:
    """Start writing an announcement (coordinators and administrators)."""
    await answer(update, context, await context.services.announcements.begin(member, now(context)))


@members_only
async def announcements(update: Update, context: PalabreContext, member: Member) -> None:
    """Show the member's latest announcements with their delivery counts."""
    await answer(update, context, await context.services.announcements.recent(member))


@members_only
async def announcement_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Handle a button of an announcement: composing, following up, or "Received"."""
    query = update.callback_query
    data = (query and query.data) or ""
    service = context.services.announcements
    ref = AnnouncementAction.parse(data)
    if ref is not None and ref.action == "ack" and not ref.argument and data == ref.pack():
        # The pressed message's id proves delivery of a row left uncertain by a crash.
        message_id = query.message.message_id if query and query.message else None
        outcome = await service.acknowledge(member, ref.announcement_id, now(context),
                                            message_id)
    else:
        outcome = await service.on_callback(member, data, now(context))
    await answer(update, context, outcome)


async def reply_outcome(message: Message, context: PalabreContext,
                        member: Member) -> Outcome | None:
    """Pass a Telegram reply to an announcement on to its author; None if the message is not
    one (it is then handled as usual)."""
    target = message.reply_to_message
    body = message.text or message.caption or ""
    if target is None or not body.strip():
        return None
    return await context.services.announcements.on_reply(
        member, message.chat_id, target.message_id, message.message_id, body, now(context))


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("announce", announce, filters=PRIVATE),
    CommandHandler("announcements", announcements, filters=PRIVATE),
    CallbackQueryHandler(announcement_button, pattern=AnnouncementAction.pattern()),
]

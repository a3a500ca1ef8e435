"""Announcements: /announce, /announcements and their buttons (replies to announcements are
free input: `bot/core/free_input.py`)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram.context import PalabreContext
from bot.channels.telegram.inbound import event_of
from bot.core.callbacks import AnnouncementAction
from bot.core.events import Choice
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
    event = event_of(update)
    data = event.data if isinstance(event, Choice) else ""
    service = context.services.announcements
    ref = AnnouncementAction.parse(data)
    if ref is not None and ref.action == "ack" and not ref.argument and data == ref.pack():
        # The pressed message's id proves delivery of a row left uncertain by a crash.
        message_id = event.numeric_message_id if isinstance(event, Choice) else None
        outcome = await service.acknowledge(member, ref.announcement_id, now(context),
                                            message_id)
    else:
        outcome = await service.on_callback(member, data, now(context))
    await answer(update, context, outcome)


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("announce", announce, filters=PRIVATE),
    CommandHandler("announcements", announcements, filters=PRIVATE),
    CallbackQueryHandler(announcement_button, pattern=AnnouncementAction.pattern()),
]

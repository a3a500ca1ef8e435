"""Reminders: their buttons (report now, snooze) and /overdue."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.channels.telegram.context import PalabreContext
from bot.core.callbacks import Reminder
from handlers.common import PRIVATE, answer, callback_data, members_only, now
from storage.models import Member


@members_only
async def reminder_button(update: Update, context: PalabreContext, member: Member) -> None:
    """Start the report a reminder is about, or move the reminder later."""
    data = callback_data(update)
    await answer(update, context,
                 await context.services.reminders.on_callback(member, data, now(context)))


@members_only
async def overdue(update: Update, context: PalabreContext, member: Member) -> None:
    """List the late reports of the projects in the member's scope."""
    await answer(update, context, await context.services.reminders.overdue(member, now(context)))


HANDLERS: list[BaseHandler[Update, PalabreContext, None]] = [
    CommandHandler("overdue", overdue, filters=PRIVATE),
    CallbackQueryHandler(reminder_button, pattern=Reminder.pattern()),
]

"""Reminders: their buttons (report now, snooze) and /overdue."""

from __future__ import annotations

from bot.core.callbacks import Reminder
from bot.core.events import Choice, Command
from bot.core.replies import Outcome
from handlers.routing import Context, Router
from storage.models import Member

router = Router("reminders")


@router.command("overdue", members_only=True)
async def overdue(event: Command, ctx: Context, member: Member) -> Outcome:
    """List the late reports of the projects in the member's scope."""
    return await ctx.services.reminders.overdue(member, ctx.now())


@router.choice(Reminder, members_only=True)
async def reminder_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Start the report a reminder is about, or move the reminder later."""
    return await ctx.services.reminders.on_callback(member, event.data, ctx.now())

"""Announcements: /announce, /announcements and their buttons (replies to announcements are
free input: `bot/core/free_input.py`)."""

from __future__ import annotations

from bot.core.callbacks import AnnouncementAction
from bot.core.events import Choice, Command
from bot.core.replies import Outcome
from handlers.routing import Context, Router
from storage.models import Member

router = Router("announcements")


@router.command("announce", members_only=True)
async def announce(event: Command, ctx: Context, member: Member) -> Outcome:
    """Start writing an announcement (coordinators and administrators)."""
    return await ctx.services.announcements.begin(member, ctx.now())


@router.command("announcements", members_only=True)
async def announcements(event: Command, ctx: Context, member: Member) -> Outcome:
    """Show the member's latest announcements with their delivery counts."""
    return await ctx.services.announcements.recent(member)


@router.choice(AnnouncementAction, members_only=True)
async def announcement_button(event: Choice, ctx: Context, member: Member) -> Outcome:
    """Handle a button of an announcement: composing, following up, or "Received"."""
    service = ctx.services.announcements
    ref = AnnouncementAction.parse(event.data)
    if ref is not None and ref.action == "ack" and not ref.argument and event.data == ref.pack():
        # The pressed message's id proves delivery of a row left uncertain by a crash.
        return await service.acknowledge(member, ref.announcement_id, ctx.now(),
                                         event.numeric_message_id)
    return await service.on_callback(member, event.data, ctx.now())

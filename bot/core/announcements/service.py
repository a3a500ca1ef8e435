"""The announcement service: composing, the outbox, the follow-up, and the one entry point
for their buttons."""

from __future__ import annotations

from datetime import datetime

from bot.core.announcements.composing import Composing
from bot.core.announcements.follow_up import FollowUp
from bot.core.callbacks import AnnouncementAction
from bot.core.onboarding import expired_button
from bot.core.replies import Outcome
from storage.models import (
    Member,
)


class AnnouncementService(Composing, FollowUp):
    """Compose in the chat (or the CLI), target an audience, deliver through the outbox, and
    open a dialogue (replies routed back, acknowledgements, reminders)."""

    async def on_callback(self, member: Member, data: str, now: datetime) -> Outcome:
        ref = AnnouncementAction.parse(data)
        if ref is None:
            return expired_button()
        action, announcement_id, argument = ref.action, ref.announcement_id, ref.argument
        if action == "ack":
            return await self.acknowledge(member, announcement_id, now)
        if action in ("who", "rm", "ra"):
            return await self._follow_up(member, action, announcement_id, now)
        if action == "rd":
            return await self.show(member, announcement_id)
        if action == "ls":
            return await self.recent(member, replace=True)
        draft = await self._draft(member)
        if draft is None or draft.id != announcement_id:
            return expired_button()
        return await self._draft_action(member, draft, action, argument, now)

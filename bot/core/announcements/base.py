"""What the parts of the announcement service share: the store, the audience picker, the
limits, the authors of an announcement, the callback references."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.config import base_language
from bot.core.announcements.audience import Audience, AudiencePicker
from bot.core.callbacks import AnnouncementAction
from bot.core.replies import Reply
from storage import Store
from storage.models import (
    Announcement,
    Member,
    OutboxRow,
    Recipient,
)

# What an announcement may hold: a notice read at a glance and acknowledged as one message,
# its header included (a product rule, documented in docs/security.md). Each channel's
# renderer still pages whatever does not fit its own limits.
MAX_TEXT = 3500
MAX_CAPTION = 900  # beside a photo or a document: a short caption, the file says the rest
MAX_ANSWER = 4000  # characters of a member's answer kept and passed on to the author

MAX_ATTEMPTS = 8  # transient failures (5xx, timeouts) before a row is reported as failed
RECENT = 5
AUTHORS: frozenset[str] = frozenset({"coordinator", "admin"})
# A plain text (not a Telegram reply) typed this soon after an announcement may answer it:
# the member is asked before it is passed on.
REPLY_WINDOW = timedelta(hours=48)


def choose_text(default: str, versions: Mapping[str, str], language: str) -> str:
    """The version in the member's language (pt_BR reads pt), else the default one."""
    return versions.get(language) or versions.get(base_language(language)) or default


@dataclass(frozen=True)
class Sending:
    """What the sender sends for one outbox row."""

    row: OutboxRow
    reply: Reply


@dataclass
class _Cached:
    announcement: Announcement
    versions: dict[str, str]
    author_name: str
    organisation: str


class AnnouncementBase:
    def __init__(self, store: Store, timezone: str) -> None:
        self.store = store
        self.timezone = timezone
        self.audiences = AudiencePicker(store)
        # Set when rows are queued, so that the sender starts at once instead of at its next
        # look at the database.
        self.queued = asyncio.Event()
        self._cache: dict[int, _Cached] = {}

    async def recipients(self, author: Member | None, audience: Audience) -> list[Recipient]:
        """Who an audience reaches within the author's scope (see `AudiencePicker`)."""
        return await self.audiences.recipients(author, audience)

    @staticmethod
    def may_announce(member: Member) -> bool:
        return member.role in AUTHORS and member.is_active

    @staticmethod
    def _cb(action: str, announcement_id: int, argument: str = "") -> AnnouncementAction:
        return AnnouncementAction(action, announcement_id, argument)

    async def _authors(self, announcement: Announcement) -> list[Member]:
        """Who hears about an announcement: its author, or the administrators for one sent
        from the command line."""
        if announcement.author_id is not None:
            author = await self.store.members.by_id(announcement.author_id)
            return [author] if author and author.telegram_user_id and author.is_active else []
        return [m for m in await self.store.members.active_admins()
                if m.telegram_user_id is not None]


def _excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

"""WhatsApp's durable webhook inbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from storage.db import Database


class _Event(Protocol):
    @property
    def event_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def wa_id(self) -> str: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def payload(self) -> str: ...


class WhatsAppRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, events: Sequence[_Event], now: datetime) -> int:
        """Store events; ids already known are left as they are. Return how many were new."""
        if not events:
            return 0
        return await self.db.write_batch([(
            "INSERT OR IGNORE INTO wa_inbox (event_id, kind, wa_id, sent_at, payload,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(e.event_id, e.kind, e.wa_id, e.timestamp, e.payload, now.isoformat())
             for e in events])])

    async def pending(self, limit: int = 1000) -> list[tuple[str, str, str, str]]:
        """(event id, kind, wa_id, payload) of pending events, oldest first per person."""
        rows = await self.db.fetchall(
            "SELECT event_id, kind, wa_id, payload FROM wa_inbox WHERE status = 'pending'"
            " ORDER BY sent_at, rowid LIMIT ?", (limit,))
        return [(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM wa_inbox"))

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

    async def people_waiting(self, limit: int = 1000) -> list[str]:
        """The WhatsApp ids with pending messages, the longest waiting first."""
        rows = await self.db.fetchall(
            "SELECT wa_id FROM wa_inbox WHERE status = 'pending' AND kind = 'message'"
            " GROUP BY wa_id ORDER BY MIN(sent_at), MIN(rowid) LIMIT ?", (limit,))
        return [str(r[0]) for r in rows]

    async def next_message(self, wa_id: str) -> tuple[str, str | None] | None:
        """(event id, payload) of the person's oldest pending message, if any."""
        row = await self.db.fetchone(
            "SELECT event_id, payload FROM wa_inbox WHERE status = 'pending'"
            " AND kind = 'message' AND wa_id = ? ORDER BY sent_at, rowid LIMIT 1", (wa_id,))
        return None if row is None else (str(row[0]), None if row[1] is None else str(row[1]))

    async def mark(self, event_id: str, status: str, now: datetime,
                   error: str | None = None) -> bool:
        """Close a pending event as `handled` or `failed`; False if it was not pending (another
        worker closed it first). Joins the caller's transaction."""
        cursor = await self.db.execute(
            "UPDATE wa_inbox SET status = ?, handled_at = ?, error = ?"
            " WHERE event_id = ? AND status = 'pending'",
            (status, now.isoformat(), error, event_id))
        return bool(cursor.rowcount)

    async def fail(self, event_id: str, now: datetime, error: str) -> None:
        """Record that handling failed (inside the caller's transaction), whatever the status:
        a failure after a committed write must be visible, not retried."""
        await self.db.execute(
            "UPDATE wa_inbox SET status = 'failed', handled_at = ?, error = ? WHERE event_id = ?",
            (now.isoformat(), error, event_id))

    async def scrub_person(self, wa_id: str) -> None:
        """Drop a person's number and the raw payloads of their events (/forget); a pending
        message without payload is closed unanswered by the processor."""
        await self.db.execute(
            "UPDATE wa_inbox SET payload = NULL, wa_id = '' WHERE wa_id = ?", (wa_id,))

    async def last_message_at(self, wa_id: str) -> int | None:
        """Meta's timestamp (seconds) of the person's last message: it opened the window."""
        value = await self.db.fetchval(
            "SELECT MAX(sent_at) FROM wa_inbox WHERE kind = 'message' AND wa_id = ?", (wa_id,))
        return None if value is None else int(value)

    async def pending_statuses(self, limit: int = 500) -> list[tuple[str, str | None]]:
        """(event id, payload) of the statuses not read yet, oldest first."""
        rows = await self.db.fetchall(
            "SELECT event_id, payload FROM wa_inbox WHERE status = 'pending'"
            " AND kind = 'status' ORDER BY sent_at, rowid LIMIT ?", (limit,))
        return [(str(r[0]), None if r[1] is None else str(r[1])) for r in rows]

    async def status(self, event_id: str) -> str | None:
        value = await self.db.fetchval("SELECT status FROM wa_inbox WHERE event_id = ?",
                                       (event_id,))
        return None if value is None else str(value)

    async def prune(self, before: datetime) -> int:
        """Delete events closed before `before`, and statuses received before it (read by
        WhatsApp's sender long before); a message id Meta could still retry is older than
        that."""
        async with self.db.transaction():
            cursor = await self.db.execute(
                "DELETE FROM wa_inbox WHERE (status != 'pending' AND handled_at < ?)"
                " OR (kind = 'status' AND received_at < ?)",
                (before.isoformat(), before.isoformat()))
            return int(cursor.rowcount)

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM wa_inbox"))

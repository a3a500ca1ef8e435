"""WhatsApp's durable webhook inbox."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class NumberedOffer:
    """The numbered choices offered last to a person, and the messages that offered them."""

    wamids: tuple[str, ...]
    choices: dict[str, str]  # the number typed -> the choice's reference


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
        """Drop a person's number, the raw payloads of their events and their conversation
        state (/forget); a pending message without payload is closed unanswered by the
        processor."""
        await self.db.execute(
            "UPDATE wa_inbox SET payload = NULL, wa_id = '' WHERE wa_id = ?", (wa_id,))
        await self.db.execute("DELETE FROM wa_numbered_choices WHERE wa_id = ?", (wa_id,))
        await self.db.execute("DELETE FROM wa_pending_replies WHERE wa_id = ?", (wa_id,))

    # --- numbered choices ------------------------------------------------------------

    async def offer_numbers(self, wa_id: str, wamids: Sequence[str],
                            choices: Mapping[str, str], now: datetime) -> None:
        """Keep the numbered choices just offered to the person, replacing the previous offer."""
        async with self.db.transaction():
            await self.db.execute(
                "INSERT OR REPLACE INTO wa_numbered_choices (wa_id, wamids, choices, offered_at)"
                " VALUES (?, ?, ?, ?)",
                (wa_id, json.dumps(list(wamids)), json.dumps(dict(choices)), now.isoformat()))

    async def drop_numbers(self, wa_id: str) -> None:
        """Forget the person's numbered choices (a reply with other choices replaced them)."""
        if await self.numbered(wa_id) is None:
            return  # no write: most replies come with no numbered offer before them
        async with self.db.transaction():
            await self.db.execute("DELETE FROM wa_numbered_choices WHERE wa_id = ?", (wa_id,))

    async def numbered(self, wa_id: str) -> NumberedOffer | None:
        """The numbered choices offered last to the person, if any."""
        row = await self.db.fetchone(
            "SELECT wamids, choices FROM wa_numbered_choices WHERE wa_id = ?", (wa_id,))
        if row is None:
            return None
        wamids, choices = json.loads(str(row[0])), json.loads(str(row[1]))
        return NumberedOffer(tuple(str(w) for w in wamids),
                             {str(k): str(v) for k, v in choices.items()})

    # --- the lost-reply note ---------------------------------------------------------

    def reply_pending(self, wa_id: str, person_id: int, event_id: str, now: datetime) -> None:
        """Note that this message's replies are not sent yet (inside its transaction; sent
        with its COMMIT). Only for a member: a visitor has no guided flow, and the person a
        /forget has just removed (in this same transaction) must not come back with it."""
        self.db.execute_later(
            "INSERT OR REPLACE INTO wa_pending_replies (wa_id, event_id, since, delivered_at)"
            " SELECT ?, ?, ?, NULL WHERE EXISTS (SELECT 1 FROM members"
            " WHERE telegram_user_id = ?)", (wa_id, event_id, now.isoformat(), person_id))

    async def replies_sent(self, wa_id: str, event_id: str | None, now: datetime) -> None:
        """Settle the note once every reply got its wamid: for the message `event_id` that
        moved the flow, or (`event_id` None) for a message that showed the current step again,
        which counts as that step's delivery only if it had not been delivered yet."""
        if event_id is None:
            await self.db.write_batch([(
                "UPDATE wa_pending_replies SET delivered_at = ?"
                " WHERE wa_id = ? AND delivered_at IS NULL", [(now.isoformat(), wa_id)])])
        else:
            await self.db.write_batch([(
                "UPDATE wa_pending_replies SET delivered_at = ? WHERE wa_id = ? AND event_id = ?",
                [(now.isoformat(), wa_id, event_id)])])

    async def reply_lost(self, wa_id: str) -> bool:
        """Whether the last replies that moved the person's flow were not all sent."""
        return await self.db.fetchval(
            "SELECT 1 FROM wa_pending_replies WHERE wa_id = ? AND delivered_at IS NULL",
            (wa_id,)) is not None

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

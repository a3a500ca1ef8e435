"""The durable update inbox: every update recorded before Telegram is told it was received."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.models import InboxEntry, Member


class InboxRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, updates: Sequence[tuple[int, int | None, str]], now: datetime
    ) -> None:
        """Store (update_id, user id, raw JSON) rows; ids already known are left as they are."""
        if not updates:
            return
        # BEGIN, the inserts and COMMIT in one hand-off to the writer's thread.
        await self.db.write_batch([(
            "INSERT OR IGNORE INTO inbox (update_id, telegram_user_id, payload, received_at)"
            " VALUES (?, ?, ?, ?)",
            [(uid, user, payload, now.isoformat()) for uid, user, payload in updates])])

    async def arrival(self, update_id: int, telegram_user_id: int | None,
                      message_id: int | None = None,
                      ) -> tuple[str | None, Member | None, bool]:
        """In one query: the update's inbox status, the member who sent it, and whether that
        person may not have seen the bot's latest question (see `reply_pending`): its replies
        were not delivered, or the person's message (`message_id`, in the same chat) was sent
        before the last of them, so it cannot answer it."""
        row = await self.db.fetchone(
            "SELECT (SELECT status FROM inbox WHERE update_id = ?) AS inbox_status,"
            " EXISTS (SELECT 1 FROM pending_replies WHERE telegram_user_id = ?"
            "  AND (delivered_at IS NULL OR ? < delivered_message_id)) AS inbox_lost,"
            " m.* FROM (SELECT 1) LEFT JOIN members m ON m.telegram_user_id = ?",
            (update_id, telegram_user_id, message_id, telegram_user_id))
        assert row is not None  # one row, whatever the tables hold
        fields = dict(row)
        status, lost = fields.pop("inbox_status"), fields.pop("inbox_lost")
        member = None if fields.get("id") is None else Member.model_validate(fields)
        return (None if status is None else str(status)), member, bool(lost)

    async def close(self, update_id: int, now: datetime, *, error: str | None, mark: bool,
                    user_id: int | None, clear: str | None,
                    last_message_id: int | None = None) -> None:
        """Close an update once handled, in a transaction of its own and one hand-off: record
        its failure, or mark it handled (`mark`) and settle its sender's lost-reply note
        (`clear`): "moved" when this update's writes moved a flow and its replies, which show
        the new step, were delivered; "shown" when its replies showed the current step again,
        which counts as that step's delivery only if it had not been delivered yet."""
        if error is not None:
            await self.db.write_batch([(
                "UPDATE inbox SET status = 'failed', handled_at = ?, error = ?"
                " WHERE update_id = ?", [(now.isoformat(), error, update_id)])])
            return
        statements: list[tuple[str, list[tuple[Any, ...]]]] = []
        if mark:
            statements.append((
                "UPDATE inbox SET status = 'handled', handled_at = ?, error = NULL"
                " WHERE update_id = ? AND status = 'pending'", [(now.isoformat(), update_id)]))
        # Delivered, as the chat's message `last_message_id` (kept when the replies only edited
        # earlier messages): a message of the person's with a lower id was typed before the
        # step on screen now was shown, so it may answer an earlier one.
        last = last_message_id or 0
        if user_id is not None and clear == "moved":
            statements.append((
                "UPDATE pending_replies SET delivered_at = ?,"
                " delivered_message_id = MAX(COALESCE(delivered_message_id, 0), ?)"
                " WHERE telegram_user_id = ? AND update_id = ?",
                [(now.isoformat(), last, user_id, update_id)]))
        elif user_id is not None and clear == "shown":
            # A step shown again after it was delivered moves nothing: texts typed between the
            # two showings answer that same step.
            statements.append((
                "UPDATE pending_replies SET delivered_message_id = CASE WHEN delivered_at IS NULL"
                " THEN MAX(COALESCE(delivered_message_id, 0), ?) ELSE delivered_message_id END,"
                " delivered_at = COALESCE(delivered_at, ?) WHERE telegram_user_id = ?",
                [(last, now.isoformat(), user_id)]))
        if statements:
            await self.db.write_batch(statements)

    async def status(self, update_id: int) -> str | None:
        value = await self.db.fetchval("SELECT status FROM inbox WHERE update_id = ?", (update_id,))
        return None if value is None else str(value)

    async def mark(self, update_id: int, status: str, now: datetime, error: str | None = None) -> bool:
        """Close a pending update (inside the caller's transaction); say whether it was pending."""
        cur = await self.db.execute(
            "UPDATE inbox SET status = ?, handled_at = ?, error = ?"
            " WHERE update_id = ? AND status = 'pending'",
            (status, now.isoformat(), error, update_id),
        )
        return cur.rowcount == 1

    async def fail(self, update_id: int, now: datetime, error: str) -> None:
        """Record that handling failed (inside the caller's transaction), whatever the status."""
        await self.db.execute(
            "UPDATE inbox SET status = 'failed', handled_at = ?, error = ? WHERE update_id = ?",
            (now.isoformat(), error, update_id),
        )

    async def reply_pending(self, telegram_user_id: int, update_id: int, now: datetime) -> None:
        """Note that this update's replies have not been delivered yet (inside its transaction;
        sent with its COMMIT)."""
        self.db.execute_later(
            "INSERT OR REPLACE INTO pending_replies (telegram_user_id, update_id, since,"
            " delivered_at) VALUES (?, ?, ?, NULL)", (telegram_user_id, update_id,
                                                      now.isoformat()))

    async def reply_lost(self, telegram_user_id: int) -> bool:
        """Whether the person's last update wrote something whose replies were not delivered."""
        return await self.db.fetchval(
            "SELECT 1 FROM pending_replies WHERE telegram_user_id = ? AND delivered_at IS NULL",
            (telegram_user_id,)) is not None

    async def quarantine(self, rows: Sequence[tuple[int, str, str]], now: datetime) -> None:
        """Keep (update_id, ASCII-escaped raw JSON, reason) rows out of the inbox."""
        async with self.db.transaction():
            await self.db.executemany(
                "INSERT OR IGNORE INTO quarantine (update_id, raw, reason, received_at)"
                " VALUES (?, ?, ?, ?)", [(*row, now.isoformat()) for row in rows])
            # Closed in the inbox too: the stub PTB gets in its place is skipped, not handled.
            await self.db.executemany(
                "INSERT OR IGNORE INTO inbox (update_id, payload, received_at, status, handled_at,"
                " error) VALUES (?, NULL, ?, 'handled', ?, 'quarantined')",
                [(row[0], now.isoformat(), now.isoformat()) for row in rows])

    async def quarantined(self) -> list[tuple[int, str]]:
        rows = await self.db.fetchall("SELECT update_id, reason FROM quarantine ORDER BY update_id")
        return [(int(r[0]), str(r[1])) for r in rows]

    async def pending(self, limit: int = 10_000) -> list[InboxEntry]:
        rows = await self.db.fetchall(
            "SELECT update_id, telegram_user_id, payload, status FROM inbox"
            " WHERE status = 'pending' ORDER BY update_id LIMIT ?",
            (limit,),
        )
        return [InboxEntry.model_validate(dict(r)) for r in rows]

    async def scrub_user(self, telegram_user_id: int) -> None:
        """Drop the raw payloads of a person's updates (they hold names and texts).

        Statuses are left alone: the update being handled is closed by its own handler, and
        a pending entry without payload is closed at replay.
        """
        await self.db.execute(
            "UPDATE inbox SET payload = NULL, telegram_user_id = NULL WHERE telegram_user_id = ?",
            (telegram_user_id,),
        )
        await self.db.execute("DELETE FROM pending_replies WHERE telegram_user_id = ?",
                              (telegram_user_id,))

    async def prune(self, before: datetime) -> int:
        """Delete handled entries older than `before`; their ids can no longer come back."""
        async with self.db.transaction():
            cur = await self.db.execute(
                "DELETE FROM inbox WHERE status != 'pending' AND handled_at < ?",
                (before.isoformat(),),
            )
            return cur.rowcount

"""Planned and sent reminders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.db import Database
from storage.models import Member, ReminderRow

PlannedRow = tuple[int, int | None, str, str, int, datetime, datetime]


class ReminderRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def plan(self, rows: Sequence[PlannedRow], now: datetime) -> int:
        """Insert planned reminders (member, project, subject, kind, step, due_at, send_at);
        those already planned, sent or settled are left as they are. Return how many are new."""
        before = self.db.writer.total_changes
        await self.db.executemany(
            "INSERT OR IGNORE INTO reminders (member_id, project_id, subject, kind, step,"
            " due_at, send_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(m, p, s, k, step, due.isoformat(), send.isoformat(), now.isoformat())
             for m, p, s, k, step, due, send in rows])
        return self.db.writer.total_changes - before

    async def planned_keys(self, project_id: int, subjects: Sequence[str],
                           members: tuple[int, int] | None = None,
                           ) -> set[tuple[int, str, str, int, str]]:
        """The keys (member, subject, kind, step, due_at) already recorded for these subjects
        (for the members whose ids lie in `members`, both included, if given)."""
        if not subjects:
            return set()
        marks = ", ".join("?" * len(subjects))
        low, high = members if members is not None else (0, 2**63 - 1)
        sql = ("SELECT member_id, subject, kind, step, due_at FROM reminders"  # noqa: S608
               f" WHERE project_id = ? AND subject IN ({marks})"
               " AND member_id BETWEEN ? AND ?")
        rows = await self.db.fetchall(sql, (project_id, *subjects, low, high))
        return {(int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4])) for r in rows}

    async def due(self, now: datetime, limit: int) -> list[ReminderRow]:
        rows = await self.db.fetchall(
            "SELECT * FROM reminders WHERE state = 'planned' AND send_at <= ?"
            " ORDER BY send_at, id LIMIT ?", (now.isoformat(), limit))
        return [ReminderRow.model_validate(dict(r)) for r in rows]

    async def get(self, reminder_id: int) -> ReminderRow | None:
        row = await self.db.fetchone("SELECT * FROM reminders WHERE id = ?", (reminder_id,))
        return None if row is None else ReminderRow.model_validate(dict(row))

    async def superseded(self, row: ReminderRow, now: datetime) -> bool:
        """Whether a later reminder of the same member and subject is also due now (after a
        downtime only the latest is worth sending)."""
        return bool(await self.db.fetchval(
            "SELECT 1 FROM reminders WHERE member_id = ? AND subject = ? AND state = 'planned'"
            " AND kind = ? AND due_at > ? AND send_at <= ? LIMIT 1",
            (row.member_id, row.subject, row.kind, row.due_at.isoformat(), now.isoformat())))

    async def claim(self, reminder_id: int, token: str) -> bool:
        cur = await self.db.execute(
            "UPDATE reminders SET state = 'sending', token = ? WHERE id = ? AND state = 'planned'",
            (token, reminder_id))
        return cur.rowcount == 1

    async def settle(self, reminder_id: int, state: str, now: datetime, *,
                     token: str | None = None, message_id: int | None = None,
                     note: str | None = None) -> bool:
        """Close a reminder (only the claim holding `token` may, when one is given)."""
        sql = ("UPDATE reminders SET state = ?, message_id = ?, note = ?, settled_at = ?"
               " WHERE id = ?")
        params: list[object] = [state, message_id, note, now.isoformat(), reminder_id]
        if token is not None:
            sql += " AND token = ? AND state = 'sending'"
            params.append(token)
        cur = await self.db.execute(sql, params)
        return cur.rowcount == 1

    async def set_wamid(self, reminder_id: int, wamid: str) -> None:
        """The WhatsApp message id of a reminder sent on WhatsApp (its statuses name it)."""
        await self.db.execute("UPDATE reminders SET wamid = ? WHERE id = ?", (wamid, reminder_id))

    async def adopt_wamid(self, reminder_id: int, wamid: str, status: str, now: datetime,
                          error: str | None = None) -> None:
        """Settle a WhatsApp reminder with Meta's status of its message: an `uncertain` one
        proved `sent` by sent, delivered or read; a `failed` status fails it."""
        await self.db.execute(
            "UPDATE reminders SET wamid = COALESCE(wamid, ?) WHERE id = ?", (wamid, reminder_id))
        if status == "failed":
            await self.db.execute(
                "UPDATE reminders SET state = 'failed', note = ?, settled_at = ?"
                " WHERE id = ? AND state IN ('sent', 'uncertain')",
                ((error or "failed")[:200], now.isoformat(), reminder_id))
        else:
            await self.db.execute(
                "UPDATE reminders SET state = 'sent', note = NULL WHERE id = ?"
                " AND state = 'uncertain'", (reminder_id,))

    async def defer(self, reminder_id: int, send_at: datetime) -> None:
        await self.db.execute("UPDATE reminders SET send_at = ? WHERE id = ? AND state = 'planned'",
                              (send_at.isoformat(), reminder_id))

    async def skip_subject(self, member_id: int, subject: str, before: datetime, note: str,
                           now: datetime) -> int:
        """Skip a member's planned reminders of one subject due to go before `before`."""
        cur = await self.db.execute(
            "UPDATE reminders SET state = 'skipped', note = ?, settled_at = ?"
            " WHERE member_id = ? AND subject = ? AND state = 'planned' AND send_at < ?",
            (note, now.isoformat(), member_id, subject, before.isoformat()))
        return cur.rowcount

    async def reconcile(self, now: datetime) -> int:
        """Rows left `sending` by a process that died mid-call: uncertain, never re-sent."""
        cur = await self.db.execute(
            "UPDATE reminders SET state = 'uncertain', settled_at = ? WHERE state = 'sending'",
            (now.isoformat(),))
        return cur.rowcount

    async def uncertain_members(self, project_id: int, since: datetime) -> set[int]:
        """Members of a project with a reminder whose delivery is unknown since `since`."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT member_id FROM reminders WHERE project_id = ?"
            " AND state = 'uncertain' AND settled_at >= ?", (project_id, since.isoformat()))
        return {int(row[0]) for row in rows}

    async def release(self, reminder_id: int, token: str, note: str) -> None:
        """Put a claimed reminder back (Telegram asked to slow down, or a transient error)."""
        await self.db.execute(
            "UPDATE reminders SET state = 'planned', token = NULL, note = ?"
            " WHERE id = ? AND token = ? AND state = 'sending'", (note, reminder_id, token))

    async def partners_of(self, project_id: int, after: int = 0,
                          limit: int = -1) -> list[Member]:
        """Active partners of a project (a blocked one has `unreachable_at` set), by id; a
        page of `limit` (-1: all) after member id `after`."""
        return await self._members(
            "SELECT m.* FROM members m JOIN member_projects mp ON mp.member_id = m.id"
            " WHERE mp.project_id = ? AND m.role = 'partner' AND m.status = 'active'"
            " AND m.telegram_user_id IS NOT NULL AND m.id > ? ORDER BY m.id LIMIT ?",
            (project_id, after, limit))

    async def coordinators_at(self, project_id: int, kind: str) -> list[Member]:
        """Active coordinators of the project's organisations of one kind (partner: the
        Southern organisation; collectivity: the Northern one)."""
        return await self._members(
            "SELECT m.* FROM members m JOIN project_organisations po"
            " ON po.organisation_id = m.organisation_id"
            " JOIN organisations o ON o.id = m.organisation_id"
            " WHERE po.project_id = ? AND o.kind = ? AND m.role = 'coordinator'"
            " AND m.status = 'active' AND m.telegram_user_id IS NOT NULL ORDER BY m.id",
            (project_id, kind))

    async def coordinators(self) -> list[Member]:
        return await self._members(
            "SELECT * FROM members WHERE role IN ('coordinator', 'admin') AND status = 'active'"
            " AND telegram_user_id IS NOT NULL ORDER BY id", ())

    async def _members(self, sql: str, params: tuple[object, ...]) -> list[Member]:
        return [Member.model_validate(dict(r)) for r in await self.db.fetchall(sql, params)]

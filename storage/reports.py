"""Reports, their versions and values, drafts, attachments, review comments, audit log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from storage.db import Database
from storage.models import Attachment, Draft, DraftStep, Report

ATTACHMENT_FIELDS = ("kind", "file_id", "file_unique_id", "mime_type", "size", "caption", "body",
                     "latitude", "longitude", "media_group_id", "chat_id", "message_id", "state",
                     "error", "purpose")


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class ReportRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- drafts -------------------------------------------------------------------------

    async def open_draft(self, member_id: int, kind: str) -> Draft | None:
        row = await self.db.fetchone(
            "SELECT * FROM report_drafts WHERE member_id = ? AND kind = ? AND status = 'open'"
            " ORDER BY id DESC LIMIT 1", (member_id, kind))
        return None if row is None else Draft.model_validate(dict(row))

    async def draft(self, draft_id: int) -> Draft | None:
        row = await self.db.fetchone("SELECT * FROM report_drafts WHERE id = ?", (draft_id,))
        return None if row is None else Draft.model_validate(dict(row))

    async def draft_by_media_group(self, member_id: int, media_group_id: str) -> Draft | None:
        row = await self.db.fetchone(
            "SELECT * FROM report_drafts WHERE member_id = ? AND media_group_id = ?"
            " ORDER BY id DESC LIMIT 1", (member_id, media_group_id))
        return None if row is None else Draft.model_validate(dict(row))

    async def create_draft(self, *, member_id: int, kind: str, step: DraftStep, now: datetime,
                           project_id: int | None = None, period_start: date | None = None,
                           period_end: date | None = None, amends_report_id: int | None = None,
                           media_group_id: str | None = None) -> int:
        cur = await self.db.execute(
            "INSERT INTO report_drafts (member_id, kind, project_id, period_start, period_end,"
            " step, amends_report_id, media_group_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (member_id, kind, project_id, _iso(period_start), _iso(period_end), step,
             amends_report_id, media_group_id, now.isoformat(), now.isoformat()))
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def update_draft(self, draft_id: int, now: datetime, **fields: Any) -> None:
        """Set columns (names from code only) and `updated_at`."""
        allowed = {"project_id", "period_start", "period_end", "step", "position", "narrative",
                   "status", "report_id", "media_group_id"}
        if set(fields) - allowed:
            raise ValueError(f"unknown draft fields: {sorted(set(fields) - allowed)}")
        values = [_iso(v) if isinstance(v, date) else v for v in fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self.db.execute(
            f"UPDATE report_drafts SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
            (*values, now.isoformat(), draft_id))

    async def set_value(self, draft_id: int, indicator_id: int, value: Decimal | None) -> None:
        await self.db.execute(
            "INSERT INTO draft_values (draft_id, indicator_id, value) VALUES (?, ?, ?)"
            " ON CONFLICT (draft_id, indicator_id) DO UPDATE SET value = excluded.value",
            (draft_id, indicator_id, None if value is None else str(value)))

    async def values(self, draft_id: int) -> dict[int, Decimal | None]:
        rows = await self.db.fetchall(
            "SELECT indicator_id, value FROM draft_values WHERE draft_id = ?", (draft_id,))
        return {r[0]: None if r[1] is None else Decimal(r[1]) for r in rows}

    async def delete_declined(self, before: datetime) -> int:
        cur = await self.db.execute(
            "DELETE FROM report_drafts WHERE status = 'declined' AND updated_at < ?",
            (before.isoformat(),))
        return cur.rowcount

    # --- attachments --------------------------------------------------------------------

    async def add_attachment(self, *, member_id: int, draft_id: int | None, now: datetime,
                             **fields: Any) -> int:
        unknown = set(fields) - set(ATTACHMENT_FIELDS)
        if unknown:
            raise ValueError(f"unknown attachment fields: {sorted(unknown)}")
        names = ["member_id", "draft_id", "created_at", "next_attempt_at", *fields]
        values = [member_id, draft_id, now.isoformat(), now.isoformat(), *fields.values()]
        cur = await self.db.execute(
            f"INSERT INTO attachments ({', '.join(names)})"  # noqa: S608
            f" VALUES ({', '.join('?' * len(names))})", values)
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def draft_attachments(self, draft_id: int) -> list[Attachment]:
        rows = await self.db.fetchall(
            "SELECT * FROM attachments WHERE draft_id = ? ORDER BY id", (draft_id,))
        return [Attachment.model_validate(dict(r)) for r in rows]

    async def version_attachments(self, version_id: int) -> list[Attachment]:
        rows = await self.db.fetchall(
            "SELECT * FROM attachments WHERE report_version_id = ? ORDER BY id", (version_id,))
        return [Attachment.model_validate(dict(r)) for r in rows]

    async def attachments_due(self, now: datetime, limit: int = 20) -> list[Attachment]:
        rows = await self.db.fetchall(
            "SELECT * FROM attachments WHERE state = 'pending' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at LIMIT ?", (now.isoformat(), limit))
        return [Attachment.model_validate(dict(r)) for r in rows]

    async def attachment_stored(self, attachment_id: int, *, sha256: str, path: str,
                                size: int) -> None:
        await self.db.execute(
            "UPDATE attachments SET state = 'stored', sha256 = ?, path = ?, size = ?, error = NULL"
            " WHERE id = ?", (sha256, path, size, attachment_id))

    async def attachment_retry(self, attachment_id: int, *, error: str,
                               next_attempt_at: datetime) -> None:
        await self.db.execute(
            "UPDATE attachments SET attempts = attempts + 1, error = ?, next_attempt_at = ?"
            " WHERE id = ?", (error[:500], next_attempt_at.isoformat(), attachment_id))

    async def attachment_refused(self, attachment_id: int, error: str) -> None:
        await self.db.execute(
            "UPDATE attachments SET state = 'refused', error = ? WHERE id = ?",
            (error[:500], attachment_id))

    # --- reports ------------------------------------------------------------------------

    async def create_report(self, *, kind: str, prefix: str, project_id: int, member_id: int,
                            period_start: date | None, period_end: date | None,
                            chat_id: int | None, now: datetime) -> int:
        cur = await self.db.execute(
            "INSERT INTO reports (reference, kind, project_id, member_id, period_start,"
            " period_end, status, status_at, chat_id, created_at, updated_at)"
            " VALUES ('', ?, ?, ?, ?, ?, 'submitted', ?, ?, ?, ?)",
            (kind, project_id, member_id, _iso(period_start), _iso(period_end), now.isoformat(),
             chat_id, now.isoformat(), now.isoformat()))
        report_id = cur.lastrowid
        assert report_id is not None
        # The reference is derived from the id: unique, short, and easy to quote on the phone.
        await self.db.execute("UPDATE reports SET reference = ? WHERE id = ?",
                              (f"{prefix}-{now.year}-{report_id:06d}", report_id))
        return report_id

    async def add_version(self, report_id: int, version: int, *, narrative: str | None,
                          created_by: int, now: datetime,
                          values: Sequence[tuple[int, Decimal]]) -> int:
        cur = await self.db.execute(
            "INSERT INTO report_versions (report_id, version, narrative, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?)", (report_id, version, narrative, created_by,
                                        now.isoformat()))
        version_id = cur.lastrowid
        assert version_id is not None
        await self.db.executemany(
            "INSERT INTO indicator_values (report_version_id, indicator_id, value)"
            " VALUES (?, ?, ?)", [(version_id, ind, float(val)) for ind, val in values])
        return version_id

    async def move_attachments(self, draft_id: int, version_id: int) -> None:
        await self.db.execute(
            "UPDATE attachments SET report_version_id = ?, draft_id = NULL WHERE draft_id = ?",
            (version_id, draft_id))

    async def copy_attachments(self, from_version: int, to_version: int) -> None:
        """An amendment keeps the earlier attachments; the original version keeps its own."""
        columns = ("member_id, purpose, kind, file_id, file_unique_id, mime_type, size, caption,"
                   " body, latitude, longitude, media_group_id, chat_id, message_id, sha256,"
                   " path, state, attempts, next_attempt_at, error, created_at")
        await self.db.execute(
            f"INSERT INTO attachments (report_version_id, {columns})"  # noqa: S608
            f" SELECT ?, {columns} FROM attachments WHERE report_version_id = ?",
            (to_version, from_version))

    async def standing_report(self, member_id: int, project_id: int,
                              period_end: date) -> Report | None:
        """The member's report for that period that still stands (not returned), if any."""
        row = await self.db.fetchone(
            "SELECT * FROM reports WHERE member_id = ? AND project_id = ? AND kind = 'report'"
            " AND period_end = ? AND status != 'returned' ORDER BY id DESC LIMIT 1",
            (member_id, project_id, _iso(period_end)))
        return None if row is None else Report.model_validate(dict(row))

    async def report(self, report_id: int) -> Report | None:
        row = await self.db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
        return None if row is None else Report.model_validate(dict(row))

    async def by_reference(self, reference: str) -> Report | None:
        row = await self.db.fetchone("SELECT * FROM reports WHERE reference = ?",
                                     (reference.strip().upper(),))
        return None if row is None else Report.model_validate(dict(row))

    async def latest_version(self, report_id: int) -> tuple[int, str | None]:
        row = await self.db.fetchone(
            "SELECT id, narrative FROM report_versions WHERE report_id = ?"
            " ORDER BY version DESC LIMIT 1", (report_id,))
        assert row is not None
        return int(row[0]), row[1]

    async def version_values(self, version_id: int) -> dict[int, Decimal]:
        rows = await self.db.fetchall(
            "SELECT indicator_id, value FROM indicator_values WHERE report_version_id = ?",
            (version_id,))
        return {r[0]: Decimal(str(r[1])) for r in rows}

    async def previous_values(self, project_id: int, before: date,
                              exclude_report: int | None = None) -> dict[int, Decimal]:
        """The latest value of each indicator reported for a period that ended before `before`."""
        rows = await self.db.fetchall(
            "SELECT iv.indicator_id, iv.value FROM reports r"
            " JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
            " JOIN indicator_values iv ON iv.report_version_id = v.id"
            " WHERE r.project_id = ? AND r.kind = 'report' AND r.period_end < ? AND r.id != ?"
            " ORDER BY r.period_end, r.id",
            (project_id, before.isoformat(), exclude_report or 0))
        return {r[0]: Decimal(str(r[1])) for r in rows}  # later rows win

    async def member_reports(self, member_id: int, limit: int, offset: int) -> list[Report]:
        rows = await self.db.fetchall(
            "SELECT * FROM reports WHERE member_id = ? ORDER BY created_at DESC, id DESC"
            " LIMIT ? OFFSET ?", (member_id, limit, offset))
        return [Report.model_validate(dict(r)) for r in rows]

    async def count_member_reports(self, member_id: int) -> int:
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM reports WHERE member_id = ?", (member_id,)))

    async def set_status(self, report_id: int, status: str, by: int, now: datetime,
                         comment: str | None = None, version: int | None = None) -> None:
        await self.db.execute(
            "UPDATE reports SET status = ?, status_by = ?, status_at = ?, status_comment = ?,"
            " version = COALESCE(?, version), updated_at = ? WHERE id = ?",
            (status, by, now.isoformat(), comment, version, now.isoformat(), report_id))

    async def member_report_ids(self, member_id: int) -> list[int]:
        rows = await self.db.fetchall("SELECT id FROM reports WHERE member_id = ?", (member_id,))
        return [r[0] for r in rows]

    # --- review comments and audit --------------------------------------------------------

    async def await_comment(self, member_id: int, report_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO review_comments (member_id, report_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET report_id = excluded.report_id,"
            " created_at = excluded.created_at", (member_id, report_id, now.isoformat()))

    async def awaited_comment(self, member_id: int) -> int | None:
        value = await self.db.fetchval(
            "SELECT report_id FROM review_comments WHERE member_id = ?", (member_id,))
        return None if value is None else int(value)

    async def clear_comment(self, member_id: int) -> None:
        await self.db.execute("DELETE FROM review_comments WHERE member_id = ?", (member_id,))

    async def audit(self, *, action: str, actor_id: int | None, report_id: int | None,
                    now: datetime, **details: Any) -> None:
        await self.db.execute(
            "INSERT INTO audit_log (at, actor_id, action, report_id, details)"
            " VALUES (?, ?, ?, ?, ?)",
            (now.isoformat(), actor_id, action, report_id,
             json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)))

    async def audit_trail(self, report_id: int) -> list[tuple[str, int | None]]:
        rows = await self.db.fetchall(
            "SELECT action, actor_id FROM audit_log WHERE report_id = ? ORDER BY id", (report_id,))
        return [(r[0], r[1]) for r in rows]

    # --- review cards -----------------------------------------------------------------------

    async def record_card(self, report_id: int, telegram_user_id: int, message_id: int,
                          now: datetime) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO review_cards (report_id, member_id, chat_id, message_id,"
            " sent_at) SELECT ?, id, ?, ?, ? FROM members WHERE telegram_user_id = ?",
            (report_id, telegram_user_id, message_id, now.isoformat(), telegram_user_id))

    async def cards(self, report_id: int) -> list[tuple[int, int, str]]:
        """(chat id, message id, language) of the review cards sent for a report."""
        rows = await self.db.fetchall(
            "SELECT c.chat_id, c.message_id, m.language FROM review_cards c"
            " JOIN members m ON m.id = c.member_id WHERE c.report_id = ? ORDER BY c.rowid",
            (report_id,))
        return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]

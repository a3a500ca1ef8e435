"""Read-only queries for consulting what came in: scope, summaries, latest reports.

Every query takes the project ids a reader may see; the caller computes them once per request
with `visible_project_ids`, so no read path can forget the scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from storage.db import Database
from storage.models import Member, Report


class ReportLine(BaseModel):
    """A report as listed to a consulting reader."""

    model_config = ConfigDict(frozen=True)
    id: int
    reference: str
    kind: str
    project_id: int
    period_start: date | None
    period_end: date | None
    status: str
    version: int
    created_at: datetime
    author: str | None
    organisation: str | None


class SeriesPoint(BaseModel):
    model_config = ConfigDict(frozen=True)
    indicator_id: int
    period_end: date
    value: float


def _marks(ids: Sequence[object]) -> str:
    return ", ".join("?" * len(ids))


class ConsultationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def visible_project_ids(self, member: Member) -> list[int]:
        """The projects a member may consult: all (admin), their collectivity's (observer),
        their own (coordinator, partner)."""
        if member.role == "admin":
            rows = await self.db.fetchall("SELECT id FROM projects ORDER BY id")
        elif member.role == "observer" and member.organisation_id is not None:
            rows = await self.db.fetchall(
                "SELECT project_id FROM project_organisations WHERE organisation_id = ?"
                " ORDER BY project_id", (member.organisation_id,))
        else:
            rows = await self.db.fetchall(
                "SELECT project_id FROM member_projects WHERE member_id = ? ORDER BY project_id",
                (member.id,))
        return [int(r[0]) for r in rows]

    async def last_report(self, project_id: int) -> tuple[str, datetime] | None:
        row = await self.db.fetchone(
            "SELECT reference, created_at FROM reports WHERE project_id = ? AND kind = 'report'"
            " ORDER BY created_at DESC, id DESC LIMIT 1", (project_id,))
        return None if row is None else (row[0], datetime.fromisoformat(row[1]))

    async def reported_periods(self, project_id: int, period_ends: Sequence[date]) -> set[date]:
        """Which of these period ends have a report."""
        if not period_ends:
            return set()
        rows = await self.db.fetchall(
            "SELECT DISTINCT period_end FROM reports WHERE project_id = ? AND kind = 'report'"
            f" AND period_end IN ({_marks(period_ends)})",
            (project_id, *(d.isoformat() for d in period_ends)))
        return {date.fromisoformat(r[0]) for r in rows}

    async def project_started(self, project_id: int) -> date:
        value = await self.db.fetchval("SELECT created_at FROM projects WHERE id = ?",
                                       (project_id,))
        return datetime.fromisoformat(value).date()

    async def latest_values(self, project_id: int) -> dict[int, tuple[float, date]]:
        """Each indicator's value in the current version of the latest report that gives one."""
        rows = await self.db.fetchall(
            "SELECT i.id, ("
            "  SELECT iv.value || '|' || r.period_end FROM reports r"
            "  JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
            "  JOIN indicator_values iv ON iv.report_version_id = v.id AND iv.indicator_id = i.id"
            "  WHERE r.project_id = i.project_id AND r.kind = 'report'"
            "  ORDER BY r.period_end DESC, r.id DESC LIMIT 1)"
            " FROM indicators i WHERE i.project_id = ?", (project_id,))
        found = {}
        for indicator_id, packed in rows:
            if packed is not None:
                value, period_end = packed.split("|")
                found[int(indicator_id)] = (float(value), date.fromisoformat(period_end))
        return found

    async def series(self, project_id: int, periods: int = 12) -> list[SeriesPoint]:
        """Indicator values over the last `periods` reported periods (latest report of each)."""
        rows = await self.db.fetchall(
            "WITH last AS ("
            "  SELECT period_end, MAX(id) AS report_id FROM reports"
            "  WHERE project_id = ? AND kind = 'report' AND period_end IS NOT NULL"
            "  GROUP BY period_end ORDER BY period_end DESC LIMIT ?)"
            " SELECT iv.indicator_id, last.period_end, iv.value FROM last"
            " JOIN reports r ON r.id = last.report_id"
            " JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
            " JOIN indicator_values iv ON iv.report_version_id = v.id"
            " ORDER BY last.period_end", (project_id, periods))
        return [SeriesPoint(indicator_id=r[0], period_end=date.fromisoformat(r[1]), value=r[2])
                for r in rows]

    async def latest(self, project_ids: Sequence[int], limit: int, offset: int) -> list[ReportLine]:
        """The latest reports and field updates of these projects, newest first."""
        if not project_ids:
            return []
        rows = await self.db.fetchall(
            "SELECT r.id, r.reference, r.kind, r.project_id, r.period_start, r.period_end,"
            " r.status, r.version, r.created_at, m.display_name AS author, o.name AS organisation"
            " FROM reports r JOIN members m ON m.id = r.member_id"
            " LEFT JOIN organisations o ON o.id = m.organisation_id"
            f" WHERE r.project_id IN ({_marks(project_ids)})"
            " ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?",
            (*project_ids, limit, offset))
        return [ReportLine.model_validate(dict(r)) for r in rows]

    async def awaiting_review(self, project_ids: Sequence[int], limit: int) -> list[ReportLine]:
        """Reports of these projects that nobody accepted or returned yet, oldest first."""
        if not project_ids:
            return []
        rows = await self.db.fetchall(
            "SELECT r.id, r.reference, r.kind, r.project_id, r.period_start, r.period_end,"
            " r.status, r.version, r.created_at, m.display_name AS author, o.name AS organisation"
            " FROM reports r JOIN members m ON m.id = r.member_id"
            " LEFT JOIN organisations o ON o.id = m.organisation_id"
            f" WHERE r.project_id IN ({_marks(project_ids)}) AND r.kind = 'report'"
            " AND r.status IN ('submitted', 'amended')"
            " ORDER BY r.created_at, r.id LIMIT ?", (*project_ids, limit))
        return [ReportLine.model_validate(dict(r)) for r in rows]

    async def count(self, project_ids: Sequence[int]) -> int:
        if not project_ids:
            return 0
        return int(await self.db.fetchval(
            f"SELECT COUNT(*) FROM reports WHERE project_id IN ({_marks(project_ids)})",
            tuple(project_ids)))

    async def visible_report(self, reference: str, project_ids: Sequence[int]) -> Report | None:
        """The report with this reference if the reader may see it (else None, as if unknown:
        a reader outside the scope must not learn that the reference exists)."""
        if not project_ids:
            return None
        row = await self.db.fetchone(
            "SELECT * FROM reports WHERE reference = ?"
            f" AND project_id IN ({_marks(project_ids)})",
            (reference, *project_ids))
        return None if row is None else Report.model_validate(dict(row))

    async def author(self, member_id: int) -> tuple[str | None, str | None]:
        row = await self.db.fetchone(
            "SELECT m.display_name, o.name FROM members m"
            " LEFT JOIN organisations o ON o.id = m.organisation_id WHERE m.id = ?", (member_id,))
        return (None, None) if row is None else (row[0], row[1])

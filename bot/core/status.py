"""Whether a project's reporting is on time, due or overdue, from its cadence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.periods import Cadence, Period
from storage.consultation import ConsultationRepo
from storage.models import Project

StatusKind = Literal["on_time", "due", "overdue", "none"]


@dataclass(frozen=True)
class ReportingStatus:
    kind: StatusKind
    period: Period | None  # the period the status is about (the late one when overdue)


def periods_to_check(cadence: Cadence, today: date) -> tuple[Period | None, Period | None]:
    """The last period whose due date has passed, and the current period."""
    current = cadence.period_containing(today)
    anchor = current.start if current is not None else today
    before = cadence.due_before(anchor)
    last = cadence.period_ending(before) if before is not None else None
    return last, current


def reporting_status(cadence: Cadence, today: date, reported: set[date],
                     started: date) -> ReportingStatus:
    """Overdue when the last period that ended (since the project started) has no report; due
    while the current period has none yet; on time once it has. `reported` holds period ends."""
    last, current = periods_to_check(cadence, today)
    if last is not None and last.end >= started and last.end not in reported:
        return ReportingStatus("overdue", last)
    if current is None:
        return ReportingStatus("none", None)
    if current.end in reported:
        return ReportingStatus("on_time", current)
    return ReportingStatus("due", current)


async def project_status(repo: ConsultationRepo, project: Project,
                         now: datetime) -> tuple[ReportingStatus, date]:
    """A project's reporting status now, and its local date (the day the status is for)."""
    cadence = Cadence(project.cadence)
    today = now.astimezone(ZoneInfo(project.timezone)).date()
    ends = [p.end for p in periods_to_check(cadence, today) if p is not None]
    status = reporting_status(cadence, today, await repo.reported_periods(project.id, ends),
                              await repo.project_started(project.id))
    return status, today

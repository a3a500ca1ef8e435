"""When reminders are due: the policy, the plan for one due date, and the allowed hours.

Pure functions of their arguments (the current time included), with no Telegram and no
database, so tests can move time, zones and daylight-saving changes freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

ReminderKind = Literal["before", "overdue", "escalate_partner", "escalate_north", "snooze",
                       "digest"]
# A reminder due this long ago is stale: the downtime that delayed it outlived its use.
STALE_AFTER = timedelta(hours=36)


class ReminderPolicy(BaseModel):
    """A project's reminder settings (`reminders:` in network.yaml); every field has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    before: tuple[int, ...] = (3, 0)  # days before the due date; 0 = on the day
    overdue_after: int = Field(default=2, ge=0)  # days after the due date, the first overdue
    overdue_every: int = Field(default=7, ge=1)  # days between overdue reminders
    overdue_max: int = Field(default=3, ge=0)  # overdue reminders at most
    # Days overdue before the partner organisation's coordinators, then the collectivity's,
    # are told (None: never).
    escalate_partner: int | None = Field(default=7, ge=0)
    escalate_north: int | None = Field(default=14, ge=0)
    hours: tuple[time, time] = (time(8, 0), time(20, 0))

    @field_validator("before")
    @classmethod
    def _before(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 0 for day in value):
            raise ValueError("days before the due date cannot be negative")
        return tuple(sorted(set(value), reverse=True))

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[time, time]) -> tuple[time, time]:
        if not value[0] < value[1]:
            raise ValueError("allowed hours: the start must come before the end")
        return value


DEFAULT_POLICY = ReminderPolicy()


@dataclass(frozen=True, order=True)
class Planned:
    due_at: datetime  # aware, UTC
    kind: ReminderKind
    step: int  # days before (before), 1… (overdue), days overdue (escalations)


def at_local(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """The instant `moment` on `day` in `zone`, as UTC (a time skipped by a daylight-saving
    change becomes the same wall time after the change, as zoneinfo resolves it)."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def allowed(instant: datetime, zone: ZoneInfo, hours: tuple[time, time]) -> datetime:
    """`instant` if it falls within the allowed hours of `zone`, else the next opening."""
    local = instant.astimezone(zone)
    start, end = hours
    if local.time() < start:
        return at_local(local.date(), start, zone)
    if local.time() >= end:
        return at_local(local.date() + timedelta(days=1), start, zone)
    return instant


def plan_for_due_date(policy: ReminderPolicy, due: date, zone: ZoneInfo) -> list[Planned]:
    """The partner's reminders for one due date, at the opening of their allowed hours."""
    opening = policy.hours[0]
    planned = [Planned(at_local(due - timedelta(days=days), opening, zone), "before", days)
               for days in policy.before]
    for index in range(policy.overdue_max):
        day = due + timedelta(days=policy.overdue_after + index * policy.overdue_every)
        planned.append(Planned(at_local(day, opening, zone), "overdue", index + 1))
    return sorted(planned)


def escalations(policy: ReminderPolicy, due: date, zone: ZoneInfo) -> list[Planned]:
    """The coordinators' steps for one due date (in the project's zone)."""
    steps: list[Planned] = []
    for kind, days in (("escalate_partner", policy.escalate_partner),
                       ("escalate_north", policy.escalate_north)):
        if days is not None:
            steps.append(Planned(at_local(due + timedelta(days=days), policy.hours[0], zone),
                                 kind, days))  # type: ignore[arg-type]
    return steps


def next_digest(now: datetime, zone: ZoneInfo, hours: tuple[time, time]) -> datetime:
    """The weekly digest's instant: Monday at the opening of allowed hours, this week's if it
    is still to come, else next week's."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    moment = at_local(monday, hours[0], zone)
    return moment if moment >= now else at_local(monday + timedelta(days=7), hours[0], zone)


def snoozed_until(now: datetime, days: int, zone: ZoneInfo, hours: tuple[time, time]) -> datetime:
    """`days` later at the same local time, moved into the allowed hours."""
    local = now.astimezone(zone)
    later = datetime.combine(local.date() + timedelta(days=days), local.time(), tzinfo=zone)
    return allowed(later.astimezone(ZoneInfo("UTC")), zone, hours)

"""Reminder planning across time zones and a daylight-saving change (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.reminder_policy import (
    ReminderPolicy,
    allowed,
    escalations,
    next_digest,
    plan_for_due_date,
    snoozed_until,
)

PARIS, DAKAR, LIMA, RECIFE = (ZoneInfo(z) for z in (
    "Europe/Paris", "Africa/Dakar", "America/Lima", "America/Recife"))
HOURS = (time(8), time(20))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "due", "expected"), [
    # Dakar is UTC all year: 08:00 local is 08:00 UTC.
    (DAKAR, date(2026, 3, 25), [utc(2026, 3, 22, 8), utc(2026, 3, 25, 8), utc(2026, 3, 27, 8),
                                utc(2026, 4, 3, 8), utc(2026, 4, 10, 8)]),
    # Lima is UTC-5.
    (LIMA, date(2026, 3, 25), [utc(2026, 3, 22, 13), utc(2026, 3, 25, 13), utc(2026, 3, 27, 13),
                               utc(2026, 4, 3, 13), utc(2026, 4, 10, 13)]),
    # Paris changes to summer time on 29 March 2026: 08:00 is 07:00 UTC before, 06:00 after.
    (PARIS, date(2026, 3, 29), [utc(2026, 3, 26, 7), utc(2026, 3, 29, 6), utc(2026, 3, 31, 6),
                                utc(2026, 4, 7, 6), utc(2026, 4, 14, 6)]),
    # And back to winter time on 25 October 2026.
    (PARIS, date(2026, 10, 24), [utc(2026, 10, 21, 6), utc(2026, 10, 24, 6),
                                 utc(2026, 10, 26, 7), utc(2026, 11, 2, 7), utc(2026, 11, 9, 7)]),
])
def test_default_plan_in_local_time(zone: ZoneInfo, due: date, expected: list[datetime]) -> None:
    planned = plan_for_due_date(ReminderPolicy(), due, zone)
    assert [p.due_at for p in planned] == expected
    assert [(p.kind, p.step) for p in planned] == [("before", 3), ("before", 0), ("overdue", 1),
                                                   ("overdue", 2), ("overdue", 3)]


def test_a_project_policy_changes_the_plan() -> None:
    policy = ReminderPolicy(before=(7, 1), overdue_after=1, overdue_every=2, overdue_max=1,
                            escalate_partner=None, escalate_north=3,
                            hours=(time(9, 30), time(18)))
    planned = plan_for_due_date(policy, date(2026, 3, 25), DAKAR)
    assert [(p.kind, p.step, p.due_at) for p in planned] == [
        ("before", 7, utc(2026, 3, 18, 9, 30)), ("before", 1, utc(2026, 3, 24, 9, 30)),
        ("overdue", 1, utc(2026, 3, 26, 9, 30))]
    assert [(e.kind, e.due_at) for e in escalations(policy, date(2026, 3, 25), DAKAR)] == [
        ("escalate_north", utc(2026, 3, 28, 9, 30))]


@pytest.mark.parametrize(("instant", "zone", "expected"), [
    (utc(2026, 3, 3, 12), DAKAR, utc(2026, 3, 3, 12)),  # within the hours
    (utc(2026, 3, 3, 21, 30), DAKAR, utc(2026, 3, 4, 8)),  # evening: tomorrow morning
    (utc(2026, 3, 3, 6), DAKAR, utc(2026, 3, 3, 8)),  # early: this morning
    (utc(2026, 3, 3, 2), LIMA, utc(2026, 3, 3, 13)),  # 21:00 the day before in Lima
    (utc(2026, 3, 28, 20), PARIS, utc(2026, 3, 29, 6)),  # 21:00 CET → 08:00 CEST
    (utc(2026, 3, 3, 10, 30), RECIFE, utc(2026, 3, 3, 11)),  # 07:30 in Recife (UTC-3)
])
def test_allowed_hours_are_the_members_own(instant: datetime, zone: ZoneInfo,
                                           expected: datetime) -> None:
    assert allowed(instant, zone, HOURS) == expected


def test_snooze_keeps_the_local_time_across_a_daylight_saving_change() -> None:
    # Saturday 28 March 2026, 10:00 in Paris (09:00 UTC); tomorrow 10:00 is 08:00 UTC.
    assert snoozed_until(utc(2026, 3, 28, 9), 1, PARIS, HOURS) == utc(2026, 3, 29, 8)
    # 19:30 in Dakar, in 3 days: same time.
    assert snoozed_until(utc(2026, 3, 3, 19, 30), 3, DAKAR, HOURS) == utc(2026, 3, 6, 19, 30)


def test_the_weekly_digest_is_on_monday_morning() -> None:
    # Tuesday 3 March 2026: next Monday, 9 March, 08:00 in Paris (07:00 UTC).
    assert next_digest(utc(2026, 3, 3, 14), PARIS, HOURS) == utc(2026, 3, 9, 7)
    # Monday 9 March at 06:00 UTC (07:00 in Paris): this very morning.
    assert next_digest(utc(2026, 3, 9, 6), PARIS, HOURS) == utc(2026, 3, 9, 7)


def test_a_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="start must come before"):
        ReminderPolicy(hours=(time(20), time(8)))
    with pytest.raises(ValueError, match="cannot be negative"):
        ReminderPolicy(before=(-1,))

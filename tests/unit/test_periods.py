"""Periods from cadences: monthly, every two weeks, quarterly, explicit dates (table-driven)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.periods import Cadence, Period
from bot.i18n import use_language


@pytest.mark.parametrize(("cadence", "today", "current", "previous"), [
    ("FREQ=MONTHLY;BYMONTHDAY=25", date(2026, 3, 3),
     Period(date(2026, 2, 26), date(2026, 3, 25)), Period(date(2026, 1, 26), date(2026, 2, 25))),
    ("FREQ=MONTHLY;BYMONTHDAY=25", date(2026, 3, 25),  # the due day is in its own period
     Period(date(2026, 2, 26), date(2026, 3, 25)), Period(date(2026, 1, 26), date(2026, 2, 25))),
    ("FREQ=MONTHLY;BYMONTHDAY=25", date(2026, 3, 26),
     Period(date(2026, 3, 26), date(2026, 4, 25)), Period(date(2026, 2, 26), date(2026, 3, 25))),
    ("FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1", date(2026, 5, 10),  # quarter ends
     Period(date(2026, 4, 1), date(2026, 6, 30)), Period(date(2026, 1, 1), date(2026, 3, 31))),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", date(2026, 3, 4),  # every other Monday from 2024-01-01
     Period(date(2026, 2, 24), date(2026, 3, 9)), Period(date(2026, 2, 10), date(2026, 2, 23))),
    ("DATES:2026-03-31,2026-06-30,2026-12-31", date(2026, 7, 1),
     Period(date(2026, 7, 1), date(2026, 12, 31)), Period(date(2026, 4, 1), date(2026, 6, 30))),
])
def test_current_and_previous(cadence: str, today: date, current: Period,
                              previous: Period) -> None:
    assert Cadence(cadence).current_and_previous(today) == [current, previous]


def test_first_listed_date_and_after_the_last() -> None:
    cadence = Cadence("DATES:2026-03-31,2026-06-30")
    # Before the first date, the period is as long as the one after it.
    assert cadence.period_containing(date(2026, 1, 5)) == Period(date(2025, 12, 31),
                                                                 date(2026, 3, 31))
    assert cadence.period_containing(date(2026, 7, 1)) is None
    assert cadence.current_and_previous(date(2026, 7, 1)) == [
        Period(date(2026, 4, 1), date(2026, 6, 30))]


def test_due_dates_and_labels() -> None:
    cadence = Cadence("FREQ=MONTHLY;BYMONTHDAY=25")
    assert cadence.due_dates(date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 1, 25), date(2026, 2, 25), date(2026, 3, 25)]
    period = Period(date(2026, 2, 26), date(2026, 3, 25))
    with use_language("fr"):
        assert period.label() == "26 févr.\u2009–\u200925 mars 2026"
    with use_language("en"):
        assert period.label() == "26 Feb\u2009–\u200925 Mar 2026"  # as the dates: day first
    assert Period.from_key(period.key()) == period

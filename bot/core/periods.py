"""Reporting periods and due dates derived from a project's cadence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_interval
from dateutil.rrule import rrule, rrulestr

from bot.i18n import reader_locale

# Interval rules (every 2 weeks, every 3 months) count from this Monday, so that the same
# rule always yields the same dates.
ANCHOR = datetime(2024, 1, 1)
_HORIZON = 400  # occurrences looked through at most, both ways


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first day, inclusive
    end: date  # the due date, inclusive

    def label(self) -> str:
        """Return e.g. '26 févr. – 25 mars 2026' in the current language."""
        return format_interval(self.start, self.end, "yMMMd", locale=reader_locale())

    def key(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    @classmethod
    def from_key(cls, key: str) -> Period:
        start, end = key.split("/")
        return cls(date.fromisoformat(start), date.fromisoformat(end))


class Cadence:
    """A project's reporting rhythm: an RRULE ('FREQ=MONTHLY;BYMONTHDAY=25') or 'DATES:…'."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._dates: list[date] | None = None
        self._rule: rrule | None = None
        if text.startswith("DATES:"):
            self._dates = sorted(date.fromisoformat(d) for d in text[6:].split(",") if d)
        else:
            rule = rrulestr(f"RRULE:{text}", dtstart=ANCHOR, cache=True)
            assert isinstance(rule, rrule)
            self._rule = rule

    def due_on_or_after(self, day: date) -> date | None:
        if self._dates is not None:
            return next((d for d in self._dates if d >= day), None)
        assert self._rule is not None
        found = self._rule.after(datetime.combine(day, datetime.min.time()), inc=True)
        return None if found is None else found.date()

    def due_before(self, day: date) -> date | None:
        if self._dates is not None:
            earlier = [d for d in self._dates if d < day]
            return earlier[-1] if earlier else None
        assert self._rule is not None
        found = self._rule.before(datetime.combine(day, datetime.min.time()), inc=False)
        return None if found is None else found.date()

    def period_ending(self, due: date) -> Period:
        previous = self.due_before(due)
        if previous is None:
            following = self.due_on_or_after(due + timedelta(days=1))
            length = (following - due) if following else timedelta(days=30)
            return Period(due - length + timedelta(days=1), due)
        return Period(previous + timedelta(days=1), due)

    def period_containing(self, day: date) -> Period | None:
        """The period whose due date is the first on or after `day` (None after the last)."""
        due = self.due_on_or_after(day)
        return None if due is None else self.period_ending(due)

    def current_and_previous(self, today: date) -> list[Period]:
        """The periods a report may be for today: the current one first, then the previous."""
        periods: list[Period] = []
        current = self.period_containing(today)
        if current is not None:
            periods.append(current)
            anchor = current.start
        else:
            anchor = today
        before = self.due_before(anchor)
        if before is not None:
            periods.append(self.period_ending(before))
        return periods

    def due_dates(self, start: date, end: date) -> list[date]:
        """Due dates between start and end, inclusive."""
        if self._dates is not None:
            return [d for d in self._dates if start <= d <= end]
        assert self._rule is not None
        lo = datetime.combine(start, datetime.min.time())
        hi = datetime.combine(end, datetime.min.time())
        return [d.date() for d in self._rule.between(lo, hi, inc=True)][:_HORIZON]

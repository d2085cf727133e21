"""Working days in England and Wales: weekends and bank holidays are not working days.

Bank holidays come from the `holidays` package (subdivision ENG of GB: England and Wales share the same bank
holidays), which knows Easter, the substitute days when Christmas Day, Boxing Day or New Year's Day fall on a
weekend, and the one-off holidays proclaimed so far. A holiday proclaimed after the installed release can be added
with ``WorkingDays(extra_holidays=...)`` until the package is upgraded.

Bacs, HMRC due dates and pay days all count in these working days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays as _holidays

__all__ = [
    "WorkingDays", "ENGLAND_AND_WALES", "bank_holidays", "is_bank_holiday", "is_working_day",
    "next_working_day", "previous_working_day", "add_working_days", "working_days_between",
]

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def _package_holidays(year: int) -> tuple[tuple[date, str], ...]:
    """The bank holidays of one year as the `holidays` package lists them (names joined if a day has two)."""
    found = _holidays.country_holidays("GB", subdiv="ENG", years=year)
    return tuple(sorted((day, name) for day, name in found.items() if day.year == year))


@lru_cache(maxsize=64)
def _package_days(year: int) -> frozenset[date]:
    return frozenset(day for day, _ in _package_holidays(year))


@dataclass(frozen=True)
class WorkingDays:
    """A working-day calendar: Monday to Friday, less bank holidays in England and Wales."""

    extra_holidays: frozenset[date] = frozenset()
    """Days to treat as bank holidays although the installed `holidays` release does not list them."""

    def __post_init__(self) -> None:
        extra = frozenset(self.extra_holidays)
        for day in extra:
            _check_date(day)
        object.__setattr__(self, "extra_holidays", extra)

    def bank_holidays(self, year: int) -> dict[date, str]:
        found = dict(_package_holidays(year))
        for day in self.extra_holidays:
            if day.year == year:
                found.setdefault(day, "Bank holiday")
        return dict(sorted(found.items()))

    def is_bank_holiday(self, day: date) -> bool:
        return day in self.extra_holidays or day in _package_days(day.year)

    def is_working_day(self, day: date) -> bool:
        _check_date(day)
        return day.weekday() < 5 and not self.is_bank_holiday(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        _check_date(day)
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        _check_date(day)
        day -= _ONE_DAY
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """Move ``n`` working days forward (or back, for negative ``n``) from ``day``.

        ``day`` itself need not be a working day: adding 1 to a Saturday gives the Monday (if it is not a bank
        holiday). Adding 0 gives ``day`` if it is a working day, else the next working day.
        """
        _check_date(day)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"the number of working days must be a whole number, not {type(n).__name__}")
        if n == 0:
            return day if self.is_working_day(day) else self.next_working_day(day)
        step = self.next_working_day if n > 0 else self.previous_working_day
        for _ in range(abs(n)):
            day = step(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after ``start`` up to and including ``end`` (negative if end < start)."""
        _check_date(start)
        _check_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count


def _check_date(day: object) -> None:
    # a datetime is a date too, but a moment is not a day: make the caller say which day it means
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a date, not {type(day).__name__}")


ENGLAND_AND_WALES = WorkingDays()


def bank_holidays(year: int) -> dict[date, str]:
    return ENGLAND_AND_WALES.bank_holidays(year)


def is_bank_holiday(day: date) -> bool:
    return ENGLAND_AND_WALES.is_bank_holiday(day)


def is_working_day(day: date) -> bool:
    return ENGLAND_AND_WALES.is_working_day(day)


def next_working_day(day: date) -> date:
    return ENGLAND_AND_WALES.next_working_day(day)


def previous_working_day(day: date) -> date:
    return ENGLAND_AND_WALES.previous_working_day(day)


def add_working_days(day: date, n: int) -> date:
    return ENGLAND_AND_WALES.add_working_days(day, n)


def working_days_between(start: date, end: date) -> int:
    return ENGLAND_AND_WALES.working_days_between(start, end)

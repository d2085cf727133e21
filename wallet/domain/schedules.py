"""Calendar arithmetic for plans and funding: plan periods, funding dates and pro-rating. Pure functions.

A support plan is counted in periods of four weeks (28 days from the plan's start) or calendar months (from the
plan's start day, clipped to a short month's end). A planned amount for any other stretch of days is pro-rated
day by day in ``Decimal`` and rounded once, half up, to whole pence.
"""
from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterator


class PlanPeriod(str, enum.Enum):
    FOUR_WEEKLY = "four_weekly"
    MONTHLY = "monthly"


class Schedule(str, enum.Enum):
    """How often a funder pays."""
    FOUR_WEEKLY = "four_weekly"
    MONTHLY = "monthly"
    ONE_OFF = "one_off"


@dataclass(frozen=True)
class Period:
    """The days from ``start`` up to but not including ``end``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def opens_at(self) -> datetime:
        return start_of(self.start)

    @property
    def closes_at(self) -> datetime:
        """The last moment inside the period (the ledger's ``balance_as_of`` counts postings up to a moment)."""
        return start_of(self.end) - timedelta(microseconds=1)


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of a day: the effective time of money dated that day."""
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """The same day of the month ``months`` later, clipped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    wanted = anchor_day or day.day
    return date(year, month + 1, min(wanted, calendar.monthrange(year, month + 1)[1]))


def _nth_start(kind: PlanPeriod | Schedule, first: date, n: int) -> date:
    if kind in (PlanPeriod.FOUR_WEEKLY, Schedule.FOUR_WEEKLY):
        return first + timedelta(days=28 * n)
    return add_months(first, n, anchor_day=first.day)


def plan_period(kind: PlanPeriod, plan_start: date, n: int) -> Period:
    """The plan's ``n``-th period (0 is the first; negative numbers count back before the start)."""
    return Period(_nth_start(kind, plan_start, n), _nth_start(kind, plan_start, n + 1))


def period_number(kind: PlanPeriod, plan_start: date, day: date) -> int:
    if kind is PlanPeriod.FOUR_WEEKLY:
        return (day - plan_start).days // 28
    n = (day.year - plan_start.year) * 12 + (day.month - plan_start.month)
    while _nth_start(kind, plan_start, n) > day:
        n -= 1
    while _nth_start(kind, plan_start, n + 1) <= day:
        n += 1
    return n


def period_containing(kind: PlanPeriod, plan_start: date, day: date) -> Period:
    return plan_period(kind, plan_start, period_number(kind, plan_start, day))


def periods_overlapping(kind: PlanPeriod, plan_start: date, span: Period) -> Iterator[Period]:
    n = period_number(kind, plan_start, span.start)
    while True:
        p = plan_period(kind, plan_start, n)
        if p.start >= span.end:
            return
        yield p
        n += 1


def prorate(amount_per_period: int, kind: PlanPeriod, plan_start: date, span: Period,
            active_from: date | None = None) -> int:
    """What ``amount_per_period`` comes to over ``span``: each plan period it touches contributes its share of
    days; days before ``active_from`` (a line that started later, a plan not yet begun) contribute nothing."""
    first_day = max(plan_start, active_from or plan_start)
    total = Decimal(0)
    for p in periods_overlapping(kind, plan_start, span):
        lo, hi = max(p.start, span.start, first_day), min(p.end, span.end)
        if hi > lo:
            total += Decimal(amount_per_period) * Decimal((hi - lo).days) / Decimal(p.days)
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def funding_dates(schedule: Schedule, starts: date, until: date, ends: date | None = None) -> list[date]:
    """Every date a funder is due to pay, from ``starts`` up to and including ``until`` (and ``ends``)."""
    last = min(until, ends) if ends else until
    out: list[date] = []
    n = 0
    while True:
        d = _nth_start(schedule, starts, n)
        if d > last:
            return out
        out.append(d)
        if schedule is Schedule.ONE_OFF:
            return out
        n += 1

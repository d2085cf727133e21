"""Statutory Sick Pay under the rules in force from 6 April 2026 (Employment Rights Act 2025).

- Payable from the first qualifying day of incapacity: no waiting days, no lower earnings limit, no minimum
  run of four days.
- Weekly rate: the lower of the flat rate (123.25 in 2026-27) and 80% of normal weekly earnings.
- A day's SSP is the weekly rate divided by the qualifying days in that week; HMRC's daily rates table rounds
  the amount for the days in a week UP to the penny (e.g. 3 of 7 days at 118.75 is 50.90).
- Periods of incapacity no more than 8 weeks (56 days) apart link into one; SSP stops when 28 weeks have been
  paid in a linked series, and a linked series ends 3 years after it began.
- SSP weeks run Sunday to Saturday.
Sickness that began before 6 April 2026 follows the old rules (three waiting days, the lower earnings limit),
which these functions refuse rather than compute.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Collection, Iterable, Mapping

from payroll.rules.errors import PayrollRuleError
from payroll.rules.money import ZERO, round_up_to_penny, to_decimal, to_money
from payroll.rules.periods import Frequency, tax_year_of
from payroll.rules.yearly_rates import SickPayRates, year_rates

_RULES_FROM = date(2026, 4, 6)  # Employment Rights Act 2025: the new SSP rules apply from 6 April 2026


@dataclass(frozen=True)
class SickPayWeek:
    """SSP for the days paid in one SSP week (Sunday to Saturday) within the pay period."""
    week_starting: date
    days: tuple[date, ...]
    qualifying_days_in_week: int
    weekly_rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class SickPay:
    amount: Decimal
    weeks: tuple[SickPayWeek, ...]
    series_start: date | None        # first day of the latest linked series of incapacity up to the period end
    weeks_paid_to_date: Fraction     # SSP weeks paid in that series, up to the end of the pay period
    weeks_remaining: Fraction
    exhausted_on: date | None        # first day of incapacity not paid because the 28 weeks (or 3 years) ran out


def weekly_rate(day: date, normal_weekly_earnings: Decimal) -> Decimal:
    """The lower of the flat weekly rate in force on ``day`` and 80% of normal weekly earnings (rounded UP to
    the penny, as HMRC rounds percentage-of-earnings statutory payments)."""
    rules = _new_rules(day)
    share = round_up_to_penny(normal_weekly_earnings * rules.earnings_percentage)
    return min(rules.weekly_rate, share)


def average_weekly_earnings(total_earnings: Decimal | str, frequency: Frequency | str, periods: int) -> Decimal:
    """Normal weekly earnings from the pay in the relevant period (normally the 8 weeks before sickness).

    HMRC: weekly-paid, the total over the number of weeks; monthly-paid, the total over the number of months,
    x 12 / 52. Not rounded here: it only feeds the 80% comparison.
    """
    frequency = Frequency.parse(frequency)
    total = to_money(total_earnings, "earnings in the relevant period")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise PayrollRuleError(f"number of pay periods must be a whole number of at least 1, not {periods!r}")
    if frequency is Frequency.MONTHLY:
        return total / periods * 12 / 52
    return total / (periods * frequency.weeks)


def statutory_sick_pay(
    sick_days: Iterable[date],
    qualifying_days: Collection[int],
    normal_weekly_earnings: Decimal | str | Mapping[date, Decimal],
    period_start: date,
    period_end: date,
) -> SickPay:
    """SSP due for the days of incapacity that fall in ``period_start``..``period_end``.

    ``sick_days`` is every day of incapacity known for the employee, earlier ones included, so that linking
    and the 28-week limit can be worked out. ``qualifying_days`` are weekdays (0 Monday .. 6 Sunday), normally
    the days the PA works. ``normal_weekly_earnings`` is one figure, or one per linked series keyed by the
    series' first day.
    """
    if period_end < period_start:
        raise PayrollRuleError("the pay period ends before it starts")
    qds = _check_qualifying_days(qualifying_days)
    share = Fraction(1, len(qds))  # each qualifying day is this much of an SSP week
    paid: dict[tuple[date, Decimal], list[date]] = {}  # (week start, weekly rate) -> days paid in the pay period
    series_start: date | None = None
    previous: date | None = None
    weeks_used = Fraction(0)
    maximum_weeks = year_rates("2026-27").statutory_sick_pay.maximum_weeks
    exhausted_on: date | None = None
    for day in sorted(set(sick_days)):
        if day > period_end:
            break
        if previous is None or (day - previous).days - 1 > _linking_days(day):
            series_start, weeks_used = day, Fraction(0)  # a period of incapacity that links to no earlier one
        previous = day
        if series_start < _RULES_FROM:
            if day >= period_start:
                raise PayrollRuleError(
                    f"this sickness began on {series_start} (with linked periods), before 6 April 2026, so it "
                    f"follows the old SSP rules (waiting days, lower earnings limit), which are not computed here")
            continue
        if day.weekday() not in qds:
            continue
        rules = _new_rules(day)
        maximum_weeks = rules.maximum_weeks
        if day >= _three_years_after(series_start) or weeks_used + share > maximum_weeks:
            if day >= period_start and exhausted_on is None:
                exhausted_on = day
            continue
        weeks_used += share
        if day >= period_start:
            rate = weekly_rate(day, _nwe_for(normal_weekly_earnings, series_start))
            paid.setdefault((_sunday_before(day), rate), []).append(day)

    weeks = tuple(
        SickPayWeek(week, tuple(days), len(qds), rate, round_up_to_penny(rate * len(days) / len(qds)))
        for (week, rate), days in sorted(paid.items()))
    return SickPay(
        amount=sum((w.amount for w in weeks), ZERO),
        weeks=weeks,
        series_start=series_start if series_start is not None and series_start >= _RULES_FROM else None,
        weeks_paid_to_date=weeks_used,
        weeks_remaining=maximum_weeks - weeks_used,
        exhausted_on=exhausted_on,
    )


def _new_rules(day: date) -> SickPayRates:
    rules = year_rates(tax_year_of(day)).statutory_sick_pay
    if rules.waiting_days or rules.lower_earnings_limit_test or rules.earnings_percentage is None:
        raise PayrollRuleError(f"SSP on {day} follows the rules before 6 April 2026, which are not computed here")
    return rules


def _linking_days(day: date) -> int:
    try:
        return year_rates(tax_year_of(day)).statutory_sick_pay.linking_days
    except PayrollRuleError:
        return 56  # 8 weeks: unchanged by the 2026 reform


def _three_years_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 3)
    except ValueError:  # 29 February
        return date(day.year + 3, 3, 1)


def _sunday_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _check_qualifying_days(qualifying_days: Collection[int]) -> frozenset[int]:
    qds = frozenset(qualifying_days)
    if not qds:
        raise PayrollRuleError("there must be at least one qualifying day a week")
    if not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in qds):
        raise PayrollRuleError("qualifying days are weekdays numbered 0 (Monday) to 6 (Sunday)")
    return qds


def _nwe_for(normal_weekly_earnings, series_start: date) -> Decimal:
    if isinstance(normal_weekly_earnings, Mapping):
        if series_start not in normal_weekly_earnings:
            raise PayrollRuleError(f"no normal weekly earnings given for the sickness that began on {series_start}")
        value = normal_weekly_earnings[series_start]
    else:
        value = normal_weekly_earnings
    nwe = to_decimal(value, "normal weekly earnings")
    if nwe < 0:
        raise PayrollRuleError("normal weekly earnings must not be negative")
    return nwe

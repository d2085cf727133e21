"""Plan periods, funding dates and pro-rating (pure functions: no database)."""
from __future__ import annotations

from datetime import date

import pytest

from wallet.domain.schedules import (Period, PlanPeriod, Schedule, add_months, funding_dates, period_containing,
                                     prorate)


def test_months_clip_to_the_end_of_a_short_month_and_keep_the_anchor_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 2, 28), 1, anchor_day=31) == date(2026, 3, 31)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_plan_periods_contain_the_day():
    start = date(2026, 4, 6)
    assert period_containing(PlanPeriod.FOUR_WEEKLY, start, date(2026, 5, 3)) == Period(start, date(2026, 5, 4))
    assert period_containing(PlanPeriod.FOUR_WEEKLY, start, date(2026, 5, 4)) == Period(date(2026, 5, 4),
                                                                                          date(2026, 6, 1))
    assert period_containing(PlanPeriod.FOUR_WEEKLY, start, date(2026, 4, 5)) == Period(date(2026, 3, 9), start)
    assert period_containing(PlanPeriod.MONTHLY, date(2026, 1, 31), date(2026, 3, 30)) == Period(
        date(2026, 2, 28), date(2026, 3, 31))


def test_funding_dates_per_schedule():
    start = date(2026, 4, 6)
    assert funding_dates(Schedule.FOUR_WEEKLY, start, date(2026, 6, 1)) == [start, date(2026, 5, 4),
                                                                           date(2026, 6, 1)]
    assert funding_dates(Schedule.MONTHLY, date(2026, 1, 31), date(2026, 4, 29)) == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert funding_dates(Schedule.ONE_OFF, start, date(2027, 1, 1)) == [start]
    assert funding_dates(Schedule.FOUR_WEEKLY, start, date(2027, 1, 1), ends=date(2026, 5, 10)) == [
        start, date(2026, 5, 4)]
    assert funding_dates(Schedule.MONTHLY, start, date(2026, 4, 5)) == []


def test_pro_rating_is_by_day_in_decimal_rounded_half_up_once():
    start = date(2026, 4, 6)
    four = PlanPeriod.FOUR_WEEKLY
    assert prorate(28_000, four, start, Period(start, date(2026, 5, 4))) == 28_000
    assert prorate(100, four, start, Period(start, date(2026, 4, 13))) == 25
    assert prorate(10, four, start, Period(start, date(2026, 4, 8))) == 1      # 0.714... rounds to 1
    assert prorate(2, four, start, Period(start, date(2026, 4, 13))) == 1      # 0.5 rounds up
    # Three periods and a half: the shares add up before the single rounding.
    assert prorate(1, four, start, Period(start, date(2026, 7, 13))) == 4      # 3.5 -> 4
    with pytest.raises(ValueError):
        Period(start, start)

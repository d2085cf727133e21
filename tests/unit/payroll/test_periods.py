from __future__ import annotations

from datetime import date

import pytest

from payroll.rules.periods import Frequency, tax_month, tax_period, tax_week, tax_year_of


@pytest.mark.parametrize("day, year", [(date(2026, 4, 5), "2025-26"), (date(2026, 4, 6), "2026-27"),
                                       (date(2027, 4, 5), "2026-27"), (date(1999, 12, 31), "1999-00")])
def test_tax_year(day, year):
    assert tax_year_of(day) == year


@pytest.mark.parametrize("day, month", [(date(2026, 4, 6), 1), (date(2026, 5, 5), 1), (date(2026, 5, 6), 2),
                                        (date(2027, 1, 5), 9), (date(2027, 1, 6), 10), (date(2027, 4, 5), 12)])
def test_tax_month_runs_6th_to_5th(day, month):
    assert tax_month(day) == month


@pytest.mark.parametrize("day, week", [(date(2026, 4, 6), 1), (date(2026, 4, 12), 1), (date(2026, 4, 13), 2),
                                       (date(2027, 4, 4), 52), (date(2027, 4, 5), 53)])
def test_tax_week_1_starts_6_april(day, week):
    assert tax_week(day) == week


@pytest.mark.parametrize("day, frequency, period", [
    (date(2027, 4, 5), "weekly", 53),        # Monday 5 April 2027: a week 53 for Monday payrolls
    (date(2027, 4, 4), "fortnightly", 54),
    (date(2027, 4, 3), "fortnightly", 52),
    (date(2027, 4, 2), "four_weekly", 56),
    (date(2027, 4, 1), "four_weekly", 52),
    (date(2028, 4, 4), "weekly", 53),        # leap year: 4 April is week 53 too
    (date(2028, 4, 3), "weekly", 52),
    (date(2028, 4, 3), "fortnightly", 54),
    (date(2028, 4, 1), "four_weekly", 56),
    (date(2026, 6, 30), "monthly", 3),
    (date(2026, 6, 30), "fortnightly", 13),
])
def test_tax_period_of_a_payday(day, frequency, period):
    assert tax_period(day, Frequency(frequency)).period == period

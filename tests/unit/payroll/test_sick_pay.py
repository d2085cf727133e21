from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

import pytest

from payroll.rules.errors import PayrollRuleError
from payroll.rules.sick_pay import average_weekly_earnings, statutory_sick_pay, weekly_rate

MON_TO_FRI = {0, 1, 2, 3, 4}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def test_weekly_rate_is_the_lower_of_flat_rate_and_80_percent():
    assert weekly_rate(date(2026, 5, 1), D("200")) == D("123.25")
    assert weekly_rate(date(2026, 5, 1), D("100")) == D("80.00")
    assert weekly_rate(date(2026, 5, 1), D("100.01")) == D("80.01")  # 80.008 rounded up


def test_paid_from_the_first_day():
    ssp = statutory_sick_pay([date(2026, 4, 13)], MON_TO_FRI, D("500"), date(2026, 4, 6), date(2026, 5, 5))
    assert ssp.amount == D("24.65")  # 123.25 / 5
    assert ssp.weeks[0].days == (date(2026, 4, 13),)


def test_low_earner_gets_80_percent_of_normal_weekly_earnings():
    ssp = statutory_sick_pay(days(date(2026, 4, 13), date(2026, 4, 17)), MON_TO_FRI, D("90"),
                             date(2026, 4, 6), date(2026, 5, 5))
    assert ssp.amount == D("72.00")


def test_part_week_rounded_up_to_the_penny():
    seven_days = set(range(7))
    ssp = statutory_sick_pay(days(date(2026, 4, 12), date(2026, 4, 14)), seven_days, D("500"),
                             date(2026, 4, 6), date(2026, 5, 5))
    assert ssp.amount == D("52.83")  # 123.25 x 3 / 7 = 52.821


def test_non_qualifying_days_are_not_paid():
    ssp = statutory_sick_pay(days(date(2026, 4, 10), date(2026, 4, 13)), {1, 3}, D("500"),
                             date(2026, 4, 6), date(2026, 5, 5))  # Fri-Mon; PA works Tue and Thu
    assert ssp.amount == 0


def test_only_days_in_the_pay_period_are_paid():
    ssp = statutory_sick_pay(days(date(2026, 4, 27), date(2026, 5, 8)), MON_TO_FRI, D("500"),
                             date(2026, 5, 6), date(2026, 6, 5))
    assert [d.day for w in ssp.weeks for d in w.days] == [6, 7, 8]
    assert ssp.amount == D("73.95")


def test_28_week_limit():
    # Sick every day from Monday 6 April 2026: 140 qualifying days are 28 weeks, the last Friday 16 October.
    ssp = statutory_sick_pay(days(date(2026, 4, 6), date(2026, 11, 30)), MON_TO_FRI, D("500"),
                             date(2026, 10, 6), date(2026, 11, 5))
    assert ssp.amount == D("221.85")  # 4 days (98.60) and 5 days (123.25)
    assert ssp.exhausted_on == date(2026, 10, 19)
    assert (ssp.weeks_paid_to_date, ssp.weeks_remaining) == (28, 0)


def test_spells_within_8_weeks_link_and_share_the_28_weeks():
    first = days(date(2026, 4, 6), date(2026, 8, 21))  # 20 weeks of qualifying days
    gap_end = date(2026, 8, 21) + timedelta(56)        # 56 clear days later
    second = days(gap_end + timedelta(1), gap_end + timedelta(100))
    ssp = statutory_sick_pay(first + second, MON_TO_FRI, D("500"), gap_end, gap_end + timedelta(100))
    assert ssp.series_start == date(2026, 4, 6)
    assert ssp.weeks_paid_to_date == 28
    assert sum(len(w.days) for w in ssp.weeks) == 40  # only 8 more weeks


def test_spells_more_than_8_weeks_apart_start_afresh():
    first = days(date(2026, 4, 6), date(2026, 8, 21))
    restart = date(2026, 8, 21) + timedelta(58)        # 57 clear days later
    ssp = statutory_sick_pay(first + days(restart, restart + timedelta(6)), MON_TO_FRI,
                             {date(2026, 4, 6): D("500"), restart: D("100")}, restart, restart + timedelta(30))
    assert ssp.series_start == restart
    assert ssp.weeks_paid_to_date == 1
    assert ssp.weeks_remaining == 27
    assert ssp.amount == D("80.00")  # the new series' own normal weekly earnings


def test_weeks_are_counted_in_fractions():
    ssp = statutory_sick_pay(days(date(2026, 4, 6), date(2026, 4, 8)), MON_TO_FRI, D("500"),
                             date(2026, 4, 6), date(2026, 4, 30))
    assert ssp.weeks_paid_to_date == Fraction(3, 5)


def test_sickness_begun_under_the_old_rules_is_refused():
    with pytest.raises(PayrollRuleError, match="before 6 April 2026"):
        statutory_sick_pay(days(date(2026, 3, 30), date(2026, 4, 10)), MON_TO_FRI, D("500"),
                           date(2026, 4, 6), date(2026, 5, 5))


def test_needs_qualifying_days():
    with pytest.raises(PayrollRuleError, match="at least one qualifying day"):
        statutory_sick_pay([date(2026, 4, 13)], set(), D("500"), date(2026, 4, 6), date(2026, 5, 5))


def test_needs_earnings_for_each_series():
    with pytest.raises(PayrollRuleError, match="no normal weekly earnings"):
        statutory_sick_pay([date(2026, 4, 13)], MON_TO_FRI, {}, date(2026, 4, 6), date(2026, 5, 5))


def test_average_weekly_earnings():
    assert average_weekly_earnings("2000.00", "monthly", 2) * 52 == D("12000")  # 2000 / 2 x 12 / 52
    assert average_weekly_earnings("800.00", "fortnightly", 4) == D("100")

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from payroll.rules.auto_enrolment import PensionScheme, ReliefMethod, WorkerCategory, age_on, assess_worker, \
    pension_contributions, qualifying_earnings, state_pension_date
from payroll.rules.errors import PayrollRuleError

E = WorkerCategory


@pytest.mark.parametrize("frequency, earnings, age, spa, category", [
    ("monthly", "833.01", 22, False, E.ELIGIBLE_JOBHOLDER),      # above the 833 trigger
    ("monthly", "833.00", 22, False, E.NON_ELIGIBLE_JOBHOLDER),  # at the trigger is not above it
    ("monthly", "2000.00", 21, False, E.NON_ELIGIBLE_JOBHOLDER),  # too young to be enrolled automatically
    ("monthly", "2000.00", 66, True, E.NON_ELIGIBLE_JOBHOLDER),   # reached State Pension age
    ("monthly", "520.01", 30, False, E.NON_ELIGIBLE_JOBHOLDER),
    ("monthly", "520.00", 30, False, E.ENTITLED_WORKER),         # at or below the lower limit
    ("weekly", "192.01", 40, False, E.ELIGIBLE_JOBHOLDER),
    ("weekly", "192.00", 40, False, E.NON_ELIGIBLE_JOBHOLDER),
    ("four_weekly", "768.01", 40, False, E.ELIGIBLE_JOBHOLDER),
    ("fortnightly", "240.00", 40, False, E.ENTITLED_WORKER),
    ("monthly", "5000.00", 15, False, E.NO_DUTIES),
    ("monthly", "5000.00", 75, True, E.NO_DUTIES),
    ("monthly", "100.00", 16, False, E.ENTITLED_WORKER),
])
def test_assessment(frequency, earnings, age, spa, category):
    assert assess_worker("2026-27", frequency, earnings, age, spa).category is category


def test_qualifying_earnings_band():
    assert qualifying_earnings("2026-27", "monthly", "2000.00") == D("1480.00")
    assert qualifying_earnings("2026-27", "monthly", "9000.00") == D("3669.00")  # capped at 4189
    assert qualifying_earnings("2026-27", "monthly", "400.00") == D("0.00")


def test_relief_at_source_contributions():
    c = pension_contributions("2026-27", "monthly", "2000.00", PensionScheme(D("0.05"), D("0.03")))
    assert (c.employee_contribution, c.employee_deduction, c.relief_at_source, c.employer_contribution) == (
        D("74.00"), D("59.20"), D("14.80"), D("44.40"))
    assert not c.reduces_taxable_pay


def test_net_pay_arrangement_takes_the_gross_contribution():
    c = pension_contributions("2026-27", "monthly", "2000.00",
                              PensionScheme(D("0.05"), D("0.03"), ReliefMethod.NET_PAY_ARRANGEMENT))
    assert (c.employee_deduction, c.relief_at_source) == (D("74.00"), D("0.00"))
    assert c.reduces_taxable_pay


def test_contributions_round_half_up_to_the_penny():
    c = pension_contributions("2026-27", "monthly", "1000.10", PensionScheme("0.05", "0.03"))
    assert c.employee_contribution == D("24.01")  # 480.10 x 5% = 24.005
    assert c.employee_deduction == D("19.21")     # 24.01 x 80% = 19.208
    assert c.employer_contribution == D("14.40")  # 14.403


@pytest.mark.parametrize("employee, employer, reason", [("0.05", "0.02", "employer must pay at least"),
                                                          ("0.04", "0.03", "total at least")])
def test_statutory_minimum(employee, employer, reason):
    with pytest.raises(PayrollRuleError, match=reason):
        PensionScheme(employee, employer).check_statutory_minimum("2026-27")
    PensionScheme("0.05", "0.03").check_statutory_minimum("2026-27")


def test_rates_must_be_fractions():
    with pytest.raises(PayrollRuleError, match="between 0 and 1"):
        PensionScheme("5", "3")


@pytest.mark.parametrize("born, reaches", [
    (date(1960, 4, 5), date(2026, 4, 5)),    # 66
    (date(1960, 4, 6), date(2026, 5, 6)),    # 66 and 1 month
    (date(1960, 5, 6), date(2026, 7, 6)),    # 66 and 2 months
    (date(1961, 3, 5), date(2028, 2, 5)),    # 66 and 11 months
    (date(1961, 3, 6), date(2028, 3, 6)),    # 67
    (date(1964, 2, 29), date(2031, 3, 1)),
])
def test_state_pension_date(born, reaches):
    assert state_pension_date(born) == reaches


def test_state_pension_age_not_guessed_for_later_cohorts():
    with pytest.raises(PayrollRuleError, match="not settled"):
        state_pension_date(date(1980, 1, 1))


def test_age_on_a_birthday_and_a_leap_day():
    assert age_on(date(2004, 6, 15), date(2026, 6, 14)) == 21
    assert age_on(date(2004, 6, 15), date(2026, 6, 15)) == 22
    assert age_on(date(2004, 2, 29), date(2026, 2, 28)) == 21
    assert age_on(date(2004, 2, 29), date(2026, 3, 1)) == 22

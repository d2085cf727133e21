from __future__ import annotations

from decimal import Decimal as D

import pytest

from payroll.rules.errors import PayrollRuleError
from payroll.rules.student_loans import LoanPlan, calculate_student_loans, period_threshold


@pytest.mark.parametrize("tax_year, frequency, plan, threshold", [
    ("2025-26", "monthly", "1", "2172.08"),   # 26065 / 12 = 2172.083: rounded down
    ("2025-26", "weekly", "1", "501.25"),
    ("2025-26", "monthly", "2", "2372.50"),
    ("2025-26", "weekly", "4", "629.71"),     # 32745 / 52 = 629.711
    ("2025-26", "weekly", "PGL", "403.84"),   # 21000 / 52 = 403.846: down, not to nearest
    ("2026-27", "monthly", "5", "2083.33"),
    ("2026-27", "fortnightly", "2", "1130.19"),  # 29385 x 2 / 52 = 1130.192
    ("2026-27", "four_weekly", "1", "2069.23"),  # 26900 x 4 / 52 = 2069.230
])
def test_period_thresholds(tax_year, frequency, plan, threshold):
    assert period_threshold(tax_year, frequency, LoanPlan.parse(plan)) == D(threshold)


def test_deduction_rounded_down_to_whole_pounds():
    result = calculate_student_loans("2025-26", "monthly", "2500.00", ["2"])  # 127.50 x 9% = 11.475
    assert result.student_loan == D("11.00")
    assert result.plan is LoanPlan.PLAN_2


def test_nothing_at_or_below_the_threshold():
    assert calculate_student_loans("2025-26", "monthly", "2372.50", ["2"]).student_loan == 0
    assert calculate_student_loans("2025-26", "monthly", "2383.61", ["2"]).student_loan == 0  # 0.99 due


def test_more_than_one_plan_repays_once_above_the_lowest_threshold():
    both = calculate_student_loans("2026-27", "monthly", "3000.00", ["2", "5"])
    assert both.plan is LoanPlan.PLAN_5
    assert both.student_loan == D("82.00")  # (3000 - 2083.33) x 9% = 82.50


def test_postgraduate_loan_alongside():
    result = calculate_student_loans("2026-27", "monthly", "3000.00", ["1", "PGL"])
    assert result.student_loan == D("68.00")        # (3000 - 2241.66) x 9% = 68.25
    assert result.postgraduate_loan == D("75.00")   # (3000 - 1750) x 6%


def test_no_plan_5_before_2026_27():
    with pytest.raises(PayrollRuleError, match="plan 5 repayments start in 2026-27"):
        calculate_student_loans("2025-26", "monthly", "3000.00", ["5"])


@pytest.mark.parametrize("plan", ["3", "plan 6", "", True, None])
def test_unknown_plan(plan):
    with pytest.raises(PayrollRuleError, match="student loan plan"):
        calculate_student_loans("2026-27", "monthly", "3000.00", [plan])


def test_plan_names_people_write():
    assert LoanPlan.parse("Plan 2") is LoanPlan.PLAN_2
    assert LoanPlan.parse(4) is LoanPlan.PLAN_4
    assert LoanPlan.parse("pgl") is LoanPlan.POSTGRADUATE

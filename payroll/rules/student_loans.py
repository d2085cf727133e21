"""Student and postgraduate loan deductions.

HMRC (Collection of Student Loans Manual CSLM17065, and the employer guidance): 9% (postgraduate loans 6%) of
NI-able pay above the pay period's threshold, the threshold being the annual one divided to the period and
rounded DOWN to the penny, the deduction rounded DOWN to whole pounds. Deductions are non-cumulative. An
employee with more than one undergraduate plan repays once, above the lowest of their plans' thresholds;
a postgraduate loan is repaid alongside.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Iterable

from payroll.rules.errors import PayrollRuleError
from payroll.rules.money import ZERO, exact_pence, round_down_to_penny, round_down_to_pound, to_money
from payroll.rules.periods import Frequency
from payroll.rules.yearly_rates import year_rates


class LoanPlan(str, Enum):
    PLAN_1 = "1"
    PLAN_2 = "2"
    PLAN_4 = "4"
    PLAN_5 = "5"
    POSTGRADUATE = "PGL"

    @classmethod
    def parse(cls, value: object) -> "LoanPlan":
        if isinstance(value, LoanPlan):
            return value
        text = str(value).strip().upper() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        for plan in cls:
            if text in (plan.value, f"PLAN {plan.value}", f"PLAN{plan.value}") or (
                    plan is LoanPlan.POSTGRADUATE and text in ("POSTGRADUATE", "PGL")):
                return plan
        raise PayrollRuleError(f"student loan plan must be one of \"1\", \"2\", \"4\", \"5\" or \"PGL\", not {value!r}")


@dataclass(frozen=True)
class StudentLoanDeductions:
    plan: LoanPlan | None               # the undergraduate plan whose threshold applied (the FPS plan type)
    student_loan: Decimal               # undergraduate plans, whole pounds
    postgraduate_loan: Decimal          # whole pounds
    student_loan_threshold: Decimal | None
    postgraduate_loan_threshold: Decimal | None


def parse_plans(values: Iterable[object]) -> frozenset[LoanPlan]:
    if isinstance(values, (str, bytes)):
        raise PayrollRuleError("student loan plans must be a list such as [\"2\", \"PGL\"]")
    return frozenset(LoanPlan.parse(v) for v in values)


def period_threshold(tax_year: str, frequency: Frequency | str, plan: LoanPlan) -> Decimal:
    rates = year_rates(tax_year).student_loans
    if plan.value not in rates.thresholds:
        raise PayrollRuleError(f"there are no plan {plan.value} repayments in {tax_year}"
                               + (" (plan 5 repayments start in 2026-27)" if plan is LoanPlan.PLAN_5 else ""))
    return round_down_to_penny(Frequency.parse(frequency).share_of_year(rates.thresholds[plan.value]))


def calculate_student_loans(tax_year: str, frequency: Frequency | str, ni_pay: Decimal | str,
                            plans: Iterable[object]) -> StudentLoanDeductions:
    """Deductions for one period from NI-able pay; ``plans`` may include "PGL" alongside undergraduate plans."""
    rates = year_rates(tax_year).student_loans
    pay = to_money(ni_pay, "NI-able pay")
    chosen = parse_plans(plans)
    undergraduate = [p for p in chosen if p is not LoanPlan.POSTGRADUATE]
    plan = threshold = None
    student_loan = ZERO
    if undergraduate:
        plan = min(undergraduate, key=lambda p: (period_threshold(tax_year, frequency, p), p.value))
        threshold = period_threshold(tax_year, frequency, plan)
        student_loan = _deduction(pay, threshold, rates.rates[plan.value])
    pgl_threshold = None
    postgraduate_loan = ZERO
    if LoanPlan.POSTGRADUATE in chosen:
        pgl_threshold = period_threshold(tax_year, frequency, LoanPlan.POSTGRADUATE)
        postgraduate_loan = _deduction(pay, pgl_threshold, rates.rates[LoanPlan.POSTGRADUATE.value])
    return StudentLoanDeductions(plan, student_loan, postgraduate_loan, threshold, pgl_threshold)


def _deduction(pay: Decimal, threshold: Decimal, rate: Decimal) -> Decimal:
    if pay <= threshold:
        return ZERO
    return exact_pence(round_down_to_pound((pay - threshold) * rate))

"""Year-to-date figures carried from payment to payment, and the arithmetic corrections need.

Each summed ``YearToDate`` field grows by one payslip figure (``PERIOD_FIGURES``). Three fields are not sums:
``previous_taxable_pay`` and ``previous_tax`` (P45 figures, taken in once) and ``ssp_weeks_paid`` (weeks in the
current linked series of sickness, worked out afresh from the sick days each period).
"""
from __future__ import annotations

from dataclasses import fields, replace
from decimal import Decimal
from fractions import Fraction
from typing import Callable

from payroll.model import Payslip, YearToDate

PERIOD_FIGURES: dict[str, Callable[[Payslip], int | Decimal]] = {
    "gross_pay": lambda p: p.gross_pay,
    "taxable_pay": lambda p: p.taxable_pay,
    "tax": lambda p: p.tax,
    "employee_ni": lambda p: p.employee_ni,
    "employer_ni": lambda p: p.employer_ni,
    "ni_earnings": lambda p: sum(n.gross_earnings for n in p.ni),
    "at_lel": lambda p: sum(n.at_lel for n in p.ni),
    "lel_to_pt": lambda p: sum(n.lel_to_pt for n in p.ni),
    "pt_to_uel": lambda p: sum(n.pt_to_uel for n in p.ni),
    "student_loan": lambda p: p.student_loan,
    "postgraduate_loan": lambda p: p.postgraduate_loan,
    "pension_employee": lambda p: p.pension_employee,
    "pension_employer": lambda p: p.pension_employer,
    "pension_net_pay": lambda p: p.pension_net_pay,
    "pension_relief_at_source": lambda p: p.pension_relief_at_source,
    "ssp": lambda p: p.ssp,
    "holiday_pay": lambda p: p.holiday_pay,
    "holiday_hours_accrued": lambda p: p.holiday_hours_accrued,
    "holiday_hours_taken": lambda p: p.holiday_hours_taken,
    "net_pay": lambda p: p.net_pay,
}
NOT_SUMMED = ("previous_taxable_pay", "previous_tax", "ssp_weeks_paid")
if set(PERIOD_FIGURES) | set(NOT_SUMMED) != {f.name for f in fields(YearToDate)}:   # a field added to the model
    raise RuntimeError("payroll.year_to_date does not say how every YearToDate field is carried")


def with_p45(before: YearToDate, taxable_pay: int, tax: int) -> YearToDate:
    """Take in P45 figures from an earlier employment this tax year, once: PAYE's cumulative basis counts
    them (HMRC "Tell HMRC about a new employee": use the P45 pay and tax to date), and they are kept apart
    in ``previous_*`` so that this employment's own figures can still be told."""
    if (before.previous_taxable_pay or before.previous_tax) or not (taxable_pay or tax):
        return before
    return replace(before, taxable_pay=before.taxable_pay + taxable_pay, tax=before.tax + tax,
                   previous_taxable_pay=taxable_pay, previous_tax=tax)


def after(before: YearToDate, payslip: Payslip, ssp_weeks_paid: str | None) -> YearToDate:
    """The figures after this payslip's payment."""
    changes: dict[str, object] = {name: getattr(before, name) + figure(payslip)
                                  for name, figure in PERIOD_FIGURES.items()}
    if ssp_weeks_paid is not None:
        changes["ssp_weeks_paid"] = ssp_weeks_paid
    return replace(before, **changes)


def before(payslip: Payslip) -> YearToDate:
    """The figures before this payslip's payment, worked back from the figures after it.

    P45 figures stay taken in (whether they came in at this payment or earlier, the cumulative basis for
    recomputing the payment is the same), and SSP weeks are worked out again from the sick days.
    """
    ytd = payslip.year_to_date
    return replace(ytd, **{name: getattr(ytd, name) - figure(payslip) for name, figure in PERIOD_FIGURES.items()})


def moved_by(current: YearToDate, corrected: YearToDate, original: YearToDate) -> YearToDate:
    """``current`` moved by what a correction changes: corrected minus original, field by field.

    When the corrected payment was the latest, this is exactly the corrected figures; when later payments
    followed, they keep their own amounts and the year's totals still come out right.
    """
    changes: dict[str, object] = {
        name: getattr(current, name) + getattr(corrected, name) - getattr(original, name)
        for name in (*PERIOD_FIGURES, "previous_taxable_pay", "previous_tax")}
    weeks = Fraction(current.ssp_weeks_paid) + Fraction(corrected.ssp_weeks_paid) - Fraction(original.ssp_weeks_paid)
    changes["ssp_weeks_paid"] = str(max(weeks, Fraction(0)))
    return replace(current, **changes)

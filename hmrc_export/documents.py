"""Documents for people: P60 (end of year), P45 (on leaving) and the P32 employer payment record.

Each document is one Jinja template rendered to HTML (for the portal) and, from the same HTML, to a tagged PDF
(WeasyPrint's PDF/UA-1 variant: structure tree, document title and language en-GB, real headings and table
headers), through the Jinja environment and renderer shared with payslips in ``payroll.rendering``. The figures
are the FPS figures: the P60 sums the year's pay periods and checks them against the last
year-to-date figures, so it cannot disagree with what HMRC was told.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hmrc_export.amounts import pounds_for_people
from hmrc_export.model import Employee, Employer, NIContributions, Payment, StatutoryPayToDate, TaxCode
from hmrc_export.p32 import P32
from hmrc_export.taxyear import TaxYear
from payroll.rendering import html_to_pdf, render_template

_TEMPLATES = Path(__file__).parent / "templates"


class FiguresDisagree(ValueError):
    """The pay periods do not add up to the year-to-date figures reported to HMRC."""


@dataclass(frozen=True)
class P60:
    year: TaxYear
    employer: Employer
    employee: Employee
    final_tax_code: TaxCode
    pay_this_employment: int
    tax_this_employment: int
    pay_previous_employments: int
    tax_previous_employments: int
    ni: tuple[NIContributions, ...]
    student_loan_deductions: int
    postgraduate_loan_deductions: int
    statutory_pay: StatutoryPayToDate

    @property
    def pay_total(self) -> int:
        return self.pay_this_employment + self.pay_previous_employments

    @property
    def tax_total(self) -> int:
        return self.tax_this_employment + self.tax_previous_employments


@dataclass(frozen=True)
class P45:
    year: TaxYear
    employer: Employer
    employee: Employee
    leaving_date: date
    tax_code: TaxCode
    period_label: str  # "Week 48" / "Month 11"
    total_pay_to_date: int | None  # box 7: only for a cumulative code
    total_tax_to_date: int | None
    pay_this_employment: int | None  # box 8: only when it differs from box 7
    tax_this_employment: int | None
    student_loan_continues: bool
    postgraduate_loan_continues: bool


def _ordered(payments: Sequence[Payment]) -> list[Payment]:
    if not payments:
        raise ValueError("no payments for this employee in the year")
    return sorted(payments, key=lambda p: (p.payment_date, p.taxable_pay_to_date))


def _check_sum(what: str, period_sum: int, to_date: int) -> None:
    if period_sum != to_date:
        raise FiguresDisagree(f"{what}: the pay periods add up to {pounds_for_people(period_sum)} but the last "
                              f"year-to-date figure is {pounds_for_people(to_date)}")


def build_p60(employer: Employer, employee: Employee, payments: Sequence[Payment], year: TaxYear) -> P60:
    """The P60 of an employee still employed on 5 April, from the year's payments to them."""
    if employee.leaving_date is not None and employee.leaving_date in year:
        raise ValueError(f"{employee.label} left on {employee.leaving_date.isoformat()}: give a P45, not a P60")
    ordered = _ordered([p for p in payments if p.payment_date in year])
    last = ordered[-1]
    _check_sum("taxable pay", sum(p.taxable_pay for p in ordered), last.taxable_pay_to_date)
    _check_sum("tax", sum(p.tax_deducted for p in ordered), last.tax_deducted_to_date)
    _check_sum("student loan deductions", sum(p.student_loan_recovered for p in ordered), last.student_loan_recovered_to_date)
    _check_sum("postgraduate loan deductions", sum(p.postgraduate_loan_recovered for p in ordered),
               last.postgraduate_loan_recovered_to_date)
    latest_by_letter: dict[str, NIContributions] = {}
    employee_ni_sums: dict[str, int] = {}
    for p in ordered:
        for n in p.ni:
            latest_by_letter[n.letter] = n
            employee_ni_sums[n.letter] = employee_ni_sums.get(n.letter, 0) + n.employee_contributions
    for letter, n in latest_by_letter.items():
        _check_sum(f"employee NI, letter {letter}", employee_ni_sums[letter], n.employee_contributions_to_date)
    starter = employee.starter
    return P60(year, employer, employee, last.tax_code, last.taxable_pay_to_date, last.tax_deducted_to_date,
               starter.previous_pay if starter else 0, starter.previous_tax if starter else 0,
               tuple(latest_by_letter[k] for k in sorted(latest_by_letter)), last.student_loan_recovered_to_date,
               last.postgraduate_loan_recovered_to_date, last.statutory_pay_to_date)


def build_p45(employer: Employer, employee: Employee, payments: Sequence[Payment], year: TaxYear) -> P45:
    """The P45 for a leaver, from their payments in the tax year of leaving.

    HMRC's P45 notes: box 7 (last entries: total pay and tax to date, including previous employments) is
    completed only when the code is cumulative; box 8 (this employment) only when it differs from box 7.
    """
    if employee.leaving_date is None:
        raise ValueError(f"{employee.label} has no leaving date")
    ordered = _ordered([p for p in payments if p.payment_date in year])
    last = ordered[-1]
    _check_sum("taxable pay", sum(p.taxable_pay for p in ordered), last.taxable_pay_to_date)
    _check_sum("tax", sum(p.tax_deducted for p in ordered), last.tax_deducted_to_date)
    previous_pay = employee.starter.previous_pay if employee.starter else 0
    previous_tax = employee.starter.previous_tax if employee.starter else 0
    period = f"Week {last.tax_week}" if last.tax_week is not None else f"Month {last.tax_month}"
    cumulative = not last.tax_code.non_cumulative
    total_pay = last.taxable_pay_to_date + previous_pay if cumulative else None
    total_tax = last.tax_deducted_to_date + previous_tax if cumulative else None
    show_this = not cumulative or previous_pay or previous_tax
    return P45(year, employer, employee, employee.leaving_date, last.tax_code, period, total_pay, total_tax,
               last.taxable_pay_to_date if show_this else None, last.tax_deducted_to_date if show_this else None,
               last.student_loan_plan is not None or bool(employee.starter and employee.starter.student_loan),
               last.postgraduate_loan_recovered_to_date > 0
               or bool(employee.starter and employee.starter.postgraduate_loan))


# ---------------------------------------------------------------------------------------------- rendering

def render_html(document: P60 | P45 | P32) -> str:
    template = {P60: "p60.html", P45: "p45.html", P32: "p32.html"}[type(document)]
    return render_template(_TEMPLATES, template, doc=document)


def render_pdf(document: P60 | P45 | P32) -> bytes:
    """A tagged PDF (PDF/UA-1) of the same HTML the portal shows (``payroll.rendering`` does the rendering)."""
    return html_to_pdf(render_html(document), base_url=_TEMPLATES)

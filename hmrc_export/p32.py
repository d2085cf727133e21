"""The P32 employer payment record: what is due to HMRC for each tax month, and when.

Pure functions over the year's payments. Rules (HMRC "Pay employers' PAYE", "Employment Allowance"):
- A tax month runs from the 6th to the 5th; payments count in the tax month of their payment date.
- Due to HMRC = tax + student and postgraduate loan deductions + employee and employer Class 1 NICs
  - statutory pay recovered (with NIC compensation) - Employment Allowance used.
- Employment Allowance is set only against employer Class 1 NICs, month by month until the year's allowance is
  used up. A month whose recoveries exceed what is owed pays nothing; the credit reduces the next months.
- Electronic payment is due by the 22nd after the tax month ends. When the 22nd is not a working day the money
  must reach HMRC by the last working day before it (HMRC's rule; only Faster Payments may arrive on the day).
- Employers who expect to pay less than £1,500 a month on average may pay quarterly: quarters end 5 July,
  5 October, 5 January and 5 April, due by the 22nd after.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from hmrc_export.model import Payment
from hmrc_export.taxyear import TaxYear, tax_month

EMPLOYMENT_ALLOWANCE_2026_27 = 1_050_000  # £10,500 (PAYROLL-RULES.md)
QUARTERLY_LIMIT = 150_000  # average monthly payments below £1,500


@lru_cache(maxsize=1)
def bank_holidays() -> frozenset[date]:
    data = json.loads((Path(__file__).parent / "data" / "bank-holidays-england-and-wales.json").read_text())
    return frozenset(date.fromisoformat(d) for d in data["dates"])


def is_working_day(day: date, holidays: frozenset[date] | None = None) -> bool:
    return day.weekday() < 5 and day not in (bank_holidays() if holidays is None else holidays)


def last_working_day_on_or_before(day: date, holidays: frozenset[date] | None = None) -> date:
    while not is_working_day(day, holidays):
        day -= timedelta(days=1)
    return day


def due_date(year: TaxYear, month: int, *, holidays: frozenset[date] | None = None) -> date:
    """When an electronic payment for a tax month must reach HMRC."""
    end = year.month_end(month)
    return last_working_day_on_or_before(date(end.year, end.month, 22), holidays)


def quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


def quarterly_due_date(year: TaxYear, quarter: int, *, holidays: frozenset[date] | None = None) -> date:
    return due_date(year, quarter * 3, holidays=holidays)


@dataclass(frozen=True)
class MonthTotals:
    """What the payrolls of one tax month deducted and owe, before allowances."""
    month: int
    tax: int = 0
    student_loans: int = 0
    postgraduate_loans: int = 0
    employee_ni: int = 0
    employer_ni: int = 0


@dataclass(frozen=True)
class P32Month:
    month: int
    period_start: date
    period_end: date
    tax: int
    student_loans: int
    postgraduate_loans: int
    employee_ni: int
    employer_ni: int
    statutory_pay_recovered: int
    employment_allowance_used: int
    credit_brought_forward: int
    amount_due: int
    due_date: date

    @property
    def total_ni(self) -> int:
        return self.employee_ni + self.employer_ni

    @property
    def gross_due(self) -> int:
        return self.tax + self.student_loans + self.postgraduate_loans + self.employee_ni + self.employer_ni


@dataclass(frozen=True)
class P32:
    employer_name: str
    employer_paye_reference: str
    accounts_office_reference: str
    year: TaxYear
    months: tuple[P32Month, ...]
    employment_allowance_claimed: bool
    quarterly: bool

    @property
    def total_due(self) -> int:
        return sum(m.amount_due for m in self.months)

    @property
    def employment_allowance_used(self) -> int:
        return sum(m.employment_allowance_used for m in self.months)

    def quarters(self) -> list[tuple[int, int, date]]:
        """(quarter, amount due, due date) for a quarterly payer."""
        return [(q, sum(m.amount_due for m in self.months if quarter_of(m.month) == q),
                 quarterly_due_date(self.year, q)) for q in range(1, 5)]


def monthly_totals(payments: Iterable[Payment], year: TaxYear) -> dict[int, MonthTotals]:
    """Sum the pay-period figures of the year's payments by tax month (months with no payment are absent)."""
    sums: dict[int, list[int]] = {}
    for p in payments:
        if p.payment_date not in year:
            raise ValueError(f"payment dated {p.payment_date.isoformat()} is not in the tax year {year.label}")
        row = sums.setdefault(tax_month(p.payment_date), [0, 0, 0, 0, 0])
        row[0] += p.tax_deducted
        row[1] += p.student_loan_recovered
        row[2] += p.postgraduate_loan_recovered
        row[3] += p.employee_ni
        row[4] += p.employer_ni
    return {m: MonthTotals(m, *row) for m, row in sorted(sums.items())}


def may_pay_quarterly(monthly_amounts: Iterable[int]) -> bool:
    amounts = list(monthly_amounts)
    return bool(amounts) and sum(amounts) / 12 < QUARTERLY_LIMIT


def build_p32(employer_name: str, employer_paye_reference: str, accounts_office_reference: str, year: TaxYear,
              payments: Iterable[Payment], *, statutory_recovered: Mapping[int, int] | None = None,
              employment_allowance: int | None = None, quarterly: bool | None = None,
              holidays: frozenset[date] | None = None) -> P32:
    """The year's P32. ``statutory_recovered`` maps tax month -> statutory pay recovered plus NIC compensation
    claimed for that month; ``employment_allowance`` is the allowance claimed (None: not claimed)."""
    totals = monthly_totals(payments, year)
    recovered = dict(statutory_recovered or {})
    allowance_left = employment_allowance or 0
    credit = 0
    months = []
    for month in range(1, 13):
        t = totals.get(month, MonthTotals(month))
        used = min(allowance_left, t.employer_ni)
        allowance_left -= used
        owed = (t.tax + t.student_loans + t.postgraduate_loans + t.employee_ni + t.employer_ni
                - recovered.get(month, 0) - used - credit)
        brought_forward = credit
        credit = max(0, -owed)
        months.append(P32Month(month, year.month_start(month), year.month_end(month), t.tax, t.student_loans,
                               t.postgraduate_loans, t.employee_ni, t.employer_ni, recovered.get(month, 0), used,
                               brought_forward, max(0, owed), due_date(year, month, holidays=holidays)))
    if quarterly is None:
        quarterly = may_pay_quarterly(m.amount_due for m in months)
    return P32(employer_name, employer_paye_reference, accounts_office_reference, year, tuple(months),
               employment_allowance is not None, quarterly)

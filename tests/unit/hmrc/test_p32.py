"""P32: monthly sums, Employment Allowance offset, credits, due dates and quarterly payers."""
from __future__ import annotations

from datetime import date

from hmrc_export.p32 import (build_p32, due_date, last_working_day_on_or_before, may_pay_quarterly, monthly_totals,
                             quarterly_due_date)
from hmrc_export.taxyear import TaxYear
from tests.unit.hmrc.sample_run import EMPLOYER, four_weekly_run, monthly_year, payment

YEAR = TaxYear(2026)


def _p32(payments, **kw):
    return build_p32(EMPLOYER.name, EMPLOYER.employer_paye_reference, EMPLOYER.accounts_office_reference, YEAR,
                     payments, **kw)


def test_monthly_sums_add_every_payment_in_the_tax_month():
    run = [item.payment for item in four_weekly_run()]
    totals = monthly_totals(run, YEAR)
    assert list(totals) == [2]  # 29 May 2026 is in tax month 2 (6 May to 5 June)
    m = totals[2]
    assert m.tax == sum(p.tax_deducted for p in run) == 75_240
    assert m.student_loans == 4_000
    assert m.employee_ni == sum(p.ni[0].employee_contributions for p in run)
    assert m.employer_ni == sum(p.ni[0].employer_contributions for p in run)


def test_payments_on_the_5th_and_6th_fall_in_different_months():
    totals = monthly_totals([payment(100_000, 1_000, paid=date(2026, 6, 5)),
                             payment(100_000, 2_000, paid=date(2026, 6, 6))], YEAR)
    assert (totals[2].tax, totals[3].tax) == (1_000, 2_000)


def test_amount_due_and_employment_allowance_offset_against_employer_ni_only():
    _, payments = monthly_year()  # employer NI 238.50 a month, tax 195.20, employee NI 76.16, loan 10.00
    p32 = _p32(payments, employment_allowance=50_000)  # £500 allowance: all of month 1 and month 2, part of month 3
    m1, m2, m3, m4 = p32.months[:4]
    assert (m1.employment_allowance_used, m2.employment_allowance_used, m3.employment_allowance_used) == (23_850, 23_850, 2_300)
    assert m4.employment_allowance_used == 0
    assert m1.amount_due == 19_520 + 1_000 + 7_616 + 23_850 - 23_850
    assert m3.amount_due == 19_520 + 1_000 + 7_616 + 23_850 - 2_300
    assert m4.amount_due == 19_520 + 1_000 + 7_616 + 23_850
    assert p32.employment_allowance_used == 50_000
    assert p32.total_due == 12 * (19_520 + 1_000 + 7_616 + 23_850) - 50_000


def test_allowance_never_exceeds_employer_ni_and_statutory_recovery_credit_carries_forward():
    _, payments = monthly_year()
    p32 = _p32(payments, employment_allowance=1_050_000, statutory_recovered={1: 60_000})
    m1, m2, m3 = p32.months[:3]
    assert m1.employment_allowance_used == 23_850  # capped at the month's employer NI
    assert m1.amount_due == 0  # 28,136 owed less 60,000 recovered: nothing to pay...
    assert m2.credit_brought_forward == 60_000 - 28_136  # ...and the rest reduces the next months
    assert m2.amount_due == 0
    assert m3.credit_brought_forward == 60_000 - 2 * 28_136
    assert m3.amount_due == 28_136 - (60_000 - 2 * 28_136)
    assert p32.employment_allowance_used == 12 * 23_850


def test_due_dates_are_the_22nd_or_the_last_working_day_before():
    assert due_date(YEAR, 1) == date(2026, 5, 22)  # Friday
    assert due_date(YEAR, 4) == date(2026, 8, 21)  # 22 August 2026 is a Saturday
    assert due_date(YEAR, 7) == date(2026, 11, 20)  # Sunday 22 November
    assert due_date(YEAR, 12) == date(2027, 4, 22)
    holidays = frozenset({date(2026, 6, 22)})  # a bank holiday on the 22nd moves the date back too
    assert due_date(YEAR, 2, holidays=holidays) == date(2026, 6, 19)
    assert last_working_day_on_or_before(date(2026, 12, 28)) == date(2026, 12, 24)  # Boxing Day substitute


def test_quarterly_payers_under_1500_a_month():
    assert quarterly_due_date(YEAR, 1) == date(2026, 7, 22)
    assert quarterly_due_date(YEAR, 3) == date(2027, 1, 22)
    assert may_pay_quarterly([100_000] * 12) and not may_pay_quarterly([150_000] * 12)
    _, payments = monthly_year()
    p32 = _p32(payments)
    assert p32.quarterly  # 519.86 a month
    quarters = p32.quarters()
    assert [q for q, _, _ in quarters] == [1, 2, 3, 4]
    assert sum(amount for _, amount, _ in quarters) == p32.total_due
    assert quarters[0][2] == date(2026, 7, 22)
    big = _p32([payment(900_000, 200_000, paid=p.payment_date, week=1) for p in payments])
    assert not big.quarterly

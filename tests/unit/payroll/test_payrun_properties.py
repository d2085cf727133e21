"""Invariants of every pay run, over PAs Hypothesis makes up: codes, letters, loans, pensions, hours, holiday,
sickness, expenses and year-to-date figures."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal as D

from hypothesis import given, settings, strategies as st

from payroll import year_to_date
from payroll.model import HourKind, LineKind, PayRates, PayRunStatus, PensionStatus, SicknessRecord, YearToDate
from payroll.payrun import calculate_adjustment, calculate_pay_run
from tests.unit.payroll.test_payrun_builders import EMPLOYER, employee, holiday, ids, member, run, shift, sick, \
    timesheet

FIRST, LAST = date(2026, 5, 6), date(2026, 6, 5)
MONTH_TWO = run(date(2026, 5, 29), FIRST, LAST, run_id="run-2")
KINDS = (HourKind.STANDARD, HourKind.STANDARD, HourKind.NIGHT, HourKind.WEEKEND, HourKind.SLEEP_IN)


@st.composite
def pa_members(draw, number: int):
    irregular = draw(st.booleans())
    pa = employee(
        number,
        tax_code=draw(st.sampled_from(("1257L", "1257L", "S1257L", "C1100L", "BR", "D0", "K300", "0T M1", "NT",
                                       "1500L", "1257L X"))),
        ni_letter=draw(st.sampled_from("AABCHJMZX")),
        student_loan_plans=draw(st.sampled_from(((), ("1",), ("2",), ("4",), ("5",), ("2", "PGL"), ("PGL",)))),
        pension_status=draw(st.sampled_from(list(PensionStatus))),
        birth_date=date(draw(st.integers(1960, 2008)), 3, 1),
        irregular_hours=irregular, rolled_up_holiday=irregular and draw(st.booleans()))
    days = draw(st.lists(st.integers(0, 29), unique=True, max_size=20))
    shifts, absences = [], []
    for n, offset in enumerate(days):
        day = FIRST + timedelta(days=offset)
        if n % 7 == 6:
            absences.append(sick(day))
            continue
        start = draw(st.integers(6, 11))
        length = draw(st.integers(1, 12))
        kind = draw(st.sampled_from(KINDS))
        shifts.append(shift(day, f"{start:02d}:{draw(st.sampled_from(('00', '15', '40')))}",
                            f"{(start + length) % 24:02d}:00", kind))
    accrued = D(draw(st.integers(0, 4000))) / 100
    taken = D(draw(st.integers(0, int(accrued * 100)))) / 100
    free = [FIRST + timedelta(days=d) for d in range(30) if d not in days]
    if irregular and not pa.rolled_up_holiday and accrued - taken >= 1 and free:
        absences.append(holiday(free[0], str(min(accrued - taken, D(8)))))
    gross_before = draw(st.integers(0, 600_000))
    before = YearToDate(gross_pay=gross_before, taxable_pay=gross_before, tax=draw(st.integers(0, gross_before // 4)),
                        holiday_hours_accrued=accrued, holiday_hours_taken=taken)
    rates = PayRates(standard=draw(st.integers(1100, 4000)), night=draw(st.integers(1100, 3500)), weekend=1500,
                     sleep_in_flat=draw(st.integers(3000, 12000)))
    earnings = ((date(2026, 3, 31), draw(st.integers(0, 300_000))), (date(2026, 4, 30), draw(st.integers(0, 300_000))))
    ts = timesheet(pa, FIRST, LAST, shifts, absences, expenses=draw(st.integers(0, 5000)))
    return member(pa, ts, before, SicknessRecord((), earnings), rates=rates,
                  pension_relief=draw(st.sampled_from(("relief_at_source", "net_pay_arrangement"))))


@st.composite
def runs(draw):
    count = draw(st.integers(1, 4))
    return [draw(pa_members(n)) for n in range(1, count + 1)], draw(st.integers(0, 1_100_000))


def deductions(slip):
    return slip.tax + slip.employee_ni + slip.student_loan + slip.postgraduate_loan + slip.pension_employee


def total(slip, *kinds):
    return sum(ln.amount for ln in slip.lines if ln.kind in kinds)


@settings(max_examples=60)
@given(runs())
def test_every_payslip_adds_up_and_the_summary_is_their_sum(drawn):
    members, used_before = drawn
    result = calculate_pay_run(MONTH_TWO, EMPLOYER, members, employment_allowance_used_before=used_before,
                               new_id=ids())
    for slip, m in zip(result.payslips, members):
        assert slip.net_pay == slip.gross_pay - deductions(slip) + slip.expenses
        assert total(slip, LineKind.EARNING, LineKind.STATUTORY) == slip.gross_pay
        assert total(slip, LineKind.DEDUCTION) == deductions(slip)
        assert total(slip, LineKind.NON_TAXABLE) == slip.expenses == m.timesheet.expenses
        assert total(slip, LineKind.EMPLOYER) == slip.employer_ni + slip.pension_employer
        for ln in slip.lines:
            if ln.code.startswith("hours.") and ln.code != "hours.sleep_in":
                assert ln.amount == int((ln.hours * ln.rate).quantize(D(1), rounding=ROUND_HALF_UP))
        # the year to date moves by exactly this payslip's figures
        for name, figure in year_to_date.PERIOD_FIGURES.items():
            assert getattr(slip.year_to_date, name) - getattr(m.year_to_date, name) == figure(slip), name
        if m.employee.irregular_hours and not m.employee.rolled_up_holiday:   # never more taken than accrued
            assert slip.year_to_date.holiday_hours_taken <= slip.year_to_date.holiday_hours_accrued
        assert slip.tax <= slip.taxable_pay // 2 or slip.tax <= 0   # the regulatory limit
    s = result.summary
    slips = result.payslips
    assert s.employees == len(members)
    assert (s.gross_pay, s.employer_ni, s.employer_pension, s.expenses, s.tax, s.employee_ni, s.student_loans,
            s.net_pay) == (
        sum(p.gross_pay for p in slips), sum(p.employer_ni for p in slips), sum(p.pension_employer for p in slips),
        sum(p.expenses for p in slips), sum(p.tax for p in slips), sum(p.employee_ni for p in slips),
        sum(p.student_loan + p.postgraduate_loan for p in slips), sum(p.net_pay for p in slips))
    assert s.employment_allowance_used == min(s.employer_ni, max(1_050_000 - used_before, 0))
    assert s.total_cost == sum(p.employer_cost for p in slips) - s.employment_allowance_used


@settings(max_examples=40)
@given(runs(), st.data())
def test_an_adjustment_is_the_corrected_payslip_minus_the_original(drawn, data):
    members, used_before = drawn
    original = replace(calculate_pay_run(MONTH_TWO, EMPLOYER, members, employment_allowance_used_before=used_before,
                                         new_id=ids()), status=PayRunStatus.FINALISED)
    corrected = []
    for m, paid in zip(members, original.payslips):
        keep = data.draw(st.integers(0, len(m.timesheet.shifts)))
        ts = replace(m.timesheet, shifts=m.timesheet.shifts[:keep],
                     expenses=data.draw(st.integers(0, 5000)))
        corrected.append(replace(m, timesheet=ts, year_to_date=paid.year_to_date))
    fix = run(date(2026, 6, 30), date(2026, 6, 6), date(2026, 7, 5), run_id="fix", corrects=original.id)
    adjusted = calculate_adjustment(original, corrected, run=fix, employer=EMPLOYER,
                                    employment_allowance_used_before=used_before, new_id=ids("adj"))
    right = calculate_pay_run(MONTH_TWO, EMPLOYER, [replace(c, year_to_date=m.year_to_date)
                                                    for c, m in zip(corrected, members)],
                              employment_allowance_used_before=used_before, new_id=ids())
    for adj, paid, good in zip(adjusted.payslips, original.payslips, right.payslips):
        assert adj.is_adjustment
        for name in ("gross_pay", "taxable_pay", "tax", "employee_ni", "employer_ni", "student_loan", "net_pay",
                     "pension_employee", "pension_employer", "ssp", "holiday_pay", "expenses"):
            assert getattr(adj, name) == getattr(good, name) - getattr(paid, name), name
        assert adj.net_pay == adj.gross_pay - deductions(adj) + adj.expenses
        assert total(adj, LineKind.EARNING, LineKind.STATUTORY) == adj.gross_pay
        assert total(adj, LineKind.DEDUCTION) == deductions(adj)
        assert adj.year_to_date == good.year_to_date

"""A whole tax year, 2026-27, for one PA on a four-weekly payroll.

Thirteen pay periods of four weeks from Monday 6 April 2026; each is paid on its fourth Thursday (30 April
2026, tax week 4, then every 28 days to 1 April 2027, tax week 52). Hours vary; there is a night shift or a
sleep-in each period; a sick week in period 5 (SSP); a pension opt-in from period 6; the tax code changes from
1257L to 1100L (cumulative) from period 9, so the tax under-deducted so far is caught up; holiday accrued at
12.07% (irregular hours) is taken in period 10. Each run's year-to-date figures feed the next run.

Expected figures are worked out below from the rules as HMRC and the regulations state them, not by calling
the engine's rules, so that a fault in the engine shows.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal as D

from payroll import year_to_date
from payroll.model import Absence, Contract, Employee, HourKind, PayRates, PayRun, PayRunMember, PensionStatus, \
    Shift, SicknessRecord, Timesheet, TimesheetStatus, YearToDate
from payroll.payrun import calculate_pay_run
from tests.unit.payroll.test_payrun_builders import EMPLOYER, LONDON, ids

YEAR_START = date(2026, 4, 6)
STANDARD, NIGHT, SLEEP_IN = D("13.50"), D("15.00"), D("60.00")
HOURS = (80, 96, 72, 104, 88, 64, 176, 96, 80, 72, 104, 88, 80)   # standard hours, in 8-hour days
SICK_PERIOD, OPT_IN_FROM, CODE_CHANGE_FROM, HOLIDAY_PERIOD = 4, 5, 8, 9   # 0-based period indexes
EXPENSES = {2: 2500, 11: 1840}
PENNY = D("0.01")

PA = Employee(id="pa-year", employer_id=EMPLOYER.id, payroll_id="Y0001", forenames=("Robin",), surname="Year",
              birth_date=date(2005, 1, 1),  # 21 all year until 22 on 1 January 2027: non-eligible until then
              start_date=date(2025, 9, 1), frequency="four_weekly", tax_code="1257L",
              student_loan_plans=("2",), pension_status=PensionStatus.NOT_ELIGIBLE, irregular_hours=True)
CONTRACT = Contract("c-year", PA.id, PA.start_date, PayRates(standard=1350, night=1500, sleep_in_flat=6000),
                    qualifying_days=(0, 1, 2, 3, 4))


def period_dates(i: int) -> tuple[date, date, date]:
    first = YEAR_START + timedelta(days=28 * i)
    return first, first + timedelta(days=27), first + timedelta(days=24)   # start, end, payday (Thursday)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), LONDON)


def sick_days(i: int) -> tuple[date, ...]:
    # Period 5 starts Monday 27 July 2026: sick Monday 3 to Friday 7 August.
    return tuple(period_dates(i)[0] + timedelta(days=7 + n) for n in range(5)) if i == SICK_PERIOD else ()


def holiday_days(i: int) -> tuple[date, ...]:
    first = period_dates(i)[0]
    return (first + timedelta(days=1), first + timedelta(days=2)) if i == HOLIDAY_PERIOD else ()


def timesheet(i: int) -> Timesheet:
    first, last, _ = period_dates(i)
    off = set(sick_days(i)) | set(holiday_days(i))
    days = [d for d in (first + timedelta(days=n) for n in range(28)) if d not in off][: HOURS[i] // 8]
    shifts = [Shift(at(d, 9), at(d, 17)) for d in days]
    evening = last - timedelta(days=1)   # a Saturday; day shifts never reach it
    if i % 2 == 0:
        shifts.append(Shift(at(evening, 22), at(evening + timedelta(days=1), 6), HourKind.NIGHT))      # 8 h
    else:
        shifts.append(Shift(at(evening, 22), at(evening + timedelta(days=1), 7), HourKind.SLEEP_IN))   # 9 h
    absences = [Absence(d, "sick") for d in sick_days(i)] + [Absence(d, "holiday", D(8)) for d in holiday_days(i)]
    return Timesheet(f"ts-{i}", PA.id, first, last, tuple(shifts), tuple(absences), EXPENSES.get(i, 0),
                     TimesheetStatus.APPROVED)


def run_the_year():
    ytd, slips, paid, sick = YearToDate(), [], [], ()
    for i in range(13):
        first, last, payday = period_dates(i)
        employee = replace(PA, tax_code="1100L" if i >= CODE_CHANGE_FROM else "1257L",
                           pension_status=PensionStatus.OPTED_IN if i >= OPT_IN_FROM else PA.pension_status)
        week = (payday - YEAR_START).days // 7 + 1
        the_run = PayRun(f"run-{i + 1}", EMPLOYER.id, "2026-27", "four_weekly", week, first, last, payday)
        member = PayRunMember(employee, CONTRACT, timesheet(i), ytd, SicknessRecord(sick, tuple(paid)))
        result = calculate_pay_run(the_run, EMPLOYER, [member], employment_allowance_used_before=0, new_id=ids())
        slip = result.payslips[0]
        slips.append(slip)
        ytd = slip.year_to_date
        paid.append((payday, slip.gross_pay))
        sick = (*sick, *sick_days(i))
    return slips


SLIPS = run_the_year()


def pence(amount: D) -> int:
    assert amount == amount.quantize(PENNY), amount
    return int(amount * 100)


def expected_gross(i: int) -> D:
    extra = NIGHT * 8 if i % 2 == 0 else SLEEP_IN
    ssp = D("123.25") if i == SICK_PERIOD else D(0)          # checked in test_sick_week_is_paid_ssp
    holiday = STANDARD * 16 if i == HOLIDAY_PERIOD else D(0)  # two 8-hour days at the standard rate
    return STANDARD * HOURS[i] + extra + ssp + holiday


def free_pay_four_weekly(code_number: int, weeks: int) -> D:
    # Tables A: q = (N - 1) div 500, r = (N - 1) mod 500 + 1; weekly (r x 10 + 9) / 52 rounded UP, + q x 96.16.
    q, remainder = divmod(code_number - 1, 500)
    r = remainder + 1
    weekly = (D(r * 10 + 9) / 52).quantize(PENNY, rounding=ROUND_UP) + q * D("96.16")
    return weekly * weeks


def tax_to_date(pay_to_date: D, code_number: int, week: int) -> D:
    # Whole pounds of taxable pay, 20% (all within the basic rate band here), rounded down to the penny.
    taxable = (pay_to_date - free_pay_four_weekly(code_number, week)).quantize(D(1), rounding=ROUND_DOWN)
    return (max(taxable, D(0)) * D("0.20")).quantize(PENNY, rounding=ROUND_DOWN)


def test_thirteen_periods_in_weeks_4_to_52():
    assert [s.period for s in SLIPS] == list(range(4, 53, 4))
    assert SLIPS[-1].payment_date == date(2027, 4, 1)
    assert all(s.warnings == () for s in SLIPS)


def test_the_final_year_to_date_is_the_sum_of_the_payslips():
    final = SLIPS[-1].year_to_date
    for name, figure in year_to_date.PERIOD_FIGURES.items():
        assert getattr(final, name) == sum(figure(s) for s in SLIPS), name
    assert (final.previous_taxable_pay, final.previous_tax) == (0, 0)
    assert final.ssp_weeks_paid == "1"   # five of five qualifying days in one linked series
    # and every period on the way
    for before, slip in zip([YearToDate(), *[s.year_to_date for s in SLIPS[:-1]]], SLIPS):
        for name, figure in year_to_date.PERIOD_FIGURES.items():
            assert getattr(slip.year_to_date, name) == getattr(before, name) + figure(slip), name


def test_gross_pay_each_period():
    assert [s.gross_pay for s in SLIPS] == [pence(expected_gross(i)) for i in range(13)]
    assert SLIPS[0].gross_pay == 120000   # 80 h x 13.50 = 1,080 + 8 night hours x 15.00 = 120


def test_first_period_by_hand():
    first = SLIPS[0]
    # Week 4, 1257L: free pay 4 x 241.92 = 967.68; 1,200 - 967.68 = 232.32 -> 232 x 20% = 46.40
    assert first.tax == 4640
    # NI four-weekly: PT 967, ST 385: (1,200 - 967) x 8% = 18.64; (1,200 - 385) x 15% = 122.25
    assert (first.employee_ni, first.employer_ni) == (1864, 12225)
    assert first.net_pay == 120000 - 4640 - 1864


def test_sick_week_is_paid_ssp():
    sick = SLIPS[SICK_PERIOD]
    # Normal weekly earnings: paydays 25 June and 23 July fall in the 8 weeks to the last payday before
    # 3 August: (gross of periods 3 and 4) / 8 weeks; 80% of that is above 123.25, so the flat rate.
    nwe = (expected_gross(2) + expected_gross(3)) / 8
    assert nwe * D("0.80") > D("123.25")
    assert sick.ssp == 12325 and [ln.code for ln in sick.lines].count("ssp") == 1
    assert sum(s.ssp for s in SLIPS) == 12325


def test_code_change_catches_up_the_tax():
    pay_to_date = [sum(expected_gross(j) for j in range(i + 1)) for i in range(13)]
    before_change = SLIPS[CODE_CHANGE_FROM - 1].year_to_date.tax
    assert before_change == pence(tax_to_date(pay_to_date[CODE_CHANGE_FROM - 1], 1257, 32))
    # Week 36 on 1100L: free pay (19.41 + 2 x 96.16 = 211.73 a week) x 36 = 7,622.28
    assert free_pay_four_weekly(1100, 36) == D("7622.28")
    catch_up = SLIPS[CODE_CHANGE_FROM].tax
    assert catch_up == pence(tax_to_date(pay_to_date[CODE_CHANGE_FROM], 1100, 36)) - before_change
    # more than the period would have paid on 1257L: the under-deduction of weeks 1-32 is collected now
    on_old_code = pence(tax_to_date(pay_to_date[CODE_CHANGE_FROM], 1257, 36)) - before_change
    assert catch_up - on_old_code == pence(tax_to_date(pay_to_date[CODE_CHANGE_FROM], 1100, 36)
                                           - tax_to_date(pay_to_date[CODE_CHANGE_FROM], 1257, 36))
    assert catch_up > on_old_code + 20000
    # At the year end the whole year is taxed on 1100L: free pay 52 x 211.73 = 11,009.96
    assert SLIPS[-1].year_to_date.tax == pence(tax_to_date(pay_to_date[-1], 1100, 52))


def test_national_insurance_and_student_loan_for_the_year():
    # Not cumulative: each period on its own. Employee 8% above 967 (no period reaches the UEL of 3,867).
    employee_ni = sum(max(expected_gross(i) - 967, D(0)) * D("0.08") for i in range(13))
    assert SLIPS[-1].year_to_date.employee_ni == pence(employee_ni.quantize(PENNY))
    assert SLIPS[-1].year_to_date.ni_earnings == pence(sum(expected_gross(i) for i in range(13)))
    assert SLIPS[-1].year_to_date.at_lel == 13 * 51600   # every period reaches the LEL of 516
    # Plan 2 only in period 7: 176 h x 13.50 + 120 = 2,496; threshold 29,385 x 4 / 52 = 2,260.38 (truncated);
    # (2,496 - 2,260.38) x 9% = 21.21 -> 21 (whole pounds, down)
    assert [s.student_loan for s in SLIPS] == [2100 if i == 6 else 0 for i in range(13)]


def test_pension_from_the_opt_in():
    assert all(s.pension_employee == s.pension_employer == 0 for s in SLIPS[:OPT_IN_FROM])
    for i in range(OPT_IN_FROM, 13):
        # Four-weekly qualifying earnings above 480; 5% (relief at source: 80% of it taken), 3% employer
        qualifying = expected_gross(i) - 480
        employee = (qualifying * D("0.05")).quantize(PENNY, rounding=ROUND_HALF_UP)
        assert SLIPS[i].pension_employee == pence((employee * D("0.80")).quantize(PENNY, rounding=ROUND_HALF_UP))
        assert SLIPS[i].pension_employer == pence((qualifying * D("0.03")).quantize(PENNY, rounding=ROUND_HALF_UP))
        assert SLIPS[i].pension_relief_at_source == SLIPS[i].pension_employee


def test_holiday_accrued_and_taken():
    worked = [D(HOURS[i]) + (8 if i % 2 == 0 else 9) for i in range(13)]   # sleep-ins are working time here
    accrued = sum((h * D("0.1207")).quantize(PENNY, rounding=ROUND_HALF_UP) for h in worked)
    final = SLIPS[-1].year_to_date
    assert final.holiday_hours_accrued == accrued
    assert final.holiday_hours_taken == 16
    assert SLIPS[HOLIDAY_PERIOD].holiday_pay == 21600 and final.holiday_pay == 21600


def test_net_pay_for_the_year():
    final = SLIPS[-1].year_to_date
    deductions = final.tax + final.employee_ni + final.student_loan + final.pension_employee
    assert final.net_pay == final.gross_pay - deductions + sum(EXPENSES.values())

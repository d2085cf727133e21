"""The pay run, rule by rule. Expected figures are worked by hand in the comments (2026-27, rest of UK).

Monthly figures used throughout: 1257L free pay 1,048.26 a month; NI primary threshold 1,048, secondary
threshold 417, lower earnings limit 559; auto-enrolment monthly band 520 / 833 / 4,189.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from payroll.model import EmployerCostSummary, HourKind, LineKind, PayRates, PayRunStatus, PensionStatus, \
    PreviousEmployment, SicknessRecord, TimesheetStatus, YearToDate
from payroll.payrun import PayRunError, PayRunFailed, calculate_adjustment, calculate_pay_run
from tests.unit.payroll.test_payrun_builders import EMPLOYER, employee, holiday, ids, member, month_one_run, run, \
    shift, sick, timesheet, weekday_shifts

APRIL_1, MAY_5 = date(2026, 4, 6), date(2026, 5, 5)


def pay(members, the_run=None, used_before=0, employer=EMPLOYER):
    return calculate_pay_run(the_run or month_one_run(), employer, members,
                             employment_allowance_used_before=used_before, new_id=ids("slip"))


def only(members, **kwargs):
    result = pay(members, **kwargs)
    assert len(result.payslips) == 1
    return result.payslips[0]


def hours_timesheet(pa, hours: int, first=APRIL_1, last=MAY_5, absences=(), expenses=0):
    """``hours`` in whole 8-hour weekday shifts plus a remainder, from the first weekday of the period."""
    days = [d for d in (first.fromordinal(first.toordinal() + n) for n in range((last - first).days + 1))
            if d.weekday() < 5 and d not in {a.day for a in absences}]
    assert len(days) >= -(-hours // 8), "not enough weekdays for those hours"
    shifts = [shift(d) for d in days[: hours // 8]]
    if hours % 8:
        shifts.append(shift(days[hours // 8], "09:00", f"{9 + hours % 8:02d}:00"))
    return timesheet(pa, first, last, shifts, absences, expenses)


def line(slip, code):
    found = [ln for ln in slip.lines if ln.code == code]
    assert len(found) == 1, f"{code} in {[ln.code for ln in slip.lines]}"
    return found[0]


def codes(slip):
    return [ln.code for ln in slip.lines]


# Gross pay -------------------------------------------------------------------------------------------------

def test_each_kind_of_hour_at_its_rate_and_a_sleep_in_flat_per_night():
    pa = employee()
    ts = timesheet(pa, APRIL_1, MAY_5, [
        shift(date(2026, 4, 7)), shift(date(2026, 4, 8)),                       # 16 h x 13.00 = 208.00
        shift(date(2026, 4, 8), "22:00", "08:00", HourKind.NIGHT),               # 10 h x 14.50 = 145.00
        shift(date(2026, 4, 11), kind=HourKind.WEEKEND),                         # 8 h x 14.00 = 112.00
        shift(date(2026, 5, 4), kind=HourKind.BANK_HOLIDAY),                     # 8 h x 26.00 = 208.00
        shift(date(2026, 4, 13), "22:00", "07:00", HourKind.SLEEP_IN),           # 1 night = 50.00
    ])
    slip = only([member(pa, ts)])
    earnings = [ln for ln in slip.lines if ln.kind is LineKind.EARNING]
    assert [(ln.code, ln.hours, ln.rate, ln.amount) for ln in earnings] == [
        ("hours.standard", D("16.00"), 1300, 20800), ("hours.night", D("10.00"), 1450, 14500),
        ("hours.weekend", D("8.00"), 1400, 11200), ("hours.bank_holiday", D("8.00"), 2600, 20800),
        ("hours.sleep_in", D("9.00"), 5000, 5000)]
    assert line(slip, "hours.sleep_in").description == "Sleep-in: 1 night at £50.00 a night (9.00 hours)"
    assert slip.gross_pay == 72300
    assert slip.hours_worked == D("42.00")     # the sleep-in's 9 hours do not count for the minimum wage
    assert (slip.tax, slip.employee_ni) == (0, 0)   # below 1,048.26 free pay and the 1,048 threshold
    assert slip.employer_ni == 4590                 # (723 - 417) x 15% = 45.90
    assert slip.warnings == ()   # 42 h need 533.82; pay less premiums is 673 - 127 = 546: passes
    assert slip.net_pay == 72300


def test_minimum_wage_shortfall_is_a_warning_and_premiums_and_sleep_ins_do_not_help():
    pa = employee(pension_status=PensionStatus.OPTED_OUT)
    rates = PayRates(standard=1200, night=1450, sleep_in_flat=9000)
    shifts = [*weekday_shifts(date(2026, 4, 6), date(2026, 4, 10)),                   # 40 h x 12.00 = 480
              shift(date(2026, 4, 13), "22:00", "08:00", HourKind.NIGHT)]            # 10 h x 14.50 = 145
    shifts += [shift(date(2026, 4, 14 + n), "22:00", "07:00", HourKind.SLEEP_IN) for n in range(3)]  # 270
    slip = only([member(pa, timesheet(pa, APRIL_1, MAY_5, shifts), rates=rates)])
    assert slip.gross_pay == 48000 + 14500 + 27000
    # 50 hours count; pay counted 480 + 145 - premium (2.50 x 10 = 25) = 600; needed 50 x 12.71 = 635.50.
    assert slip.warnings == (
        "Minimum wage: 50.00 hours worked from 2026-04-06 to 2026-05-05 were paid £600.00 (premiums and sleep-in "
        "pay left out), below £635.50 at £12.71 an hour for Sam Carer1's age; £35.50 short",)
    assert slip.net_pay == slip.gross_pay   # a warning only: the run is still calculated


def test_only_sleep_ins_has_no_hours_for_the_minimum_wage():
    pa = employee()
    shifts = [shift(date(2026, 4, 6 + n), "22:00", "07:00", HourKind.SLEEP_IN) for n in range(4)]
    slip = only([member(pa, timesheet(pa, APRIL_1, MAY_5, shifts))])
    assert (slip.gross_pay, slip.hours_worked, slip.warnings) == (20000, D("0.00"), ())


def test_younger_pa_rate_by_age_at_the_start_of_the_pay_reference_period():
    pa = employee(birth_date=date(2006, 4, 7))   # 19 on 6 April 2026, 20 the next day: 18-20 rate 10.85
    slip = only([member(pa, hours_timesheet(pa, 40), rates=PayRates(standard=1100))])
    assert slip.warnings == ()
    slip = only([member(pa, hours_timesheet(pa, 40), rates=PayRates(standard=1080))])
    assert slip.warnings[0].endswith("below £434.00 at £10.85 an hour for Sam Carer1's age; £2.00 short")


def test_expenses_are_paid_without_tax_or_ni():
    pa = employee()
    slip = only([member(pa, hours_timesheet(pa, 160, expenses=1250))])
    assert line(slip, "expenses").kind is LineKind.NON_TAXABLE and slip.expenses == 1250
    assert slip.gross_pay == 208000 and slip.taxable_pay == 208000
    # tax (2080 - 1048.26 = 1031.74 -> 1031) x 20% = 206.20; NI (2080 - 1048) x 8% = 82.56
    assert (slip.tax, slip.employee_ni) == (20620, 8256)
    assert slip.net_pay == 208000 - 20620 - 8256 + 1250


def test_no_timesheet_pays_no_hours():
    pa = employee()
    slip = only([member(pa, None)])
    assert (slip.gross_pay, slip.net_pay, codes(slip)) == (0, 0, ["tax", "ni.employee", "ni.employer"])


# Statutory Sick Pay ---------------------------------------------------------------------------------------

PAID_300 = ((date(2026, 1, 30), 30000), (date(2026, 2, 27), 30000), (date(2026, 3, 31), 30000))
PAID_1000 = ((date(2026, 1, 30), 100000), (date(2026, 2, 27), 100000), (date(2026, 3, 31), 100000))
MON_TO_FRI = (0, 1, 2, 3, 4)
SICK_WEEK = tuple(sick(date(2026, 4, 13 + n)) for n in range(5))


def test_ssp_from_the_first_day_at_the_flat_rate():
    pa = employee()
    ts = hours_timesheet(pa, 80, absences=SICK_WEEK)
    slip = only([member(pa, ts, sickness=SicknessRecord((), PAID_1000), qualifying_days=MON_TO_FRI)])
    # Normal weekly earnings: the two paydays in the 8 weeks to 31 March, 2,000 / 2 x 12 / 52 = 461.54;
    # 80% is above 123.25, so 123.25 for the five qualifying days.
    assert line(slip, "ssp").amount == 12325 and line(slip, "ssp").kind is LineKind.STATUTORY
    assert line(slip, "ssp").description == "Statutory Sick Pay (5 qualifying days)"
    assert slip.ssp == 12325 and slip.gross_pay == 80 * 1300 + 12325
    assert slip.year_to_date.ssp == 12325 and slip.year_to_date.ssp_weeks_paid == "1"


def test_ssp_at_80_percent_of_low_earnings_and_per_qualifying_day():
    pa = employee()
    ts = hours_timesheet(pa, 40, absences=SICK_WEEK[:3])
    slip = only([member(pa, ts, sickness=SicknessRecord((), PAID_300))])
    # 600 over 2 months = 300 a month x 12 / 52 = 69.23 a week; 80% = 55.3846 -> 55.39 (rounded up);
    # 3 of 7 qualifying days (the default, every day): 55.39 x 3 / 7 = 23.738 -> 23.74 (rounded up, as HMRC's
    # daily rate table)
    assert slip.ssp == 2374
    assert slip.year_to_date.ssp_weeks_paid == "3/7"


def test_ssp_links_with_sickness_in_an_earlier_run():
    pa = employee()
    month_two = run(date(2026, 5, 29), date(2026, 5, 6), date(2026, 6, 5), run_id="run-2")
    absences = tuple(sick(date(2026, 5, 11 + n)) for n in range(5))
    paid = (*PAID_300, (date(2026, 4, 30), 200000))
    earlier = tuple(date(2026, 4, 20 + n) for n in range(5))   # paid in month 1; 16 days before: linked

    ts = hours_timesheet(pa, 80, date(2026, 5, 6), date(2026, 6, 5), absences)
    linked = only([member(pa, ts, sickness=SicknessRecord(earlier, paid), qualifying_days=MON_TO_FRI)],
                  the_run=month_two)
    # The linked series began on 20 April, so its normal weekly earnings are those before 20 April:
    # 300 + 300 over 2 months -> 69.23 a week; 80% = 55.39 a week, 5 of 5 days.
    assert linked.ssp == 5539
    assert linked.year_to_date.ssp_weeks_paid == "2"

    fresh = only([member(pa, ts, sickness=SicknessRecord((), paid), qualifying_days=MON_TO_FRI)], the_run=month_two)
    # A new series on 11 May: paydays 31 March and 30 April, (300 + 2,000) / 2 x 12 / 52 = 265.38; flat rate.
    assert fresh.ssp == 12325
    assert fresh.year_to_date.ssp_weeks_paid == "1"


def test_a_new_pa_sick_before_any_payday_uses_contracted_hours():
    pa = employee(start_date=date(2026, 4, 6))
    ts = hours_timesheet(pa, 16, absences=SICK_WEEK[:1])
    slip = only([member(pa, ts, contracted_hours_per_week=D("10"), qualifying_days=MON_TO_FRI)])
    # 10 hours x 13.00 = 130 a week; 80% = 104.00; one of five days = 20.80
    assert slip.ssp == 2080
    with pytest.raises(PayRunFailed, match="contract gives no weekly hours"):
        pay([member(pa, ts)])


# Holiday --------------------------------------------------------------------------------------------------

def test_irregular_hours_accrue_12_07_percent_of_hours_worked():
    pa = employee(irregular_hours=True)
    slip = only([member(pa, hours_timesheet(pa, 100))])
    assert slip.holiday_hours_accrued == D("12.07")
    assert slip.year_to_date.holiday_hours_accrued == D("12.07") and slip.holiday_pay == 0


def test_holiday_taken_is_paid_at_the_standard_rate_from_hours_accrued_before():
    pa = employee(irregular_hours=True)
    month_two = run(date(2026, 5, 29), date(2026, 5, 6), date(2026, 6, 5), run_id="run-2")
    before = YearToDate(holiday_hours_accrued=D("12.07"), holiday_hours_taken=D("2.00"))
    ts = hours_timesheet(pa, 50, date(2026, 5, 6), date(2026, 6, 5), absences=(holiday(date(2026, 5, 29), "8"),))
    slip = only([member(pa, ts, before)], the_run=month_two)
    assert (line(slip, "holiday.taken").hours, line(slip, "holiday.taken").amount) == (D("8"), 10400)
    assert slip.holiday_pay == 10400 and slip.gross_pay == 50 * 1300 + 10400
    # accrual on the 50 hours worked (holiday is not work): 6.035 -> 6.04
    assert (slip.holiday_hours_accrued, slip.holiday_hours_taken) == (D("6.04"), D("8"))
    assert slip.year_to_date.holiday_hours_accrued == D("18.11")
    assert slip.year_to_date.holiday_hours_taken == D("10.00")

    too_much = hours_timesheet(pa, 50, date(2026, 5, 6), date(2026, 6, 5),
                               absences=(holiday(date(2026, 5, 29), "10.5"),))
    with pytest.raises(PayRunFailed, match=r"Sam Carer1 \(payroll id P0001\): took 10.50 hours of holiday "
                                           r"but had only 10.07 hours accrued and not yet taken"):
        pay([member(pa, too_much, before)], the_run=month_two)


def test_holiday_accrued_this_period_cannot_be_taken_in_it():
    pa = employee(irregular_hours=True)
    with pytest.raises(PayRunFailed, match="had only 0.00 hours accrued"):
        pay([member(pa, hours_timesheet(pa, 100, absences=(holiday(date(2026, 5, 1), "4"),)))])


def test_rolled_up_holiday_pay_is_its_own_line_and_nothing_accrues():
    pa = employee(irregular_hours=True, rolled_up_holiday=True)
    slip = only([member(pa, hours_timesheet(pa, 100))])
    rolled = line(slip, "holiday.rolled_up")
    assert (rolled.kind, rolled.amount) == (LineKind.EARNING, 15691)   # 1,300 x 12.07% = 156.91
    assert rolled.description == "Rolled-up holiday pay (12.07% of pay for work)"
    assert slip.gross_pay == 130000 + 15691 and slip.holiday_pay == 15691
    assert slip.holiday_hours_accrued == 0


def test_rolled_up_holiday_only_for_irregular_hours():
    pa = employee(rolled_up_holiday=True)
    with pytest.raises(PayRunFailed, match="only for irregular-hours and part-year workers"):
        pay([member(pa, hours_timesheet(pa, 100))])


# Pensions -------------------------------------------------------------------------------------------------

def test_enrolled_relief_at_source():
    pa = employee(pension_status=PensionStatus.ENROLLED)
    slip = only([member(pa, hours_timesheet(pa, 160))])   # 2,080.00
    # qualifying earnings 2,080 - 520 = 1,560; 5% = 78.00, less 20% relief = 62.40 taken; employer 3% = 46.80
    assert (slip.pension_employee, slip.pension_relief_at_source, slip.pension_net_pay, slip.pension_employer) == (
        6240, 6240, 0, 4680)
    assert line(slip, "pension.employee").description == "Pension (relief at source: the scheme adds £15.60)"
    assert line(slip, "pension.employer").kind is LineKind.EMPLOYER
    assert slip.taxable_pay == 208000 and slip.tax == 20620
    assert slip.net_pay == 208000 - 20620 - 8256 - 6240
    assert slip.warnings == ()


def test_enrolled_net_pay_arrangement_comes_off_before_tax():
    pa = employee(pension_status=PensionStatus.ENROLLED)
    slip = only([member(pa, hours_timesheet(pa, 160), pension_relief="net_pay_arrangement")])
    # 78.00 off before tax: taxable 2,002.00; (2,002 - 1,048.26 = 953.74 -> 953) x 20% = 190.60
    assert (slip.pension_net_pay, slip.pension_employee, slip.taxable_pay, slip.tax) == (7800, 7800, 200200, 19060)


def test_an_eligible_jobholder_not_enrolled_is_reported_not_enrolled():
    pa = employee()
    slip = only([member(pa, hours_timesheet(pa, 160))])
    assert slip.pension_employee == slip.pension_employer == 0
    assert slip.warnings == ("Pension: Sam Carer1 is an eligible jobholder (aged 35, earning £2,080.00 this period, "
                             "above the £833.00 earnings trigger) and must be enrolled",)
    # Under 22 the same pay makes a non-eligible jobholder: nothing to report.
    young = employee(birth_date=date(2005, 1, 1))
    assert only([member(young, hours_timesheet(young, 160))]).warnings == ()
    # Below the trigger: nothing either (60 h x 13 = 780).
    assert only([member(pa, hours_timesheet(pa, 60))]).warnings == ()


def test_opt_in_below_the_trigger_pays_on_qualifying_earnings():
    pa = employee(pension_status=PensionStatus.OPTED_IN)
    slip = only([member(pa, hours_timesheet(pa, 60))])   # 780.00
    # qualifying earnings 780 - 520 = 260: 5% = 13.00, less relief = 10.40; employer 3% = 7.80
    assert (slip.pension_employee, slip.pension_employer) == (1040, 780)


def test_opted_out_and_postponed_pay_nothing():
    opted_out = employee(pension_status=PensionStatus.OPTED_OUT)
    slip = only([member(opted_out, hours_timesheet(opted_out, 160))])
    assert (slip.pension_employee, slip.warnings) == (0, ())
    postponed = employee(pension_status=PensionStatus.POSTPONED, pension_postponed_until=date(2026, 6, 1))
    slip = only([member(postponed, hours_timesheet(postponed, 160))])
    assert (slip.pension_employee, slip.warnings) == (0, ())
    june = run(date(2026, 6, 30), date(2026, 6, 6), date(2026, 7, 5), run_id="run-3")
    slip = only([member(postponed, hours_timesheet(postponed, 160, date(2026, 6, 6), date(2026, 7, 5)))], the_run=june)
    assert slip.pension_employee == 0
    assert slip.warnings[0].endswith("and the postponement ended on 2026-06-01: must be enrolled")


# Employment Allowance -------------------------------------------------------------------------------------

def test_employment_allowance_across_runs():
    pas = [employee(1), employee(2)]
    members = [member(pa, hours_timesheet(pa, 160)) for pa in pas]
    result = pay(members, used_before=1_040_000)
    # each (2,080 - 417) x 15% = 249.45; 498.90 for the run, of which only 100.00 of the 10,500 is left
    assert result.summary.employer_ni == 49890
    assert result.summary.employment_allowance_used == 10000
    assert result.summary.employer_ni_payable == 39890
    assert pay(members, used_before=0).summary.employment_allowance_used == 49890
    assert pay(members, used_before=1_050_000).summary.employment_allowance_used == 0
    no_claim = replace(EMPLOYER, claims_employment_allowance=False)
    assert pay(members, employer=no_claim).summary.employment_allowance_used == 0


def test_summary_totals():
    pas = [employee(1, pension_status=PensionStatus.ENROLLED, student_loan_plans=("2", "PGL")), employee(2)]
    result = pay([member(pas[0], hours_timesheet(pas[0], 160, expenses=999), rates=PayRates(standard=1625)),
                  member(pas[1], hours_timesheet(pas[1], 30))])
    a, b = result.payslips
    assert result.status is PayRunStatus.CALCULATED
    assert result.summary == EmployerCostSummary(
        employees=2, gross_pay=a.gross_pay + b.gross_pay, employer_ni=a.employer_ni + b.employer_ni,
        employment_allowance_used=a.employer_ni + b.employer_ni, employer_pension=a.pension_employer,
        expenses=999, tax=a.tax + b.tax, employee_ni=a.employee_ni + b.employee_ni,
        student_loans=a.student_loan + a.postgraduate_loan, net_pay=a.net_pay + b.net_pay)
    # 2,600 a month: plan 2 (2,600 - 2,448.75) x 9% = 13.61 -> 13; PGL (2,600 - 1,750) x 6% = 51.00
    assert (a.student_loan, a.postgraduate_loan) == (1300, 5100)
    assert line(a, "student_loan").description == "Student loan (plan 2)"


# PAYE -----------------------------------------------------------------------------------------------------

def test_refund_after_a_code_change():
    pa = employee()
    month_two = run(date(2026, 5, 29), date(2026, 5, 6), date(2026, 6, 5), run_id="run-2")
    first = only([member(pa, hours_timesheet(pa, 160))])
    assert first.tax == 20620
    higher = replace(pa, tax_code="1500L")
    slip = only([member(higher, hours_timesheet(higher, 30, date(2026, 5, 6), date(2026, 6, 5)), first.year_to_date)],
                the_run=month_two)
    # 1500L: 417.42 + 2 x 416.67 = 1,250.76 a month; two months 2,501.52 against pay to date 2,470: no tax due,
    # so the 206.20 taken in month 1 comes back.
    assert slip.tax == -20620
    assert line(slip, "tax").description == "Income tax refund" and line(slip, "tax").amount == -20620
    assert slip.net_pay == 39000 + 20620            # 390 of pay, no NI below the threshold, plus the refund
    assert slip.year_to_date.tax == 0 and slip.year_to_date.taxable_pay == 247000


def test_week_53_is_taxed_on_a_week_1_basis():
    pa = employee(frequency="weekly")
    week_53 = run(date(2027, 4, 5), date(2027, 3, 30), date(2027, 4, 5), frequency="weekly", run_id="w53")
    assert week_53.period == 53
    before = YearToDate(gross_pay=2_600_000, taxable_pay=2_600_000, tax=269_000)
    ts = timesheet(pa, date(2027, 3, 30), date(2027, 4, 5), weekday_shifts(date(2027, 3, 30), date(2027, 4, 5)))
    slip = only([member(pa, ts, before)], the_run=week_53)
    # 40 h x 13.00 = 520.00; week 1 table: free pay 241.92, (520 - 241.92 = 278.08 -> 278) x 20% = 55.60.
    # Cumulatively (free pay 53 x 241.92 = 12,821.76 against 26,520) it would be different: not used.
    assert (slip.period, slip.gross_pay, slip.tax) == (53, 52000, 5560)
    assert slip.employee_ni == 2224                 # (520 - 242) x 8%
    assert slip.year_to_date.tax == 269_000 + 5560


def test_a_starter_with_p45_figures():
    pa = employee(start_date=date(2026, 6, 8), previous_employment=PreviousEmployment(410_000, 40_060))
    june = run(date(2026, 6, 30), date(2026, 6, 6), date(2026, 7, 5), run_id="run-3")
    ts = hours_timesheet(pa, 160, date(2026, 6, 8), date(2026, 7, 5))
    slip = only([member(pa, ts)], the_run=june)
    # Month 3 cumulative: pay to date 4,100 + 2,080 = 6,180; free pay 3 x 1,048.26 = 3,144.78;
    # (3,035.22 -> 3,035) x 20% = 607.00; less 400.60 paid before: 206.40.
    assert slip.tax == 20640
    ytd = slip.year_to_date
    assert (ytd.taxable_pay, ytd.tax, ytd.previous_taxable_pay, ytd.previous_tax, ytd.gross_pay) == (
        618_000, 60_700, 410_000, 40_060, 208_000)
    # The next month the P45 figures are already in the year-to-date: not added again.
    july = run(date(2026, 7, 31), date(2026, 7, 6), date(2026, 8, 5), run_id="run-4")
    nxt = only([member(pa, hours_timesheet(pa, 160, date(2026, 7, 6), date(2026, 8, 5)), ytd)], the_run=july)
    # to date 8,260; free pay 4,193.04; (4,066.96 -> 4,066) x 20% = 813.20; less 607.00 = 206.20
    assert nxt.tax == 20620 and nxt.year_to_date.previous_taxable_pay == 410_000


def test_a_leaver():
    pa = employee(leaving_date=date(2026, 4, 24), irregular_hours=True)
    before = YearToDate(holiday_hours_accrued=D("20.00"), holiday_hours_taken=D("5.00"))
    ts = hours_timesheet(pa, 50, date(2026, 4, 6), date(2026, 4, 24))
    slip = only([member(pa, ts, before)])
    assert slip.leaving is True
    # 50 h accrue 6.04; 20 + 6.04 - 5 = 21.04 hours untaken, paid in lieu at 13.00 = 273.52
    in_lieu = line(slip, "holiday.in_lieu")
    assert (in_lieu.hours, in_lieu.amount) == (D("21.04"), 27352)
    assert slip.gross_pay == 65000 + 27352
    assert slip.year_to_date.holiday_hours_accrued - slip.year_to_date.holiday_hours_taken == 0
    stays = employee(2)
    assert only([member(stays, hours_timesheet(stays, 50))]).leaving is False


def test_a_payment_after_leaving_is_taxed_on_0t_month_1():
    pa = employee(leaving_date=date(2026, 4, 2), tax_code="1257L")
    slip = only([member(pa, timesheet(pa, APRIL_1, MAY_5, expenses=0))])
    assert slip.gross_pay == 0 and slip.tax_code == "0T" and slip.non_cumulative
    assert slip.leaving is False
    assert slip.warnings == ("Paid after leaving on 2026-04-02: taxed on 0T, week 1 / month 1 basis",)


# The run as a whole ---------------------------------------------------------------------------------------

def test_all_or_nothing_names_every_employee_that_failed():
    good, bad_code, unapproved = employee(1), employee(2, tax_code="1257X"), employee(3)
    draft = replace(hours_timesheet(unapproved, 40), status=TimesheetStatus.SUBMITTED)
    clash = employee(4)
    overlapping = timesheet(clash, APRIL_1, MAY_5, [shift(date(2026, 4, 7)), shift(date(2026, 4, 7), "12:00", "14:00")])
    with pytest.raises(PayRunFailed) as caught:
        pay([member(good, hours_timesheet(good, 40)), member(bad_code, hours_timesheet(bad_code, 40)),
             member(unapproved, draft), member(clash, overlapping)])
    failures = dict(caught.value.failures)
    assert set(failures) == {"pa-2", "pa-3", "pa-4"}
    assert failures["pa-2"].startswith("Sam Carer2 (payroll id P0002): '1257X' is not a tax code")
    assert failures["pa-3"] == ("Sam Carer3 (payroll id P0003): timesheet ts-pa-3-2026-04-06 is submitted; only "
                                "approved hours are paid")
    assert failures["pa-4"] == ("Sam Carer4 (payroll id P0004): shift 2 (Tue 7 Apr 2026 12:00 to 14:00, standard "
                                "hours) overlaps shift 1 (Tue 7 Apr 2026 09:00 to 17:00, standard hours)")
    assert "3 employees could not be paid" in str(caught.value)


def test_the_same_pa_twice_fails_the_run():
    pa = employee()
    with pytest.raises(PayRunFailed, match="is in the run twice"):
        pay([member(pa, None), member(pa, None)])


def test_a_timesheet_outside_the_pay_period_fails_the_run():
    pa = employee()
    with pytest.raises(PayRunFailed, match="not within the pay period 2026-04-06 to 2026-05-05"):
        pay([member(pa, hours_timesheet(pa, 8, date(2026, 5, 6), date(2026, 6, 5)))])


def test_the_tax_period_comes_from_the_payday():
    with pytest.raises(PayRunError, match="a monthly payday on 2026-04-30 is in tax year 2026-27, tax month 1, "
                                          "not 2026-27 month 2"):
        pay([], the_run=month_one_run(period=2))
    with pytest.raises(PayRunError, match="tax week 4, not 2026-27 week 5"):
        pay([], the_run=run(date(2026, 4, 30), APRIL_1, date(2026, 5, 3), frequency="four_weekly", period=5))


@pytest.mark.parametrize("status", [PayRunStatus.REVIEWED, PayRunStatus.APPROVED, PayRunStatus.FINALISED])
def test_only_draft_or_calculated_runs_are_calculated(status):
    with pytest.raises(PayRunError, match=f"is {status.value}; only a draft or calculated run"):
        pay([], the_run=month_one_run(status=status))


def test_a_calculated_run_can_be_calculated_again():
    pa = employee()
    first = pay([member(pa, hours_timesheet(pa, 40))])
    again = pay([member(pa, hours_timesheet(pa, 48))], the_run=first)
    assert again.status is PayRunStatus.CALCULATED and again.payslips[0].gross_pay == 48 * 1300


# Corrections ----------------------------------------------------------------------------------------------

def _finalised(members):
    return replace(pay(members), status=PayRunStatus.FINALISED)


def _adjust(original, members, used_before=0):
    correction = run(date(2026, 5, 29), date(2026, 5, 6), date(2026, 6, 5), run_id="fix-1", corrects=original.id)
    return calculate_adjustment(original, members, run=correction, employer=EMPLOYER,
                                employment_allowance_used_before=used_before, new_id=ids("adj"))


def test_a_correction_pays_the_underpayment():
    pa, other = employee(1), employee(2)
    original = _finalised([member(pa, hours_timesheet(pa, 100)), member(other, hours_timesheet(other, 160))])
    paid = original.payslips[0]
    fixed = _adjust(original, [member(pa, hours_timesheet(pa, 120), paid.year_to_date)])
    assert len(fixed.payslips) == 1 and fixed.corrects == original.id
    slip = fixed.payslips[0]
    assert slip.is_adjustment and slip.pay_run_id == "fix-1" and slip.payment_date == date(2026, 5, 29)
    assert (slip.period_start, slip.period_end) == (APRIL_1, MAY_5)
    # Original 1,300: tax (251.74 -> 251) x 20% = 50.20, NI (1,300 - 1,048) x 8% = 20.16, employer 132.45.
    # Corrected 1,560: tax 102.20, NI 40.96, employer 171.45.
    assert (slip.gross_pay, slip.tax, slip.employee_ni, slip.employer_ni, slip.net_pay) == (
        26000, 5200, 2080, 3900, 26000 - 5200 - 2080)
    assert [(ln.code, ln.amount, ln.hours) for ln in slip.lines] == [
        ("hours.standard", 26000, D("20.00")), ("tax", 5200, None), ("ni.employee", 2080, None),
        ("ni.employer", 3900, None)]
    assert slip.ni[0].pt_to_uel == 26000
    # The year to date after the correction is what a right first payment would have given.
    right = pay([member(pa, hours_timesheet(pa, 120))]).payslips[0]
    assert slip.year_to_date == right.year_to_date
    assert original.payslips[0] is paid and paid.gross_pay == 130000   # history untouched
    assert fixed.summary.gross_pay == 26000 and fixed.summary.employment_allowance_used == 3900


def test_a_correction_takes_back_an_overpayment():
    pa = employee(pension_status=PensionStatus.ENROLLED)
    original = _finalised([member(pa, hours_timesheet(pa, 160))])
    paid = original.payslips[0]
    slip = _adjust(original, [member(pa, hours_timesheet(pa, 120), paid.year_to_date)]).payslips[0]
    right = pay([member(pa, hours_timesheet(pa, 120))]).payslips[0]
    for name in ("gross_pay", "tax", "employee_ni", "employer_ni", "pension_employee", "pension_employer", "net_pay"):
        assert getattr(slip, name) == getattr(right, name) - getattr(paid, name) < 0, name
    assert slip.gross_pay == -52000 and line(slip, "hours.standard").hours == D("-40.00")
    assert slip.year_to_date == right.year_to_date


def test_a_correction_after_later_payments_moves_the_latest_year_to_date():
    pa = employee()
    original = _finalised([member(pa, hours_timesheet(pa, 100))])
    month_two = replace(pay([member(pa, hours_timesheet(pa, 100, date(2026, 5, 6), date(2026, 6, 5)),
                                     original.payslips[0].year_to_date)],
                            the_run=run(date(2026, 5, 29), date(2026, 5, 6), date(2026, 6, 5), run_id="run-2")),
                        status=PayRunStatus.FINALISED)
    latest = month_two.payslips[0].year_to_date
    slip = _adjust(original, [member(pa, hours_timesheet(pa, 120), latest)]).payslips[0]
    assert slip.year_to_date.gross_pay == 130000 + 130000 + 26000
    assert slip.year_to_date.tax == latest.tax + slip.tax


def test_corrections_are_refused_when_they_cannot_be_right():
    pa = employee()
    calculated = pay([member(pa, hours_timesheet(pa, 40))])
    with pytest.raises(PayRunError, match="only a finalised run is corrected"):
        _adjust(calculated, [])
    original = replace(calculated, status=PayRunStatus.FINALISED)
    with pytest.raises(PayRunError, match="must say it corrects run run-1"):
        calculate_adjustment(original, [], run=run(date(2026, 5, 29), date(2026, 5, 6), date(2026, 6, 5)),
                             employer=EMPLOYER, employment_allowance_used_before=0, new_id=ids())
    stranger = employee(9)
    with pytest.raises(PayRunFailed, match="was not paid in run run-1"):
        _adjust(original, [member(stranger, None)])

"""From pay runs to the FPS, P32, P60 and P45: every reported figure is the payslips' figure."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from hmrc_export.from_payroll import (RunsDisagree, employee_payment, fps_for_run, hours_worked_band, ni_to_date,
                                      p32_for_runs, p45_for_leaver, p60_for_employee, payments_for_employee,
                                      student_loan_plan, tax_code_for_fps)
from hmrc_export.model import HoursWorked, LateReason, StudentLoanPlan, TaxRegime
from hmrc_export.taxyear import TaxYear, tax_month
from hmrc_export.validate import find_problems, schema_for
from payroll.model import PayRunStatus
from payroll.rules.money import to_pence
from payroll.rules.yearly_rates import year_rates
from tests.unit.payroll.payslip_samples import (EMPLOYEES, EMPLOYER, GRACE, SAMIRA, TAX_YEAR, THOMAS, Work,
                                                make_payslip, sample_year)

ENV = "{http://www.govtalk.gov.uk/CM/envelope}"
FPS_NS = "http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/26-27/1"
N = f"{{{FPS_NS}}}"
WHEN = datetime(2026, 5, 28, 9, 30, tzinfo=timezone.utc)
YEAR = TaxYear(2026)


def _pence(element: ET.Element | None) -> int | None:
    return None if element is None else int(Decimal(element.text) * 100)


def _employees(message: bytes) -> dict[str, ET.Element]:
    ir = ET.fromstring(message).find(f"{ENV}Body")[0]
    return {e.findtext(f"{N}Employment/{N}PayId"): e for e in ir.iter(f"{N}Employee")}


def _figure(employee: ET.Element, path: str) -> int | None:
    return _pence(employee.find(f"{N}Employment/" + "/".join(N + part for part in path.split("/"))))


def test_fps_for_the_sample_four_weekly_run_builds_and_is_valid():
    run = sample_year().week8
    message = fps_for_run(run, EMPLOYER, EMPLOYEES).build(timestamp=WHEN)
    assert find_problems(message, today=date(2026, 5, 28)) == []
    ir = ET.fromstring(message).find(f"{ENV}Body")[0]
    assert list(schema_for(FPS_NS).iter_errors(ir)) == []
    assert ir.findtext(f"{N}FullPaymentSubmission/{N}EmpRefs/{N}PayeRef") == EMPLOYER.paye_reference
    assert ir.findtext(f"{N}FullPaymentSubmission/{N}RelatedTaxYear") == "26-27"


def test_every_fps_figure_equals_the_payslips():
    run = sample_year().week8
    elements = _employees(fps_for_run(run, EMPLOYER, EMPLOYEES).build(timestamp=WHEN))
    assert len(elements) == len(run.payslips) == 3
    for slip in run.payslips:
        employee = EMPLOYEES[slip.employee_id]
        e, ytd = elements[employee.payroll_id], slip.year_to_date
        assert e.findtext(f"{N}EmployeeDetails/{N}NINO") == employee.nino
        assert e.findtext(f"{N}EmployeeDetails/{N}Name/{N}Sur") == employee.surname
        assert e.findtext(f"{N}EmployeeDetails/{N}Gender") == employee.gender
        assert _figure(e, "Payment/TaxablePay") == slip.taxable_pay
        assert _figure(e, "Payment/TaxDeductedOrRefunded") == slip.tax
        assert _figure(e, "FiguresToDate/TaxablePay") == ytd.taxable_pay - ytd.previous_taxable_pay
        assert _figure(e, "FiguresToDate/TotalTax") == ytd.tax - ytd.previous_tax
        assert e.findtext(f"{N}Employment/{N}Payment/{N}WeekNo") == str(slip.period)
        assert e.find(f"{N}Employment/{N}Payment/{N}MonthNo") is None
        assert e.findtext(f"{N}Employment/{N}Payment/{N}PayFreq") == "W4"
        assert e.findtext(f"{N}Employment/{N}Payment/{N}PmtDate") == slip.payment_date.isoformat()
        assert e.findtext(f"{N}Employment/{N}Payment/{N}TaxCode") == slip.tax_code
        assert e.findtext(f"{N}Employment/{N}Payment/{N}HoursWorked") == hours_worked_band(
            slip.hours_worked, slip.frequency).value
        [ni] = e.findall(f"{N}Employment/{N}NIlettersAndValues")
        [period_ni] = slip.ni
        assert ni.findtext(f"{N}NIletter") == period_ni.letter == slip.ni_letter
        for tag, value in (("GrossEarningsForNICsInPd", period_ni.gross_earnings),
                           ("GrossEarningsForNICsYTD", ytd.ni_earnings), ("AtLELYTD", ytd.at_lel),
                           ("LELtoPTYTD", ytd.lel_to_pt), ("PTtoUELYTD", ytd.pt_to_uel),
                           ("EmpeeContribnsInPd", slip.employee_ni), ("EmpeeContribnsYTD", ytd.employee_ni),
                           ("TotalEmpNICInPd", slip.employer_ni), ("TotalEmpNICYTD", ytd.employer_ni)):
            assert _pence(ni.find(N + tag)) == value, (employee.payroll_id, tag)
        loan = e.find(f"{N}Employment/{N}Payment/{N}StudentLoanRecovered")
        if "2" in employee.student_loan_plans:
            assert loan.get("PlanType") == "02" and _pence(loan) == slip.student_loan
            assert _figure(e, "FiguresToDate/StudentLoansTD") == ytd.student_loan
        else:
            assert loan is None and ytd.student_loan == 0
        assert (_figure(e, "Payment/PostgradLoanRecovered") or 0) == slip.postgraduate_loan
        assert (_figure(e, "FiguresToDate/PostgradLoansTD") or 0) == ytd.postgraduate_loan
        assert (_figure(e, "Payment/EmpeePenContribnsNotPaid") or 0) == slip.pension_relief_at_source
        assert (_figure(e, "FiguresToDate/EmpeePenContribnsNotPaidYTD") or 0) == ytd.pension_relief_at_source
        assert (_figure(e, "Payment/EmpeePenContribnsPaid") or 0) == slip.pension_net_pay
        assert (_figure(e, "Payment/NonTaxOrNICPmt") or 0) == slip.expenses
    thomas = elements[THOMAS.payroll_id]
    assert _figure(thomas, "Payment/EmpeePenContribnsNotPaid") > 0  # relief at source, not under net pay
    assert thomas.find(f"{N}Employment/{N}Payment/{N}EmpeePenContribnsPaid") is None
    assert _figure(thomas, "Payment/PostgradLoanRecovered") > 0


def test_starter_with_p45_figures_who_leaves_and_the_others_are_not_starters():
    run = sample_year().week8
    elements = _employees(fps_for_run(run, EMPLOYER, EMPLOYEES).build(timestamp=WHEN))
    samira = elements[SAMIRA.payroll_id]
    slip = next(p for p in run.payslips if p.employee_id == SAMIRA.id)
    assert samira.findtext(f"{N}Employment/{N}Starter/{N}StartDate") == SAMIRA.start_date.isoformat()
    assert samira.findtext(f"{N}Employment/{N}Starter/{N}StartDec") == SAMIRA.starter_declaration
    assert samira.findtext(f"{N}Employment/{N}LeavingDate") == SAMIRA.leaving_date.isoformat()
    assert samira.find(f"{N}Employment/{N}Payment/{N}PmtAfterLeaving") is None
    # The P45 figures stay out of this employment's figures to date (and keep the cumulative tax right).
    assert _figure(samira, "FiguresToDate/TaxablePay") == slip.taxable_pay
    assert slip.year_to_date.taxable_pay == slip.taxable_pay + SAMIRA.previous_employment.taxable_pay
    item = employee_payment(slip, SAMIRA)
    assert item.employee.starter.previous_pay == SAMIRA.previous_employment.taxable_pay
    assert item.employee.starter.previous_tax == SAMIRA.previous_employment.tax
    for other in (GRACE, THOMAS):
        assert elements[other.payroll_id].find(f"{N}Employment/{N}Starter") is None
        assert elements[other.payroll_id].find(f"{N}Employment/{N}LeavingDate") is None


def test_a_payment_after_leaving_is_flagged_with_the_leaving_date():
    year = sample_year()
    last = next(p for p in year.week8.payslips if p.employee_id == SAMIRA.id)
    later = make_payslip("run-w12", SAMIRA, Work(standard=Decimal("4")), last.year_to_date, period=12,
                         start=date(2026, 6, 1), end=date(2026, 6, 28), paid=date(2026, 6, 26))
    item = employee_payment(later, SAMIRA)
    assert item.payment.payment_after_leaving and item.employee.leaving_date == SAMIRA.leaving_date
    assert item.employee.starter is None
    run = replace(year.week12, payslips=(later,), summary=None)
    message = fps_for_run(run, EMPLOYER, EMPLOYEES).build(timestamp=WHEN)
    assert find_problems(message, today=date(2026, 6, 20)) == []
    assert _employees(message)[SAMIRA.payroll_id].findtext(f"{N}Employment/{N}Payment/{N}PmtAfterLeaving") == "yes"


def test_an_adjustment_run_reports_the_difference_with_the_corrected_year_to_date():
    year = sample_year()
    fix = year.week8_correction
    [adjustment] = fix.payslips
    assert adjustment.is_adjustment and fix.corrects == year.week8.id
    [item] = fps_for_run(fix, EMPLOYER, EMPLOYEES).payments
    p, ytd = item.payment, adjustment.year_to_date
    assert p.payment_date == fix.payment_date and p.tax_week == fix.period
    assert p.hours_worked is HoursWorked.OTHER  # a difference of hours says nothing of the PA's normal hours
    assert (p.taxable_pay, p.tax_deducted) == (adjustment.taxable_pay, adjustment.tax)
    assert p.taxable_pay > 0  # the hours Grace was not paid for
    assert (p.taxable_pay_to_date, p.tax_deducted_to_date) == (ytd.taxable_pay, ytd.tax)
    [ni] = p.ni
    assert (ni.gross_earnings, ni.employee_contributions, ni.employer_contributions) == (
        adjustment.ni[0].gross_earnings, adjustment.employee_ni, adjustment.employer_ni)
    assert (ni.gross_earnings_to_date, ni.employee_contributions_to_date, ni.pt_to_uel_to_date) == (
        ytd.ni_earnings, ytd.employee_ni, ytd.pt_to_uel)
    # The corrected figures to date are the first payments' figures plus the difference.
    paid_before = [s for r in (year.week4, year.week8) for s in r.payslips if s.employee_id == GRACE.id]
    assert ytd.taxable_pay == sum(s.taxable_pay for s in paid_before) + adjustment.taxable_pay
    assert ytd.employee_ni == sum(s.employee_ni for s in paid_before) + adjustment.employee_ni
    assert item.employee.starter is None and item.employee.leaving_date is None
    message = fps_for_run(fix, EMPLOYER, EMPLOYEES).build(timestamp=WHEN)
    assert find_problems(message, today=date(2026, 6, 4)) == []
    grace = _employees(message)[GRACE.payroll_id]
    assert _figure(grace, "Payment/TaxablePay") == adjustment.taxable_pay
    assert _figure(grace, "FiguresToDate/TaxablePay") == ytd.taxable_pay


def test_p32_totals_per_month_equal_the_runs():
    year = sample_year()
    p32 = p32_for_runs(year.runs, EMPLOYER, TAX_YEAR)
    slips = [s for run in year.runs for s in run.payslips]
    allowance = to_pence(year_rates(TAX_YEAR).national_insurance.employment_allowance)
    assert sum(s.employer_ni for s in slips) < allowance  # so the allowance covers every month's employer NI
    assert {tax_month(r.payment_date) for r in year.runs} == {1, 2, 3}
    for month in p32.months:
        paid = [s for s in slips if tax_month(s.payment_date) == month.month]
        runs = [r for r in year.runs if tax_month(r.payment_date) == month.month]
        assert month.tax == sum(s.tax for s in paid)
        assert month.student_loans == sum(s.student_loan for s in paid)
        assert month.postgraduate_loans == sum(s.postgraduate_loan for s in paid)
        assert month.employee_ni == sum(s.employee_ni for s in paid)
        assert month.employer_ni == sum(s.employer_ni for s in paid)
        assert month.statutory_pay_recovered == 0
        # The runs' own cost summaries say the same: allowance used, and what is due to HMRC.
        assert month.employment_allowance_used == sum(r.summary.employment_allowance_used for r in runs)
        assert month.gross_due - month.employment_allowance_used == sum(r.summary.due_to_hmrc for r in runs)
        assert month.amount_due == max(0, sum(r.summary.due_to_hmrc for r in runs) - month.credit_brought_forward)
    assert p32.employment_allowance_claimed
    assert p32.total_due == sum(m.amount_due for m in p32.months) > 0


def test_p32_refuses_runs_whose_employment_allowance_disagrees():
    year = sample_year()
    week4 = replace(year.week4, summary=replace(year.week4.summary, employment_allowance_used=0))
    with pytest.raises(RunsDisagree, match="tax month 1"):
        p32_for_runs([week4, year.week8, year.week8_correction, year.week12], EMPLOYER, TAX_YEAR)
    with pytest.raises(ValueError, match="calculated"):
        p32_for_runs([replace(year.week4, status=PayRunStatus.CALCULATED)], EMPLOYER, TAX_YEAR)


def test_p60_and_p45_from_the_runs_agree_with_the_last_payslips():
    year = sample_year()
    for employee in (GRACE, THOMAS):  # Grace's week 8 was corrected: the P60 counts the adjustment too
        last = next(p for p in year.week12.payslips if p.employee_id == employee.id).year_to_date
        p60 = p60_for_employee(year.runs, EMPLOYER, employee, TAX_YEAR)
        assert p60.pay_this_employment == last.taxable_pay - last.previous_taxable_pay
        assert p60.tax_this_employment == last.tax - last.previous_tax
        assert p60.student_loan_deductions == last.student_loan
        assert p60.postgraduate_loan_deductions == last.postgraduate_loan
        assert p60.ni[0].employee_contributions_to_date == last.employee_ni
        assert p60.ni[0].pt_to_uel_to_date == last.pt_to_uel
        payments = payments_for_employee(year.runs, employee, TAX_YEAR)
        assert len(payments) == len({r.payment_date for r in year.runs if any(
            p.employee_id == employee.id for p in r.payslips)})
    slip = next(p for p in year.week8.payslips if p.employee_id == SAMIRA.id)
    p45 = p45_for_leaver(year.runs, EMPLOYER, SAMIRA, TAX_YEAR)
    assert p45.leaving_date == SAMIRA.leaving_date and p45.period_label == f"Week {slip.period}"
    assert p45.total_pay_to_date == slip.year_to_date.taxable_pay
    assert p45.total_tax_to_date == slip.year_to_date.tax
    assert (p45.pay_this_employment, p45.tax_this_employment) == (slip.taxable_pay, slip.tax)
    with pytest.raises(ValueError, match="P45"):
        p60_for_employee(year.runs, EMPLOYER, SAMIRA, TAX_YEAR)


def test_an_adjustment_paid_with_a_regular_run_counts_once_on_that_payday():
    year = sample_year()
    fix = year.week8_correction
    same_day = dict(payment_date=year.week12.payment_date, period=year.week12.period)
    moved = replace(fix, payslips=tuple(replace(p, **same_day) for p in fix.payslips), **same_day)
    runs = [year.week4, year.week8, moved, year.week12]
    payments = payments_for_employee(runs, GRACE, TAX_YEAR)
    assert [p.payment_date for p in payments] == sorted({r.payment_date for r in runs})
    last = next(p for p in year.week12.payslips if p.employee_id == GRACE.id)
    [adjustment] = fix.payslips
    assert payments[-1].taxable_pay == last.taxable_pay + adjustment.taxable_pay
    assert payments[-1].taxable_pay_to_date == last.year_to_date.taxable_pay
    assert p60_for_employee(runs, EMPLOYER, GRACE, TAX_YEAR).pay_this_employment == last.year_to_date.taxable_pay


def test_ni_figures_are_split_by_letter_when_the_letter_changed():
    year = sample_year()
    first = next(p for p in year.week4.payslips if p.employee_id == THOMAS.id)
    changed = replace(THOMAS, ni_letter="M")  # e.g. a letter corrected from week 8
    second = make_payslip("run-w8", changed, Work(standard=Decimal("150")), first.year_to_date, period=8,
                          start=date(2026, 5, 4), end=date(2026, 5, 31), paid=date(2026, 5, 29))
    m, a = ni_to_date(second, [first])
    assert (m.letter, a.letter) == ("M", "A")
    assert m.gross_earnings == m.gross_earnings_to_date == second.ni[0].gross_earnings
    assert m.employee_contributions_to_date == second.employee_ni
    assert a.gross_earnings == a.employee_contributions == a.employer_contributions == 0
    assert a.gross_earnings_to_date == first.ni[0].gross_earnings
    assert a.employer_contributions_to_date == first.employer_ni
    assert m.employee_contributions_to_date + a.employee_contributions_to_date == second.year_to_date.employee_ni
    with pytest.raises(RunsDisagree):
        ni_to_date(second, [first, first])


@pytest.mark.parametrize("hours, frequency, band", [
    (Decimal("63.96"), "four_weekly", HoursWorked.UP_TO_15_99),
    (Decimal("64"), "four_weekly", HoursWorked.FROM_16_TO_23_99),
    (Decimal("95.99"), "four_weekly", HoursWorked.FROM_16_TO_23_99),
    (Decimal("96"), "four_weekly", HoursWorked.FROM_24_TO_29_99),
    (Decimal("30"), "weekly", HoursWorked.THIRTY_OR_MORE),
    (Decimal("59.99"), "fortnightly", HoursWorked.FROM_24_TO_29_99),
    (Decimal("69.33"), "monthly", HoursWorked.UP_TO_15_99), (Decimal("69.34"), "monthly", HoursWorked.FROM_16_TO_23_99),
    (Decimal("0"), "monthly", HoursWorked.OTHER)])
def test_hours_worked_band_is_the_weekly_equivalent(hours, frequency, band):
    assert hours_worked_band(hours, frequency) is band


def test_tax_code_regime_and_basis_and_loan_plan_type():
    scottish = tax_code_for_fps("S1257L", False)
    assert (scottish.code, scottish.regime, scottish.non_cumulative) == ("1257L", TaxRegime.SCOTLAND, False)
    welsh = tax_code_for_fps("C1257L M1", False)
    assert (welsh.code, welsh.regime, welsh.non_cumulative) == ("1257L", TaxRegime.WALES, True)
    assert tax_code_for_fps("1257L", True).non_cumulative
    assert student_loan_plan(("2", "PGL"), YEAR) is StudentLoanPlan.PLAN_2
    assert student_loan_plan(("4", "1"), YEAR) is StudentLoanPlan.PLAN_1  # the lower threshold applies
    assert student_loan_plan(("PGL",), YEAR) is None


def test_only_approved_or_finalised_runs_of_the_employer_are_reported():
    run = sample_year().week8
    with pytest.raises(ValueError, match="calculated"):
        fps_for_run(replace(run, status=PayRunStatus.CALCULATED), EMPLOYER, EMPLOYEES)
    with pytest.raises(ValueError, match="belongs to employer"):
        fps_for_run(replace(run, employer_id="someone-else"), EMPLOYER, EMPLOYEES)
    with pytest.raises(ValueError, match="gender"):
        employee_payment(run.payslips[0], replace(GRACE, gender=None))

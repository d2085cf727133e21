"""Payslips and pay runs built directly for the document and export tests (no pay-run service needed).

One PA employer, four-weekly payroll in 2026-27, three PAs:
- Grace Adebayo: a plain 1257L PA with irregular hours (holiday accrues at 12.07%), weekend, night and bank
  holiday hours, holiday taken, SSP, expenses and an agreed repayment; in week 12 she is off sick nearly all
  period and gets a tax refund.
- Thomas Wright: Student Loan plan 2 and a Postgraduate Loan, a workplace pension under relief at source and
  rolled-up holiday pay.
- Samira Begum: starts on 4 May 2026 with P45 figures from an earlier job, works one period with sleep-ins and
  leaves on 27 May 2026.

The figures come from ``payroll.rules.gross_to_net`` with each PA's year-to-date figures carried from run to
run, so they are what a pay run would give; nothing here is a hand-typed result. Runs: week 4 (paid 1 May,
tax month 1), week 8 (paid 29 May, tax month 2, all three PAs), an adjustment run paid 5 June (tax week 9, tax
month 2) for 6 hours Grace worked in week 8 but was not paid for, and week 12 (paid 26 June, tax month 3).
The adjustment payslip holds the difference, corrected minus original, with the year-to-date figures moved by it
(``payroll.payrun.calculate_adjustment``'s way).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from payroll.model import (Address, BankDetails, Employee, Employer, EmployerCostSummary, EmployerKind, LineKind,
                           NIFigures, PayRates, PayRun, PayRunStatus, Payslip, PayslipLine, PensionStatus,
                           PreviousEmployment, YearToDate)
from payroll.rules.auto_enrolment import PensionScheme, ReliefMethod
from payroll.rules.employment_allowance import apply_employment_allowance
from payroll.rules.gross_to_net import PayPeriodInputs, gross_to_net
from payroll.rules.money import to_pence

TAX_YEAR = "2026-27"
FREQUENCY = "four_weekly"
HOLIDAY_ACCRUAL = Decimal("0.1207")
PENNY = Decimal("1")

EMPLOYER = Employer(id="employer-holder", name="Mrs Joan Holder", kind=EmployerKind.BUDGET_HOLDER,
                    hmrc_office_number="120", paye_reference="HA12345", accounts_office_reference="120PA00123456",
                    claims_employment_allowance=True, address=Address(("14 Church Lane", "Leeds"), "LS6 2AB"))

GRACE = Employee(id="pa-grace", employer_id=EMPLOYER.id, payroll_id="PA-001", forenames=("Grace",),
                 surname="Adebayo", birth_date=date(1985, 7, 2), start_date=date(2024, 9, 2), frequency=FREQUENCY,
                 tax_code="1257L", ni_letter="A", nino="AB123456C", gender="F",
                 address=Address(("3 Mill Road", "Leeds"), "LS6 3CD"), irregular_hours=True,
                 bank_details=BankDetails("G ADEBAYO", "401276", "31926819"))
THOMAS = Employee(id="pa-thomas", employer_id=EMPLOYER.id, payroll_id="PA-002", forenames=("Thomas", "James"),
                  surname="Wright", birth_date=date(1996, 1, 20), start_date=date(2025, 2, 3), frequency=FREQUENCY,
                  tax_code="1257L", ni_letter="A", nino="CE654321A", gender="M",
                  address=Address(("22 Otley Road", "Leeds"), "LS6 4EF"), student_loan_plans=("2", "PGL"),
                  pension_status=PensionStatus.ENROLLED, rolled_up_holiday=True, irregular_hours=True,
                  bank_details=BankDetails("T J WRIGHT", "202678", "55779911"))
SAMIRA = Employee(id="pa-samira", employer_id=EMPLOYER.id, payroll_id="PA-003", forenames=("Samira",),
                  surname="Begum", birth_date=date(1990, 11, 5), start_date=date(2026, 5, 4), frequency=FREQUENCY,
                  tax_code="1257L", ni_letter="A", nino="JK112233B", gender="F",
                  address=Address(("7 Cardigan Road", "Leeds"), "LS6 1LF"), starter_declaration="B",
                  previous_employment=PreviousEmployment(taxable_pay=300_000, tax=15_000),
                  leaving_date=date(2026, 5, 27), bank_details=BankDetails("S BEGUM", "309950", "12345678"))
EMPLOYEES = {e.id: e for e in (GRACE, THOMAS, SAMIRA)}

RATES = PayRates(standard=1_350, night=1_500, weekend=1_450, bank_holiday=2_025, sleep_in_flat=9_000)
PENSIONS = {THOMAS.id: PensionScheme(Decimal("0.05"), Decimal("0.03"), ReliefMethod.RELIEF_AT_SOURCE)}


@dataclass(frozen=True)
class Work:
    """What a PA did in a period (hours are Decimal, money pence)."""
    standard: Decimal = Decimal(0)
    night: Decimal = Decimal(0)
    weekend: Decimal = Decimal(0)
    bank_holiday: Decimal = Decimal(0)
    sleep_ins: int = 0
    holiday_hours_taken: Decimal = Decimal(0)
    ssp: int = 0
    expenses: int = 0
    repayment: int = 0


def _pounds(pence: int) -> Decimal:
    return Decimal(pence) / 100


def _amount(hours: Decimal, rate: int) -> int:
    return int((hours * rate).quantize(PENNY, rounding=ROUND_HALF_UP))


def _start_ytd(employee: Employee) -> YearToDate:
    previous = employee.previous_employment or PreviousEmployment()
    return YearToDate(taxable_pay=previous.taxable_pay, tax=previous.tax, previous_taxable_pay=previous.taxable_pay,
                      previous_tax=previous.tax)


def make_payslip(run_id: str, employee: Employee, work: Work, before: YearToDate, *, period: int, start: date,
                 end: date, paid: date, leaving: bool = False) -> Payslip:
    lines: list[PayslipLine] = []
    for code, words, hours, rate in (("hours.standard", "Standard hours", work.standard, RATES.standard),
                                     ("hours.night", "Night hours", work.night, RATES.night),
                                     ("hours.weekend", "Weekend hours", work.weekend, RATES.weekend),
                                     ("hours.bank_holiday", "Bank holiday hours", work.bank_holiday,
                                      RATES.bank_holiday)):
        if hours:
            lines.append(PayslipLine(LineKind.EARNING, code, words, _amount(hours, rate), hours, rate))
    if work.sleep_ins:
        lines.append(PayslipLine(LineKind.EARNING, "hours.sleep_in", f"Sleep-in nights ({work.sleep_ins})",
                                 work.sleep_ins * RATES.sleep_in_flat, None, RATES.sleep_in_flat))
    hours_pay = sum(line.amount for line in lines)
    holiday_pay = 0
    if work.holiday_hours_taken:
        holiday_pay = _amount(work.holiday_hours_taken, RATES.standard)
        lines.append(PayslipLine(LineKind.EARNING, "holiday.taken", "Holiday pay for holiday taken", holiday_pay,
                                 work.holiday_hours_taken, RATES.standard))
    if employee.rolled_up_holiday:
        holiday_pay = int((hours_pay * HOLIDAY_ACCRUAL).quantize(PENNY, rounding=ROUND_HALF_UP))
        lines.append(PayslipLine(LineKind.EARNING, "holiday.rolled_up",
                                 "Rolled-up holiday pay (12.07% of pay for hours worked)", holiday_pay))
    if work.ssp:
        lines.append(PayslipLine(LineKind.STATUTORY, "ssp", "Statutory Sick Pay", work.ssp))
    gross = sum(line.amount for line in lines)

    result = gross_to_net(PayPeriodInputs(
        tax_year=TAX_YEAR, frequency=FREQUENCY, period=period, tax_code=employee.tax_code, gross_pay=_pounds(gross),
        non_cumulative=employee.non_cumulative, previous_taxable_pay_to_date=_pounds(before.taxable_pay),
        previous_tax_to_date=_pounds(before.tax), ni_letter=employee.ni_letter,
        student_loan_plans=employee.student_loan_plans, pension=PENSIONS.get(employee.id),
        non_taxable_payments=_pounds(work.expenses), deductions_from_net_pay=_pounds(work.repayment)))
    tax, ee_ni, er_ni = to_pence(result.tax), to_pence(result.employee_ni), to_pence(result.employer_ni)
    loan, pgl = to_pence(result.student_loan), to_pence(result.postgraduate_loan)
    net_pay_pension, ras_pension = to_pence(result.pension_net_pay), to_pence(result.pension_relief_at_source)
    er_pension = to_pence(result.employer_pension)
    for kind, code, words, amount in (
            (LineKind.DEDUCTION, "tax", "Income Tax", tax),
            (LineKind.DEDUCTION, "ni.employee", "National Insurance", ee_ni),
            (LineKind.DEDUCTION, "student_loan", "Student Loan", loan),
            (LineKind.DEDUCTION, "postgraduate_loan", "Postgraduate Loan", pgl),
            (LineKind.DEDUCTION, "pension.employee", "Pension", net_pay_pension + ras_pension),
            (LineKind.DEDUCTION, "deduction.repayment", "Repayment of a pay advance (agreed with you)", work.repayment),
            (LineKind.NON_TAXABLE, "expenses", "Travel expenses", work.expenses),
            (LineKind.EMPLOYER, "ni.employer", "Employer's National Insurance", er_ni),
            (LineKind.EMPLOYER, "pension.employer", "Employer's pension contribution", er_pension)):
        if amount:
            lines.append(PayslipLine(kind, code, words, amount))

    ni = result.ni
    figures = NIFigures(ni.letter, to_pence(ni.gross_pay), to_pence(ni.at_lel), to_pence(ni.lel_to_pt),
                        to_pence(ni.pt_to_uel), ee_ni, er_ni)
    hours_worked = work.standard + work.night + work.weekend + work.bank_holiday
    accrued = ((hours_worked * HOLIDAY_ACCRUAL).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
               if employee.irregular_hours and not employee.rolled_up_holiday else Decimal(0))
    net = to_pence(result.net_pay)
    taxable = to_pence(result.taxable_pay)
    ytd = replace(before, gross_pay=before.gross_pay + gross, taxable_pay=before.taxable_pay + taxable,
                  tax=before.tax + tax, employee_ni=before.employee_ni + ee_ni, employer_ni=before.employer_ni + er_ni,
                  ni_earnings=before.ni_earnings + figures.gross_earnings, at_lel=before.at_lel + figures.at_lel,
                  lel_to_pt=before.lel_to_pt + figures.lel_to_pt, pt_to_uel=before.pt_to_uel + figures.pt_to_uel,
                  student_loan=before.student_loan + loan, postgraduate_loan=before.postgraduate_loan + pgl,
                  pension_employee=before.pension_employee + net_pay_pension + ras_pension,
                  pension_employer=before.pension_employer + er_pension,
                  pension_net_pay=before.pension_net_pay + net_pay_pension,
                  pension_relief_at_source=before.pension_relief_at_source + ras_pension,
                  ssp=before.ssp + work.ssp, holiday_pay=before.holiday_pay + holiday_pay,
                  holiday_hours_accrued=before.holiday_hours_accrued + accrued,
                  holiday_hours_taken=before.holiday_hours_taken + work.holiday_hours_taken,
                  net_pay=before.net_pay + net)
    return Payslip(id=f"{run_id}/{employee.id}", pay_run_id=run_id, employee_id=employee.id, tax_year=TAX_YEAR,
                   frequency=FREQUENCY, period=period, period_start=start, period_end=end, payment_date=paid,
                   tax_code=employee.tax_code, non_cumulative=employee.non_cumulative, ni_letter=employee.ni_letter,
                   lines=tuple(lines), gross_pay=gross, taxable_pay=taxable, tax=tax, employee_ni=ee_ni,
                   employer_ni=er_ni, ni=(figures,), student_loan=loan, postgraduate_loan=pgl,
                   pension_employee=net_pay_pension + ras_pension, pension_employer=er_pension,
                   pension_net_pay=net_pay_pension, pension_relief_at_source=ras_pension, ssp=work.ssp,
                   holiday_pay=holiday_pay, holiday_hours_accrued=accrued, expenses=work.expenses, net_pay=net,
                   year_to_date=ytd, hours_worked=hours_worked,
                   warnings=("Check: minimum wage average is close to the limit",) if employee is GRACE else (),
                   leaving=leaving, holiday_hours_taken=work.holiday_hours_taken)


def adjustment_payslip(run_id: str, corrected: Payslip, original: Payslip, *, period: int, paid: date) -> Payslip:
    """What an adjustment run pays: corrected minus original, figure by figure and line by line; the original
    was the latest payment, so the moved year-to-date figures are the corrected ones."""
    was = {(line.kind, line.code): line for line in original.lines}
    lines = []
    for line in corrected.lines:
        old = was.get((line.kind, line.code))
        amount = line.amount - (old.amount if old else 0)
        hours = None if line.hours is None else line.hours - (old.hours if old and old.hours is not None else 0)
        if amount or hours:
            lines.append(PayslipLine(line.kind, line.code, f"Correction: {line.description}", amount, hours, line.rate))
    ni = tuple(NIFigures(new.letter, *(getattr(new, f) - getattr(old, f) for f in (
        "gross_earnings", "at_lel", "lel_to_pt", "pt_to_uel", "employee", "employer")))
        for new, old in zip(corrected.ni, original.ni))
    figures = ("gross_pay", "taxable_pay", "tax", "employee_ni", "employer_ni", "student_loan", "postgraduate_loan",
               "pension_employee", "pension_employer", "pension_net_pay", "pension_relief_at_source", "ssp",
               "holiday_pay", "holiday_hours_accrued", "holiday_hours_taken", "expenses", "net_pay", "hours_worked")
    return replace(corrected, id=f"{run_id}/{corrected.employee_id}", pay_run_id=run_id, period=period,
                   payment_date=paid, lines=tuple(lines), ni=ni, is_adjustment=True, warnings=(),
                   leaving=corrected.leaving and not original.leaving,
                   **{name: getattr(corrected, name) - getattr(original, name) for name in figures})


def make_run(run_id: str, payslips: list[Payslip], *, period: int, start: date, end: date, paid: date,
             allowance_used_before: int, corrects: str | None = None) -> PayRun:
    """A finalised run with its cost summary; Employment Allowance set against its employer NI."""
    employer_ni = sum(p.employer_ni for p in payslips)
    allowance = apply_employment_allowance(TAX_YEAR, _pounds(employer_ni), _pounds(allowance_used_before),
                                           EMPLOYER.claims_employment_allowance)
    summary = EmployerCostSummary(
        employees=len(payslips), gross_pay=sum(p.gross_pay for p in payslips), employer_ni=employer_ni,
        employment_allowance_used=to_pence(allowance.offset),
        employer_pension=sum(p.pension_employer for p in payslips), expenses=sum(p.expenses for p in payslips),
        tax=sum(p.tax for p in payslips), employee_ni=sum(p.employee_ni for p in payslips),
        student_loans=sum(p.student_loan + p.postgraduate_loan for p in payslips),
        net_pay=sum(p.net_pay for p in payslips))
    return PayRun(id=run_id, employer_id=EMPLOYER.id, tax_year=TAX_YEAR, frequency=FREQUENCY, period=period,
                  period_start=start, period_end=end, payment_date=paid, status=PayRunStatus.FINALISED,
                  payslips=tuple(payslips), summary=summary, corrects=corrects,
                  history=(("finalised", "payroll-admin", datetime(2026, 4, 1, tzinfo=timezone.utc)),))


@dataclass(frozen=True)
class SampleYear:
    week4: PayRun
    week8: PayRun
    week8_correction: PayRun  # pays Grace for 6 standard hours missed in week 8, on 5 June (tax week 9)
    week12: PayRun
    employees: dict[str, Employee] = field(default_factory=lambda: dict(EMPLOYEES))

    @property
    def runs(self) -> list[PayRun]:
        return [self.week4, self.week8, self.week8_correction, self.week12]


GRACE_WEEK8 = Work(standard=Decimal("88"), night=Decimal("12"), bank_holiday=Decimal("7.5"), ssp=3_521,
                   expenses=1_840, repayment=2_000)


@lru_cache(maxsize=1)
def sample_year() -> SampleYear:
    ytd = {e.id: _start_ytd(e) for e in EMPLOYEES.values()}
    w4 = dict(period=4, start=date(2026, 4, 6), end=date(2026, 5, 3), paid=date(2026, 5, 1))
    grace4 = Work(standard=Decimal("90"), weekend=Decimal("8"), holiday_hours_taken=Decimal("7.5"), expenses=2_450)
    slips4 = [make_payslip("run-w4", GRACE, grace4, ytd[GRACE.id], **w4),
              make_payslip("run-w4", THOMAS, Work(standard=Decimal("150"), night=Decimal("20")), ytd[THOMAS.id], **w4)]
    week4 = make_run("run-w4", slips4, allowance_used_before=0, **w4)
    ytd.update({p.employee_id: p.year_to_date for p in slips4})
    used = week4.summary.employment_allowance_used

    w8 = dict(period=8, start=date(2026, 5, 4), end=date(2026, 5, 31), paid=date(2026, 5, 29))
    before8 = dict(ytd)
    slips8 = [make_payslip("run-w8", GRACE, GRACE_WEEK8, before8[GRACE.id], **w8),
              make_payslip("run-w8", THOMAS, Work(standard=Decimal("156.5"), night=Decimal("24"), expenses=980),
                           before8[THOMAS.id], **w8),
              make_payslip("run-w8", SAMIRA, Work(standard=Decimal("40"), night=Decimal("60"), sleep_ins=2),
                           before8[SAMIRA.id], leaving=True, **w8)]
    week8 = make_run("run-w8", slips8, allowance_used_before=used, **w8)

    ytd.update({p.employee_id: p.year_to_date for p in slips8})
    used += week8.summary.employment_allowance_used

    fix = dict(period=9, start=w8["start"], end=w8["end"], paid=date(2026, 6, 5))
    corrected = make_payslip("run-w8-fix", GRACE, replace(GRACE_WEEK8, standard=GRACE_WEEK8.standard + 6),
                             before8[GRACE.id], **w8)
    difference = adjustment_payslip("run-w8-fix", corrected, slips8[0], period=fix["period"], paid=fix["paid"])
    correction = make_run("run-w8-fix", [difference], allowance_used_before=used, corrects=week8.id, **fix)
    ytd[GRACE.id] = difference.year_to_date
    used += correction.summary.employment_allowance_used

    w12 = dict(period=12, start=date(2026, 6, 1), end=date(2026, 6, 28), paid=date(2026, 6, 26))
    slips12 = [make_payslip("run-w12", GRACE, Work(standard=Decimal("12"), ssp=36_975), ytd[GRACE.id], **w12),
               make_payslip("run-w12", THOMAS, Work(standard=Decimal("148"), night=Decimal("16")), ytd[THOMAS.id],
                            **w12)]
    week12 = make_run("run-w12", slips12, allowance_used_before=used, **w12)
    return SampleYear(week4, week8, correction, week12)


def four_weekly_run() -> PayRun:
    """The sample run with three PAs: week 8, paid 29 May 2026."""
    return sample_year().week8

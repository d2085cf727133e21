"""Payslips for PAs and the employer's cost summary of a pay run, as accessible HTML and tagged PDF.

A payslip shows every line of pay (hours by kind with hours x rate, SSP, holiday pay), every deduction (Income
Tax, National Insurance, Student and Postgraduate Loans, the pension with how its tax relief works, anything
else taken), what is added (expenses repaid, a tax refund), net pay, what the employer pays on top, the tax
year's figures so far and holiday hours. The National Insurance number and the bank account are masked: only
the last characters show. Reviewer warnings (``Payslip.warnings``) are never printed.

Before anything is shown the payslip must add up: the pay lines to gross pay, and gross pay less deductions plus
additions to net pay. A payslip that does not add up raises ``PayslipDoesNotAddUp`` rather than reach a PA.

Deductions are shown from the payslip's own figures (``tax``, ``employee_ni``, ``student_loan``,
``postgraduate_loan``, ``pension_employee``); a deduction line whose code starts with one of
``STATUTORY_DEDUCTION_CODES`` is that same figure and is not shown twice. Other deduction lines (for example an
agreed repayment) are shown by their own description.

The HTML is semantic (headings, tables with captions and ``th scope``, ``lang="en-GB"``), in plain English,
and the PDF is the same HTML rendered as PDF/UA-1 by ``payroll.rendering``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from payroll.model import Employee, Employer, EmployerCostSummary, LineKind, PayRun, Payslip, PayslipLine
from payroll.rendering import format_long_date as _long, html_to_pdf, render_template
from payroll.rules.periods import Frequency

_TEMPLATES = Path(__file__).parent / "templates"

# First part of a line code ("tax", "ni.employee" -> "ni") for the deductions the payslip carries as figures.
STATUTORY_DEDUCTION_CODES = frozenset({"tax", "income_tax", "paye", "ni", "nic", "national_insurance",
                                       "student_loan", "postgraduate_loan", "pgl", "pension"})

_FREQUENCY_WORDS = {Frequency.WEEKLY: "every week", Frequency.FORTNIGHTLY: "every 2 weeks",
                    Frequency.FOUR_WEEKLY: "every 4 weeks", Frequency.MONTHLY: "every month"}


class PayslipDoesNotAddUp(ValueError):
    """The payslip's lines and figures disagree, so it must not be given to anyone."""


class CostSummaryDisagrees(ValueError):
    """A pay run's cost summary is not the sum of its payslips."""


# ------------------------------------------------------------------------------------------- masking

def mask_nino(nino: str | None) -> str:
    """'AB123456C' -> '** ** ** 56 C': only the last three characters show, as people read them."""
    if not nino:
        return "Not known"
    compact = "".join(nino.split()).upper()
    if len(compact) == 9:
        return f"** ** ** {compact[6:8]} {compact[8]}"
    return "*" * max(len(compact) - 3, 0) + compact[-3:]


# ------------------------------------------------------------------------------------------- the view

@dataclass(frozen=True)
class Row:
    """One line of a payslip table, in words and pence."""
    label: str
    amount: int
    hours: Decimal | None = None
    rate: int | None = None
    rate_unit: str = ""     # "an hour", "a night"


@dataclass(frozen=True)
class Detail:
    label: str
    value: str


@dataclass(frozen=True)
class HolidayHours:
    earned_this_period: Decimal
    taken_this_period: Decimal
    earned_this_year: Decimal
    taken_this_year: Decimal

    @property
    def left_to_take(self) -> Decimal:
        return self.earned_this_year - self.taken_this_year


@dataclass(frozen=True)
class PayslipView:
    """Everything the payslip template shows, already in plain English; the template only lays it out."""
    title: str
    employer_name: str
    employee_name: str
    is_adjustment: bool       # pays (or takes back) the difference a correction to an earlier payment made
    details: tuple[Detail, ...]
    pay: tuple[Row, ...]
    gross_pay: int
    taxable_pay: int
    deductions: tuple[Row, ...]
    total_deductions: int
    additions: tuple[Row, ...]
    net_pay: int
    paid_to: str
    employer_pays: tuple[Row, ...]
    year_to_date: tuple[Row, ...]
    holiday: HolidayHours | None
    rolled_up_holiday: bool


def _code_group(line: PayslipLine) -> str:
    return line.code.split(".")[0].lower()


def _rate_unit(line: PayslipLine) -> str:
    return "a night" if "sleep_in" in line.code.lower() else "an hour"


def _loan_plans(employee: Employee) -> list[str]:
    return [p for p in employee.student_loan_plans if p.upper() != "PGL"]


def _period_label(payslip: Payslip) -> str:
    frequency = Frequency.parse(payslip.frequency)
    unit = "week" if frequency.counts_in_weeks else "month"
    return f"Tax {unit} {payslip.period} of {payslip.tax_year} (paid {_FREQUENCY_WORDS[frequency]})"


def _sum(lines: Iterable[PayslipLine]) -> int:
    return sum(line.amount for line in lines)


def payslip_view(payslip: Payslip, employee: Employee, employer: Employer) -> PayslipView:
    """The payslip in words and figures, checked to add up."""
    if payslip.employee_id != employee.id:
        raise ValueError(f"payslip {payslip.id} is for employee {payslip.employee_id}, not {employee.id}")
    pay_lines = [line for line in payslip.lines if line.kind in (LineKind.EARNING, LineKind.STATUTORY)]
    if pay_lines and _sum(pay_lines) != payslip.gross_pay:
        raise PayslipDoesNotAddUp(f"payslip {payslip.id}: the pay lines add up to {_sum(pay_lines)}p but gross pay "
                                  f"is {payslip.gross_pay}p")
    pay = tuple(Row(line.description, line.amount, line.hours, line.rate, _rate_unit(line) if line.rate else "")
                for line in pay_lines)

    deductions: list[Row] = []
    if payslip.tax >= 0:
        deductions.append(Row("Income Tax", payslip.tax))
    deductions.append(Row("National Insurance", payslip.employee_ni))
    plans = _loan_plans(employee)
    if payslip.student_loan or plans:
        named = " and ".join(f"Plan {p}" for p in plans)
        deductions.append(Row(f"Student Loan ({named})" if named else "Student Loan", payslip.student_loan))
    if payslip.postgraduate_loan or any(p.upper() == "PGL" for p in employee.student_loan_plans):
        deductions.append(Row("Postgraduate Loan", payslip.postgraduate_loan))
    if payslip.pension_net_pay + payslip.pension_relief_at_source != payslip.pension_employee:
        raise PayslipDoesNotAddUp(f"payslip {payslip.id}: the pension deduction {payslip.pension_employee}p is not "
                                  f"the net pay ({payslip.pension_net_pay}p) and relief at source "
                                  f"({payslip.pension_relief_at_source}p) contributions together")
    if payslip.pension_net_pay:
        deductions.append(Row("Workplace pension, net pay arrangement (taken before tax, so you pay less tax)",
                              payslip.pension_net_pay))
    if payslip.pension_relief_at_source:
        deductions.append(Row("Workplace pension, relief at source (your pension provider claims basic rate tax "
                              "relief from HMRC and adds it to your pension)", payslip.pension_relief_at_source))
    other = [line for line in payslip.lines
             if line.kind is LineKind.DEDUCTION and _code_group(line) not in STATUTORY_DEDUCTION_CODES]
    deductions += [Row(line.description, line.amount) for line in other]

    additions: list[Row] = []
    if payslip.tax < 0:
        additions.append(Row("Income Tax refund (tax paid earlier this year, given back to you)", -payslip.tax))
    expense_lines = [line for line in payslip.lines if line.kind is LineKind.NON_TAXABLE]
    if expense_lines:
        if _sum(expense_lines) != payslip.expenses:
            raise PayslipDoesNotAddUp(f"payslip {payslip.id}: the expense lines add up to {_sum(expense_lines)}p "
                                      f"but expenses are {payslip.expenses}p")
        additions += [Row(f"{line.description} (no tax or National Insurance)", line.amount) for line in expense_lines]
    elif payslip.expenses:
        additions.append(Row("Expenses paid back to you (no tax or National Insurance)", payslip.expenses))

    total_deductions = sum(r.amount for r in deductions)
    total_additions = sum(r.amount for r in additions)
    if payslip.gross_pay - total_deductions + total_additions != payslip.net_pay:
        raise PayslipDoesNotAddUp(
            f"payslip {payslip.id}: gross pay {payslip.gross_pay}p less deductions {total_deductions}p plus "
            f"{total_additions}p is {payslip.gross_pay - total_deductions + total_additions}p, not the net pay "
            f"{payslip.net_pay}p")

    employer_pays = (Row("Employer's National Insurance", payslip.employer_ni),
                     Row("Employer's pension contribution", payslip.pension_employer))

    ytd = payslip.year_to_date
    year_rows = [Row("Gross pay", ytd.gross_pay),
                 Row("Taxable pay in this job", ytd.taxable_pay - ytd.previous_taxable_pay),
                 Row("Income Tax in this job", ytd.tax - ytd.previous_tax)]
    if ytd.previous_taxable_pay or ytd.previous_tax:
        year_rows += [Row("Taxable pay in earlier jobs this tax year (from your P45)", ytd.previous_taxable_pay),
                      Row("Income Tax in earlier jobs this tax year (from your P45)", ytd.previous_tax)]
    year_rows.append(Row("National Insurance", ytd.employee_ni))
    if ytd.student_loan or plans:
        year_rows.append(Row("Student Loan", ytd.student_loan))
    if ytd.postgraduate_loan or any(p.upper() == "PGL" for p in employee.student_loan_plans):
        year_rows.append(Row("Postgraduate Loan", ytd.postgraduate_loan))
    if ytd.pension_employee or ytd.pension_employer:
        year_rows += [Row("Your pension contributions", ytd.pension_employee),
                      Row("Your employer's pension contributions", ytd.pension_employer)]
    if ytd.ssp:
        year_rows.append(Row("Statutory Sick Pay", ytd.ssp))
    if ytd.holiday_pay:
        year_rows.append(Row("Holiday pay", ytd.holiday_pay))
    year_rows += [Row("Employer's National Insurance", ytd.employer_ni), Row("Net pay", ytd.net_pay)]

    holiday = None
    if (employee.irregular_hours and not employee.rolled_up_holiday) or payslip.holiday_hours_accrued \
            or payslip.holiday_hours_taken or ytd.holiday_hours_accrued or ytd.holiday_hours_taken:
        holiday = HolidayHours(payslip.holiday_hours_accrued, payslip.holiday_hours_taken, ytd.holiday_hours_accrued,
                               ytd.holiday_hours_taken)

    code_basis = ("On this payment alone (week 1 / month 1 basis)" if payslip.non_cumulative
                  else "On all your pay in this tax year so far")
    details = (
        Detail("Name", employee.full_name),
        Detail("Payroll number", employee.payroll_id),
        Detail("Employer", employer.name),
        Detail("Employer PAYE reference", employer.employer_paye_reference),
        Detail("Pay period", _period_label(payslip)),
        Detail("Work dates", f"{_long(payslip.period_start)} to {_long(payslip.period_end)}"),
        Detail("Payment date", _long(payslip.payment_date)),
        Detail("Tax code", payslip.tax_code),
        Detail("How tax is worked out", code_basis),
        Detail("National Insurance category letter", payslip.ni_letter),
        Detail("National Insurance number (only the last characters are shown)", mask_nino(employee.nino)),
    )
    paid_to = (f"{employee.bank_details.account_name}, account {employee.bank_details.masked}"
               if employee.bank_details else "No bank account recorded")
    kind = "Correction payslip" if payslip.is_adjustment else "Payslip"
    title = f"{kind} for {employee.full_name}, paid {_long(payslip.payment_date)}"
    return PayslipView(title, employer.name, employee.full_name, payslip.is_adjustment, details, pay, payslip.gross_pay,
                       payslip.taxable_pay, tuple(deductions), total_deductions, tuple(additions), payslip.net_pay,
                       paid_to, employer_pays, tuple(year_rows), holiday, employee.rolled_up_holiday)


def render_payslip_html(payslip: Payslip, employee: Employee, employer: Employer) -> str:
    return render_template(_TEMPLATES, "payslip.html", doc=payslip_view(payslip, employee, employer))


def render_payslip_pdf(payslip: Payslip, employee: Employee, employer: Employer) -> bytes:
    """The same payslip as a tagged PDF (PDF/UA-1)."""
    return html_to_pdf(render_payslip_html(payslip, employee, employer), base_url=_TEMPLATES)


# ------------------------------------------------------------------------------------------- cost summary

def summarise_payslips(payslips: Iterable[Payslip], employment_allowance_used: int = 0) -> EmployerCostSummary:
    """A run's cost summary as the sum of its payslips (the Employment Allowance used is the run's own figure)."""
    slips = list(payslips)
    return EmployerCostSummary(
        employees=len({p.employee_id for p in slips}),
        gross_pay=sum(p.gross_pay for p in slips),
        employer_ni=sum(p.employer_ni for p in slips),
        employment_allowance_used=employment_allowance_used,
        employer_pension=sum(p.pension_employer for p in slips),
        expenses=sum(p.expenses for p in slips),
        tax=sum(p.tax for p in slips),
        employee_ni=sum(p.employee_ni for p in slips),
        student_loans=sum(p.student_loan + p.postgraduate_loan for p in slips),
        net_pay=sum(p.net_pay for p in slips),
    )


@dataclass(frozen=True)
class CostRow:
    name: str
    gross_pay: int
    employer_ni: int
    employer_pension: int
    expenses: int
    total: int


@dataclass(frozen=True)
class CostSummaryView:
    title: str
    employer_name: str
    employer_paye_reference: str
    period_label: str
    work_dates: str
    payment_date: str
    is_adjustment: bool
    rows: tuple[CostRow, ...]
    totals: CostRow
    summary: EmployerCostSummary
    pension_to_provider: int


def cost_summary_view(run: PayRun, employer: Employer,
                      employees: Mapping[str, Employee] | None = None) -> CostSummaryView:
    """The run's employer costs per PA and in total, checked against the run's own summary when it has one."""
    if run.employer_id != employer.id:
        raise ValueError(f"pay run {run.id} belongs to employer {run.employer_id}, not {employer.id}")
    summary = run.summary
    if summary is None:
        summary = summarise_payslips(run.payslips)
    else:
        expected = summarise_payslips(run.payslips, summary.employment_allowance_used)
        if summary != expected:
            raise CostSummaryDisagrees(f"pay run {run.id}: the summary {summary} is not the sum of its payslips "
                                       f"{expected}")
    rows = []
    for p in run.payslips:
        who = employees.get(p.employee_id) if employees else None
        rows.append(CostRow(who.full_name if who else p.employee_id, p.gross_pay, p.employer_ni, p.pension_employer,
                            p.expenses, p.employer_cost))
    totals = CostRow("All personal assistants", summary.gross_pay, summary.employer_ni, summary.employer_pension,
                     summary.expenses, sum(r.total for r in rows))
    frequency = Frequency.parse(run.frequency)
    unit = "week" if frequency.counts_in_weeks else "month"
    kind = "Correction to the pay run" if run.corrects else "Pay run"
    return CostSummaryView(
        title=f"Employer cost summary: {employer.name}, {kind.lower()} paid {_long(run.payment_date)}",
        employer_name=employer.name, employer_paye_reference=employer.employer_paye_reference,
        period_label=f"Tax {unit} {run.period} of {run.tax_year} (paid {_FREQUENCY_WORDS[frequency]})",
        work_dates=f"{_long(run.period_start)} to {_long(run.period_end)}", payment_date=_long(run.payment_date),
        is_adjustment=run.corrects is not None, rows=tuple(rows), totals=totals, summary=summary,
        pension_to_provider=sum(p.pension_employee + p.pension_employer for p in run.payslips))


def render_cost_summary_html(run: PayRun, employer: Employer, employees: Mapping[str, Employee] | None = None) -> str:
    """``employees`` (by id) names each PA; without it the rows show the employee ids."""
    return render_template(_TEMPLATES, "cost_summary.html", doc=cost_summary_view(run, employer, employees))


def render_cost_summary_pdf(run: PayRun, employer: Employer, employees: Mapping[str, Employee] | None = None) -> bytes:
    return html_to_pdf(render_cost_summary_html(run, employer, employees), base_url=_TEMPLATES)

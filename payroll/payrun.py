"""The pay run: one payslip for each PA in a pay period, and what the run costs the employer.

``calculate_pay_run`` works out every member's period from approved timesheet hours to net pay, then sets the
Employment Allowance against the run's employer NI. A pay run is all or nothing: if any member cannot be
calculated the whole run is refused, naming each employee and the reason, and nothing is returned to pay.
``calculate_adjustment`` corrects a finalised run without touching it: it recomputes the affected PAs'
period from the figures before the original payment and pays the difference in a run of its own.

Order for one PA (HMRC's order of operations): gross pay (hours, holiday, SSP), pension assessment and
contributions on that gross, then ``gross_to_net`` (PAYE on taxable pay, Class 1 NI and student loans on
NI-able pay), then the minimum-wage check, which warns and never stops the run.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Callable, Sequence

from payroll import year_to_date as ytd
from payroll.gross_pay import holiday_pay, money_words, pay_for_hours, pounds, sick_pay
from payroll.model import Contract, Employee, Employer, EmployerCostSummary, LineKind, NIFigures, PayRun, \
    PayRunMember, PayRunStatus, Payslip, PayslipLine, PensionStatus, Timesheet, TimesheetStatus, YearToDate
from payroll.rules.auto_enrolment import PensionScheme, ReliefMethod, WorkerCategory, age_on, assess_worker, \
    state_pension_date
from payroll.rules.employment_allowance import apply_employment_allowance
from payroll.rules.errors import PayrollRuleError
from payroll.rules.gross_to_net import GrossToNet, PayPeriodInputs, gross_to_net
from payroll.rules.minimum_wage import check_minimum_wage
from payroll.rules.money import to_pence
from payroll.rules.periods import Frequency, tax_period
from payroll.rules.tax_codes import TaxCode, parse_tax_code
from payroll.rules.yearly_rates import check_tax_year
from payroll.timesheets import validate_timesheet

CALCULABLE = (PayRunStatus.DRAFT, PayRunStatus.CALCULATED)


class PayRunError(ValueError):
    """A pay run that cannot be calculated as asked (wrong status, a payday outside its tax period...)."""


class PayRunFailed(PayRunError):
    """One or more members could not be calculated, so the run as a whole is refused.

    ``failures`` holds (employee id, plain-English reason naming the employee) for each of them.
    """

    def __init__(self, run_id: str, failures: Sequence[tuple[str, str]]) -> None:
        self.run_id = run_id
        self.failures: tuple[tuple[str, str], ...] = tuple(failures)
        count = len(self.failures)
        super().__init__(f"pay run {run_id} was not calculated: {count} employee{'s' if count != 1 else ''} "
                         f"could not be paid: " + "; ".join(reason for _, reason in self.failures))


# ---------------------------------------------------------------------------------------------------------
# Runs

def calculate_pay_run(run: PayRun, employer: Employer, members: Sequence[PayRunMember], *,
                      employment_allowance_used_before: int, new_id: Callable[[], str]) -> PayRun:
    """The run with one payslip per member, its cost summary, and status CALCULATED.

    ``employment_allowance_used_before``: pence of the year's Employment Allowance used by earlier runs.
    ``new_id`` gives each payslip its id. Recalculating a calculated run replaces its payslips.
    """
    frequency = _check_run(run, employer)
    _check_used_before(employment_allowance_used_before)
    payslips = _each_member(run, members,
                            lambda m: _payslip(run, frequency, m, m.year_to_date, new_id()))
    employer_ni = sum(p.employer_ni for p in payslips)
    allowance = to_pence(apply_employment_allowance(
        run.tax_year, pounds(employer_ni), pounds(employment_allowance_used_before),
        employer.claims_employment_allowance).offset)
    return replace(run, status=PayRunStatus.CALCULATED, payslips=payslips, summary=_summary(payslips, allowance))


def calculate_adjustment(original: PayRun, corrected_members: Sequence[PayRunMember], *, run: PayRun,
                         employer: Employer, employment_allowance_used_before: int,
                         new_id: Callable[[], str]) -> PayRun:
    """A correction of a finalised run, as ``run`` (which must say ``corrects=original.id``).

    For each corrected member, their period in the original run is worked out again from the year-to-date
    figures before the original payment (taken back from the original payslip), with the corrected employee,
    contract, timesheet and sickness. The adjustment payslip holds the difference, corrected minus original,
    for every figure and every line that changed (negative where the PA was overpaid), and its year-to-date
    figures are the member's current ones moved by that difference: the corrected figures when the original
    was the latest payment. The original run is not changed; history is never edited.

    The adjustment payslip carries ``run``'s payday and tax period (the correction is paid then) and the
    original pay period's dates. Corrections go in the same tax year as the original; an earlier year's
    figures are corrected with HMRC's earlier year update, not here.
    """
    if original.status is not PayRunStatus.FINALISED:
        raise PayRunError(f"pay run {original.id} is {original.status.value}; only a finalised run is corrected "
                          f"by an adjustment (recalculate it instead)")
    if original.corrects is not None:
        raise PayRunError(f"pay run {original.id} is itself a correction; correct the regular run "
                          f"{original.corrects} with all the changes at once")
    if run.corrects != original.id:
        raise PayRunError(f"pay run {run.id} must say it corrects run {original.id}")
    _check_run(run, employer)
    _check_used_before(employment_allowance_used_before)
    if (original.employer_id, original.tax_year, original.frequency) != (run.employer_id, run.tax_year,
                                                                          run.frequency):
        raise PayRunError(f"a correction must be for the same employer, tax year and pay frequency as run "
                          f"{original.id} ({original.tax_year}, {original.frequency})")
    original_frequency = Frequency.parse(original.frequency)
    originals = {slip.employee_id: slip for slip in original.payslips}

    def adjust(member: PayRunMember) -> Payslip:
        paid = originals.get(member.employee.id)
        if paid is None:
            raise PayrollRuleError(f"was not paid in run {original.id}; pay a missed PA in a regular run")
        corrected = _payslip(original, original_frequency, member, ytd.before(paid), paid.id)
        return _difference(run, corrected, paid, member.year_to_date, new_id())

    payslips = _each_member(run, corrected_members, adjust)
    employer_ni = sum(p.employer_ni for p in payslips)
    if employer_ni >= 0:
        allowance = to_pence(apply_employment_allowance(
            run.tax_year, pounds(employer_ni), pounds(employment_allowance_used_before),
            employer.claims_employment_allowance).offset)
    else:
        # Employer NI overpaid: the allowance set against it comes back, up to what the original run used.
        used = original.summary.employment_allowance_used if original.summary else 0
        allowance = -min(-employer_ni, used)
    return replace(run, status=PayRunStatus.CALCULATED, payslips=payslips, summary=_summary(payslips, allowance))


def _check_run(run: PayRun, employer: Employer) -> Frequency:
    if run.status not in CALCULABLE:
        raise PayRunError(f"pay run {run.id} is {run.status.value}; only a draft or calculated run can be "
                          f"calculated")
    if employer.id != run.employer_id:
        raise PayRunError(f"pay run {run.id} belongs to employer {run.employer_id}, not {employer.name}")
    if run.period_end < run.period_start:
        raise PayRunError(f"pay run {run.id}'s period ends ({run.period_end}) before it starts ({run.period_start})")
    try:
        check_tax_year(run.tax_year)
        frequency = Frequency.parse(run.frequency)
    except PayrollRuleError as exc:
        raise PayRunError(f"pay run {run.id}: {exc}") from None
    # Tax periods come from paydays (PAYE Regulations 2003 reg 2: the tax week or month in which payment is
    # made), so a run's period must be the one its payday falls in.
    due = tax_period(run.payment_date, frequency)
    if (due.tax_year, due.period) != (run.tax_year, run.period):
        unit = "month" if frequency is Frequency.MONTHLY else "week"
        raise PayRunError(f"a {frequency.value.replace('_', '-')} payday on {run.payment_date} is in tax year "
                          f"{due.tax_year}, tax {unit} {due.period}, not {run.tax_year} {unit} {run.period}")
    return frequency


def _check_used_before(used: int) -> None:
    if isinstance(used, bool) or not isinstance(used, int) or used < 0:
        raise PayRunError(f"Employment Allowance used before must be pence, not negative: {used!r}")


def _each_member(run: PayRun, members: Sequence[PayRunMember],
                 calculate: Callable[[PayRunMember], Payslip]) -> tuple[Payslip, ...]:
    """Every member's payslip, or PayRunFailed naming every member that could not be calculated."""
    payslips: list[Payslip] = []
    failures: list[tuple[str, str]] = []
    seen: set[str] = set()
    for member in members:
        employee = member.employee
        who = f"{employee.full_name} (payroll id {employee.payroll_id})"
        if employee.id in seen:
            failures.append((employee.id, f"{who}: is in the run twice"))
            continue
        seen.add(employee.id)
        try:
            payslips.append(calculate(member))
        except ValueError as exc:   # rule refusals, invalid timesheets, bad codes: all plain-English
            failures.append((employee.id, f"{who}: {exc}"))
    if failures:
        raise PayRunFailed(run.id, failures)
    return tuple(payslips)


def _summary(payslips: Sequence[Payslip], allowance: int) -> EmployerCostSummary:
    return EmployerCostSummary(
        employees=len(payslips),
        gross_pay=sum(p.gross_pay for p in payslips),
        employer_ni=sum(p.employer_ni for p in payslips),
        employment_allowance_used=allowance,
        employer_pension=sum(p.pension_employer for p in payslips),
        expenses=sum(p.expenses for p in payslips),
        tax=sum(p.tax for p in payslips),
        employee_ni=sum(p.employee_ni for p in payslips),
        student_loans=sum(p.student_loan + p.postgraduate_loan for p in payslips),
        net_pay=sum(p.net_pay for p in payslips),
    )


# ---------------------------------------------------------------------------------------------------------
# One member

def _payslip(run: PayRun, frequency: Frequency, member: PayRunMember, before: YearToDate, slip_id: str) -> Payslip:
    employee, contract, timesheet = member.employee, member.contract, member.timesheet
    _check_member(run, frequency, employee, contract, timesheet)
    tax_year = run.tax_year
    warnings: list[str] = []
    leaving = employee.leaving_date is not None and run.period_start <= employee.leaving_date <= run.period_end
    previous = employee.previous_employment
    if previous is not None:
        before = ytd.with_p45(before, previous.taxable_pay, previous.tax)

    # The pay reference period (minimum wage, SSP) is the timesheet's period, inside the run's.
    start, end = (timesheet.period_start, timesheet.period_end) if timesheet else (run.period_start, run.period_end)
    hours = pay_for_hours(timesheet, contract.rates)
    holiday = holiday_pay(tax_year, employee, contract.rates, timesheet, hours, before, leaving)
    sick = sick_pay(employee, contract, timesheet, member.sickness, start, end)
    warnings.extend(sick.warnings)
    gross = hours.pay + holiday.pay + sick.amount

    scheme = _pension_scheme(employee, contract, tax_year, frequency, gross, run.payment_date, warnings)
    code_text, code, non_cumulative = _tax_code(employee, run, warnings)
    expenses = timesheet.expenses if timesheet else 0
    result = gross_to_net(PayPeriodInputs(
        tax_year=tax_year, frequency=frequency, period=run.period, tax_code=code, gross_pay=pounds(gross),
        non_cumulative=non_cumulative, previous_taxable_pay_to_date=pounds(before.taxable_pay),
        previous_tax_to_date=pounds(before.tax), ni_letter=employee.ni_letter,
        student_loan_plans=employee.student_loan_plans, pension=scheme, non_taxable_payments=pounds(expenses)))
    if result.income_tax.tax_held_back > 0:
        warnings.append(f"Tax: {money_words(to_pence(result.income_tax.tax_held_back))} due could not be "
                        f"deducted: tax taken in a period cannot exceed half the pay (the regulatory limit)")
    if hours.hours_counted > 0:
        warnings.extend(_minimum_wage(employee, start, end, hours.hours_counted, hours.pay_counted, hours.premiums))

    lines = (*hours.lines, *holiday.lines, *((sick.line,) if sick.line else ()), *_deduction_lines(result, expenses))
    ni = result.ni
    slip = Payslip(
        id=slip_id, pay_run_id=run.id, employee_id=employee.id, tax_year=tax_year, frequency=run.frequency,
        period=run.period, period_start=run.period_start, period_end=run.period_end,
        payment_date=run.payment_date, tax_code=code_text, non_cumulative=non_cumulative,
        ni_letter=ni.letter, lines=lines, gross_pay=gross, taxable_pay=to_pence(result.taxable_pay),
        tax=to_pence(result.tax), employee_ni=to_pence(ni.employee), employer_ni=to_pence(ni.employer),
        ni=(NIFigures(ni.letter, to_pence(ni.gross_pay), to_pence(ni.at_lel), to_pence(ni.lel_to_pt),
                      to_pence(ni.pt_to_uel), to_pence(ni.employee), to_pence(ni.employer)),),
        student_loan=to_pence(result.student_loan), postgraduate_loan=to_pence(result.postgraduate_loan),
        pension_employee=to_pence(result.pension.employee_deduction) if result.pension else 0,
        pension_employer=to_pence(result.employer_pension),
        pension_net_pay=to_pence(result.pension_net_pay),
        pension_relief_at_source=to_pence(result.pension_relief_at_source),
        ssp=sick.amount, holiday_pay=holiday.pay, holiday_hours_accrued=holiday.hours_accrued,
        holiday_hours_taken=holiday.hours_taken, expenses=expenses, net_pay=to_pence(result.net_pay),
        year_to_date=before, hours_worked=hours.hours_counted, warnings=tuple(warnings), leaving=leaving)
    return replace(slip, year_to_date=ytd.after(before, slip, sick.weeks_paid))


def _check_member(run: PayRun, frequency: Frequency, employee: Employee, contract: Contract,
                  timesheet: Timesheet | None) -> None:
    if employee.employer_id != run.employer_id:
        raise PayrollRuleError(f"is employed by {employee.employer_id}, not by this run's employer")
    if Frequency.parse(employee.frequency) is not frequency:
        raise PayrollRuleError(f"is paid {employee.frequency}, not {frequency.value}")
    if contract.employee_id != employee.id:
        raise PayrollRuleError(f"contract {contract.id} is someone else's")
    if timesheet is None:
        return
    if timesheet.status is not TimesheetStatus.APPROVED:
        raise PayrollRuleError(f"timesheet {timesheet.id} is {timesheet.status.value}; only approved hours are paid")
    if timesheet.period_start < run.period_start or timesheet.period_end > run.period_end:
        raise PayrollRuleError(f"timesheet {timesheet.id} ({timesheet.period_start} to {timesheet.period_end}) is "
                               f"not within the pay period {run.period_start} to {run.period_end}")
    validate_timesheet(timesheet, contract, employee)


@lru_cache(maxsize=4096)
def _parse_code(text: str) -> TaxCode:
    """Codes repeat across thousands of PAs; a TaxCode is immutable, so parse each text once."""
    return parse_tax_code(text)


def _tax_code(employee: Employee, run: PayRun, warnings: list[str]) -> tuple[str, TaxCode, bool]:
    text, non_cumulative = employee.tax_code, employee.non_cumulative
    if employee.leaving_date is not None and employee.leaving_date < run.period_start:
        # HMRC "Payments after leaving": once the P45 is issued, pay on code 0T on a week 1 / month 1 basis.
        text, non_cumulative = "0T", True
        warnings.append(f"Paid after leaving on {employee.leaving_date}: taxed on 0T, week 1 / month 1 basis")
    code = _parse_code(text)
    return text, code, non_cumulative or code.non_cumulative


def _reached_state_pension_age(birth_date: date, day: date) -> bool:
    if birth_date < date(1954, 10, 6):
        return True    # State Pension age was 66 at most for these births, reached by October 2020
    if birth_date > date(1977, 4, 5):
        # State Pension age is at least 67 for these births (Pensions Act 2014); beyond that it is not settled.
        if day.year - birth_date.year < 67:
            return False
        raise PayrollRuleError("State Pension age for people born after 5 April 1977 is not settled in law")
    return state_pension_date(birth_date) <= day


def _pension_scheme(employee: Employee, contract: Contract, tax_year: str, frequency: Frequency, gross: int,
                    payday: date, warnings: list[str]) -> PensionScheme | None:
    """Contributions for members; for others, a warning when the law says they must be enrolled.

    Assessment each pay reference period on the earnings in it, by age on the payday (Pensions Act 2008 ss.1-3;
    qualifying earnings include SSP and holiday pay, s.13(3)). Changing the PA's status is the service's
    business: here an eligible jobholder not yet enrolled is reported, not enrolled.
    """
    status = employee.pension_status
    if status in (PensionStatus.ENROLLED, PensionStatus.OPTED_IN):
        scheme = PensionScheme(contract.pension_employee_rate, contract.pension_employer_rate,
                               ReliefMethod(contract.pension_relief))
        if status is PensionStatus.ENROLLED:
            try:
                scheme.check_statutory_minimum(tax_year)
            except PayrollRuleError as exc:
                warnings.append(f"Pension: {exc}")
        return scheme
    if status is PensionStatus.OPTED_OUT:
        return None
    age = age_on(employee.birth_date, payday)
    assessment = assess_worker(tax_year, frequency, pounds(gross), age,
                               _reached_state_pension_age(employee.birth_date, payday))
    if assessment.category is not WorkerCategory.ELIGIBLE_JOBHOLDER:
        return None
    facts = (f"aged {age}, earning {money_words(gross)} this period, above the "
             f"£{assessment.band.trigger:,.2f} earnings trigger")
    if status is PensionStatus.POSTPONED:
        until = employee.pension_postponed_until
        if until is None or payday >= until:
            warnings.append(f"Pension: {employee.full_name} is an eligible jobholder ({facts}) and the postponement "
                            f"{'has no end date' if until is None else f'ended on {until}'}: must be enrolled")
        return None
    warnings.append(f"Pension: {employee.full_name} is an eligible jobholder ({facts}) and must be enrolled")
    return None


def _minimum_wage(employee: Employee, start: date, end: date, hours: Decimal, pay: int, premiums: int) -> list[str]:
    """A warning when average pay for the hours that count falls below the minimum wage; the reviewer decides."""
    check = check_minimum_wage(start, age_on(employee.birth_date, start), hours, pounds(pay),
                               premiums=pounds(premiums))
    if check.passes:
        return []
    return [f"Minimum wage: {hours} hours worked from {start} to {end} were paid "
            f"{money_words(to_pence(check.pay_counted))} (premiums and sleep-in pay left out), below "
            f"{money_words(to_pence(check.required_pay))} at £{check.hourly_rate} an hour for "
            f"{employee.full_name}'s age; {money_words(to_pence(check.shortfall))} short"]


def _deduction_lines(result: GrossToNet, expenses: int) -> tuple[PayslipLine, ...]:
    tax = to_pence(result.tax)
    letter = result.ni.letter
    lines = [
        PayslipLine(LineKind.DEDUCTION, "tax", "Income tax refund" if tax < 0 else "Income tax", tax),
        PayslipLine(LineKind.DEDUCTION, "ni.employee", f"National Insurance (letter {letter})",
                    to_pence(result.employee_ni)),
    ]
    plan = result.student_loans.plan
    if plan is not None:
        lines.append(PayslipLine(LineKind.DEDUCTION, "student_loan", f"Student loan (plan {plan.value})",
                                 to_pence(result.student_loan)))
    if result.student_loans.postgraduate_loan_threshold is not None:
        lines.append(PayslipLine(LineKind.DEDUCTION, "postgraduate_loan", "Postgraduate loan",
                                 to_pence(result.postgraduate_loan)))
    pension = result.pension
    if pension is not None:
        if pension.reduces_taxable_pay:
            words = "Pension (net pay arrangement, before tax)"
        else:
            words = f"Pension (relief at source: the scheme adds {money_words(to_pence(pension.relief_at_source))})"
        lines.append(PayslipLine(LineKind.DEDUCTION, "pension.employee", words, to_pence(pension.employee_deduction)))
    if expenses:
        lines.append(PayslipLine(LineKind.NON_TAXABLE, "expenses", "Expenses repaid (no tax or NI)", expenses))
    lines.append(PayslipLine(LineKind.EMPLOYER, "ni.employer", "Employer's National Insurance",
                             to_pence(result.employer_ni)))
    if pension is not None:
        lines.append(PayslipLine(LineKind.EMPLOYER, "pension.employer", "Employer's pension contribution",
                                 to_pence(result.employer_pension)))
    return tuple(lines)


# ---------------------------------------------------------------------------------------------------------
# Corrections

_DIFFERENCES = ("gross_pay", "taxable_pay", "tax", "employee_ni", "employer_ni", "student_loan", "postgraduate_loan",
                "pension_employee", "pension_employer", "pension_net_pay", "pension_relief_at_source", "ssp",
                "holiday_pay", "holiday_hours_accrued", "holiday_hours_taken", "expenses", "net_pay", "hours_worked")


def _difference(run: PayRun, corrected: Payslip, original: Payslip, current: YearToDate, slip_id: str) -> Payslip:
    """Corrected minus original, figure by figure and line by line."""
    return Payslip(
        id=slip_id, pay_run_id=run.id, employee_id=corrected.employee_id, tax_year=run.tax_year,
        frequency=run.frequency, period=run.period, period_start=original.period_start,
        period_end=original.period_end, payment_date=run.payment_date, tax_code=corrected.tax_code,
        non_cumulative=corrected.non_cumulative, ni_letter=corrected.ni_letter,
        lines=_line_differences(corrected.lines, original.lines), ni=_ni_differences(corrected.ni, original.ni),
        year_to_date=ytd.moved_by(current, corrected.year_to_date, original.year_to_date),
        warnings=corrected.warnings, is_adjustment=True, leaving=corrected.leaving and not original.leaving,
        **{name: getattr(corrected, name) - getattr(original, name) for name in _DIFFERENCES})


def _line_differences(corrected: Sequence[PayslipLine], original: Sequence[PayslipLine]) -> tuple[PayslipLine, ...]:
    was = {(line.kind, line.code): line for line in original}
    now = {(line.kind, line.code): line for line in corrected}
    out = []
    for key in [*now, *(k for k in was if k not in now)]:
        new, old = now.get(key), was.get(key)
        amount = (new.amount if new else 0) - (old.amount if old else 0)
        hours = None
        if (new and new.hours is not None) or (old and old.hours is not None):
            hours = (new.hours if new and new.hours is not None else Decimal("0.00")) - (
                old.hours if old and old.hours is not None else Decimal("0.00"))
        if amount == 0 and not hours:
            continue
        model = new or old
        out.append(PayslipLine(model.kind, model.code, f"Correction: {model.description}", amount, hours,
                               model.rate))
    return tuple(out)


def _ni_differences(corrected: Sequence[NIFigures], original: Sequence[NIFigures]) -> tuple[NIFigures, ...]:
    was = {n.letter: n for n in original}
    now = {n.letter: n for n in corrected}
    zero = NIFigures("", 0, 0, 0, 0, 0, 0)
    out = []
    for letter in [*now, *(k for k in was if k not in now)]:
        new, old = now.get(letter, zero), was.get(letter, zero)
        out.append(NIFigures(letter, new.gross_earnings - old.gross_earnings, new.at_lel - old.at_lel,
                             new.lel_to_pt - old.lel_to_pt, new.pt_to_uel - old.pt_to_uel,
                             new.employee - old.employee, new.employer - old.employer))
    return tuple(out)

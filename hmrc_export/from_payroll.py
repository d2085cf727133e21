"""From finalised pay runs to the export's model: FPS payments, the P32, and the payments P60 and P45 read.

Pure mappings: payroll's ``Employer``/``Employee``/``Payslip``/``PayRun`` values in, ``hmrc_export.model`` values
out. Nothing is recalculated: every FPS figure is a payslip figure, so what HMRC is told is what the PA was paid.

Rules the mapping follows (HMRC RTI guidance and the FPS data items):
- ``FiguresToDate/TaxablePay`` and ``TotalTax`` are for this employment only. The payroll's year-to-date
  ``taxable_pay`` and ``tax`` include the P45 figures of an earlier employment (the cumulative basis needs them),
  so the P45 figures (``previous_taxable_pay``/``previous_tax``) are taken off.
- NI band figures to date are reported per category letter. When the employee had one letter all year the
  payslip's year-to-date figures are that letter's; when the letter changed, give the earlier payslips of the
  year so the figures can be split by letter (the split is checked against the year-to-date totals).
- Starter details go on the employee's first FPS: start date, starter declaration, loan indicators, and the
  P45 figures are kept for the P45/P60 (the FPS itself does not carry them). The leaving date goes on the
  final payment; a later payment is flagged as a payment after leaving, with the leaving date again.
- Weekly, fortnightly and four-weekly payrolls report the tax week; monthly payrolls the tax month.
- ``HoursWorked`` is the band of the hours worked in the period as a weekly equivalent (hours / weeks in the
  period, or x 12 / 52 for monthly), truncated to the hundredth; a period with no hours worked, and an
  adjustment (whose hours are only a difference), is "other" (E).
- An adjustment run (``PayRun.corrects`` set; ``payroll.payrun.calculate_adjustment``) pays the difference on
  its own payday: each payslip holds corrected minus original for every figure, and year-to-date figures moved
  by that difference, so they are the corrected ones. Mapped like any payslip, the FPS reports what HMRC asks
  of a correction: the difference as "this pay period" and the corrected year-to-date figures. (A payment
  reported again with its original payment date is ``hmrc_export.fps.correction``'s case, late reason H.)
- SSP is not recoverable from HMRC, so pay runs give the P32 nothing to recover; other statutory pay recovered
  (SMP and the like, with NIC compensation) can be given per tax month.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from hmrc_export.documents import P45, P60, build_p45, build_p60
from hmrc_export.envelope import ChannelRouting
from hmrc_export.fps import build_fps
from hmrc_export.model import Address, Employee, EmployeePayment, Employer, Gender, HoursWorked, LateReason, Name, \
    NIContributions, Payment, PayFrequency, Starter, StarterDeclaration, StudentLoanPlan, TaxCode
from hmrc_export.p32 import P32, build_p32
from hmrc_export.taxyear import TaxYear, tax_month
from payroll import model as pm
from payroll.rules.money import to_pence
from payroll.rules.periods import Frequency
from payroll.rules.yearly_rates import year_rates

FREQUENCIES = {Frequency.WEEKLY: PayFrequency.WEEKLY, Frequency.FORTNIGHTLY: PayFrequency.FORTNIGHTLY,
               Frequency.FOUR_WEEKLY: PayFrequency.FOUR_WEEKLY, Frequency.MONTHLY: PayFrequency.MONTHLY}
_LOAN_PLANS = {"1": StudentLoanPlan.PLAN_1, "2": StudentLoanPlan.PLAN_2, "4": StudentLoanPlan.PLAN_4,
               "5": StudentLoanPlan.PLAN_5}
# Runs whose payments are settled: approved (the FPS goes on or before payday) or finalised.
REPORTABLE = (pm.PayRunStatus.APPROVED, pm.PayRunStatus.FINALISED)
_HUNDREDTH = Decimal("0.01")
# Payment and NI figures that are "this pay period" (the others are to date or describe the payment).
_PERIOD_FIELDS = ("taxable_pay", "tax_deducted", "student_loan_recovered", "postgraduate_loan_recovered",
                  "pension_net_pay", "pension_not_net_pay", "non_tax_or_nic_payment", "deductions_from_net_pay")
_NI_PERIOD = ("gross_earnings", "employee_contributions", "employer_contributions")


class RunsDisagree(ValueError):
    """Pay runs and the figures built from them do not agree (a document must not be issued)."""


def _tax_year(year: TaxYear | str) -> TaxYear:
    return year if isinstance(year, TaxYear) else TaxYear.parse(year)


# ----------------------------------------------------------------------------------------- people

def _address(address: pm.Address | None) -> Address | None:
    return Address(tuple(address.lines), address.postcode) if address is not None else None


def employer_from_payroll(employer: pm.Employer, *, cotax_reference: str | None = None,
                          sa_utr: str | None = None) -> Employer:
    return Employer(name=employer.name, hmrc_office_number=employer.hmrc_office_number,
                    paye_reference=employer.paye_reference,
                    accounts_office_reference=employer.accounts_office_reference,
                    claims_employment_allowance=employer.claims_employment_allowance,
                    address=_address(employer.address), cotax_reference=cotax_reference, sa_utr=sa_utr)


def student_loan_plan(plans: Iterable[str], tax_year: TaxYear | str) -> StudentLoanPlan | None:
    """The FPS plan type: of the employee's undergraduate plans, the one with the lowest threshold (the one the
    deduction is worked out with, as HMRC's student loan guidance says)."""
    undergraduate = [p for p in (str(p).strip() for p in plans) if p in _LOAN_PLANS]
    if not undergraduate:
        return None
    thresholds = year_rates(_tax_year(tax_year).label).student_loans.thresholds
    return _LOAN_PLANS[min(undergraduate, key=lambda p: (thresholds[p], p))]


def starter_from_payroll(employee: pm.Employee, previous_pay: int | None = None,
                         previous_tax: int | None = None) -> Starter:
    """``Employment/Starter``: start date, starter declaration, loans, and the P45 figures (from the employee's
    record unless given, for instance from the payslip's year-to-date ``previous_*`` figures)."""
    previous = employee.previous_employment or pm.PreviousEmployment()
    plans = {str(p).strip().upper() for p in employee.student_loan_plans}
    declaration = StarterDeclaration(employee.starter_declaration) if employee.starter_declaration else None
    return Starter(start_date=employee.start_date, declaration=declaration,
                   student_loan=bool(plans & set(_LOAN_PLANS)), postgraduate_loan="PGL" in plans,
                   previous_pay=previous.taxable_pay if previous_pay is None else previous_pay,
                   previous_tax=previous.tax if previous_tax is None else previous_tax)


def employee_from_payroll(employee: pm.Employee, *, starter: Starter | None = None, leaving: bool = False,
                          irregular_payment: bool = False) -> Employee:
    """The FPS ``EmployeeDetails`` of a PA; ``leaving`` puts the leaving date on."""
    if employee.gender is None:
        raise ValueError(f"{employee.payroll_id} ({employee.full_name}): the FPS needs the gender HMRC holds (M or F)")
    if leaving and employee.leaving_date is None:
        raise ValueError(f"{employee.payroll_id} ({employee.full_name}): a leaver needs a leaving date")
    return Employee(payroll_id=employee.payroll_id, name=Name(tuple(employee.forenames), employee.surname),
                    birth_date=employee.birth_date, gender=Gender(employee.gender), nino=employee.nino,
                    address=_address(employee.address), starter=starter,
                    leaving_date=employee.leaving_date if leaving else None, irregular_payment=irregular_payment)


# ----------------------------------------------------------------------------------------- figures

def hours_worked_band(hours: Decimal, frequency: str | Frequency) -> HoursWorked:
    """FPS ``HoursWorked`` from the hours worked in the period, as a weekly equivalent."""
    frequency = Frequency.parse(frequency)
    if hours <= 0:
        return HoursWorked.OTHER
    weekly = hours / frequency.weeks if frequency.weeks else hours * 12 / 52
    weekly = weekly.quantize(_HUNDREDTH, rounding=ROUND_DOWN)
    if weekly < 16:
        return HoursWorked.UP_TO_15_99
    if weekly < 24:
        return HoursWorked.FROM_16_TO_23_99
    if weekly < 30:
        return HoursWorked.FROM_24_TO_29_99
    return HoursWorked.THIRTY_OR_MORE


def tax_code_for_fps(code: str, non_cumulative: bool) -> TaxCode:
    """'S1257L' -> code 1257L, regime S; the week 1 / month 1 basis from the payslip or the code's marker."""
    parsed = TaxCode.parse(code)
    return replace(parsed, non_cumulative=parsed.non_cumulative or non_cumulative)


def ni_to_date(payslip: pm.Payslip, earlier: Sequence[pm.Payslip] = ()) -> tuple[NIContributions, ...]:
    """``NIlettersAndValues``: this period's figures and the year's, per letter.

    With one letter in the year (this payslip's and the ``earlier`` payslips'), the year-to-date figures are the
    payslip's. Otherwise each letter's year is the sum of the payslips with that letter, checked against the
    year-to-date totals; letters used earlier in the year are reported with nothing this period.
    """
    this = payslip.ni or (pm.NIFigures(payslip.ni_letter, 0, 0, 0, 0, 0, 0),)
    ytd = payslip.year_to_date
    letters = list(dict.fromkeys(n.letter for p in (*earlier, payslip) for n in p.ni))
    if len(letters) <= 1 and len(this) == 1:
        n = this[0]
        return (NIContributions(n.letter, n.gross_earnings, ytd.ni_earnings, ytd.at_lel, ytd.lel_to_pt, ytd.pt_to_uel,
                                n.employee, ytd.employee_ni, n.employer, ytd.employer_ni),)
    if not earlier and len(this) > 1:
        raise ValueError(f"payslip {payslip.id} has NI letters {', '.join(n.letter for n in this)}: give the earlier "
                         f"payslips of the year to split the year-to-date figures by letter")
    sums: dict[str, list[int]] = {}
    for p in (*earlier, payslip):
        for n in p.ni:
            row = sums.setdefault(n.letter, [0] * 6)
            for i, value in enumerate((n.gross_earnings, n.at_lel, n.lel_to_pt, n.pt_to_uel, n.employee, n.employer)):
                row[i] += value
    totals = [sum(row[i] for row in sums.values()) for i in range(6)]
    expected = [ytd.ni_earnings, ytd.at_lel, ytd.lel_to_pt, ytd.pt_to_uel, ytd.employee_ni, ytd.employer_ni]
    if totals != expected:
        raise RunsDisagree(f"payslip {payslip.id}: the NI figures of the year's payslips add up to {totals}, but the "
                           f"year-to-date figures are {expected}")
    period = {n.letter: n for n in this}
    out = []
    for letter in [n.letter for n in this] + [x for x in letters if x not in period]:
        s, n = sums[letter], period.get(letter)
        out.append(NIContributions(letter, n.gross_earnings if n else 0, s[0], s[1], s[2], s[3],
                                   n.employee if n else 0, s[4], n.employer if n else 0, s[5]))
    return tuple(out)


def other_deductions(payslip: pm.Payslip) -> int:
    """FPS ``DednsFromNetPay``: what net pay lost besides tax, NI, loans and the pension (derived, so it always
    agrees with the payslip's net pay)."""
    return (payslip.gross_pay + payslip.expenses - payslip.net_pay - payslip.tax - payslip.employee_ni
            - payslip.student_loan - payslip.postgraduate_loan - payslip.pension_employee)


def payment_from_payslip(payslip: pm.Payslip, employee: pm.Employee | None = None, *,
                         earlier: Sequence[pm.Payslip] = (), payment_after_leaving: bool = False,
                         late_reason: LateReason | None = None, periods_covered: int = 1) -> Payment:
    """``FiguresToDate`` and ``Payment`` of one payslip. ``employee`` gives the student loan plan type."""
    frequency = Frequency.parse(payslip.frequency)
    ytd = payslip.year_to_date
    in_weeks = frequency.counts_in_weeks
    return Payment(
        frequency=FREQUENCIES[frequency], payment_date=payslip.payment_date,
        hours_worked=HoursWorked.OTHER if payslip.is_adjustment else hours_worked_band(payslip.hours_worked, frequency),
        tax_code=tax_code_for_fps(payslip.tax_code, payslip.non_cumulative),
        taxable_pay=payslip.taxable_pay, taxable_pay_to_date=ytd.taxable_pay - ytd.previous_taxable_pay,
        tax_deducted=payslip.tax, tax_deducted_to_date=ytd.tax - ytd.previous_tax,
        ni=ni_to_date(payslip, earlier),
        tax_week=payslip.period if in_weeks else None, tax_month=None if in_weeks else payslip.period,
        periods_covered=periods_covered,
        student_loan_plan=student_loan_plan(employee.student_loan_plans, payslip.tax_year) if employee else None,
        student_loan_recovered=payslip.student_loan, student_loan_recovered_to_date=ytd.student_loan,
        postgraduate_loan_recovered=payslip.postgraduate_loan,
        postgraduate_loan_recovered_to_date=ytd.postgraduate_loan,
        pension_net_pay=payslip.pension_net_pay, pension_net_pay_to_date=ytd.pension_net_pay,
        pension_not_net_pay=payslip.pension_relief_at_source,
        pension_not_net_pay_to_date=ytd.pension_relief_at_source,
        non_tax_or_nic_payment=payslip.expenses, deductions_from_net_pay=other_deductions(payslip),
        late_reason=late_reason, payment_after_leaving=payment_after_leaving,
    )


def is_first_payment(payslip: pm.Payslip, employee: pm.Employee, earlier: Sequence[pm.Payslip] = ()) -> bool:
    """Whether this looks like the employee's first payment in this employment: not an adjustment, no earlier
    payslip given, a start date in this tax year on or before payday, and nothing paid before it this year."""
    if earlier or payslip.is_adjustment:
        return False
    year = _tax_year(payslip.tax_year)
    ytd = payslip.year_to_date
    return (employee.start_date in year and employee.start_date <= payslip.payment_date
            and ytd.gross_pay == payslip.gross_pay and ytd.net_pay == payslip.net_pay)


def employee_payment(payslip: pm.Payslip, employee: pm.Employee, *, first_payment: bool | None = None,
                     earlier: Sequence[pm.Payslip] = (), payment_after_leaving: bool | None = None,
                     late_reason: LateReason | None = None, periods_covered: int = 1,
                     irregular_payment: bool = False) -> EmployeePayment:
    """One FPS ``Employee``: details, starter details on the first payment, leaving date on the last.

    ``first_payment`` defaults to ``is_first_payment``; ``payment_after_leaving`` defaults to a payment dated
    after the leaving date that is not itself the leaving payment. ``earlier`` are the employee's earlier
    payslips this tax year (needed only when the NI letter changed).
    """
    if payslip.employee_id != employee.id:
        raise ValueError(f"payslip {payslip.id} is for employee {payslip.employee_id}, not {employee.id}")
    if first_payment is None:
        first_payment = is_first_payment(payslip, employee, earlier)
    if payment_after_leaving is None:
        payment_after_leaving = (not payslip.leaving and employee.leaving_date is not None
                                 and payslip.payment_date > employee.leaving_date)
    ytd = payslip.year_to_date
    starter = starter_from_payroll(employee, ytd.previous_taxable_pay, ytd.previous_tax) if first_payment else None
    who = employee_from_payroll(employee, starter=starter, leaving=payslip.leaving or payment_after_leaving,
                                irregular_payment=irregular_payment)
    return EmployeePayment(who, payment_from_payslip(payslip, employee, earlier=earlier,
                                                     payment_after_leaving=payment_after_leaving,
                                                     late_reason=late_reason, periods_covered=periods_covered))


# ----------------------------------------------------------------------------------------- FPS

@dataclass(frozen=True)
class FpsInput:
    """What ``hmrc_export.fps.build_fps`` needs for one pay run."""
    employer: Employer
    payments: tuple[EmployeePayment, ...]
    tax_year: TaxYear

    def build(self, *, channel: ChannelRouting = ChannelRouting(), timestamp: datetime | None = None,
              final_for_year: bool = False, scheme_ceased: date | None = None) -> bytes:
        return build_fps(self.employer, self.payments, tax_year=self.tax_year, channel=channel, timestamp=timestamp,
                         final_for_year=final_for_year, scheme_ceased=scheme_ceased)


def _check_run(run: pm.PayRun, employer: pm.Employer) -> None:
    if run.employer_id != employer.id:
        raise ValueError(f"pay run {run.id} belongs to employer {run.employer_id}, not {employer.id}")
    if run.status not in REPORTABLE:
        raise ValueError(f"pay run {run.id} is {run.status.value}: only approved or finalised runs are reported")


def fps_for_run(run: pm.PayRun, employer: pm.Employer, employees_by_id: Mapping[str, pm.Employee], *,
                earlier: Mapping[str, Sequence[pm.Payslip]] | None = None,
                first_payments: Collection[str] | None = None, late_reason: LateReason | None = None,
                irregular_payments: Collection[str] = (), cotax_reference: str | None = None,
                sa_utr: str | None = None) -> FpsInput:
    """The FPS for one approved or finalised pay run (an adjustment run reports its differences and the corrected
    year-to-date figures).

    ``earlier`` maps employee id to their earlier payslips this tax year (optional; see ``ni_to_date``).
    ``first_payments`` names the employees whose first payment this is (default: ``is_first_payment``).
    ``irregular_payments`` names employees to flag with the irregular payment pattern indicator.
    """
    _check_run(run, employer)
    earlier = earlier or {}
    items = []
    for slip in run.payslips:
        employee = employees_by_id.get(slip.employee_id)
        if employee is None:
            raise ValueError(f"pay run {run.id}: no employee {slip.employee_id}")
        first = None if first_payments is None else slip.employee_id in first_payments
        items.append(employee_payment(slip, employee, first_payment=first,
                                      earlier=tuple(earlier.get(slip.employee_id, ())), late_reason=late_reason,
                                      irregular_payment=slip.employee_id in irregular_payments))
    return FpsInput(employer_from_payroll(employer, cotax_reference=cotax_reference, sa_utr=sa_utr), tuple(items),
                    _tax_year(run.tax_year))


# ----------------------------------------------------------------------------------------- the year's runs

@dataclass(frozen=True)
class ReportedPayment:
    """One payslip as the FPS reports it."""
    run: pm.PayRun
    payslip: pm.Payslip
    payment: Payment


def _in_payment_order(runs: Iterable[pm.PayRun], year: TaxYear) -> list[pm.PayRun]:
    """The tax year's runs by payday, an adjustment after a regular run paid the same day."""
    in_year = [r for r in runs if r.payment_date in year]
    for r in in_year:
        if r.status not in REPORTABLE:
            raise ValueError(f"pay run {r.id} is {r.status.value}: only approved or finalised runs are reported")
    return sorted(in_year, key=lambda r: (r.payment_date, r.corrects is not None))


def reported_payments(runs: Iterable[pm.PayRun], tax_year: TaxYear | str,
                      employees_by_id: Mapping[str, pm.Employee] | None = None) -> list[ReportedPayment]:
    """Every payment of the tax year's runs as the FPS reports it, in payment order; each employee's earlier
    payslips split NI figures by letter. ``employees_by_id`` gives the student loan plan types."""
    seen: dict[str, list[pm.Payslip]] = {}
    out = []
    for run in _in_payment_order(runs, _tax_year(tax_year)):
        for slip in run.payslips:
            history = seen.setdefault(slip.employee_id, [])
            employee = employees_by_id.get(slip.employee_id) if employees_by_id else None
            out.append(ReportedPayment(run, slip, payment_from_payslip(slip, employee, earlier=tuple(history))))
            history.append(slip)
    return out


def _same_payday(first: Payment, then: Payment) -> Payment:
    """Two payments on one payday (a regular payment and an adjustment) as one: the pay period figures added,
    the year-to-date figures of the one worked out after the other (whose figures before it are the other's)."""
    if (then.taxable_pay_to_date - then.taxable_pay != first.taxable_pay_to_date
            and first.taxable_pay_to_date - first.taxable_pay == then.taxable_pay_to_date):
        first, then = then, first
    earlier_ni = {n.letter: n for n in first.ni}
    ni = tuple(replace(n, **{name: getattr(n, name) + getattr(earlier_ni[n.letter], name) for name in _NI_PERIOD})
               if n.letter in earlier_ni else n for n in then.ni)
    return replace(then, ni=ni, **{name: getattr(first, name) + getattr(then, name) for name in _PERIOD_FIELDS})


def payments_for_employee(runs: Iterable[pm.PayRun], employee: pm.Employee,
                          tax_year: TaxYear | str) -> list[Payment]:
    """The employee's payments of the tax year, one per payday (adjustments included), for the P60 and P45,
    whose checks add up the pay periods and compare them with the last year-to-date figures."""
    by_day: dict[date, Payment] = {}
    for item in reported_payments(runs, tax_year, {employee.id: employee}):
        if item.payslip.employee_id == employee.id:
            day = item.payment.payment_date
            by_day[day] = _same_payday(by_day[day], item.payment) if day in by_day else item.payment
    return [by_day[day] for day in sorted(by_day)]


def _year_end_inputs(runs: Iterable[pm.PayRun], employee: pm.Employee,
                     tax_year: TaxYear | str) -> tuple[Employee, list[Payment], TaxYear]:
    """The employee as the P60 and P45 show them (the P45 figures of an earlier job from the last payslip's
    year-to-date figures), and their payments."""
    year, all_runs = _tax_year(tax_year), list(runs)
    payments = payments_for_employee(all_runs, employee, year)
    slips = [p for r in _in_payment_order(all_runs, year) for p in r.payslips if p.employee_id == employee.id]
    if not slips:
        raise ValueError(f"{employee.payroll_id} ({employee.full_name}) was not paid in the tax year {year.label}")
    ytd = slips[-1].year_to_date
    starter = (starter_from_payroll(employee, ytd.previous_taxable_pay, ytd.previous_tax)
               if employee.start_date in year or ytd.previous_taxable_pay or ytd.previous_tax else None)
    left = employee.leaving_date is not None and employee.leaving_date in year
    return employee_from_payroll(employee, starter=starter, leaving=left), payments, year


def p60_for_employee(runs: Iterable[pm.PayRun], employer: pm.Employer, employee: pm.Employee,
                     tax_year: TaxYear | str) -> P60:
    who, payments, year = _year_end_inputs(runs, employee, tax_year)
    return build_p60(employer_from_payroll(employer), who, payments, year)


def p45_for_leaver(runs: Iterable[pm.PayRun], employer: pm.Employer, employee: pm.Employee,
                   tax_year: TaxYear | str) -> P45:
    who, payments, year = _year_end_inputs(runs, employee, tax_year)
    return build_p45(employer_from_payroll(employer), who, payments, year)


# ----------------------------------------------------------------------------------------- P32

def employment_allowance_by_month(runs: Iterable[pm.PayRun], tax_year: TaxYear | str) -> dict[int, int]:
    """Employment Allowance the tax year's runs used, by tax month, from their cost summaries (an adjustment
    run's summary holds what it used on top, or gave back)."""
    used: dict[int, int] = {}
    for run in _in_payment_order(runs, _tax_year(tax_year)):
        if run.summary is None:
            raise ValueError(f"pay run {run.id} has no cost summary")
        month = tax_month(run.payment_date)
        used[month] = used.get(month, 0) + run.summary.employment_allowance_used
    return used


def p32_for_runs(runs: Iterable[pm.PayRun], employer: pm.Employer, tax_year: TaxYear | str, *,
                 statutory_recovered: Mapping[int, int] | None = None, quarterly: bool | None = None,
                 holidays: frozenset[date] | None = None) -> P32:
    """The employer payment record for the tax year from its pay runs.

    Tax, loans and NI per tax month are the sums of the reported payments. The Employment Allowance (the year's
    amount, when the employer claims it) is set against employer NI month by month. When every run carries its
    cost summary, the allowance the runs used each month must be what the P32 sets off (``RunsDisagree`` if not).
    """
    year, all_runs = _tax_year(tax_year), list(runs)
    for run in all_runs:
        if run.employer_id != employer.id:
            raise ValueError(f"pay run {run.id} belongs to employer {run.employer_id}, not {employer.id}")
    payments = [item.payment for item in reported_payments(all_runs, year)]
    allowance = (to_pence(year_rates(year.label).national_insurance.employment_allowance)
                 if employer.claims_employment_allowance else None)
    p32 = build_p32(employer.name, employer.employer_paye_reference, employer.accounts_office_reference, year,
                    payments, statutory_recovered=statutory_recovered, employment_allowance=allowance,
                    quarterly=quarterly, holidays=holidays)
    in_year = [r for r in all_runs if r.payment_date in year]
    if in_year and all(r.summary is not None for r in in_year):
        used = employment_allowance_by_month(all_runs, year)
        for month in p32.months:
            if used.get(month.month, 0) != month.employment_allowance_used:
                raise RunsDisagree(f"tax month {month.month}: the pay runs used {used.get(month.month, 0)}p of "
                                   f"Employment Allowance but the P32 sets off {month.employment_allowance_used}p")
    return p32

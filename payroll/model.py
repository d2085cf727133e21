"""The payroll's own data: employers, employees (PAs), contracts, timesheets, pay runs and payslips.

Small frozen dataclasses, as in the ledger. Money that is stored, shown or reported is an ``int`` of pence;
hours are ``Decimal`` (to the hundredth); rates per hour are pence. The rules in ``payroll.rules`` compute in
``Decimal`` pounds and ``payroll.payrun`` converts once, with ``payroll.rules.money.to_pence``.
Public identifiers are opaque strings (UUIDs); names follow HMRC's words where HMRC has one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum


class EmployerKind(str, Enum):
    BUDGET_HOLDER = "budget_holder"    # the person with the direct payment employs the PAs
    THIRD_PARTY = "third_party"        # a support organisation employs them on the person's behalf


class HourKind(str, Enum):
    """Kinds of hour a contract can price differently."""
    STANDARD = "standard"
    NIGHT = "night"
    WEEKEND = "weekend"
    BANK_HOLIDAY = "bank_holiday"
    SLEEP_IN = "sleep_in"      # paid a flat rate per night; hours asleep never count for the minimum wage
    ON_CALL = "on_call"


class PensionStatus(str, Enum):
    """Where the PA stands in auto-enrolment (Pensions Act 2008)."""
    NOT_ASSESSED = "not_assessed"
    NOT_ELIGIBLE = "not_eligible"       # assessed each period; may opt in
    ENROLLED = "enrolled"               # automatically enrolled eligible jobholder
    OPTED_IN = "opted_in"               # non-eligible jobholder who chose to join
    OPTED_OUT = "opted_out"
    POSTPONED = "postponed"             # postponement notice given, until ``pension_postponed_until``


class TimesheetStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class PayRunStatus(str, Enum):
    """A pay run moves forward only: draft → calculated → reviewed → approved → finalised."""
    DRAFT = "draft"
    CALCULATED = "calculated"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    FINALISED = "finalised"


class LineKind(str, Enum):
    EARNING = "earning"            # adds to gross pay
    STATUTORY = "statutory"        # SSP (part of gross pay, shown apart)
    DEDUCTION = "deduction"        # tax, NI, loans, pension, other
    NON_TAXABLE = "non_taxable"    # expenses repaid: no tax or NI
    EMPLOYER = "employer"          # employer NI and pension: a cost, not on the PA's net pay


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    postcode: str | None = None


@dataclass(frozen=True)
class Employer:
    id: str
    name: str
    kind: EmployerKind
    hmrc_office_number: str            # the first part of the employer PAYE reference, e.g. "120"
    paye_reference: str                # the second part, e.g. "A120"
    accounts_office_reference: str     # e.g. "120PA00012345"
    claims_employment_allowance: bool = False
    address: Address | None = None
    owner_ref: str | None = None       # the wallet (or organisation) this employer belongs to; opaque here

    @property
    def employer_paye_reference(self) -> str:
        return f"{self.hmrc_office_number}/{self.paye_reference}"


@dataclass(frozen=True)
class BankDetails:
    """Where net pay goes. Stored encrypted; shown masked everywhere except the payment file."""
    account_name: str
    sort_code: str          # six digits, no dashes
    account_number: str     # eight digits
    building_society_roll: str | None = None

    @property
    def masked(self) -> str:
        return f"**-**-{self.sort_code[-2:]} ****{self.account_number[-4:]}"

    def __repr__(self) -> str:   # never let a repr or a log line carry the account number
        return f"BankDetails({self.account_name!r}, {self.masked})"


@dataclass(frozen=True)
class PreviousEmployment:
    """P45 figures from an earlier employment in this tax year (or the starter checklist's answer)."""
    taxable_pay: int = 0
    tax: int = 0


@dataclass(frozen=True)
class Employee:
    id: str
    employer_id: str
    payroll_id: str
    forenames: tuple[str, ...]
    surname: str
    birth_date: date
    start_date: date
    frequency: str                           # payroll.rules.Frequency value
    tax_code: str                            # as HMRC writes it, e.g. "1257L", "S1257L", "K475"
    non_cumulative: bool = False             # week 1 / month 1 basis
    ni_letter: str = "A"
    nino: str | None = None
    gender: str | None = None                # "M" / "F" as the FPS requires
    address: Address | None = None
    student_loan_plans: tuple[str, ...] = ()   # "1", "2", "4", "5", "PGL"
    starter_declaration: str | None = None     # "A", "B", "C" from the starter checklist
    previous_employment: PreviousEmployment | None = None
    pension_status: PensionStatus = PensionStatus.NOT_ASSESSED
    pension_postponed_until: date | None = None
    leaving_date: date | None = None
    bank_details: BankDetails | None = None
    irregular_hours: bool = False            # holiday accrues at 12.07% of hours worked
    rolled_up_holiday: bool = False          # pay 12.07% as its own line instead of accruing hours

    @property
    def full_name(self) -> str:
        return " ".join([*self.forenames, self.surname])


@dataclass(frozen=True)
class PayRates:
    """Pence per hour for each kind of hour; a sleep-in is a flat amount per night."""
    standard: int
    night: int | None = None
    weekend: int | None = None
    bank_holiday: int | None = None
    sleep_in_flat: int | None = None
    on_call: int | None = None

    def rate_for(self, kind: HourKind) -> int | None:
        return {
            HourKind.STANDARD: self.standard, HourKind.NIGHT: self.night, HourKind.WEEKEND: self.weekend,
            HourKind.BANK_HOLIDAY: self.bank_holiday, HourKind.SLEEP_IN: self.sleep_in_flat,
            HourKind.ON_CALL: self.on_call,
        }[kind]


@dataclass(frozen=True)
class Contract:
    id: str
    employee_id: str
    starts: date
    rates: PayRates
    ends: date | None = None
    contracted_hours_per_week: Decimal | None = None
    pension_employee_rate: Decimal = Decimal("0.05")
    pension_employer_rate: Decimal = Decimal("0.03")
    pension_relief: str = "relief_at_source"   # or "net_pay_arrangement"
    # SSP qualifying days, 0 Monday .. 6 Sunday: the days agreed as the PA's working days. Care rotas commonly
    # cover the whole week, so every day unless the contract says otherwise.
    qualifying_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class Shift:
    """One stretch of work. Times are aware datetimes; a sleep-in's hours are the night it covers."""
    starts: datetime
    ends: datetime
    kind: HourKind = HourKind.STANDARD
    note: str = ""


@dataclass(frozen=True)
class Absence:
    """Days off in the period that pay differently: sickness (SSP) or holiday taken."""
    day: date
    kind: str                     # "sick" or "holiday"
    hours: Decimal = Decimal(0)   # holiday hours taken (irregular-hours PAs: paid from the accrued hours)


@dataclass(frozen=True)
class Timesheet:
    id: str
    employee_id: str
    period_start: date
    period_end: date
    shifts: tuple[Shift, ...] = ()
    absences: tuple[Absence, ...] = ()
    expenses: int = 0                    # repaid without tax or NI
    status: TimesheetStatus = TimesheetStatus.DRAFT
    rejection_reason: str | None = None
    submitted_by: str | None = None
    decided_by: str | None = None


@dataclass(frozen=True)
class PayslipLine:
    kind: LineKind
    code: str                        # stable machine name, e.g. "hours.night", "tax", "ni.employee"
    description: str                 # plain English for the payslip
    amount: int                      # pence; deductions are positive amounts taken off
    hours: Decimal | None = None
    rate: int | None = None          # pence per hour (or per night)


@dataclass(frozen=True)
class NIFigures:
    """Class 1 NI for one letter, with the FPS band figures for this period."""
    letter: str
    gross_earnings: int
    at_lel: int
    lel_to_pt: int
    pt_to_uel: int
    employee: int
    employer: int


@dataclass(frozen=True)
class YearToDate:
    """An employee's tax-year figures after a payment, carried from run to run (P45 figures included in
    ``taxable_pay``/``tax`` as HMRC's cumulative basis requires, and kept apart in ``previous_*``)."""
    gross_pay: int = 0
    taxable_pay: int = 0
    tax: int = 0
    employee_ni: int = 0
    employer_ni: int = 0
    ni_earnings: int = 0
    at_lel: int = 0
    lel_to_pt: int = 0
    pt_to_uel: int = 0
    student_loan: int = 0
    postgraduate_loan: int = 0
    pension_employee: int = 0
    pension_employer: int = 0
    pension_net_pay: int = 0
    pension_relief_at_source: int = 0
    ssp: int = 0
    holiday_pay: int = 0
    holiday_hours_accrued: Decimal = Decimal(0)
    holiday_hours_taken: Decimal = Decimal(0)
    net_pay: int = 0
    previous_taxable_pay: int = 0
    previous_tax: int = 0
    ssp_weeks_paid: str = "0"        # a Fraction as text: SSP weeks paid in the current linked series


@dataclass(frozen=True)
class Payslip:
    id: str
    pay_run_id: str
    employee_id: str
    tax_year: str
    frequency: str
    period: int                      # tax week or tax month, as the frequency counts
    period_start: date
    period_end: date
    payment_date: date
    tax_code: str
    non_cumulative: bool
    ni_letter: str
    lines: tuple[PayslipLine, ...]
    gross_pay: int
    taxable_pay: int
    tax: int                         # negative for a refund
    employee_ni: int
    employer_ni: int
    ni: tuple[NIFigures, ...]
    student_loan: int
    postgraduate_loan: int
    pension_employee: int            # deducted from pay
    pension_employer: int
    pension_net_pay: int             # FPS EmpeePenContribnsPaid
    pension_relief_at_source: int    # FPS EmpeePenContribnsNotPaid
    ssp: int
    holiday_pay: int                 # holiday taken or rolled-up holiday pay in this period
    holiday_hours_accrued: Decimal
    expenses: int
    net_pay: int
    year_to_date: YearToDate
    hours_worked: Decimal            # hours that count for the minimum wage
    warnings: tuple[str, ...] = ()   # e.g. a minimum-wage shortfall, shown to the reviewer
    is_adjustment: bool = False      # part of a correction run
    leaving: bool = False            # the employee's last payment (P45 figures follow)
    holiday_hours_taken: Decimal = Decimal(0)   # holiday hours taken (or paid in lieu) in this period

    @property
    def employer_cost(self) -> int:
        return self.gross_pay + self.employer_ni + self.pension_employer + self.expenses


@dataclass(frozen=True)
class EmployerCostSummary:
    employees: int
    gross_pay: int
    employer_ni: int                 # before the Employment Allowance
    employment_allowance_used: int
    employer_pension: int
    expenses: int
    tax: int
    employee_ni: int
    student_loans: int               # student and postgraduate loans together
    net_pay: int

    @property
    def employer_ni_payable(self) -> int:
        return self.employer_ni - self.employment_allowance_used

    @property
    def total_cost(self) -> int:
        """What the run costs the employer: gross, employer NI after the allowance, employer pension, expenses."""
        return self.gross_pay + self.employer_ni_payable + self.employer_pension + self.expenses

    @property
    def due_to_hmrc(self) -> int:
        return self.tax + self.employee_ni + self.employer_ni_payable + self.student_loans


@dataclass(frozen=True)
class PayRun:
    id: str
    employer_id: str
    tax_year: str
    frequency: str
    period: int
    period_start: date
    period_end: date
    payment_date: date
    status: PayRunStatus = PayRunStatus.DRAFT
    payslips: tuple[Payslip, ...] = ()
    summary: EmployerCostSummary | None = None
    corrects: str | None = None      # id of the finalised run this adjustment run corrects
    history: tuple[tuple[str, str, datetime], ...] = field(default=())   # (status, actor, when)


@dataclass(frozen=True)
class SicknessRecord:
    """Earlier days of incapacity and pay, which SSP needs: linked periods and normal weekly earnings."""
    sick_days: tuple[date, ...] = ()                 # earlier days of incapacity (SSP linking, 8 weeks)
    earnings_before: tuple[tuple[date, int], ...] = ()  # (payment date, gross pay) of earlier payments


@dataclass(frozen=True)
class PayRunMember:
    """Everything the calculation needs about one employee in one pay run."""
    employee: Employee
    contract: Contract
    timesheet: Timesheet | None          # the approved timesheet for the period; None pays no hours
    year_to_date: YearToDate             # after the last finalised payment this tax year (zero if none)
    sickness: SicknessRecord = SicknessRecord()

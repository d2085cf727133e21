"""What a finalised pay run gives the HMRC export: employer, employees, payments and NI per letter.

Money is an ``int`` of pence everywhere (see ARCHITECTURE.md); builders turn it into HMRC's two-decimal strings.
Names follow the FPS data items so a payroll specialist can map each field to the RTI specification.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import Enum


class PayFrequency(str, Enum):
    """FPS ``PayFreq``."""
    WEEKLY = "W1"
    FORTNIGHTLY = "W2"
    FOUR_WEEKLY = "W4"
    MONTHLY = "M1"
    QUARTERLY = "M3"
    BI_ANNUALLY = "M6"
    ANNUALLY = "MA"
    ONE_OFF = "IO"
    IRREGULAR = "IR"

    @property
    def counts_in_weeks(self) -> bool:
        return self in (PayFrequency.WEEKLY, PayFrequency.FORTNIGHTLY, PayFrequency.FOUR_WEEKLY)


class HoursWorked(str, Enum):
    """FPS ``HoursWorked``: normal hours worked a week."""
    UP_TO_15_99 = "A"
    FROM_16_TO_23_99 = "B"
    FROM_24_TO_29_99 = "C"
    THIRTY_OR_MORE = "D"
    OTHER = "E"


class StarterDeclaration(str, Enum):
    """FPS ``StartDec``: the new starter's statement."""
    A = "A"  # first job since 6 April, no taxable benefits or pensions
    B = "B"  # now the only job, had another since 6 April
    C = "C"  # another job or pension as well


class TaxRegime(str, Enum):
    """FPS ``TaxCode/@TaxRegime``: absent for the rest of the UK."""
    SCOTLAND = "S"
    WALES = "C"


class Gender(str, Enum):
    MALE = "M"
    FEMALE = "F"


class LateReason(str, Enum):
    """FPS ``LateReason`` codes."""
    NOTIONAL_EXPAT = "A"
    NOTIONAL_ERS = "B"
    NOTIONAL_OTHER = "C"
    CLASS_1_ONLY = "D"
    MICRO_EMPLOYER = "E"
    IMPRACTICAL = "F"
    REASONABLE_EXCUSE = "G"
    CORRECTION = "H"


class StudentLoanPlan(str, Enum):
    """FPS ``StudentLoanRecovered/@PlanType``."""
    PLAN_1 = "01"
    PLAN_2 = "02"
    PLAN_4 = "04"
    PLAN_5 = "05"


_TAX_CODE = re.compile(r"(?:[1-9][0-9]{0,5}[LMNPTY]|BR|0T|NT|D[0-8]|K[1-9][0-9]{0,5})")
_FULL_CODE = re.compile(r"\s*([SC])?\s*([0-9A-Z]+?)\s*(?:\b(W1|M1|X)\b)?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class TaxCode:
    """A tax code as the FPS carries it: the code text, the regime attribute and the basis attribute.

    PAYROLL-RULES.md: on the FPS the S/C prefix is the ``TaxRegime`` attribute, not part of the code, and the
    week 1 / month 1 marker is ``BasisNonCumulative="yes"``. Scottish D codes SD0-SD3 are reported as D0-D3
    with regime S (HMRC's tax code pattern allows D0-D8).
    """
    code: str
    regime: TaxRegime | None = None
    non_cumulative: bool = False

    @classmethod
    def parse(cls, text: str) -> "TaxCode":
        """'S1257L', 'C1257L M1', '1257L W1', 'K475 X', 'SD1' -> TaxCode."""
        match = _FULL_CODE.fullmatch(text.upper())
        if not match:
            raise ValueError(f"{text!r} is not a tax code")
        prefix, code, basis = match.groups()
        return cls(code, TaxRegime(prefix) if prefix else None, basis is not None)

    @property
    def is_well_formed(self) -> bool:
        return bool(_TAX_CODE.fullmatch(self.code))

    def __str__(self) -> str:
        prefix = self.regime.value if self.regime else ""
        return f"{prefix}{self.code}" + (" W1/M1" if self.non_cumulative else "")


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    postcode: str | None = None
    foreign_country: str | None = None


@dataclass(frozen=True)
class Name:
    forenames: tuple[str, ...]
    surname: str
    title: str | None = None

    @property
    def full(self) -> str:
        return " ".join([*self.forenames, self.surname])


@dataclass(frozen=True)
class Employer:
    """``EmpRefs``: the employer PAYE reference is ``hmrc_office_number/paye_reference`` (e.g. 635/A635)."""
    name: str
    hmrc_office_number: str
    paye_reference: str
    accounts_office_reference: str
    claims_employment_allowance: bool = False
    address: Address | None = None
    cotax_reference: str | None = None
    sa_utr: str | None = None

    @property
    def employer_paye_reference(self) -> str:
        return f"{self.hmrc_office_number}/{self.paye_reference}"


@dataclass(frozen=True)
class Starter:
    """``Employment/Starter``; ``previous_pay``/``previous_tax`` are the P45 figures of earlier employments."""
    start_date: date
    declaration: StarterDeclaration | None = None
    student_loan: bool = False
    postgraduate_loan: bool = False
    previous_pay: int = 0
    previous_tax: int = 0


@dataclass(frozen=True)
class Employee:
    payroll_id: str
    name: Name
    birth_date: date
    gender: Gender
    nino: str | None = None
    address: Address | None = None
    starter: Starter | None = None
    leaving_date: date | None = None
    irregular_payment: bool = False  # IrrEmp: not paid for 3 months or more, or on a zero-hours contract

    @property
    def label(self) -> str:
        """How problems name the employee: payroll id and name."""
        return f"{self.payroll_id} ({self.name.full})"


@dataclass(frozen=True)
class NIContributions:
    """``NIlettersAndValues`` for one NI category letter."""
    letter: str
    gross_earnings: int
    gross_earnings_to_date: int
    at_lel_to_date: int
    lel_to_pt_to_date: int
    pt_to_uel_to_date: int
    employee_contributions: int
    employee_contributions_to_date: int
    employer_contributions: int
    employer_contributions_to_date: int


@dataclass(frozen=True)
class StatutoryPayToDate:
    """Year-to-date statutory payments on the FPS (SMPYTD, SPPYTD, SAPYTD, ShPPYTD, SPBPYTD, SNCPYTD)."""
    smp: int = 0
    spp: int = 0
    sap: int = 0
    shpp: int = 0
    spbp: int = 0
    sncp: int = 0


@dataclass(frozen=True)
class Payment:
    """``FiguresToDate`` and ``Payment`` for one employee in one pay run.

    Exactly one of ``tax_week``/``tax_month`` is set: weekly, fortnightly and four-weekly payrolls report the
    tax week number, the others the tax month number.
    """
    frequency: PayFrequency
    payment_date: date
    hours_worked: HoursWorked
    tax_code: TaxCode
    taxable_pay: int
    taxable_pay_to_date: int
    tax_deducted: int
    tax_deducted_to_date: int
    ni: tuple[NIContributions, ...] = ()
    tax_week: int | None = None
    tax_month: int | None = None
    periods_covered: int = 1
    student_loan_plan: StudentLoanPlan | None = None
    student_loan_recovered: int = 0
    student_loan_recovered_to_date: int = 0
    postgraduate_loan_recovered: int = 0
    postgraduate_loan_recovered_to_date: int = 0
    pension_net_pay: int = 0  # EmpeePenContribnsPaid: under a net pay arrangement
    pension_net_pay_to_date: int = 0
    pension_not_net_pay: int = 0  # EmpeePenContribnsNotPaid: relief at source
    pension_not_net_pay_to_date: int = 0
    statutory_pay_to_date: StatutoryPayToDate = field(default_factory=StatutoryPayToDate)
    pay_after_statutory_deductions: int | None = None
    non_tax_or_nic_payment: int = 0
    deductions_from_net_pay: int = 0
    late_reason: LateReason | None = None
    payment_after_leaving: bool = False
    unpaid_absence: bool = False

    @property
    def period_number(self) -> int:
        return self.tax_week if self.tax_week is not None else (self.tax_month or 0)

    @property
    def employer_ni(self) -> int:
        return sum(n.employer_contributions for n in self.ni)

    @property
    def employee_ni(self) -> int:
        return sum(n.employee_contributions for n in self.ni)


@dataclass(frozen=True)
class EmployeePayment:
    """One ``Employee`` element of an FPS."""
    employee: Employee
    payment: Payment


@dataclass(frozen=True)
class RecoverableAmounts:
    """EPS ``RecoverableAmountsYTD``: statutory pay recovered and NIC compensation, year to date."""
    smp_recovered: int = 0
    spp_recovered: int = 0
    sap_recovered: int = 0
    shpp_recovered: int = 0
    spbp_recovered: int = 0
    sncp_recovered: int = 0
    nic_compensation_on_smp: int = 0
    nic_compensation_on_spp: int = 0
    nic_compensation_on_sap: int = 0
    nic_compensation_on_shpp: int = 0
    nic_compensation_on_spbp: int = 0
    nic_compensation_on_sncp: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f) for f in self.__dataclass_fields__)


@dataclass(frozen=True)
class EmployerPaymentSummary:
    """What an EPS reports. ``no_payment_from``/``no_payment_to`` are whole tax months (6th to 5th)."""
    tax_month: int | None = None
    employment_allowance: bool | None = None
    recoverable: RecoverableAmounts | None = None
    no_payment_from: date | None = None
    no_payment_to: date | None = None
    final_for_year: bool = False
    scheme_ceased: date | None = None

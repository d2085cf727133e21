"""Workplace pension automatic enrolment: who must be enrolled, and contributions on qualifying earnings.

Pensions Act 2008 ss.1-3 and 13, with the earnings trigger and qualifying earnings band set each year (figures
per pay reference period as the DWP publishes them, in the year's data file). Assessment per pay reference
period, by age and earnings in that period:
- eligible jobholder: aged 22 to State Pension age, earnings above the trigger: must be enrolled;
- non-eligible jobholder: aged 16 to 74, earnings above the lower limit but not eligible: may opt in, with
  employer contributions;
- entitled worker: aged 16 to 74, earnings at or below the lower limit: may join, no employer contribution due;
- under 16 or 75 and over: no duties.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from payroll.rules.errors import PayrollRuleError
from payroll.rules.money import ZERO, round_half_up_to_penny, to_decimal, to_money
from payroll.rules.periods import Frequency
from payroll.rules.yearly_rates import EarningsBand, year_rates


class WorkerCategory(str, Enum):
    ELIGIBLE_JOBHOLDER = "eligible_jobholder"
    NON_ELIGIBLE_JOBHOLDER = "non_eligible_jobholder"
    ENTITLED_WORKER = "entitled_worker"
    NO_DUTIES = "no_duties"


class ReliefMethod(str, Enum):
    RELIEF_AT_SOURCE = "relief_at_source"          # taken from net pay less basic-rate relief; the scheme claims it
    NET_PAY_ARRANGEMENT = "net_pay_arrangement"    # taken from pay before tax, so relief comes through PAYE


@dataclass(frozen=True)
class Assessment:
    category: WorkerCategory
    earnings: Decimal
    band: EarningsBand  # the period's lower limit, trigger and upper limit


def age_on(birth_date: date, day: date) -> int:
    """Whole years; someone born on 29 February turns a year older on 1 March in other years."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def state_pension_date(birth_date: date) -> date:
    """When State Pension age is reached (Pensions Acts 1995, 2011 and 2014), for people born from 6 October 1954.

    66 for births up to 5 April 1960; then one more month of age for each month of birth up to 5 March 1961;
    67 for births from 6 March 1961 to 5 April 1977. Later births reach State Pension age between 67 and 68
    (Pensions Act 2007), which is refused here rather than guessed.
    """
    if birth_date < date(1954, 10, 6):
        raise PayrollRuleError("State Pension age for people born before 6 October 1954 is already past; "
                               "give reached_state_pension_age instead")
    if birth_date > date(1977, 4, 5):
        raise PayrollRuleError("State Pension age for people born after 5 April 1977 is not settled in law "
                               "here (it rises towards 68); give reached_state_pension_age instead")
    if birth_date < date(1960, 4, 6):
        months = 66 * 12
    elif birth_date < date(1961, 3, 6):
        # Born 6 April-5 May 1960: 66 years 1 month; ... born 6 February-5 March 1961: 66 years 11 months.
        months_since = (birth_date.year - 1960) * 12 + birth_date.month - 4 - (birth_date.day < 6)
        months = 66 * 12 + months_since + 1
    else:
        months = 67 * 12
    return _add_months(birth_date, months)


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later; where that month has no such day (31st, 29 February), the day after."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    try:
        return date(year, month_index + 1, day.day)
    except ValueError:
        return date(year + 1, 1, 1) if month_index == 11 else date(year, month_index + 2, 1)


def earnings_band(tax_year: str, frequency: Frequency | str) -> EarningsBand:
    return year_rates(tax_year).auto_enrolment.thresholds[Frequency.parse(frequency).value]


def assess_worker(tax_year: str, frequency: Frequency | str, earnings: Decimal | str, age: int,
                  reached_state_pension_age: bool) -> Assessment:
    """Which auto-enrolment category a worker falls in for one pay reference period."""
    if isinstance(age, bool) or not isinstance(age, int) or age < 0:
        raise PayrollRuleError(f"age must be a whole number of years, not {age!r}")
    pay = to_money(earnings, "earnings")
    band = earnings_band(tax_year, frequency)
    if age < 16 or age >= 75:
        category = WorkerCategory.NO_DUTIES
    elif pay > band.trigger and age >= 22 and not reached_state_pension_age:
        category = WorkerCategory.ELIGIBLE_JOBHOLDER
    elif pay > band.lower:
        category = WorkerCategory.NON_ELIGIBLE_JOBHOLDER
    else:
        category = WorkerCategory.ENTITLED_WORKER
    return Assessment(category, pay, band)


@dataclass(frozen=True)
class PensionScheme:
    """Contribution rates on qualifying earnings; the statutory minimum is 8% in all, 3% from the employer."""
    employee_rate: Decimal
    employer_rate: Decimal
    relief: ReliefMethod = ReliefMethod.RELIEF_AT_SOURCE

    def __post_init__(self) -> None:
        employee = to_decimal(self.employee_rate, "employee contribution rate")
        employer = to_decimal(self.employer_rate, "employer contribution rate")
        for what, rate in (("employee", employee), ("employer", employer)):
            if not 0 <= rate <= 1:
                raise PayrollRuleError(f"the {what} contribution rate must be between 0 and 1, not {rate}")
        object.__setattr__(self, "employee_rate", employee)
        object.__setattr__(self, "employer_rate", employer)
        object.__setattr__(self, "relief", ReliefMethod(self.relief))

    def check_statutory_minimum(self, tax_year: str) -> None:
        """Pensions Act 2008 s.20 and the Occupational and Personal Pension Schemes (Automatic Enrolment)
        Regulations: at least 8% of qualifying earnings, of which at least 3% from the employer."""
        rules = year_rates(tax_year).auto_enrolment
        if self.employer_rate < rules.minimum_employer_rate:
            raise PayrollRuleError(f"the employer must pay at least {rules.minimum_employer_rate:%} of "
                                   f"qualifying earnings, not {self.employer_rate:%}")
        if self.employee_rate + self.employer_rate < rules.minimum_total_rate:
            raise PayrollRuleError(f"contributions must total at least {rules.minimum_total_rate:%} of "
                                   f"qualifying earnings, not {self.employee_rate + self.employer_rate:%}")


@dataclass(frozen=True)
class PensionContributions:
    qualifying_earnings: Decimal
    employee_contribution: Decimal   # the member's contribution, gross
    employee_deduction: Decimal      # what comes off the pay: gross under net pay, less basic-rate relief at source
    relief_at_source: Decimal        # basic-rate relief the scheme claims from HMRC (relief at source only)
    employer_contribution: Decimal
    relief: ReliefMethod

    @property
    def reduces_taxable_pay(self) -> bool:
        return self.relief is ReliefMethod.NET_PAY_ARRANGEMENT


def qualifying_earnings(tax_year: str, frequency: Frequency | str, earnings: Decimal | str) -> Decimal:
    """Earnings between the period's lower and upper limits."""
    band = earnings_band(tax_year, frequency)
    pay = to_money(earnings, "earnings")
    return max(min(pay, band.upper) - band.lower, ZERO)


def pension_contributions(tax_year: str, frequency: Frequency | str, earnings: Decimal | str,
                          scheme: PensionScheme) -> PensionContributions:
    """Contributions for one pay reference period on qualifying earnings.

    Pensions law sets no rounding; each share is rounded to the nearest penny (half up). Relief at source
    (Finance Act 2004 s.192): the member pays the contribution less basic-rate relief, and the scheme claims the
    relief from HMRC.
    """
    qe = qualifying_earnings(tax_year, frequency, earnings)
    employee = round_half_up_to_penny(qe * scheme.employee_rate)
    employer = round_half_up_to_penny(qe * scheme.employer_rate)
    if scheme.relief is ReliefMethod.RELIEF_AT_SOURCE:
        basic_rate = year_rates(tax_year).auto_enrolment.relief_at_source_rate
        deduction = round_half_up_to_penny(employee * (1 - basic_rate))
        relief = employee - deduction
    else:
        deduction, relief = employee, ZERO
    return PensionContributions(qe, employee, deduction, relief, employer, scheme.relief)

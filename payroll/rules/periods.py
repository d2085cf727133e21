"""Pay frequencies and tax periods.

A tax year runs 6 April to 5 April. Tax week 1 is 6-12 April; tax month 1 is 6 April to 5 May (each tax month
runs from the 6th to the 5th). Weekly, fortnightly and four-weekly payrolls number their periods by the tax week
of the payday; monthly payrolls by the tax month.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from payroll.rules.errors import PayrollRuleError


class Frequency(str, Enum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    FOUR_WEEKLY = "four_weekly"
    MONTHLY = "monthly"

    @classmethod
    def parse(cls, value: object) -> "Frequency":
        if isinstance(value, Frequency):
            return value
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(f'"{f.value}"' for f in cls)
            raise PayrollRuleError(f"pay frequency must be one of {names}, not {value!r}") from None

    @property
    def weeks(self) -> int | None:
        """Weeks in one pay period; None for monthly."""
        return {"weekly": 1, "fortnightly": 2, "four_weekly": 4}.get(self.value)

    @property
    def counts_in_weeks(self) -> bool:
        return self is not Frequency.MONTHLY

    @property
    def extra_period(self) -> int | None:
        """HMRC's number for the payday that falls after the last full period: week 53, 54 or 56."""
        return None if self.weeks is None else 52 + self.weeks

    def share_of_year(self, annual: Decimal) -> Decimal:
        """One pay period's share of an annual figure, unrounded: annual x weeks / 52, or annual / 12."""
        if self.weeks is None:
            return annual / 12
        return annual * self.weeks / 52


def check_period(frequency: Frequency, period: object) -> int:
    """The tax week (or tax month) number, or a plain-English refusal."""
    if isinstance(period, bool) or not isinstance(period, int):
        raise PayrollRuleError(f"period must be a whole number, not {period!r}")
    if frequency is Frequency.MONTHLY:
        if not 1 <= period <= 12:
            raise PayrollRuleError(f"a monthly payroll's period is a tax month from 1 to 12, not {period}")
        return period
    if 1 <= period <= 52 or period == frequency.extra_period:
        return period
    raise PayrollRuleError(
        f"a {frequency.value.replace('_', '-')} payroll's period is a tax week from 1 to 52, or "
        f"{frequency.extra_period} for the extra payday at the end of the tax year, not {period}")


def is_extra_period(frequency: Frequency, period: int) -> bool:
    """Week 53, 54 or 56: always taxed on a week 1 basis with the 1-, 2- or 4-week table."""
    return frequency.extra_period is not None and period == frequency.extra_period


def tax_year_of(day: date) -> str:
    """'2026-27' for any date from 6 April 2026 to 5 April 2027."""
    start = day.year if (day.month, day.day) >= (4, 6) else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def tax_year_start(tax_year: str) -> date:
    return date(int(tax_year[:4]), 4, 6)


def tax_week(day: date) -> int:
    """1 to 53: week 53 is the last day (two days in a leap year) of the tax year."""
    return (day - tax_year_start(tax_year_of(day))).days // 7 + 1


def tax_month(day: date) -> int:
    """1 to 12: month 1 runs 6 April to 5 May."""
    month = day.month if day.day >= 6 else day.month - 1
    return (month - 4) % 12 + 1


@dataclass(frozen=True)
class TaxPeriod:
    tax_year: str
    frequency: Frequency
    period: int


def tax_period(payment_date: date, frequency: Frequency) -> TaxPeriod:
    """The tax year and period number a payday belongs to.

    HMRC ("Week 53 payments"): weekly paid on 5 April (4 or 5 April in a leap year) is week 53; fortnightly
    paid on 4 or 5 April (3 or 4 April in a leap year) is week 54; four-weekly paid on 2 to 5 April (1 to 4
    April in a leap year) is week 56. In day counts: the payday falls in the last 1, 2 or 4 days of a 365-day
    year measured from 6 April.
    """
    frequency = Frequency.parse(frequency)
    year = tax_year_of(payment_date)
    if frequency is Frequency.MONTHLY:
        return TaxPeriod(year, frequency, tax_month(payment_date))
    day_of_year = (payment_date - tax_year_start(year)).days
    if day_of_year >= 365 - frequency.weeks:
        return TaxPeriod(year, frequency, frequency.extra_period)
    return TaxPeriod(year, frequency, day_of_year // 7 + 1)

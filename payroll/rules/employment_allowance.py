"""Employment Allowance: a yearly amount (10,500 in 2025-26 and 2026-27) set against employer Class 1 NI.

National Insurance Contributions Act 2014 Part 1, as amended from 6 April 2025. Employers of
care and support workers, including people who pay personal assistants from a personal budget or direct
payments, may claim it; other domestic employers may not. It is used up period by period, against each period's
employer NI, until the year's allowance is gone.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from payroll.rules.money import ZERO, to_money
from payroll.rules.yearly_rates import year_rates


@dataclass(frozen=True)
class EmploymentAllowanceUse:
    employer_ni: Decimal          # the period's employer NI, all employees together
    offset: Decimal               # allowance used against it this period
    employer_ni_payable: Decimal  # what is still paid to HMRC for the period
    used_to_date: Decimal         # this tax year, this period included
    remaining: Decimal            # left for later periods of the tax year


def apply_employment_allowance(tax_year: str, employer_ni: Decimal | str, used_to_date: Decimal | str = ZERO,
                               claimed: bool = True) -> EmploymentAllowanceUse:
    """Set the allowance against one period's employer NI; ``used_to_date`` is the allowance used before it."""
    allowance = year_rates(tax_year).national_insurance.employment_allowance
    ni = to_money(employer_ni, "employer NI")
    used = to_money(used_to_date, "Employment Allowance used to date")
    available = max(allowance - used, ZERO) if claimed else ZERO
    offset = min(ni, available)
    return EmploymentAllowanceUse(ni, offset, ni - offset, used + offset,
                                  max(allowance - used - offset, ZERO) if claimed else ZERO)


def employment_allowance_for_year(tax_year: str, employer_ni_by_period: Iterable[Decimal | str],
                                  claimed: bool = True) -> tuple[EmploymentAllowanceUse, ...]:
    """The allowance used period by period across a tax year."""
    uses: list[EmploymentAllowanceUse] = []
    used = ZERO
    for ni in employer_ni_by_period:
        use = apply_employment_allowance(tax_year, ni, used, claimed)
        uses.append(use)
        used = use.used_to_date
    return tuple(uses)

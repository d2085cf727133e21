"""The tax code for a new starter without a P45 for this tax year, from the starter checklist statement.

HMRC "Starter checklist" and "Tell HMRC about a new employee": statement A (first job since 6 April, no
benefits or pension) gives the emergency code on a cumulative basis; B (only job now, but had another since
6 April) the emergency code on a week 1 / month 1 basis; C (another job or pension as well) BR; no statement
at all, 0T on a week 1 / month 1 basis.
"""
from __future__ import annotations

from enum import Enum

from payroll.rules.errors import PayrollRuleError
from payroll.rules.tax_codes import CodeKind, Regime, TaxCode, parse_tax_code
from payroll.rules.yearly_rates import year_rates


class StarterStatement(str, Enum):
    A = "A"
    B = "B"
    C = "C"


def starter_tax_code(tax_year: str, statement: StarterStatement | str | None,
                     regime: Regime = Regime.REST_OF_UK) -> TaxCode:
    """The code to operate until HMRC sends one; ``regime`` only when HMRC has said the PA is Scottish or Welsh."""
    if statement is None:
        return TaxCode(regime, CodeKind.FREE_PAY, 0, "T", non_cumulative=True)
    try:
        statement = StarterStatement(statement)
    except ValueError:
        raise PayrollRuleError(f"starter statement must be A, B or C, not {statement!r}") from None
    if statement is StarterStatement.C:
        return TaxCode(regime, CodeKind.BR)
    emergency = parse_tax_code(year_rates(tax_year).income_tax.emergency_code)
    return TaxCode(regime, emergency.kind, emergency.number, emergency.suffix,
                   non_cumulative=statement is StarterStatement.B)

"""UK payroll rules for tax years 2025-26 and 2026-27: pure functions, Decimal in, frozen dataclasses out.

One concern a module: ``tax_codes`` and ``income_tax`` (PAYE), ``national_insurance``, ``student_loans``,
``auto_enrolment`` (pensions), ``sick_pay``, ``holiday_pay``, ``minimum_wage``, ``employment_allowance``,
``starters`` and ``periods``; ``gross_to_net`` puts one employee's period together. Yearly figures live in
``data/<tax year>.json`` (``yearly_rates``), the only file read.
"""
from payroll.rules.errors import PayrollRuleError, TaxCodeError, UnknownTaxYearError
from payroll.rules.gross_to_net import GrossToNet, PayPeriodInputs, gross_to_net
from payroll.rules.periods import Frequency, TaxPeriod, tax_period
from payroll.rules.tax_codes import CodeKind, Regime, TaxCode, parse_tax_code

__all__ = [
    "CodeKind", "Frequency", "GrossToNet", "PayPeriodInputs", "PayrollRuleError", "Regime", "TaxCode",
    "TaxCodeError", "TaxPeriod", "UnknownTaxYearError", "gross_to_net", "parse_tax_code", "tax_period",
]

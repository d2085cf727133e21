"""Why the rules refuse an input: one error type, with a reason a payroll administrator can act on."""
from __future__ import annotations


class PayrollRuleError(ValueError):
    """An input the payroll rules cannot compute. ``str(error)`` is a plain-English reason."""


class TaxCodeError(PayrollRuleError):
    """A tax code that HMRC would not issue."""


class UnknownTaxYearError(PayrollRuleError):
    """A tax year with no data file."""

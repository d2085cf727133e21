"""The batch calculator: JSON requests in, JSON results out, one line each, in the same order.

A request is one employee's payment::

    {"id": "pa-1", "tax_year": "2026-27", "frequency": "monthly", "period": 1, "tax_code": "1257L",
     "gross_pay": "2500.00", "taxable_pay_to_date": "0", "tax_paid_to_date": "0",
     "ni_category": "A", "student_loan_plans": ["2", "PGL"]}

``taxable_pay_to_date`` and ``tax_paid_to_date`` are before this payment. The result carries ``tax`` (negative
for a refund), ``tax_to_date``, ``employee_ni``, ``employer_ni``, ``student_loan`` and ``postgrad_loan`` as
two-decimal strings, or ``error`` with a plain-English reason; one bad request never stops the rest.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping

from payroll.rules.errors import PayrollRuleError
from payroll.rules.gross_to_net import PayPeriodInputs, gross_to_net
from payroll.rules.money import ZERO, pence_string
from payroll.rules.periods import Frequency
from payroll.rules.tax_codes import parse_tax_code
from payroll.rules.yearly_rates import check_tax_year

REQUIRED = ("id", "tax_year", "frequency", "period", "tax_code", "gross_pay")
OPTIONAL = ("non_cumulative", "taxable_pay_to_date", "tax_paid_to_date", "ni_category", "student_loan_plans")


def calculate(request: Mapping[str, Any]) -> dict[str, Any]:
    """The result for one request; raises PayrollRuleError with the reason when it cannot be computed."""
    missing = [name for name in REQUIRED if name not in request]
    if missing:
        raise PayrollRuleError(f"missing field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    unknown = sorted(set(request) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise PayrollRuleError(f"unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    non_cumulative = request.get("non_cumulative", False)
    if not isinstance(non_cumulative, bool):
        raise PayrollRuleError(f"non_cumulative must be true or false, not {non_cumulative!r}")
    plans = request.get("student_loan_plans", [])
    if not isinstance(plans, list):
        raise PayrollRuleError("student_loan_plans must be a list such as [\"2\", \"PGL\"]")
    ni_category = request.get("ni_category", "A")
    result = gross_to_net(PayPeriodInputs(
        tax_year=check_tax_year(request["tax_year"]),
        frequency=Frequency.parse(request["frequency"]),
        period=_whole_number(request["period"], "period"),
        tax_code=parse_tax_code(request["tax_code"]),
        gross_pay=_amount(request["gross_pay"], "gross_pay"),
        non_cumulative=non_cumulative,
        previous_taxable_pay_to_date=_amount(request.get("taxable_pay_to_date", ZERO), "taxable_pay_to_date"),
        previous_tax_to_date=_amount(request.get("tax_paid_to_date", ZERO), "tax_paid_to_date"),
        ni_letter=ni_category,
        student_loan_plans=tuple(plans),
    ))
    return {
        "id": request["id"],
        "tax": pence_string(result.tax),
        "tax_to_date": pence_string(result.tax_to_date),
        "employee_ni": pence_string(result.employee_ni),
        "employer_ni": pence_string(result.employer_ni),
        "student_loan": pence_string(result.student_loan),
        "postgrad_loan": pence_string(result.postgraduate_loan),
    }


def calculate_line(line: str, line_number: int) -> dict[str, Any]:
    """The result for one line of input; never raises."""
    try:
        request = json.loads(line, parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        return {"id": None, "error": f"line {line_number} is not valid JSON ({_short(exc)})"}
    if not isinstance(request, dict):
        return {"id": None, "error": f"line {line_number} is not a JSON object with the request's fields"}
    request_id = request.get("id")
    try:
        return calculate(request)
    except PayrollRuleError as exc:
        return {"id": request_id, "error": str(exc)}
    except Exception as exc:  # a fault in the calculator must not stop the batch; say so plainly
        return {"id": request_id, "error": f"internal error while computing this request ({type(exc).__name__})"}


def run(lines: Iterable[str]) -> Iterator[str]:
    """One JSON result line for each non-blank input line, in order."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield json.dumps(calculate_line(line, number), default=_json_id, ensure_ascii=False)


def _amount(value: Any, name: str) -> Decimal | str:
    if isinstance(value, (str, Decimal)) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PayrollRuleError(f"{name} must be a decimal string such as \"123.45\", not {value!r}")


def _whole_number(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise PayrollRuleError(f"{name} must be a whole number, not {value!r}")


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def _short(exc: Exception) -> str:
    return str(exc).split(": line ")[0] if isinstance(exc, json.JSONDecodeError) else str(exc) or type(exc).__name__


def _json_id(value: Any) -> Any:
    """Ids are echoed; a decimal id (JSON number with a point) comes back as its text."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__}")

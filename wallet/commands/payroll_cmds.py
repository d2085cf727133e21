"""`wallet payroll ...` commands."""
from __future__ import annotations

import click

from payroll import calc


@click.group(help="Payroll for personal assistants.")
def payroll() -> None:
    pass


@payroll.command("calc")
@click.option("--input", "input_file", type=click.File("r", encoding="utf-8", errors="replace"),
              default="-", show_default=True,
              help="JSON lines of requests (default: standard input).")
@click.option("--output", "output_file", type=click.File("w", encoding="utf-8"), default="-", show_default=True,
              help="Where to write the JSON result lines (default: standard output).")
def calc_command(input_file, output_file) -> None:
    """Compute PAYE, NI and student loans for one payment per JSON line.

    \b
    Request: {"id": ..., "tax_year": "2026-27", "frequency": "weekly|fortnightly|four_weekly|monthly",
              "period": <tax week, or tax month if monthly>, "tax_code": "1257L" (optionally " W1"/" M1"/" X"),
              "gross_pay": "1234.56", "non_cumulative": false, "taxable_pay_to_date": "0" (before this payment),
              "tax_paid_to_date": "0", "ni_category": "A", "student_loan_plans": ["2", "PGL"]}
    Result: {"id", "tax" (negative: refund), "tax_to_date", "employee_ni", "employer_ni", "student_loan",
             "postgrad_loan"}, or {"id", "error"} for a request that cannot be computed.
    """
    for result in calc.run(input_file):
        output_file.write(result + "\n")
        output_file.flush()

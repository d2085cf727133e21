"""Every row of HMRC's 2026-27 income tax test data (rUK, Scotland, Wales), exactly."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from payroll.rules.income_tax import calculate_income_tax
from tests.unit.payroll.hmrc_data import TAX_FILE, TAX_ROWS, require, tax_rows
from wallet.commands.payroll_cmds import payroll

ROWS = tax_rows()


def test_file_has_every_row():
    require(ROWS[0].values[0], TAX_FILE)
    assert len(ROWS) == TAX_ROWS


@pytest.mark.parametrize("row", ROWS)
def test_row(row):
    require(row, TAX_FILE)
    result = calculate_income_tax("2026-27", row.frequency, row.period, row.tax_code, row.gross,
                                  row.previous_pay_to_date, row.previous_tax_to_date)
    assert (result.tax, result.tax_to_date) == (row.tax_due, row.tax_due_to_date)


def test_every_row_through_the_batch_calculator():
    """The same rows as requests to `wallet payroll calc`, all in one batch."""
    rows = [p.values[0] for p in ROWS]
    require(rows[0], TAX_FILE)
    requests = [json.dumps({
        "id": i, "tax_year": "2026-27", "frequency": row.frequency, "period": row.period,
        "tax_code": row.tax_code, "gross_pay": str(row.gross),
        "taxable_pay_to_date": str(row.previous_pay_to_date), "tax_paid_to_date": str(row.previous_tax_to_date),
    }) for i, row in enumerate(rows)]
    outcome = CliRunner().invoke(payroll, ["calc"], input="\n".join(requests) + "\n")
    assert outcome.exit_code == 0, outcome.output
    results = [json.loads(line) for line in outcome.output.splitlines()]
    assert [r["id"] for r in results] == list(range(len(rows)))
    wrong = [(r["id"], r["tax"], r["tax_to_date"]) for r, row in zip(results, rows)
             if (r.get("tax"), r.get("tax_to_date")) != (f"{row.tax_due:.2f}", f"{row.tax_due_to_date:.2f}")]
    assert wrong == []

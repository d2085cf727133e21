"""A bank bulk-payment CSV: the common UK layout of one payment a row.

    Sort code, Account number, Account name, Amount, Reference
    123456,12345678,JANE SMITH,1234.56,PAY APR 2026

Amounts are pounds with two decimal places, written from integer pence (no float anywhere). Anyone may open the
file in a spreadsheet before uploading it, so every text field that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return gets a leading apostrophe: the spreadsheet then shows it as text and never runs it as a
formula (the OWASP advice for CSV injection). Quotes and commas are handled by the csv module.
"""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime

from wallet.money_out.bank_details import BACS_NAME_LENGTH, bacs_text
from wallet.money_out.batch import Export, PaymentBatch, ensure_exportable, mark_exported

FILE_FORMAT = "bulk_csv"
HEADER = ("Sort code", "Account number", "Account name", "Amount", "Reference")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def protect_cell(text: str) -> str:
    """Make a spreadsheet treat ``text`` as text: prefix ``'`` when it starts with = + - @ tab or CR."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def pounds(pence: int) -> str:
    """1234 -> '12.34'; exact, from integer pence."""
    if isinstance(pence, bool) or not isinstance(pence, int):
        raise TypeError(f"pence must be an int, not {type(pence).__name__}")
    sign = "-" if pence < 0 else ""
    whole, rem = divmod(abs(pence), 100)
    return f"{sign}{whole}.{rem:02d}"


def render_bulk_csv(batch: PaymentBatch, *, header: bool = True, name_length: int | None = BACS_NAME_LENGTH,
                    bacs_names: bool = True) -> str:
    """The CSV text for ``batch`` (any state: this only writes; ``export_bulk_csv`` moves the state).

    ``bacs_names``: fold names to Bacs characters (most bank uploads insist); with False the payee's own name
    is kept (cut to ``name_length`` if given), still protected against formulas.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(HEADER)
    for line in batch.lines:
        if bacs_names:
            name = bacs_text(line.payee_name, name_length or 140)
        else:
            name = line.payee_name if name_length is None else line.payee_name[:name_length]
        writer.writerow((line.account.sort_code, line.account.account_number, protect_cell(name),
                         pounds(line.amount), protect_cell(line.reference)))
    return out.getvalue()


def export_bulk_csv(batch: PaymentBatch, *, at: datetime, header: bool = True,
                    name_length: int | None = BACS_NAME_LENGTH, bacs_names: bool = True) -> Export:
    """Write the CSV and move the batch to exported, refusing a batch exported before (before writing)."""
    ensure_exportable(batch)
    content = render_bulk_csv(batch, header=header, name_length=name_length, bacs_names=bacs_names)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    return Export(batch=mark_exported(batch, at=at, file_format=FILE_FORMAT, digest=digest), content=content,
                     digest=digest)

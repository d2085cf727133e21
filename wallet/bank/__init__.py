"""Bank statements: read (CSV in the common UK layouts or through a remembered column mapping, OFX, CAMT.053),
matched against the wallet's books, and reconciled.

``statement`` holds what the parsers produce; ``csv_layouts``, ``ofx`` and ``camt053`` read files; ``matching``
is pure (lines and ledger entries in, pairs out); ``service`` stores imports in one transaction each and
raises the reconciliation alert.
"""
from __future__ import annotations

from wallet.bank.camt053 import looks_like_camt053
from wallet.bank.ofx import looks_like_ofx
from wallet.bank.statement import StatementError, decode


def detect_format(data: bytes) -> str:
    """csv, ofx or camt053, from the file's content (its name can be wrong)."""
    text = decode(data[:8192]) if len(data) > 8192 else decode(data)
    if looks_like_ofx(text):
        return "ofx"
    stripped = text.lstrip()
    if stripped.startswith("<"):
        if looks_like_camt053(text):
            return "camt053"
        raise StatementError("this XML file is not a bank statement we can read (OFX or CAMT.053)")
    if stripped.startswith("!Type:") or stripped.startswith("!Account"):
        raise StatementError("QIF files cannot be imported: download the statement as CSV, OFX or CAMT.053")
    if b"\x00" in data[:8192]:
        raise StatementError("this is not a text file: download the statement as CSV, OFX or CAMT.053")
    return "csv"

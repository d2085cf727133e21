"""An independent reader of the wallet's exports: it does not import ``wallet.exports``.

It opens each format with nothing but the standard library (CSV, the XLSX's own XML, JSON, ZIP) and checks what
an auditor would check:

* the checksum: every data file's SHA-256 and size against the manifest (for the JSON bundle, the SHA-256 of
  its entries, each as JSON with sorted keys and no spaces, and a newline);
* the row count, opening + money in - money out = closing, the totals, and every running balance;
* no cell a spreadsheet would run as a formula (CSV: free text starting ``= + - @``, tab or CR must carry a
  leading ``'``; XLSX: no formula elements at all);
* against the ledger (:func:`check_against_ledger`): ``ledger.verify`` passes; the book still has the manifest's
  head hash at its sequence; every row's entry exists in that book with that hash and description; and,
  recomputed straight from the ledger's postings of each funder's cash account, the period has exactly these
  entries, this opening balance and these totals.

Money is read as ``Decimal`` pounds from CSV and XLSX and turned into pence; never a float.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, select

from ledger.db import Database
from ledger.tables import account_t, book_t, entry_t, posting_t
from ledger.verify import verify
from tests.unit.hmrc import pdftext
from wallet.domain.tables import funding_stream_t, wallet_t

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass
class Row:
    day: date
    entry_id: str
    description: str
    reference: str | None
    funder: str
    category: str
    money_in: int
    money_out: int
    balance: int
    entry_hash: str


@dataclass
class ReadExport:
    format: str
    manifest: dict[str, Any]
    rows: list[Row]
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------- money and text
def _pence(text: str | None, where: str, problems: list[str]) -> int:
    text = (text or "").strip()
    if not text:
        return 0
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        problems.append(f"{where}: {text!r} is not an amount")
        return 0
    if value != value.to_integral_value():
        problems.append(f"{where}: {text!r} is not whole pence")
    return int(value)


def _unprotect(text: str, where: str, problems: list[str]) -> str:
    """A CSV cell as its author wrote it; a formula-like cell without its protecting quote is a problem."""
    if text.startswith(_FORMULA_START):
        problems.append(f"{where}: a spreadsheet would run {text[:20]!r} as a formula")
        return text
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


# ---------------------------------------------------------------------- formats
def read_export(data: bytes, fmt: str) -> ReadExport:
    """Open an export of ``fmt`` (csv, xlsx, pdf: a ZIP with manifest.json; json: the bundle) and check it."""
    if fmt == "json":
        return _read_json(data)
    problems: list[str] = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return ReadExport(fmt, {}, [], problems=["not a ZIP file"])
    files = {name: archive.read(name) for name in archive.namelist()}
    if "manifest.json" not in files:
        return ReadExport(fmt, {}, [], files, ["the ZIP has no manifest.json"])
    manifest = json.loads(files["manifest.json"])
    listed = {f["name"]: f for f in manifest.get("files", [])}
    for name in set(files) - {"manifest.json"} - set(listed):
        problems.append(f"{name} is in the ZIP but not in the manifest")
    for name, facts in listed.items():
        if name not in files:
            problems.append(f"the manifest lists {name}, which is not in the ZIP")
            continue
        if hashlib.sha256(files[name]).hexdigest() != facts["sha256"]:
            problems.append(f"checksum mismatch: {name} is not the file the manifest describes")
        if len(files[name]) != facts["bytes"]:
            problems.append(f"size mismatch: {name} has {len(files[name])} bytes, the manifest says {facts['bytes']}")
    rows: list[Row] = []
    if fmt == "csv":
        rows = _csv_rows(files.get("transactions.csv", b""), problems)
    elif fmt == "xlsx":
        rows = _xlsx_rows(files.get("statement.xlsx", b""), problems)
    elif fmt == "pdf":
        _check_pdf(files.get("statement.pdf", b""), manifest, problems)
    result = ReadExport(fmt, manifest, rows, files, problems)
    if fmt != "pdf":
        _check_rows(result)
    return result


def _csv_rows(data: bytes, problems: list[str]) -> list[Row]:
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or header[0] != "Date":
        problems.append("the CSV has no heading row")
        return []
    rows = []
    for n, cells in enumerate(reader, start=2):
        where = f"CSV line {n}"
        if len(cells) != len(header):
            problems.append(f"{where}: {len(cells)} cells, expected {len(header)}")
            continue
        day, entry_id, desc, ref, funder, cat, money_in, money_out, balance, digest = cells
        rows.append(Row(date.fromisoformat(day), entry_id, _unprotect(desc, where, problems),
                        _unprotect(ref, where, problems) or None, _unprotect(funder, where, problems),
                        _unprotect(cat, where, problems), _pence(money_in, where, problems),
                        _pence(money_out, where, problems), _pence(balance, where, problems), digest))
    return rows


def _xlsx_sheets(data: bytes) -> dict[str, ET.Element]:
    book = zipfile.ZipFile(io.BytesIO(data))
    workbook = ET.fromstring(book.read("xl/workbook.xml"))
    rels = ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
    out = {}
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        target = targets[sheet.get(f"{{{_NS['r']}}}id")].lstrip("/")
        path = target if target.startswith("xl/") else "xl/" + target
        out[sheet.get("name")] = ET.fromstring(book.read(path))
    shared: list[str] = []
    if "xl/sharedStrings.xml" in book.namelist():
        for si in ET.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", _NS):
            shared.append("".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t")))
    out["__shared__"] = shared  # type: ignore[assignment]
    return out


def _cell_text(cell: ET.Element, shared: list[str]) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{{{_NS['m']}}}t"))
    v = cell.find("m:v", _NS)
    if v is None or v.text is None:
        return ""
    return shared[int(v.text)] if kind == "s" else v.text


def _xlsx_rows(data: bytes, problems: list[str]) -> list[Row]:
    sheets = _xlsx_sheets(data)
    shared = sheets.pop("__shared__")
    for name, sheet in sheets.items():
        if sheet.find(".//m:f", _NS) is not None:
            problems.append(f"the sheet {name!r} holds a formula")
    sheet = sheets.get("Transactions")
    if sheet is None:
        problems.append("the workbook has no Transactions sheet")
        return []
    rows = []
    for n, row in enumerate(sheet.findall("m:sheetData/m:row", _NS), start=1):
        cells = {re.sub(r"\d+", "", c.get("r")): c for c in row.findall("m:c", _NS)}
        values = {col: _cell_text(c, shared) for col, c in cells.items()}
        if n == 1:
            if values.get("A") != "Date":
                problems.append("the Transactions sheet has no heading row")
            continue
        where = f"XLSX row {n}"
        for col in "BCDEFJ":
            if col in cells and cells[col].get("t") not in ("inlineStr", "s", None):
                problems.append(f"{where} column {col}: text stored as {cells[col].get('t')}")
        rows.append(Row(_EXCEL_EPOCH + timedelta(days=int(Decimal(values["A"]))), values.get("B", ""),
                        values.get("C", ""), values.get("D") or None, values.get("E", ""), values.get("F", ""),
                        _pence(values.get("G"), where, problems), _pence(values.get("H"), where, problems),
                        _pence(values.get("I"), where, problems), values.get("J", "")))
    return rows


def _money(pence: int) -> str:
    whole, rem = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}£{whole:,}.{rem:02d}"


def _check_pdf(data: bytes, manifest: dict[str, Any], problems: list[str]) -> None:
    """A PDF's rows cannot be read back reliably; its tags, and the balances it states, can."""
    if not data.startswith(b"%PDF-"):
        problems.append("statement.pdf is not a PDF")
        return
    structure = pdftext.everything(data)
    for marker, what in ((b"/StructTreeRoot", "a structure tree (tags)"), (b"/MarkInfo", "MarkInfo"),
                         (b"/Lang (en-GB)", "a language"), (b"/TH", "table headers"), (b"/H1", "a heading")):
        if marker not in structure:
            problems.append(f"statement.pdf has no {what}")
    text = " ".join(pdftext.text(data).split())
    for key in ("opening_balance", "total_in", "total_out", "closing_balance"):
        if _money(manifest[key]) not in text:
            problems.append(f"statement.pdf does not state the manifest's {key.replace('_', ' ')}")


def _read_json(data: bytes) -> ReadExport:
    problems: list[str] = []
    bundle = json.loads(data)
    manifest = bundle.get("manifest", {})
    digest = hashlib.sha256()
    rows = []
    for n, e in enumerate(bundle.get("entries", []), start=1):
        digest.update((json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
                      .encode("utf-8"))
        for key in ("money_in", "money_out", "balance"):
            if not isinstance(e.get(key), int) or isinstance(e.get(key), bool):
                problems.append(f"entry {n}: {key} is not a whole number of pence")
        rows.append(Row(date.fromisoformat(e["date"]), e["entry_id"], e["description"], e["reference"],
                        e["funder"], e["category"], e["money_in"], e["money_out"], e["balance"], e["entry_hash"]))
    if digest.hexdigest() != manifest.get("entries_sha256"):
        problems.append("checksum mismatch: the entries are not the ones the manifest describes")
    if bundle.get("opening_balance") != manifest.get("opening_balance"):
        problems.append("the bundle's opening balance differs from its manifest's")
    if bundle.get("closing_balance") != manifest.get("closing_balance"):
        problems.append("the bundle's closing balance differs from its manifest's")
    result = ReadExport("json", manifest, rows, {}, problems)
    _check_rows(result)
    return result


# ---------------------------------------------------------------------- arithmetic
def _check_rows(export: ReadExport) -> None:
    m, problems = export.manifest, export.problems
    if len(export.rows) != m.get("row_count"):
        problems.append(f"row count: the file has {len(export.rows)} rows, the manifest says {m.get('row_count')}")
    first, last = date.fromisoformat(m["period"]["first_day"]), date.fromisoformat(m["period"]["last_day"])
    running = m["opening_balance"]
    total_in = total_out = 0
    for n, row in enumerate(export.rows, start=1):
        if not first <= row.day <= last:
            problems.append(f"row {n} is dated {row.day}, outside the period")
        if row.money_in < 0 or row.money_out < 0 or (row.money_in and row.money_out):
            problems.append(f"row {n}: money in and out must not both be given, nor be negative")
        running += row.money_in - row.money_out
        total_in += row.money_in
        total_out += row.money_out
        if row.balance != running:
            problems.append(f"running balance: row {n} says {row.balance}, the amounts give {running}")
            running = row.balance
    if m["opening_balance"] + total_in - total_out != m["closing_balance"]:
        problems.append("opening + money in - money out is not the closing balance")
    if (total_in, total_out) != (m["total_in"], m["total_out"]):
        problems.append(f"totals: the rows give {total_in} in and {total_out} out, the manifest says "
                        f"{m['total_in']} and {m['total_out']}")


# ---------------------------------------------------------------------- against the ledger
def _start(day: date) -> int:
    moment = datetime.combine(day, time(0), tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000


def check_against_ledger(export: ReadExport, db: Database) -> list[str]:
    """What differs between the export and the ledger it came from (an empty list: nothing)."""
    problems: list[str] = []
    report = verify(db)
    if not report.ok:
        problems.append(f"the ledger does not verify: {report.fault}")
    m = export.manifest
    chain = m["chain"]
    first, last = date.fromisoformat(m["period"]["first_day"]), date.fromisoformat(m["period"]["last_day"])
    with db.engine.connect() as conn:
        book = conn.execute(select(book_t.c.id).where(book_t.c.code == chain["book"])).scalar()
        if book is None:
            return problems + [f"the ledger has no book {chain['book']}"]
        if chain["head_sequence"]:
            head = conn.execute(select(entry_t.c.hash).where(and_(
                entry_t.c.book_id == book, entry_t.c.book_seq == chain["head_sequence"]))).scalar()
            if head != chain["head_hash"]:
                problems.append("chain: the book's entry at the manifest's head sequence has another hash")
        last_entry = chain["last_entry_in_period"]
        if last_entry is not None:
            found = conn.execute(select(entry_t.c.hash, entry_t.c.book_seq).where(and_(
                entry_t.c.uuid == last_entry["id"], entry_t.c.book_id == book))).first()
            if found is None or (found.hash, found.book_seq) != (last_entry["hash"], last_entry["sequence"]):
                problems.append("chain: the last entry in the period does not match the ledger")
            if last_entry["sequence"] > chain["head_sequence"]:
                problems.append("chain: the last entry in the period is after the book's head")
        # Each row against its entry.
        if export.rows:
            ids = [r.entry_id for r in export.rows]
            stored: dict[str, Any] = {}
            for i in range(0, len(ids), 500):
                for r in conn.execute(select(entry_t.c.uuid, entry_t.c.hash, entry_t.c.description,
                                             entry_t.c.book_id).where(entry_t.c.uuid.in_(ids[i:i + 500]))):
                    stored[r.uuid] = r
            for n, row in enumerate(export.rows, start=1):
                e = stored.get(row.entry_id)
                if e is None or e.book_id != book:
                    problems.append(f"row {n}: entry {row.entry_id} is not in the book")
                elif e.hash != row.entry_hash:
                    problems.append(f"row {n}: entry hash differs from the ledger's")
                elif e.description != row.description:
                    problems.append(f"row {n}: description differs from the ledger's")
        # Completeness, recomputed from the postings of each funder's cash account.
        wallet_pk = conn.execute(select(wallet_t.c.id).where(wallet_t.c.uuid == m["wallet"]["id"])).scalar()
        streams = [s["id"] for s in m["funder"]["streams"]]
        codes = [f"{chain['book']}:cash:{c}" for c in conn.execute(
            select(funding_stream_t.c.code).where(and_(funding_stream_t.c.wallet_id == wallet_pk,
                                                       funding_stream_t.c.uuid.in_(streams)))).scalars()]
        accounts = select(account_t.c.id).where(account_t.c.code.in_(codes))
        start_us, end_us = _start(first), _start(last + timedelta(days=1))
        opening = conn.execute(select(func.coalesce(func.sum(posting_t.c.amount), 0)).where(and_(
            posting_t.c.account_id.in_(accounts), posting_t.c.effective_us < start_us))).scalar_one()
        in_period = conn.execute(select(
            func.count(), func.coalesce(func.sum(posting_t.c.amount), 0)).where(and_(
                posting_t.c.account_id.in_(accounts), posting_t.c.effective_us >= start_us,
                posting_t.c.effective_us < end_us,
                posting_t.c.entry_id.in_(select(entry_t.c.id).where(and_(
                    entry_t.c.book_id == book, entry_t.c.book_seq <= chain["head_sequence"])))))).one()
    # Cash accounts are assets: a debit (positive posting) is money in.
    if int(opening) != m["opening_balance"]:
        problems.append(f"opening balance: the ledger gives {int(opening)}, the export says {m['opening_balance']}")
    if in_period[0] != m["row_count"]:
        problems.append(f"completeness: the ledger has {in_period[0]} entries in the period, the export "
                        f"{m['row_count']}")
    if int(in_period[1]) != m["total_in"] - m["total_out"]:
        problems.append("completeness: the ledger's movement in the period differs from the export's")
    return problems

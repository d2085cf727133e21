"""The export writers: each turns the lines of a :class:`~wallet.exports.source.Snapshot` into bytes, as they go.

* CSV: a ZIP holding ``transactions.csv`` and ``manifest.json``, written and sent as the lines are read
  (stdlib ``zipfile`` on an unseekable sink; the manifest, with the CSV's SHA-256, is the ZIP's last member).
  Free text that a spreadsheet would run as a formula (starting ``= + - @``, tab or carriage return) gets a
  leading ``'``.
* XLSX: openpyxl's write-only workbook into a temporary file (constant memory), then sent in a ZIP with its
  manifest. Free text is always written as a string cell, never a formula. Amounts are number cells in pounds,
  written from their exact text (never through a float).
* JSON: one document streamed entry by entry: ``{"entries": [...], "manifest": {...}}``, amounts in pence;
  its manifest carries ``entries_sha256`` (see ``wallet.exports.manifest``).
* PDF: a tagged statement (PDF/UA-1 via ``payroll.rendering.html_to_pdf``: headings, table headers, title and
  language). WeasyPrint lays out the whole document in memory, so a PDF is bounded to ``MAX_PDF_LINES`` lines;
  longer periods are refused with a plain message pointing at CSV or Excel. Sent in a ZIP with its manifest.

The writers do not know Flask: they yield ``bytes`` for a streaming response (or a file, or a test).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

from ledger.db import Database
from payroll.rendering import html_to_pdf, render_template
from wallet.domain.errors import InvalidRequest
from wallet.exports.manifest import Tally, build_manifest
from wallet.exports.source import ExportFormat, ExportLine, ExportPlan, Snapshot

MAX_PDF_LINES = 5_000
"""WeasyPrint builds the whole document in memory: a PDF statement holds at most this many lines."""
CHUNK_ROWS = 250
"""Lines written between two chunks sent to the browser."""
_FILE_CHUNK = 64 * 1024
_TEMPLATES = Path(__file__).parent / "templates"

COLUMNS = ("Date", "Entry ID", "Description", "Reference", "Funder", "Category", "Money in (£)",
           "Money out (£)", "Balance (£)", "Entry hash")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TooLargeForPdf(InvalidRequest):
    def __init__(self, limit: int):
        super().__init__(f"a PDF statement can hold up to {limit:,} lines, and this period has more. Choose a "
                         "shorter period, or download a CSV or Excel file, which can hold any number of lines.")


def protect(text: str | None) -> str:
    """Free text made inert for spreadsheets (OWASP's advice on CSV injection): a leading ``'``."""
    text = text or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def pounds(pence: int) -> str:
    """1234567 -> '12345.67'; -5 -> '-0.05' (integer arithmetic, for files that software reads)."""
    whole, rem = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{rem:02d}"


def entry_dict(line: ExportLine) -> dict[str, Any]:
    return {"date": line.day.isoformat(), "effective_at": line.effective_at.isoformat(),
            "entry_id": line.entry_id, "description": line.description, "reference": line.reference,
            "funder": line.funder, "category": line.category, "money_in": line.money_in,
            "money_out": line.money_out, "balance": line.balance, "sequence": line.sequence,
            "entry_hash": line.entry_hash}


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_type(fmt: ExportFormat) -> str:
    return "application/json" if fmt is ExportFormat.JSON else "application/zip"


def file_name(plan: ExportPlan) -> str:
    return plan.file_stem() + (".json" if plan.format is ExportFormat.JSON else f"-{plan.format.value}.zip")


def stream_export(db: Database, plan: ExportPlan) -> Iterator[bytes]:
    """The export's bytes, as they are made. Nothing is read until the first chunk is asked for."""
    if plan.format is ExportFormat.CSV:
        return _zipped(db, plan, "transactions.csv", _write_csv)
    if plan.format is ExportFormat.XLSX:
        return _xlsx_zip(db, plan)
    if plan.format is ExportFormat.JSON:
        return _json_bundle(db, plan)
    raise ValueError("a PDF statement is made whole: use pdf_export")


# ---------------------------------------------------------------------- ZIP on an unseekable sink
class _Sink(io.RawIOBase):
    """Collects what zipfile writes until it is drained into the response (zipfile then uses data
    descriptors, as it does for any stream it cannot seek back in)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


class _HashingMember:
    """A ZIP member being written, hashed and measured on the way."""

    def __init__(self, member: Any):
        self.member = member
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.size += len(data)
        self.member.write(data)


def _zip_info(name: str, plan: ExportPlan) -> zipfile.ZipInfo:
    at = plan.generated_at
    info = zipfile.ZipInfo(name, date_time=(at.year, at.month, at.day, at.hour, at.minute, at.second))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _zipped(db: Database, plan: ExportPlan, name: str,
            write: Callable[[Any, ExportPlan, Iterator[ExportLine], _Sink], Iterator[None]]) -> Iterator[bytes]:
    sink = _Sink()
    with Snapshot.open(db, plan) as snap:
        tally = Tally(snap.opening)
        with zipfile.ZipFile(sink, "w") as archive:
            with archive.open(_zip_info(name, plan), "w", force_zip64=True) as raw:
                member = _HashingMember(raw)
                for _ in write(member, plan, tally.count(snap.lines()), sink):
                    chunk = sink.drain()
                    if chunk:
                        yield chunk
            tally.add_file(name, member.sha.hexdigest(), member.size)
            archive.writestr(_zip_info("manifest.json", plan),
                             json.dumps(build_manifest(plan, snap.head, tally), indent=2, ensure_ascii=False))
        yield sink.drain()


# ---------------------------------------------------------------------- CSV
def csv_row(line: ExportLine) -> list[str]:
    return [line.day.isoformat(), line.entry_id, protect(line.description), protect(line.reference),
            protect(line.funder), protect(line.category), pounds(line.money_in) if line.money_in else "",
            pounds(line.money_out) if line.money_out else "", pounds(line.balance), line.entry_hash]


def _write_csv(member: _HashingMember, plan: ExportPlan, lines: Iterator[ExportLine], sink: _Sink) -> Iterator[None]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    text.write("\ufeff")   # so that Excel reads the file as UTF-8 (the £ in the headings)
    writer.writerow(COLUMNS)
    pending = 0
    for line in lines:
        writer.writerow(csv_row(line))
        pending += 1
        if pending >= CHUNK_ROWS:
            member.write(text.getvalue().encode("utf-8"))
            text.seek(0)
            text.truncate()
            pending = 0
            yield
    member.write(text.getvalue().encode("utf-8"))
    yield


# ---------------------------------------------------------------------- XLSX
def _xlsx_zip(db: Database, plan: ExportPlan) -> Iterator[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="wallet-export-")
    os.close(handle)
    try:
        with Snapshot.open(db, plan) as snap:
            tally = Tally(snap.opening)
            book = Workbook(write_only=True)
            book.properties.creator = "Care Wallet"
            book.properties.title = f"Statement for {plan.wallet_name}"
            book.properties.created = plan.generated_at.replace(tzinfo=None)
            sheet = book.create_sheet("Transactions")
            bold = Font(bold=True)

            def text(value: str | None, *, strong: bool = False) -> Any:
                cell = WriteOnlyCell(sheet, value=value or "")
                cell.data_type = "s"    # always a string, never a formula, whatever it starts with
                if strong:
                    cell.font = bold
                return cell

            def money(pence: int, blank_zero: bool = True) -> Any:
                # A number cell holding the exact text of the amount: openpyxl would format a Decimal through
                # a float ("%.16g"), and 8231.56 would come out as 8231.559999999999.
                cell = WriteOnlyCell(sheet, value=None if blank_zero and not pence else pounds(pence))
                cell.data_type = "n"
                cell.number_format = "#,##0.00"
                return cell

            sheet.append([text(h, strong=True) for h in COLUMNS])
            for line in tally.count(snap.lines()):
                day = WriteOnlyCell(sheet, value=line.day)
                day.number_format = "yyyy-mm-dd"
                sheet.append([day, text(line.entry_id), text(line.description), text(line.reference),
                              text(line.funder), text(line.category), money(line.money_in), money(line.money_out),
                              money(line.balance, blank_zero=False), text(line.entry_hash)])
            summary = book.create_sheet("Summary")
            figures = build_manifest(plan, snap.head, tally)
            for label, value in _summary_rows(plan, figures):
                summary.append([text(label), money(value, blank_zero=False) if label.endswith("(£)")
                                else text(str(value))])
            book.save(path)
        sink = _Sink()
        with zipfile.ZipFile(sink, "w") as archive:
            name = "statement.xlsx"
            with archive.open(_zip_info(name, plan), "w", force_zip64=True) as raw:
                member = _HashingMember(raw)
                with open(path, "rb") as xlsx:
                    while chunk := xlsx.read(_FILE_CHUNK):
                        member.write(chunk)
                        out = sink.drain()
                        if out:
                            yield out
            tally.add_file(name, member.sha.hexdigest(), member.size)
            archive.writestr(_zip_info("manifest.json", plan),
                             json.dumps(build_manifest(plan, snap.head, tally), indent=2, ensure_ascii=False))
        yield sink.drain()
    finally:
        os.unlink(path)


def _summary_rows(plan: ExportPlan, m: dict[str, Any]) -> list[tuple[str, Any]]:
    last = m["chain"]["last_entry_in_period"] or {}
    return [
        ("Wallet", plan.wallet_name), ("Wallet reference", plan.wallet_reference or ""),
        ("Funder", plan.funder_label),
        ("Period", f"{plan.first_day.isoformat()} to {plan.last_day.isoformat()}"),
        ("Export ID", plan.export_id), ("Generated at", m["generated_at"]),
        ("Opening balance (£)", m["opening_balance"]),
        ("Money in (£)", m["total_in"]), ("Money out (£)", m["total_out"]),
        ("Closing balance (£)", m["closing_balance"]),
        ("Number of entries", m["row_count"]),
        ("Ledger book", m["chain"]["book"]), ("Book entries when exported", m["chain"]["head_sequence"]),
        ("Book head hash", m["chain"]["head_hash"]),
        ("Last entry in the period", last.get("id", "")), ("Its hash", last.get("hash", "")),
        ("Checksum", "The file's SHA-256 is in manifest.json beside this file"),
    ]


# ---------------------------------------------------------------------- JSON bundle
def _json_bundle(db: Database, plan: ExportPlan) -> Iterator[bytes]:
    with Snapshot.open(db, plan) as snap:
        tally = Tally(snap.opening)
        sha = hashlib.sha256()
        head = {"bundle": "care-wallet statement", "manifest_version": 1, "export_id": plan.export_id,
                "opening_balance": snap.opening}
        yield (canonical(head)[:-1] + ',"entries":[\n').encode("utf-8")
        parts: list[str] = []
        first = True
        for line in tally.count(snap.lines()):
            text = canonical(entry_dict(line))
            sha.update((text + "\n").encode("utf-8"))
            parts.append(text if first else ",\n" + text)
            first = False
            if len(parts) >= CHUNK_ROWS:
                yield "".join(parts).encode("utf-8")
                parts.clear()
        manifest = build_manifest(plan, snap.head, tally, entries_sha256=sha.hexdigest())
        parts.append("\n],\"closing_balance\":%d,\"manifest\":%s}\n" % (tally.closing, canonical(manifest)))
        yield "".join(parts).encode("utf-8")


# ---------------------------------------------------------------------- PDF (bounded)
def _bounded(db: Database, plan: ExportPlan, limit: int) -> tuple[list[ExportLine], dict[str, Any], Tally, Any]:
    with Snapshot.open(db, plan) as snap:
        tally = Tally(snap.opening)
        lines: list[ExportLine] = []
        for line in tally.count(snap.lines()):
            if len(lines) >= limit:
                raise TooLargeForPdf(limit)
            lines.append(line)
        return lines, build_manifest(plan, snap.head, tally), tally, snap.head


def statement_html(db: Database, plan: ExportPlan, *, limit: int = MAX_PDF_LINES) -> str:
    """The PDF statement's HTML: headings, a summary, every entry in a table with column headers."""
    lines, summary, _, _ = _bounded(db, plan, limit)
    return render_template(_TEMPLATES, "statement.html", plan=plan, lines=lines, m=summary)


def pdf_export(db: Database, plan: ExportPlan, *, limit: int = MAX_PDF_LINES) -> bytes:
    """The statement as a tagged PDF in a ZIP with its manifest. Raises :class:`TooLargeForPdf` past ``limit``."""
    lines, summary, tally, head = _bounded(db, plan, limit)
    pdf = html_to_pdf(render_template(_TEMPLATES, "statement.html", plan=plan, lines=lines, m=summary))
    tally.add_file("statement.pdf", hashlib.sha256(pdf).hexdigest(), len(pdf))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(_zip_info("statement.pdf", plan), pdf)
        archive.writestr(_zip_info("manifest.json", plan),
                         json.dumps(build_manifest(plan, head, tally), indent=2, ensure_ascii=False))
    return out.getvalue()

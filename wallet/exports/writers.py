"""The export writers: each turns the lines of a :class:`~wallet.exports.source.Snapshot` into bytes, as they go.

* CSV: a ZIP holding ``transactions.csv`` and ``manifest.json``, written and sent as the lines are read
  (stdlib ``zipfile`` on an unseekable sink; the manifest, with the CSV's SHA-256, is the ZIP's last member).
  Free text that a spreadsheet would run as a formula (starting ``= + - @``, tab or carriage return) gets a
  leading ``'``. The hot path: lines are made straight from :meth:`Snapshot.rows` tuples (pence formatted with
  integer divmod, cells quoted exactly as ``csv.writer`` would, see ``_write_csv``), ``CHUNK_ROWS`` at a time,
  hashed as they go; the CSV is deflated at ``DATA_LEVEL``. ``csv_row`` remains the definition the tests hold
  the fast path to.
* XLSX: openpyxl's write-only workbook into a temporary file (constant memory), then sent in a ZIP with its
  manifest. Free text is always written as a string cell, never a formula. Amounts are number cells in pounds,
  written from their exact text (never through a float).
* JSON: one document streamed entry by entry: ``{"entries": [...], "manifest": {...}}``, amounts in pence;
  its manifest carries ``entries_sha256`` (see ``wallet.exports.manifest``). Entries are written by hand with
  their keys sorted (``_json_entries``): the same text as ``canonical(entry_dict(line))``.
* PDF: a tagged statement (PDF/UA-1 via ``payroll.rendering.html_to_pdf``: headings, table headers, title and
  language). WeasyPrint lays out the whole document in memory, so a PDF is bounded to ``MAX_PDF_LINES`` lines;
  longer periods are refused with a plain message pointing at CSV or Excel. Sent in a ZIP with its manifest.
* Evidence for the period's entries (``wallet.evidence``), read in the same snapshot: every ZIP holds the
  listing ``evidence.json`` and, given the evidence store, the files as ``evidence/<sha256>.<ext>``, streamed in
  chunks and hashed as they go (a file that no longer matches its recorded SHA-256 is still included, and
  marked so in the listing); the JSON bundle lists them after its entries.

The writers do not know Flask: they yield ``bytes`` for a streaming response (or a file, or a test).
"""
from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import tempfile
import zipfile
from datetime import date, timedelta
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Callable, Iterator

from ledger.clock import US_PER_DAY, to_us

from ledger.db import Database
from payroll.rendering import html_to_pdf, render_template
from wallet.domain.errors import InvalidRequest
from wallet.exports.manifest import Tally, build_manifest
from wallet.exports.source import ExportFormat, ExportLine, ExportPlan, Snapshot
from wallet.evidence.service import ExportedEvidence, evidence_in_period
from wallet.evidence.storage import EvidenceMissing, EvidenceStore

MAX_PDF_LINES = 5_000
"""WeasyPrint builds the whole document in memory: a PDF statement holds at most this many lines."""
CHUNK_ROWS = 2_000
"""Lines written between two chunks sent to the browser (a few hundred kilobytes of CSV)."""
DATA_LEVEL = 1
"""Deflate level of a streamed data file (the CSV) in its ZIP. zlib's default (6) made a third of the CSV
export's time, 22 MB/s; level 1 deflates the same CSV over 150 MB/s, into a ZIP about a third larger. The
CSV inside, its checksum and the manifest are the same whatever the level."""
_FILE_CHUNK = 64 * 1024
_TEMPLATES = Path(__file__).parent / "templates"

COLUMNS = ("Date", "Entry ID", "Description", "Reference", "Funder", "Category", "Money in (£)",
           "Money out (£)", "Balance (£)", "Entry hash")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = "=+-@\t\r"
"""The same characters, for ``text[0] in _FORMULA_CHARS`` on a non-empty cell."""
_EPOCH_DAY = date(1970, 1, 1)


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


def stream_export(db: Database, plan: ExportPlan, *, evidence_store: EvidenceStore | None = None) -> Iterator[bytes]:
    """The export's bytes, as they are made. Nothing is read until the first chunk is asked for, except for
    XLSX, whose workbook is made here (it may raise :class:`ExportFailed`). Without ``evidence_store`` a ZIP
    lists the evidence but does not hold the files."""
    if plan.format is ExportFormat.CSV:
        return _zipped(db, plan, "transactions.csv", _write_csv, evidence_store)
    if plan.format is ExportFormat.XLSX:
        return _xlsx_zip(db, plan, evidence_store)
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


def _zip_info(name: str, plan: ExportPlan, level: int | None = None) -> zipfile.ZipInfo:
    at = plan.generated_at
    info = zipfile.ZipInfo(name, date_time=(at.year, at.month, at.day, at.hour, at.minute, at.second))
    info.compress_type = zipfile.ZIP_DEFLATED
    if level is not None:
        # ZipFile.open() takes the level from the ZipInfo it is given (None: zlib's default, 6).
        info._compresslevel = level
    return info


def _zipped(db: Database, plan: ExportPlan, name: str,
            write: Callable[[Snapshot, Tally, _HashingMember], Iterator[None]],
            evidence_store: EvidenceStore | None = None) -> Iterator[bytes]:
    sink = _Sink()
    with Snapshot.open(db, plan) as snap:
        tally = Tally(snap.opening)
        with zipfile.ZipFile(sink, "w") as archive:
            with archive.open(_zip_info(name, plan, DATA_LEVEL), "w", force_zip64=True) as raw:
                member = _HashingMember(raw)
                for _ in write(snap, tally, member):
                    chunk = sink.drain()
                    if chunk:
                        yield chunk
            tally.add_file(name, member.sha.hexdigest(), member.size)
            summary: dict[str, Any] = {}
            yield from _zip_evidence(archive, sink, plan, _period_evidence(snap), tally, evidence_store, summary)
            archive.writestr(_zip_info("manifest.json", plan),
                             json.dumps(build_manifest(plan, snap.head, tally, evidence=summary), indent=2,
                                        ensure_ascii=False))
        yield sink.drain()


# ---------------------------------------------------------------------- the rows, fast
_CENTS = tuple(f"{n:02d}" for n in range(100))
_DAYS: dict[int, str] = {}
"""Day number (since 1970-01-01) -> ISO date: an export's lines fall on a few thousand days at most."""


def _day(day_number: int) -> str:
    text = _DAYS.get(day_number)
    if text is None:
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        text = _DAYS[day_number] = (_EPOCH_DAY + timedelta(days=day_number)).isoformat()
    return text


def _iso_moment(day: str, eff_us: int) -> str:
    """``datetime.isoformat()`` of a UTC moment, from its day's text and its microseconds since the epoch."""
    seconds, micro = divmod(eff_us % US_PER_DAY, 1_000_000)
    if not seconds and not micro:
        return day + "T00:00:00+00:00"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if micro:
        return f"{day}T{hours:02d}:{minutes:02d}:{secs:02d}.{micro:06d}+00:00"
    return f"{day}T{hours:02d}:{minutes:02d}:{secs:02d}+00:00"


def _tallied(snap: Snapshot, tally: Tally) -> Iterator[tuple[str, int, int, int, Any]]:
    """The snapshot's rows with, for each, what every format writes that is worked out here:
    (day, amount, running balance, day number, row). The tally is kept as they go."""
    running = tally.opening
    rows = total_in = total_out = 0
    last_sequence, last_entry_id, last_hash = tally.last_sequence, tally.last_entry_id, tally.last_entry_hash
    day_number, day = -1 << 62, ""
    try:
        for row in snap.rows():
            amount = row[3]
            running += amount
            rows += 1
            if amount > 0:
                total_in += amount
            else:
                total_out -= amount
            if row[7] > last_sequence:
                last_sequence, last_entry_id, last_hash = row[7], row[4], row[8]
            d = row[0] // US_PER_DAY
            if d != day_number:
                day_number, day = d, _day(d)
            yield day, amount, running, d, row
    finally:
        tally.rows += rows
        tally.total_in += total_in
        tally.total_out += total_out
        tally.last_sequence, tally.last_entry_id, tally.last_entry_hash = last_sequence, last_entry_id, last_hash


# ---------------------------------------------------------------------- CSV
def csv_row(line: ExportLine) -> list[str]:
    return [line.day.isoformat(), line.entry_id, protect(line.description), protect(line.reference),
            protect(line.funder), protect(line.category), pounds(line.money_in) if line.money_in else "",
            pounds(line.money_out) if line.money_out else "", pounds(line.balance), line.entry_hash]


def _csv_cell(text: str) -> str:
    """A cell as ``csv.writer`` (QUOTE_MINIMAL, ``\\r\\n``) writes it: quoted, quotes doubled, if it holds a comma,
    a quote or a line break."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _write_csv(snap: Snapshot, tally: Tally, member: _HashingMember) -> Iterator[None]:
    """The same bytes as ``csv.writer`` writing :func:`csv_row` of each :class:`ExportLine`, made straight from
    the rows: the free text is protected (a look at its first character) and quoted as needed; the funder and
    category are a few texts, done once each; dates and amounts (integer pence, divmod) cannot need quoting.
    The tally is kept here too (this loop runs once per line: no layer more than it needs). Sent every
    CHUNK_ROWS lines."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\r\n").writerow(COLUMNS)
    member.write(("\ufeff" + header.getvalue()).encode("utf-8"))   # the BOM: Excel then reads UTF-8 (the £)
    funders = tuple(_csv_cell(protect(f)) for f in snap.funders)
    categories: dict[str, str] = {}
    category = snap.category
    amounts: dict[int, str] = {}
    cents = _CENTS
    formula = _FORMULA_CHARS
    cell = _csv_cell
    running = tally.opening
    rows = total_in = total_out = last_sequence = 0
    last_entry_id = last_hash = None
    day_number, day = -1 << 62, ""
    pending: list[str] = []
    try:
        for eff_us, index, _, amount, entry_id, description, reference, sequence, digest, other in snap.rows():
            running += amount
            if amount > 0:
                total_in += amount
            else:
                total_out -= amount
            if sequence > last_sequence:
                last_sequence, last_entry_id, last_hash = sequence, entry_id, digest
            if eff_us // US_PER_DAY != day_number:
                day_number = eff_us // US_PER_DAY
                day = _day(day_number)
            named = category(entry_id, other, amount)
            shown = categories.get(named)
            if shown is None:
                shown = categories[named] = cell(protect(named))
            money = amounts.get(amount)
            if money is None:
                if len(amounts) > 10_000:
                    amounts.clear()
                money = amounts[amount] = (pounds(amount) + ",") if amount > 0 else ("," + pounds(-amount))
            if running >= 0:
                whole, rem = divmod(running, 100)
                balance = f"{whole}.{cents[rem]}"
            else:
                balance = pounds(running)
            if description:
                if description[0] in formula:
                    description = "'" + description
                if "," in description or '"' in description or "\n" in description or "\r" in description:
                    description = cell(description)
            if reference:
                if reference[0] in formula:
                    reference = "'" + reference
                reference = cell(reference)
            else:
                reference = ""
            ids = entry_id + digest     # the ledger's uuid and SHA-256 hex: never quoted, but checked
            if "," in ids or '"' in ids or "\n" in ids or "\r" in ids:
                entry_id, digest = cell(entry_id), cell(digest)
            pending.append(f"{day},{entry_id},{description},{reference},{funders[index]},{shown},{money},"
                           f"{balance},{digest}\r\n")
            if len(pending) >= CHUNK_ROWS:
                rows += len(pending)
                member.write("".join(pending).encode("utf-8"))
                pending.clear()
                yield
        rows += len(pending)
        member.write("".join(pending).encode("utf-8"))
        yield
    finally:
        tally.rows, tally.total_in, tally.total_out = rows, total_in, total_out
        tally.last_sequence, tally.last_entry_id, tally.last_entry_hash = last_sequence, last_entry_id, last_hash


# ---------------------------------------------------------------------- XLSX
class ExportFailed(Exception):
    """The export could not be made on this server (its disk is full, say). Nothing in the books changed and
    nothing was sent; the message says so in plain words."""


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _failed(exc: OSError) -> ExportFailed:
    if exc.errno in _DISK_FULL:
        return ExportFailed("The export could not be made because the server has run out of disk space. Nothing "
                            "was changed. Please try again later, or choose CSV, which needs no space on the server.")
    return ExportFailed(f"The export could not be made ({exc.strerror or 'the server could not write it'}). Nothing "
                        "was changed. Please try again later.")


def _xlsx_zip(db: Database, plan: ExportPlan, evidence_store: EvidenceStore | None = None) -> Iterator[bytes]:
    """The workbook is made in a temporary file before the first byte is sent, so a disk that fills up shows as
    :class:`ExportFailed` here (the page can say so) rather than as a download cut short. The file is unlinked
    as soon as it is open again for sending: it never outlives the export, however the download ends."""
    try:
        workbook, snap_head, tally, found = _xlsx_file(db, plan)
    except OSError as exc:
        raise _failed(exc) from exc
    return _xlsx_send(workbook, plan, snap_head, tally, found, evidence_store)


def _xlsx_file(db: Database, plan: ExportPlan) -> tuple[Any, Any, Tally, list[ExportedEvidence]]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="wallet-export-")
    os.close(handle)
    book = None
    try:
        with Snapshot.open(db, plan) as snap:
            tally = Tally(snap.opening)
            found = _period_evidence(snap)
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
            head = snap.head
        workbook = open(path, "rb")
    finally:
        os.unlink(path)
        if book is not None:
            _drop_sheet_files(book)
    return workbook, head, tally, found


def _drop_sheet_files(book: Any) -> None:
    """A write-only sheet streams its rows to a temporary file of its own, removed by a save that finishes; when
    the save fails (a full disk) openpyxl would leave them until the process exits."""
    for sheet in book.worksheets:
        writer = getattr(sheet, "_writer", None)
        out = getattr(writer, "out", None)
        if out and os.path.exists(out):
            for close in (getattr(getattr(sheet, "_rows", None), "close", None), writer.close):
                try:   # the row stream first: left open, it would write to the closed file when collected
                    if close is not None:
                        close()
                except Exception:   # noqa: BLE001  (already failing; the file goes either way)
                    pass
            writer.cleanup()


def _xlsx_send(xlsx: Any, plan: ExportPlan, head: Any, tally: Tally, found: list[ExportedEvidence],
               evidence_store: EvidenceStore | None) -> Iterator[bytes]:
    with xlsx:
        sink = _Sink()
        with zipfile.ZipFile(sink, "w") as archive:
            name = "statement.xlsx"
            with archive.open(_zip_info(name, plan), "w", force_zip64=True) as raw:
                member = _HashingMember(raw)
                while chunk := xlsx.read(_FILE_CHUNK):
                    member.write(chunk)
                    out = sink.drain()
                    if out:
                        yield out
            tally.add_file(name, member.sha.hexdigest(), member.size)
            summary: dict[str, Any] = {}
            yield from _zip_evidence(archive, sink, plan, found, tally, evidence_store, summary)
            archive.writestr(_zip_info("manifest.json", plan),
                             json.dumps(build_manifest(plan, head, tally, evidence=summary), indent=2,
                                        ensure_ascii=False))
        yield sink.drain()


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
        sent = 0
        for text in _json_entries(snap, tally):
            parts.append(text)
            if len(parts) >= CHUNK_ROWS:
                yield _json_chunk(parts, sha, sent > 0)
                sent += len(parts)
                parts.clear()
        out = _json_chunk(parts, sha, sent > 0) if parts else b""
        # The evidence listing: one canonical item a line, hashed as the entries are (each followed by a newline).
        listed = [canonical(e.as_dict()) for e in _period_evidence(snap)]
        listing_sha = hashlib.sha256("".join(item + "\n" for item in listed).encode("utf-8")).hexdigest()
        manifest = build_manifest(plan, snap.head, tally, entries_sha256=sha.hexdigest(),
                                  evidence={"count": len(listed), "listing_sha256": listing_sha,
                                            "files_included": False})
        yield out + ("\n],\"closing_balance\":%d,\"evidence\":[%s],\"manifest\":%s}\n" % (
            tally.closing, ",\n".join(listed), canonical(manifest))).encode("utf-8")


def _json_chunk(parts: list[str], sha: Any, after_others: bool) -> bytes:
    """Entries as the bundle holds them (``,\\n`` between two), hashed as the manifest says (each followed by a
    newline)."""
    sha.update(("\n".join(parts) + "\n").encode("utf-8"))
    return (",\n" if after_others else "").encode("utf-8") + ",\n".join(parts).encode("utf-8")


def _json_entries(snap: Snapshot, tally: Tally) -> Iterator[str]:
    """Each entry as ``canonical(entry_dict(line))`` writes it (keys sorted, no spaces, not ASCII-escaped),
    made straight from the rows."""
    enc = encode_basestring
    funders = tuple(enc(f) for f in snap.funders)
    categories: dict[str, str] = {}
    category = snap.category
    day_seen, day_text = "", ""
    for day, amount, running, _, (eff_us, index, _, _, entry_id, description, reference, sequence, digest,
                                  other) in _tallied(snap, tally):
        named = category(entry_id, other, amount)
        shown = categories.get(named)
        if shown is None:
            shown = categories[named] = enc(named)
        if day is not day_seen:
            day_seen, day_text = day, '"' + day + '"'
        yield (f'{{"balance":{running},"category":{shown},"date":{day_text},"description":{enc(description)},'
               f'"effective_at":"{_iso_moment(day, eff_us)}","entry_hash":{enc(digest)},'
               f'"entry_id":{enc(entry_id)},"funder":{funders[index]},'
               f'"money_in":{amount if amount > 0 else 0},"money_out":{-amount if amount < 0 else 0},'
               f'"reference":{"null" if reference is None else enc(reference)},"sequence":{sequence}}}')


# ---------------------------------------------------------------------- PDF (bounded)
def _bounded(db: Database, plan: ExportPlan, limit: int,
             evidence: list[Any] | None = None) -> tuple[list[ExportLine], dict[str, Any], Tally, Any]:
    """The lines (at most ``limit``); the period's evidence records are appended to ``evidence`` if given."""
    with Snapshot.open(db, plan) as snap:
        tally = Tally(snap.opening)
        lines: list[ExportLine] = []
        for line in tally.count(snap.lines()):
            if len(lines) >= limit:
                raise TooLargeForPdf(limit)
            lines.append(line)
        if evidence is not None:
            evidence.extend(_period_evidence(snap))
        return lines, build_manifest(plan, snap.head, tally), tally, snap.head


def statement_html(db: Database, plan: ExportPlan, *, limit: int = MAX_PDF_LINES) -> str:
    """The PDF statement's HTML: headings, a summary, every entry in a table with column headers."""
    lines, summary, _, _ = _bounded(db, plan, limit)
    return render_template(_TEMPLATES, "statement.html", plan=plan, lines=lines, m=summary)


def pdf_export(db: Database, plan: ExportPlan, *, limit: int = MAX_PDF_LINES,
               evidence_store: EvidenceStore | None = None) -> bytes:
    """The statement as a tagged PDF in a ZIP with its manifest. Raises :class:`TooLargeForPdf` past ``limit``."""
    found: list[Any] = []
    lines, summary, tally, head = _bounded(db, plan, limit, found)
    pdf = html_to_pdf(render_template(_TEMPLATES, "statement.html", plan=plan, lines=lines, m=summary))
    tally.add_file("statement.pdf", hashlib.sha256(pdf).hexdigest(), len(pdf))
    sink = _Sink()
    parts: list[bytes] = []
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr(_zip_info("statement.pdf", plan), pdf)
        evidence: dict[str, Any] = {}
        parts.extend(_zip_evidence(archive, sink, plan, found, tally, evidence_store, evidence))
        archive.writestr(_zip_info("manifest.json", plan),
                         json.dumps(build_manifest(plan, head, tally, evidence=evidence), indent=2,
                                    ensure_ascii=False))
    parts.append(sink.drain())
    return b"".join(parts)


# ---------------------------------------------------------------------- evidence
def _period_evidence(snap: Snapshot) -> list[ExportedEvidence]:
    """Evidence records of the entries this export holds, read in the export's snapshot."""
    return evidence_in_period(snap.conn, snap.plan.wallet_id, [snap._cash(s) for s in snap.plan.streams],
                              to_us(snap.plan.opens_at), to_us(snap.plan.ends_at))


def _zip_evidence(archive: zipfile.ZipFile, sink: _Sink, plan: ExportPlan, found: list[ExportedEvidence],
                  tally: Tally, store: EvidenceStore | None, summary: dict[str, Any]) -> Iterator[bytes]:
    """Write ``evidence/<sha256>.<ext>`` for each file (once, however many records name it) and the listing
    ``evidence.json``; each goes into the manifest's ``files``. Fills ``summary`` for the manifest."""
    summary.update(count=len(found), files_included=store is not None)
    if not found:
        return
    written: dict[str, dict[str, Any]] = {}
    for item in found:
        if store is None or item.sha256 in written:
            continue
        name = item.archive_name
        try:
            handle = store.open(item.sha256)
        except EvidenceMissing:
            written[item.sha256] = {"file": None, "file_included": False, "problem": "missing from the store"}
            continue
        with handle, archive.open(_zip_info(name, plan, DATA_LEVEL), "w", force_zip64=True) as raw:
            member = _HashingMember(raw)
            while chunk := handle.read(_FILE_CHUNK):
                member.write(chunk)
                out = sink.drain()
                if out:
                    yield out
        tally.add_file(name, member.sha.hexdigest(), member.size)
        matches = member.sha.hexdigest() == item.sha256
        written[item.sha256] = {"file": name, "file_included": True, "matches_record": matches}
        if not matches:
            written[item.sha256]["problem"] = "the stored file no longer matches its recorded SHA-256"
    listing = [{**item.as_dict(), **written.get(item.sha256, {"file": None, "file_included": False})}
               for item in found]
    data = json.dumps({"evidence": listing}, indent=2, ensure_ascii=False).encode("utf-8")
    archive.writestr(_zip_info("evidence.json", plan), data)
    tally.add_file("evidence.json", hashlib.sha256(data).hexdigest(), len(data))
    summary.update(listing="evidence.json",
                   problems=[f"{v['file'] or k}: {v['problem']}" for k, v in written.items() if "problem" in v])
    out = sink.drain()
    if out:
        yield out

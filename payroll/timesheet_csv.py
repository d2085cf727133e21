"""Reading a timesheet from a CSV file, as a PA or their employer would keep it in a spreadsheet.

One row a shift or an absence, under a heading row naming the columns (any order, any case)::

    date,start,end,kind,note,hours
    06/04/2026,09:00,17:00,standard,Morning and afternoon,
    06/04/2026,22:00,07:00,sleep_in,,             <- ends the next morning: a shift over midnight
    10/04/2026,,,sick,,
    13/04/2026,,,holiday,,7.5

Dates are day first (06/04/2026) or ISO (2026-04-06); times are 24-hour HH:MM in UK time (Europe/London), so a
shift across the clock change counts the hours really worked. A time the clocks skip (01:30 on the last Sunday
of March) is refused; a time that happens twice (01:30 on the last Sunday of October) is the first of the two.

The file is refused whole, with every row at fault named ("row 4: end time 25:00 is not a time"), rather than
read in part. Cells a spreadsheet would run as a formula (starting = + - @, tab or carriage return) are refused:
a timesheet has no use for them. Pure: bytes in, shifts and absences out; nothing here stores anything.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from payroll.model import Absence, HourKind, Shift
from payroll.timesheets import ABSENCE_KINDS

UK = ZoneInfo("Europe/London")
MAX_BYTES = 256 * 1024
"""A month of shifts for one PA is a few kilobytes."""
MAX_ROWS = 1_000
MAX_NOTE = 500
MAX_PROBLEMS = 20
"""Past this many faulty rows the file is plainly not a timesheet; the rest are not listed."""
MAX_ABSENCE_HOURS = Decimal(24)
COLUMNS = ("date", "start", "end", "kind", "note", "hours")
REQUIRED = ("date", "kind")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_HOURS = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2})?")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


class TimesheetFileError(ValueError):
    """The file cannot be read as a timesheet; ``problems`` names each row at fault, one plain sentence each."""

    def __init__(self, problems: list[str] | tuple[str, ...] | str) -> None:
        self.problems: tuple[str, ...] = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class TimesheetRows:
    shifts: tuple[Shift, ...]
    absences: tuple[Absence, ...]


def read_timesheet_csv(data: bytes) -> TimesheetRows:
    """The shifts and absences in a timesheet CSV, or :class:`TimesheetFileError` naming every faulty row."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:   # the size cap bounds this
        records = [(n, row) for n, row in enumerate(reader, start=1) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise TimesheetFileError(f"row {reader.line_num}: the file is not valid CSV ({exc})") from None
    if not records:
        raise TimesheetFileError("the file has no heading row (date,start,end,kind,note,hours)")
    if len(records) > MAX_ROWS + 1:
        raise TimesheetFileError(f"the file has more than {MAX_ROWS:,} rows; a timesheet is much shorter")
    columns = _heading(records[0][0], records[0][1])
    shifts: list[Shift] = []
    absences: list[Absence] = []
    problems: list[str] = []
    for number, row in records[1:]:
        try:
            made = _row(row, columns, f"row {number}")
        except TimesheetFileError as exc:
            problems.extend(exc.problems)
            if len(problems) >= MAX_PROBLEMS:
                problems.append("(more rows not checked)")
                break
            continue
        (shifts if isinstance(made, Shift) else absences).append(made)
    if problems:
        raise TimesheetFileError(problems)
    if not shifts and not absences:
        raise TimesheetFileError("the file has no shifts or absences under its heading row")
    return TimesheetRows(tuple(shifts), tuple(absences))


def _decode(data: bytes) -> str:
    if not isinstance(data, (bytes, bytearray)):
        raise TimesheetFileError("a timesheet file is bytes")
    if len(data) > MAX_BYTES:
        raise TimesheetFileError(f"the file is larger than {MAX_BYTES // 1024} KB; a timesheet is much smaller")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TimesheetFileError(f"the file is not UTF-8 text (byte {exc.start + 1} is not); save it from the "
                                 "spreadsheet as \"CSV UTF-8\"") from None
    if "\x00" in text:
        raise TimesheetFileError("the file is not text (it holds NUL characters); save it as CSV")
    return text


def _heading(number: int, row: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in row]
    while names and not names[-1]:
        names.pop()
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        shown = ", ".join(repr(n[:40]) for n in unknown[:5])
        raise TimesheetFileError(f"row {number}: unknown column(s) {shown}; the columns are {', '.join(COLUMNS)}")
    if len(set(names)) != len(names):
        raise TimesheetFileError(f"row {number}: a column is named twice")
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise TimesheetFileError(f"row {number}: the heading row needs the column(s) {', '.join(missing)}")
    return {name: k for k, name in enumerate(names)}


def _row(row: list[str], columns: dict[str, int], label: str) -> Shift | Absence:
    if len(row) > len(columns) and any(c.strip() for c in row[len(columns):]):
        raise TimesheetFileError(f"{label}: it has {len(row)} cells but the heading row names {len(columns)}")
    cells = {name: (row[k].strip() if k < len(row) else "") for name, k in columns.items()}
    for name, k in columns.items():
        raw = row[k] if k < len(row) else ""
        if raw.startswith(_FORMULA_START) or raw.strip().startswith(_FORMULA_START[:4]):
            raise TimesheetFileError(f"{label}: the {name} starts with {raw.strip()[:1] or 'a control character'!r}, "
                                     "which a spreadsheet would run as a formula; remove it")
    if len(cells.get("note", "")) > MAX_NOTE:
        raise TimesheetFileError(f"{label}: the note is longer than {MAX_NOTE} characters")
    day = _date(cells["date"], label)
    kind = cells["kind"].lower() or "standard"
    if kind in ABSENCE_KINDS:
        if cells.get("start") or cells.get("end"):
            raise TimesheetFileError(f"{label}: a {kind} day has no start or end time; leave them empty")
        return Absence(day, kind, _hours(cells.get("hours", ""), label))
    try:
        hour_kind = HourKind(kind)
    except ValueError:
        allowed = ", ".join([k.value for k in HourKind] + list(ABSENCE_KINDS))
        raise TimesheetFileError(f"{label}: kind {cells['kind'][:40]!r} is not one of {allowed}") from None
    if cells.get("hours"):
        raise TimesheetFileError(f"{label}: a shift's hours come from its start and end; leave hours empty")
    start_text, end_text = cells.get("start", ""), cells.get("end", "")
    if not start_text or not end_text:
        raise TimesheetFileError(f"{label}: a shift needs a start and an end time (HH:MM)")
    start_at, end_at = _clock(start_text, "start", label), _clock(end_text, "end", label)
    if start_at == end_at:
        raise TimesheetFileError(f"{label}: the shift ends when it starts ({start_text})")
    starts = _uk(day, start_at, "start", label)
    end_day = day if end_at > start_at else day + timedelta(days=1)   # ends earlier in the day: the next day
    return Shift(starts, _uk(end_day, end_at, "end", label), hour_kind, cells.get("note", ""))


def _date(text: str, label: str) -> date:
    if not text:
        raise TimesheetFileError(f"{label}: the date is empty")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise TimesheetFileError(f"{label}: date {text[:40]} is not a date (write it as 06/04/2026 or 2026-04-06)")


def _clock(text: str, what: str, label: str) -> time:
    found = _TIME.fullmatch(text)
    if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        raise TimesheetFileError(f"{label}: {what} time {text[:40]} is not a time (use 24-hour HH:MM, e.g. 09:30)")
    return time(int(found.group(1)), int(found.group(2)))


def _uk(day: date, at: time, what: str, label: str) -> datetime:
    moment = datetime.combine(day, at, tzinfo=UK)   # fold 0: the first of a time that happens twice
    back = moment.astimezone(timezone.utc).astimezone(UK)
    if (back.date(), back.time()) != (day, at):
        raise TimesheetFileError(f"{label}: {what} time {at:%H:%M} on {day:%d/%m/%Y} does not exist in UK time "
                                 "(the clocks go forward an hour that night)")
    return moment


def _hours(text: str, label: str) -> Decimal:
    if not text:
        return Decimal(0)
    if not _HOURS.fullmatch(text):
        raise TimesheetFileError(f"{label}: hours {text[:40]} is not a number of hours such as 7.5")
    try:
        hours = Decimal(text)
    except InvalidOperation:   # the pattern admits only plain decimals; kept for safety
        raise TimesheetFileError(f"{label}: hours {text[:40]} is not a number of hours such as 7.5") from None
    if hours > MAX_ABSENCE_HOURS:
        raise TimesheetFileError(f"{label}: hours {text} is more than a day ({MAX_ABSENCE_HOURS} hours)")
    return hours


__all__ = ["read_timesheet_csv", "TimesheetRows", "TimesheetFileError", "MAX_BYTES", "MAX_ROWS", "COLUMNS"]

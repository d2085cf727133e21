"""Timesheet CSV files: UK dates and times, shifts over midnight and across the clock changes, clear per-row
refusals, and (Hypothesis) whatever bytes arrive, either shifts and absences or ``TimesheetFileError``."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import click
import pytest
from hypothesis import given, settings, strategies as st

from payroll.model import Absence, HourKind, Shift
from payroll.timesheet_csv import MAX_BYTES, TimesheetFileError, read_timesheet_csv
from payroll.timesheets import elapsed, to_hours
from wallet.commands.payroll_cmds import _entries

UK_SAMPLE = (b"date,start,end,kind,note,hours\r\n"
             b"06/04/2026,09:00,17:00,standard,Morning and afternoon,\r\n"
             b"2026-04-07,22:00,07:00,sleep_in,,\r\n"
             b"10/04/2026,,,sick,,\r\n"
             b"13/04/2026,,,holiday,,7.5\r\n")


def test_a_spreadsheet_export_reads_exactly():
    rows = read_timesheet_csv(b"\xef\xbb\xbf" + UK_SAMPLE)            # Excel's "CSV UTF-8": a BOM and CRLF
    day, night = rows.shifts
    assert (day.kind, day.note, to_hours(elapsed(day))) == (HourKind.STANDARD, "Morning and afternoon", Decimal(8))
    assert day.starts.isoformat() == "2026-04-06T09:00:00+01:00"
    assert (night.kind, night.starts.date(), night.ends.date()) == (HourKind.SLEEP_IN, date(2026, 4, 7),
                                                                    date(2026, 4, 8))   # over midnight
    assert to_hours(elapsed(night)) == Decimal(9)
    assert rows.absences == (Absence(date(2026, 4, 10), "sick", Decimal(0)),
                             Absence(date(2026, 4, 13), "holiday", Decimal("7.5")))


def test_columns_in_any_order_and_case_and_only_those_needed():
    rows = read_timesheet_csv(b"Kind,Date,End,Start\nnight,06/04/2026,23:30,20:00\n")
    assert rows.shifts[0].kind is HourKind.NIGHT and to_hours(elapsed(rows.shifts[0])) == Decimal("3.5")


@pytest.mark.parametrize("day,start,end,hours", [
    ("28/03/2026", "22:00", "07:00", Decimal(8)),     # the clocks go forward at 01:00 on 29 March 2026
    ("24/10/2026", "22:00", "07:00", Decimal(10)),    # and back at 02:00 on 25 October 2026
    ("25/10/2026", "01:30", "01:15", Decimal("24.75")),  # the first 01:30 (BST) to 01:15 GMT the next night
    ("25/10/2026", "00:30", "01:15", Decimal("0.75")),
])
def test_shifts_across_the_clock_changes_count_the_hours_worked(day, start, end, hours):
    shift = read_timesheet_csv(f"date,start,end,kind\n{day},{start},{end},standard\n".encode()).shifts[0]
    assert to_hours(elapsed(shift)) == hours


def test_a_time_that_happens_twice_in_october_is_the_first_of_the_two():
    shift = read_timesheet_csv(b"date,start,end,kind\n25/10/2026,01:30,03:00,standard\n").shifts[0]
    assert shift.starts.astimezone(timezone.utc) == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)   # BST
    assert to_hours(elapsed(shift)) == Decimal("2.50")


@pytest.mark.parametrize("body,message", [
    (b"date,start,end,kind\n06/04/2026,09:00,25:00,standard\n", "row 2: end time 25:00 is not a time"),
    (b"date,start,end,kind\n06/04/2026,9.00,17:00,standard\n", "row 2: start time 9.00 is not a time"),
    (b"date,start,end,kind\n\n06/04/2026,09:00,17:00,standard\n31/04/2026,09:00,17:00,standard\n",
     "row 4: date 31/04/2026 is not a date"),
    (b"date,start,end,kind\n04/06/26,09:00,17:00,standard\n", "row 2: date 04/06/26 is not a date"),
    (b"date,start,end,kind\n29/03/2026,01:30,06:00,standard\n",
     "row 2: start time 01:30 on 29/03/2026 does not exist in UK time"),
    (b"date,start,end,kind\n06/04/2026,09:00,09:00,standard\n", "row 2: the shift ends when it starts"),
    (b"date,start,end,kind\n06/04/2026,09:00,17:00,overtime\n", "row 2: kind 'overtime' is not one of"),
    (b"date,start,end,kind\n06/04/2026,09:00,,standard\n", "row 2: a shift needs a start and an end time"),
    (b"date,start,end,kind\n06/04/2026,09:00,17:00,sick\n", "row 2: a sick day has no start or end time"),
    (b"date,kind,hours\n06/04/2026,holiday,30\n", "row 2: hours 30 is more than a day"),
    (b"date,kind,hours\n06/04/2026,holiday,NaN\n", "row 2: hours NaN is not a number of hours"),
    (b"date,kind,hours\n06/04/2026,holiday,1e3\n", "row 2: hours 1e3 is not a number of hours"),
    (b"date,start,end,kind,note\n06/04/2026,09:00,17:00,standard,=HYPERLINK(\"x\")\n",
     "row 2: the note starts with '=', which a spreadsheet would run as a formula"),
    (b"date,start,end,kind,note\n06/04/2026,09:00,17:00,standard,@SUM(A1)\n", "row 2: the note starts with '@'"),
    (b"date,start,end,kind,hours\n06/04/2026,,,holiday,-7\n", "row 2: the hours starts with '-'"),
    (b"date,start,end,kind\n06/04/2026,09:00,17:00,standard,extra\n", "row 2: it has 5 cells"),
    (b"date,start,end,kind,pay\n", "row 1: unknown column(s) 'pay'"),
    (b"date,start,end\n", "row 1: the heading row needs the column(s) kind"),
    (b"date,kind,Date\n", "row 1: a column is named twice"),
    (b"date,start,end,kind\n", "no shifts or absences"),
    (b"", "no heading row"),
    (b"date,kind\n06/04/2026,sick\n\xa3\n", "not UTF-8 text (byte 27 is not)"),
    (b"date,kind\n06/04/2026,sick\x00\n", "not text"),
    (b"date,kind,note\n06/04/2026,sick," + b"x" * 501 + b"\n", "row 2: the note is longer than 500"),
    (b"date,kind\n" + b"06/04/2026,sick\n" * 20_000, "larger than 256 KB"),
    (b"date,kind\n" + b"06/04/2026,sick\n" * 1_001, "more than 1,000 rows"),
])
def test_a_faulty_file_is_refused_naming_the_row(body, message):
    with pytest.raises(TimesheetFileError) as refused:
        read_timesheet_csv(body)
    assert message in str(refused.value)


def test_every_faulty_row_is_named_at_once():
    body = b"date,start,end,kind\n06/04/2026,09:00,25:00,standard\n07/04/2026,09:00,17:00,standard\n" \
           b"08/04/2026,09:00,17:00,cake\n"
    with pytest.raises(TimesheetFileError) as refused:
        read_timesheet_csv(body)
    assert [p.split(":")[0] for p in refused.value.problems] == ["row 2", "row 4"]


# ---------------------------------------------------------------------- fuzzing
LINES = UK_SAMPLE.split(b"\r\n")
TOKENS = [b",", b"\"", b"\r\n", b"\n", b"\x00", b"\xff", b"\xef\xbb\xbf", b"=", b"@", b"-", b"+", b"24:00",
          b"00:00", b"29/03/2026", b"25/10/2026", b"01:30", b"31/02/2026", b"sleep_in", b"holiday", b"9" * 40,
          b"NaN", b"1e999999", "\u00e9\u2028".encode(), b"\t"]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(b"\r\n".join([LINES[0], *draw(st.lists(st.sampled_from(LINES[1:-1]), max_size=8))]))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif choice == 1:
            del data[at:at + draw(st.integers(1, 12))]
        elif choice == 2:
            data[at:at] = draw(st.binary(max_size=8))
        else:
            data[at:at] = draw(st.text(max_size=8)).encode()
    return bytes(data)


def _check_read(data: bytes) -> None:
    try:
        rows = read_timesheet_csv(data)
    except TimesheetFileError as refused:
        assert refused.problems and all(isinstance(p, str) and p for p in refused.problems)
        return
    for shift in rows.shifts:
        assert isinstance(shift, Shift) and shift.starts.utcoffset() is not None
        assert timedelta(0) < elapsed(shift) <= timedelta(hours=25)   # 24h of clock time and one clock change
        assert isinstance(shift.note, str) and not shift.note.startswith(("=", "+", "-", "@"))
    for absence in rows.absences:
        assert isinstance(absence.hours, Decimal) and Decimal(0) <= absence.hours <= 24


@settings(max_examples=200, deadline=None)
@given(mutated())
def test_fuzz_mutated_timesheets_read_or_are_refused_clearly(data):
    _check_read(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_arbitrary_bytes_read_or_are_refused_clearly(data):
    _check_read(data)


def test_oversized_input_is_refused_before_it_is_read():
    with pytest.raises(TimesheetFileError, match="larger than"):
        read_timesheet_csv(b"date,kind\n" + b"x" * MAX_BYTES)


# ---------------------------------------------------------------------- the JSON reader, likewise
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.sampled_from(["2026-04-06T09:00", "2026-04-06T17:00", "2026-04-06", "sick", "holiday", "NaN", "-Infinity",
                       "1e999999", "12.50", "7.5", "standard", "night", "start", "end", "shifts", "absences"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["shifts", "absences", "expenses", "start", "end", "kind", "note", "day", "hours", "x"]),
        inner, max_size=5),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_fuzz_timesheet_json_reads_or_is_refused_clearly(data):
    try:
        shifts, absences, expenses = _entries(json.loads(json.dumps(data)), "shifts.json")
    except click.BadParameter as refused:
        assert refused.message
        return
    assert isinstance(expenses, int) and not isinstance(expenses, bool)
    assert all(s.starts.utcoffset() is not None and s.ends.utcoffset() is not None for s in shifts)
    assert all(a.hours.is_finite() and 0 <= a.hours <= 24 for a in absences)

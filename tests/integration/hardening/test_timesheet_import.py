"""`wallet payroll timesheet add` with a CSV file, on SQLite and PostgreSQL: a good file is saved as a draft with
the hours worked; a bad one (bad row, formula cell, not UTF-8, too big) is refused with the row named and
nothing is written."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from ledger.db import make_engine
from payroll.timesheets import elapsed, to_hours
from tests.integration.payroll.test_cli import new_id, wallet  # noqa: F401  (fixture)


@pytest.fixture
def employee(wallet):  # noqa: F811
    employer = new_id(wallet("employer", "add", "--name", "Ben Ode", "--paye-reference", "120/B120",
                             "--accounts-office-reference", "120PA00054321", "--by", "admin").output, "Employer")
    made = new_id(wallet("employee", "add", "--employer", employer, "--payroll-id", "7", "--forenames", "Kim",
                         "--surname", "Lo", "--birth-date", "1985-01-02", "--start-date", "2026-01-05",
                         "--tax-code", "1257L", "--no-bank", "--by", "admin", input="\n").output, "Employee")
    out = wallet("contract", "add", "--employee", made, "--starts", "2026-01-05", "--standard", "14.00",
                 "--sleep-in", "80.00", "--by", "admin")
    assert out.exit_code == 0, out.output
    return made


def _timesheets(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM payroll_timesheet")).scalar_one()
    finally:
        engine.dispose()


def _add(wallet, employee, path, *extra, start="2026-03-23", end="2026-04-05"):  # noqa: F811
    return wallet("timesheet", "add", "--employee", employee, "--from", start, "--to", end, "--file", str(path),
                  *extra, "--by", "kim")


def test_a_csv_timesheet_is_saved_with_the_hours_really_worked(wallet, employee, tmp_path):  # noqa: F811
    path = tmp_path / "march.csv"
    # Excel's "CSV UTF-8": a byte-order mark and CRLF line ends; a sleep-in across the March clock change.
    path.write_bytes(b"\xef\xbb\xbfDate,Start,End,Kind,Note,Hours\r\n"
                     b"23/03/2026,09:00,17:00,standard,First day,\r\n"
                     b"2026-03-28,22:00,07:00,sleep_in,Clocks go forward,\r\n"
                     b"30/03/2026,,,sick,,\r\n"
                     b"31/03/2026,,,holiday,,7.5\r\n")
    out = _add(wallet, employee, path)
    assert out.exit_code == 0, out.output
    assert "2 shifts, 2 absences" in out.output
    sheet_id = new_id(out.output, "Timesheet")
    assert _timesheets(wallet.url) == 1
    # It goes through the usual checks and approval like a JSON timesheet.
    assert wallet("timesheet", "submit", sheet_id, "--by", "kim").exit_code == 0
    approved = wallet("timesheet", "approve", sheet_id, "--by", "ben")
    assert approved.exit_code == 0, approved.output


def test_the_saved_shifts_are_uk_time_and_cross_midnight(wallet, employee, tmp_path, key_service):  # noqa: F811
    path = tmp_path / "sheet.txt"
    path.write_text("date,start,end,kind\n28/03/2026,22:00,07:00,sleep_in\n24/03/2026,20:00,23:30,standard\n")
    out = _add(wallet, employee, path, "--format", "csv")
    assert out.exit_code == 0, out.output
    sheet = key_service.get_timesheet(new_id(out.output, "Timesheet"))
    night, evening = sorted(sheet.shifts, key=lambda s: s.starts, reverse=True)
    assert (night.starts.date(), night.ends.date()) == (date(2026, 3, 28), date(2026, 3, 29))
    assert to_hours(elapsed(night)) == Decimal(8)          # 22:00 GMT to 07:00 BST: an hour less
    assert to_hours(elapsed(evening)) == Decimal("3.5")


@pytest.fixture
def key_service(wallet, monkeypatch):  # noqa: F811
    import os

    from payroll.sealed import FieldCipher
    from payroll.service import PayrollService

    engine = make_engine(wallet.url)
    yield PayrollService(engine, FieldCipher([os.environ["WALLET_ENCRYPTION_KEYS"].encode()]))
    engine.dispose()


@pytest.mark.parametrize("body,says", [
    (b"date,start,end,kind\n23/03/2026,09:00,17:00,standard\n24/03/2026,09:00,25:00,standard\n",
     "row 3: end time 25:00 is not a time"),
    (b"date,start,end,kind,note\n23/03/2026,09:00,17:00,standard,=cmd|' /C calc'!A0\n",
     "row 2: the note starts with '='"),
    (b"date,start,end,kind,note\n23/03/2026,09:00,17:00,standard,caf\xe9\n", "not UTF-8 text"),
    (b"date,kind\n" + b"23/03/2026,sick\n" * 20_000, "larger than 256 KB"),
    (b"date,start,end,kind\n29/03/2026,01:30,06:00,standard\n", "does not exist in UK time"),
])
def test_a_bad_csv_is_refused_with_the_row_named_and_nothing_written(wallet, employee, tmp_path, body, says):  # noqa: F811
    path = tmp_path / "bad.csv"
    path.write_bytes(body)
    out = _add(wallet, employee, path)
    assert out.exit_code == 2, out.output
    assert says in out.output and "Traceback" not in out.output
    assert _timesheets(wallet.url) == 0


@pytest.mark.parametrize("body,says", [
    (b"[" * 150_000 + b"]" * 150_000, "larger than 256 KB"),
    (b"[" * 50_000 + b"]" * 50_000, "not readable JSON"),
    (b'{"shifts": [], "absences": [{"day": "2026-03-24", "kind": "holiday", "hours": "NaN"}]}', "from 0 to 24"),
    (b'{"shifts": [{"start": "2026-03-24T09:00", "end": "2026-03-24T17:00"}]}\xff', "not readable JSON"),
])
def test_a_bad_json_timesheet_is_refused_and_nothing_written(wallet, employee, tmp_path, body, says):  # noqa: F811
    path = tmp_path / "bad.json"
    path.write_bytes(body)
    out = _add(wallet, employee, path)
    assert out.exit_code == 2, out.output
    assert says in out.output and "Traceback" not in out.output
    assert _timesheets(wallet.url) == 0

"""`wallet payroll ...` end to end on a new database (SQLite and PostgreSQL), through click's CliRunner."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import text

from ledger.db import make_engine
from wallet.cli import cli

NINO = "AB123456C"
ACCOUNT = "71234567"


@pytest.fixture
def wallet(database_url, monkeypatch):
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.delenv("WALLET_ACTOR", raising=False)

    def run(*args, input=None):
        result = CliRunner().invoke(cli, ["--database-url", database_url, "payroll", *args], input=input)
        return result

    run.url = database_url
    return run


def new_id(output: str, what: str) -> str:
    match = re.search(rf"{what} ([0-9a-f-]{{36}})", output)
    assert match, output
    return match.group(1)


def month_shifts(tmp_path, name="shifts.json"):
    shifts = [{"start": f"2026-04-{day:02d}T09:00", "end": f"2026-04-{day:02d}T17:00"}
              for day in (6, 7, 8, 9, 10, 13, 14, 15, 16, 17)]
    path = tmp_path / name
    path.write_text(json.dumps({"shifts": shifts, "absences": [], "expenses": "12.50"}))
    return path


def test_round_trip_employer_to_finalised_run(wallet, tmp_path):
    out = wallet("employer", "add", "--name", "Asha Patel", "--paye-reference", "120/A120",
                 "--accounts-office-reference", "120PA00012345", "--employment-allowance", "--by", "admin")
    assert out.exit_code == 0, out.output
    employer = new_id(out.output, "Employer")

    out = wallet("employee", "add", "--employer", employer, "--payroll-id", "PA1", "--forenames", "Sam Lee",
                 "--surname", "Jones", "--birth-date", "1990-05-17", "--start-date", "2026-04-06",
                 "--tax-code", "1257L", "--by", "admin",
                 input=f"{NINO}\nS L Jones\n40-27-16\n{ACCOUNT}\n{ACCOUNT}\n")
    assert out.exit_code == 0, out.output
    employee = new_id(out.output, "Employee")
    # Typed secrets are never echoed back, and the confirmation shows the masked form only.
    assert ACCOUNT not in out.output and NINO not in out.output and "402716" not in out.output
    assert "**-**-16 ****4567" in out.output

    listed = wallet("employee", "list", "--employer", employer)
    assert listed.exit_code == 0 and "Sam Lee Jones" in listed.output and "**-**-16 ****4567" in listed.output
    assert ACCOUNT not in listed.output and NINO not in listed.output

    out = wallet("contract", "add", "--employee", employee, "--starts", "2026-04-06", "--standard", "15.00",
                 "--night", "17.00", "--hours-per-week", "37.5", "--by", "admin")
    assert out.exit_code == 0, out.output

    out = wallet("timesheet", "add", "--employee", employee, "--from", "2026-04-06", "--to", "2026-05-05",
                 "--file", str(month_shifts(tmp_path)), "--by", "sam")
    assert out.exit_code == 0, out.output
    sheet = new_id(out.output, "Timesheet")
    assert wallet("timesheet", "submit", sheet, "--by", "sam").exit_code == 0
    own = wallet("timesheet", "approve", sheet, "--by", "sam")
    assert own.exit_code == 2 and "someone else must approve it" in own.output
    assert wallet("timesheet", "approve", sheet, "--by", "asha").exit_code == 0

    out = wallet("run", "create", "--employer", employer, "--from", "2026-04-06", "--to", "2026-05-05",
                 "--payment-date", "2026-04-30", "--by", "admin")
    assert out.exit_code == 0, out.output
    run_id = new_id(out.output, "Pay run")
    again = wallet("run", "create", "--employer", employer, "--from", "2026-04-06", "--to", "2026-05-05",
                   "--payment-date", "2026-04-30", "--by", "admin")
    assert again.exit_code == 2 and "already has a monthly pay run for tax year 2026-27 tax month 1" in again.output

    calculated = wallet("run", "calculate", run_id, "--progress", "--by", "admin")
    assert calculated.exit_code == 0, calculated.output
    assert "1 payslips" in calculated.stdout
    assert "calculating: 1 of 1" in calculated.stderr and "saving payslips: 1 of 1" in calculated.stderr
    early = wallet("run", "finalise", run_id, "--by", "admin")
    assert early.exit_code == 2 and "cannot be finalised: only an approved run can be" in early.output
    assert wallet("run", "review", run_id, "--by", "admin").exit_code == 0
    self_approval = wallet("run", "approve", run_id, "--by", "admin")
    assert self_approval.exit_code == 2 and "someone else must approve it" in self_approval.output
    assert wallet("run", "approve", run_id, "--by", "asha").exit_code == 0
    assert wallet("run", "finalise", run_id, "--by", "admin").exit_code == 0

    shown = wallet("run", "show", run_id)
    assert shown.exit_code == 0, shown.output
    text_out = shown.stdout
    assert "Status: finalised" in text_out and "Employer cost summary" in text_out
    # 80 hours at £15.00 = £1,200.00 gross; expenses £12.50 repaid on top.
    assert re.search(r"Gross pay\s+£1,200\.00", text_out)
    assert re.search(r"Expenses repaid\s+£12\.50", text_out)
    pa_line = next(line for line in text_out.splitlines() if line.startswith("PA1"))
    assert "Sam Lee Jones" in pa_line and "80.00" in pa_line and "£1,200.00" in pa_line
    for status in ("draft", "calculated", "reviewed", "approved", "finalised"):
        assert re.search(rf"{status}\s+by (admin|asha)", text_out)

    # The database holds the NI number and account number sealed only.
    engine = make_engine(wallet.url)
    with engine.connect() as conn:
        raw = " ".join(str(v) for v in conn.execute(text("SELECT * FROM payroll_employee")).one())
    engine.dispose()
    assert NINO not in raw and ACCOUNT not in raw and "402716" not in raw

    runs = wallet("run", "list", "--employer", employer)
    assert runs.exit_code == 0 and run_id in runs.output and "finalised" in runs.output


def test_correction_and_leaver_from_the_command_line(wallet, tmp_path):
    employer = new_id(wallet("employer", "add", "--name", "Ben Ode", "--paye-reference", "120/B120",
                             "--accounts-office-reference", "120PA00054321", "--by", "admin").output, "Employer")
    employee = new_id(wallet("employee", "add", "--employer", employer, "--payroll-id", "7", "--forenames", "Kim",
                             "--surname", "Lo", "--birth-date", "1985-01-02", "--start-date", "2026-04-06",
                             "--tax-code", "1257L", "--no-bank", "--by", "admin", input="\n").output, "Employee")
    bank = wallet("employee", "bank", employee, "--by", "admin", input=f"K Lo\n402716\n{ACCOUNT}\n{ACCOUNT}\n")
    assert bank.exit_code == 0 and "saved: **-**-16 ****4567" in bank.output and ACCOUNT not in bank.output
    assert wallet("contract", "add", "--employee", employee, "--starts", "2026-04-06", "--standard", "14.00",
                  "--by", "admin").exit_code == 0
    sheet = new_id(wallet("timesheet", "add", "--employee", employee, "--from", "2026-04-06", "--to", "2026-05-05",
                          "--file", str(month_shifts(tmp_path)), "--by", "kim").output, "Timesheet")
    wallet("timesheet", "submit", sheet, "--by", "kim")
    rejected = wallet("timesheet", "reject", sheet, "--reason", "13 April was a bank holiday?", "--by", "ben")
    assert rejected.exit_code == 0 and "rejected by ben" in rejected.output
    assert wallet("timesheet", "submit", sheet, "--by", "kim").exit_code == 0
    assert wallet("timesheet", "approve", sheet, "--by", "ben").exit_code == 0
    run_id = new_id(wallet("run", "create", "--employer", employer, "--from", "2026-04-06", "--to", "2026-05-05",
                           "--payment-date", "2026-04-30", "--by", "admin").output, "Pay run")
    for step, who in (("calculate", "admin"), ("review", "admin"), ("approve", "ben"), ("finalise", "admin")):
        out = wallet("run", step, run_id, "--by", who)
        assert out.exit_code == 0, out.output
    original_show = wallet("run", "show", run_id).stdout

    corrections = tmp_path / "corrections.json"
    shifts = [{"start": f"2026-04-{day:02d}T09:00", "end": f"2026-04-{day:02d}T17:00"} for day in (6, 7, 8)]
    corrections.write_text(json.dumps({"timesheets": [{"employee": employee, "shifts": shifts}]}))
    out = wallet("run", "correct", run_id, "--file", str(corrections), "--payment-date", "2026-05-29",
                 "--by", "admin")
    assert out.exit_code == 0, out.output
    adjustment = new_id(out.output, "Adjustment run")
    shown = wallet("run", "show", adjustment).stdout
    assert f"Corrects pay run {run_id}" in shown and "Status: calculated" in shown
    # 80 hours paid, 24 worked: 56 hours at £14 taken back.
    assert re.search(r"Gross pay\s+-£784\.00", shown)
    assert wallet("run", "show", run_id).stdout == original_show

    left = wallet("employee", "leave", employee, "--date", "2026-05-05", "--by", "admin")
    assert left.exit_code == 0 and "leaves on 2026-05-05" in left.output and "P45 figures for 2026-27" in left.output


def test_clear_errors(wallet, tmp_path):
    missing = wallet("run", "show", "no-such-run")
    assert missing.exit_code == 2 and "no pay run with id 'no-such-run'" in missing.output
    bad_date = wallet("run", "create", "--employer", "x", "--from", "6/4/2026", "--to", "2026-05-05",
                      "--payment-date", "2026-04-30", "--by", "a")
    assert bad_date.exit_code == 2 and "is not a date" in bad_date.output
    employer = new_id(wallet("employer", "add", "--name", "C", "--paye-reference", "120/C1",
                             "--accounts-office-reference", "120PA00011111", "--by", "admin").output, "Employer")
    bad_bank = wallet("employee", "add", "--employer", employer, "--payroll-id", "1", "--forenames", "Al",
                      "--surname", "Bo", "--birth-date", "1980-01-01", "--start-date", "2026-04-06",
                      "--tax-code", "1257L", "--by", "admin", input="\nA Bo\n1234\n99\n99\n")
    assert bad_bank.exit_code == 2
    assert "sort code must be six digits" in bad_bank.output and "account number must be eight digits" in bad_bank.output
    no_actor = wallet("employer", "list")
    assert no_actor.exit_code == 0
    needs_actor = wallet("run", "review", "x")
    assert needs_actor.exit_code == 2 and "--by" in needs_actor.output

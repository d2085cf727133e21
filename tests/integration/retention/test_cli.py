"""`wallet retention report` shows what the policy would do and changes nothing; `wallet retention apply` does it,
and the ledger still verifies."""
from __future__ import annotations

from click.testing import CliRunner

from wallet.cli import cli
from tests.integration.retention.conftest import RUN_DAY, ledger_rows, present


def run(url, *args, input=None):
    return CliRunner().invoke(cli, ["--database-url", url, *args], input=input)


def test_report_then_apply(world, payroll, seeded, database_url):
    db = world.uow.db
    books = ledger_rows(db)
    old = seeded.gone["wallet_access_log"]

    shown = run(database_url, "retention", "report", "--today", RUN_DAY.isoformat())
    assert shown.exit_code == 0, shown.output
    assert "         2  to delete  access log entries (six years from its date)" in shown.output
    assert "         2  to erase   leavers' sealed NI numbers and bank details" in shown.output
    assert "         1  kept       ledger entries (six years from the end of its tax year)" in shown.output
    assert present(db, "wallet_access_log", old) == sorted(old)

    declined = run(database_url, "retention", "apply", "--today", RUN_DAY.isoformat(), input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert present(db, "wallet_access_log", old) == sorted(old)

    applied = run(database_url, "retention", "apply", "--today", RUN_DAY.isoformat(), "--yes", "--batch-size", "3")
    assert applied.exit_code == 0, applied.output
    assert "2 access log entries" in applied.output and "2 alert dismissals" in applied.output
    assert present(db, "wallet_access_log", old) == []
    assert ledger_rows(db) == books

    verified = run(database_url, "ledger", "verify")
    assert verified.exit_code == 0 and verified.output.startswith("OK:"), verified.output

    again = run(database_url, "retention", "apply", "--today", RUN_DAY.isoformat(), "--yes")
    assert again.exit_code == 0 and "removed personal data" in again.output and ": none; erased" in again.output


def test_a_bad_date_is_refused_in_plain_words(world, database_url):
    result = run(database_url, "retention", "report", "--today", "1 May")
    assert result.exit_code == 2 and "'1 May' is not a date (use YYYY-MM-DD)" in result.output

"""The `wallet` command end to end on a new database (SQLite and PostgreSQL)."""
from click.testing import CliRunner

from wallet.cli import cli


def run(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, *args])


def test_serve_loads_demo_once_and_ledger_commands_read_it(database_url):
    first = run(database_url, "serve")
    assert first.exit_code == 0, first.output
    assert "52 new entries" in first.output and "£3,048.50" in first.output and "Ledger check: OK" in first.output
    again = run(database_url, "serve")
    assert "0 new entries" in again.output

    bal = run(database_url, "ledger", "balance", "demo-asha:cash")
    assert bal.exit_code == 0 and "available: £3,048.50" in bal.output
    past = run(database_url, "ledger", "balance", "demo-asha:cash", "--as-of", "2025-04-07")
    assert past.output.strip() == "demo-asha:cash as of 2025-04-07: £1,860.00"

    st = run(database_url, "ledger", "statement", "demo-asha:cash", "--from", "2025-04-01", "--to", "2025-05-31",
             "--page-size", "2")
    assert st.exit_code == 0, st.output
    lines = st.output.splitlines()
    assert lines[1] == "Opening balance: £0.00"
    assert "Council direct payment" in lines[2] and "£1,860.00" in lines[2]
    # Pages of two lines join up into one statement whose running balance ends at the closing balance.
    assert lines[-1] == f"Closing balance: {lines[-2].split()[3]}"
    assert len([l for l in lines if l.startswith("2025-")]) == 8

    verify = run(database_url, "ledger", "verify")
    assert verify.exit_code == 0 and verify.output.startswith("OK: 1 books, 52 entries")


def test_clear_errors_for_bad_input(database_url):
    run(database_url, "db", "upgrade")
    unknown = run(database_url, "ledger", "balance", "nobody:cash")
    assert unknown.exit_code == 2 and "no account with code 'nobody:cash'" in unknown.output
    bad_date = run(database_url, "ledger", "balance", "nobody:cash", "--as-of", "31/12/2025")
    assert bad_date.exit_code == 2 and "is not a date" in bad_date.output


def test_db_upgrade_hides_passwords(database_url):
    out = run(database_url, "db", "upgrade")
    assert out.exit_code == 0 and "Database is up to date" in out.output
    from wallet.commands.db_cmds import _redact

    assert _redact("postgresql+psycopg://app:s3cret@db.internal/wallet") == "postgresql+psycopg://app:***@db.internal/wallet"

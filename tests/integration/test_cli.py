"""The `wallet` command end to end on a new database (SQLite and PostgreSQL)."""
import re

import pytest
from cryptography.fernet import Fernet
from click.testing import CliRunner

from wallet.cli import cli


def run(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, *args])


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    """Keys from the environment, so the tests never write key files into the working directory."""
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("WALLET_SECRET_KEY", "cli-tests")


def test_serve_prepares_the_demo_once_with_a_sign_in_per_role_and_the_books_verify(database_url):
    first = run(database_url, "serve", "--prepare-only")
    assert first.exit_code == 0, first.output
    for role in ("holder", "appointee", "family overseer", "support manager", "auditor", "payroll admin",
                 "council officer"):
        assert f"  {role} " in first.output
    assert "password is: demo wallet password" in first.output
    entries = int(re.search(r"now: OK, (\d+) entries", first.output).group(1))
    assert entries > 100
    again = run(database_url, "serve", "--prepare-only")
    assert f"now: OK, {entries} entries" in again.output     # loading twice adds nothing

    cash = re.search(r"statement (wallet-[0-9a-f-]+:cash:s1)", first.output).group(1)
    st = run(database_url, "ledger", "statement", cash, "--from", "2025-04-01", "--to", "2025-05-31",
             "--page-size", "2")
    assert st.exit_code == 0, st.output
    lines = st.output.splitlines()
    assert lines[1] == "Opening balance: £0.00"
    # Pages of two lines join up into one statement whose running balance ends at the closing balance.
    assert lines[-1] == f"Closing balance: {lines[-2].split()[3]}"
    balance = run(database_url, "ledger", "balance", cash)
    assert balance.exit_code == 0 and "available:" in balance.output

    verify = run(database_url, "ledger", "verify")
    assert verify.exit_code == 0 and f"{entries} entries" in verify.output


def test_demo_code_gives_a_code_that_signs_the_appointee_in(database_url):
    first = run(database_url, "serve", "--prepare-only")
    email = re.search(r"appointee\s+(\S+@demo\.care-wallet\.example)", first.output).group(1)
    code = run(database_url, "demo-code", email)
    assert code.exit_code == 0 and re.fullmatch(r"\d{6}\n", code.output)
    refused = run(database_url, "demo-code", "someone@example.org")
    assert refused.exit_code == 1 and "only shown for demo accounts" in refused.output


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

"""`verify` recomputes everything and names the first fault; tampering below the guards is caught."""
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from ledger.model import HoldRequest
from ledger.verify import verify
from wallet.cli import cli

from .helpers import fund, open_wallet


@pytest.fixture
def books(ledger):
    open_wallet(ledger)
    open_wallet(ledger, "w2")
    fund(ledger, 10_000)
    fund(ledger, 4_000, "fund-w2", "w2")
    ledger.transfer("spend", "w1:wages", "w1:cash", 2_500)
    ledger.hold(HoldRequest("h", "w1:wages", "w1:cash", 1_000))
    return ledger


def tamper(db, *statements):
    """Change rows the way an attacker with database access would: with the guards switched off."""
    with db.engine.connect() as conn:
        with conn.begin():
            if db.is_postgres:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                for name in ("ledger_entry_no_update", "ledger_posting_no_update", "ledger_entry_no_delete",
                             "ledger_posting_no_delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            for s in statements:
                conn.execute(text(s))


def test_clean_books_verify(books, db):
    report = verify(db)
    assert report.ok, report.fault
    assert (report.books, report.entries, report.postings, report.accounts, report.holds) == (2, 3, 6, 8, 1)


@pytest.mark.parametrize("statements, kind", [
    (["UPDATE ledger_entry SET description = 'Taxi' WHERE idempotency_key = 'spend'"], "hash mismatch"),
    (["UPDATE ledger_posting SET amount = -2400 WHERE amount = -2500",
      "UPDATE ledger_posting SET amount = 2400 WHERE amount = 2500"], "hash mismatch"),
    (["UPDATE ledger_posting SET amount = 2400 WHERE amount = 2500"], "unbalanced entry"),
    (["UPDATE ledger_account SET balance = balance + 1 WHERE code = 'w2:council'"], "balance mismatch"),
    (["UPDATE ledger_account SET held = 0 WHERE code = 'w1:cash'"], "held mismatch"),
    (["UPDATE ledger_account_day SET closing = closing + 5"], "checkpoint mismatch"),
    (["UPDATE ledger_book SET head_hash = 'x' WHERE code = 'w2'"], "book head"),
    (["DELETE FROM ledger_posting WHERE entry_id = (SELECT id FROM ledger_entry WHERE idempotency_key = 'spend')",
      "DELETE FROM ledger_entry WHERE idempotency_key = 'spend'"], "book head"),
])
def test_tampering_is_found_and_named(books, db, statements, kind):
    tamper(db, *statements)
    report = verify(db)
    assert not report.ok
    assert report.fault.kind == kind, str(report.fault)


def test_cli_verify_exit_codes(books, database_url, db):
    runner = CliRunner()
    ok = runner.invoke(cli, ["--database-url", database_url, "ledger", "verify"])
    assert ok.exit_code == 0 and "OK: 2 books, 3 entries, 6 postings" in ok.output
    tamper(db, "UPDATE ledger_entry SET actor = 'someone' WHERE idempotency_key = 'fund-w2'")
    bad = runner.invoke(cli, ["--database-url", database_url, "ledger", "verify"])
    assert bad.exit_code == 1 and "FAULT: hash mismatch at entry" in bad.output

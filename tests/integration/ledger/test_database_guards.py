"""The database itself refuses what would corrupt the books, even when the code above is bypassed."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .helpers import fund, open_wallet


@pytest.fixture
def books(ledger):
    open_wallet(ledger)
    fund(ledger, 10_000)
    ledger.transfer("spend", "w1:wages", "w1:cash", 2_500)
    return ledger


def raw(db, sql, **params):
    with db.engine.connect() as conn:
        with conn.begin():
            conn.execute(text(sql), params)


@pytest.mark.parametrize("sql, message", [
    ("UPDATE ledger_posting SET amount = amount + 1", "append-only"),
    ("DELETE FROM ledger_posting", "append-only"),
    ("UPDATE ledger_entry SET description = 'changed'", "append-only"),
    ("DELETE FROM ledger_entry", "append-only"),
    ("DELETE FROM ledger_account WHERE code = 'w1:wages'", "never deleted"),
    ("UPDATE ledger_account SET currency = 'EUR' WHERE code = 'w1:cash'", "never change"),
    ("UPDATE ledger_account SET balance = -1 WHERE code = 'w1:cash'", ""),  # the floor check
    ("UPDATE ledger_account SET held = -5 WHERE code = 'w1:cash'", ""),
])
def test_direct_changes_are_refused(books, db, sql, message):
    with pytest.raises(DBAPIError) as refused:
        raw(db, sql)
    assert message in str(refused.value)
    assert books.balance("w1:cash").posted == 7_500


def test_entry_whose_postings_do_not_balance_is_refused(books, db):
    with pytest.raises(DBAPIError, match="does not sum to zero"):
        with db.engine.connect() as conn:
            with conn.begin():
                conn.execute(text(
                    "INSERT INTO ledger_posting (entry_id, account_id, amount, currency, account_seq, "
                    "balance_after, effective_us) SELECT 999, id, :amount, 'GBP', 900, 0, 0 "
                    "FROM ledger_account WHERE code = :code"), [
                    {"amount": 100, "code": "w1:cash"}, {"amount": -99, "code": "w1:council"}])
                conn.execute(text(
                    "INSERT INTO ledger_entry (id, uuid, idempotency_key, request_hash, book_id, book_seq, "
                    "effective_us, recorded_us, description, meta, prev_hash, hash) "
                    "SELECT 999, 'u', 'k', 'h', id, 99, 0, 0, 'forged', '{}', 'p', 'h' FROM ledger_book"))


def test_entry_with_one_posting_is_refused(books, db):
    with pytest.raises(DBAPIError, match="at least two postings"):
        raw(db, "INSERT INTO ledger_entry (id, uuid, idempotency_key, request_hash, book_id, book_seq, "
                "effective_us, recorded_us, description, meta, prev_hash, hash) "
                "SELECT 998, 'u2', 'k2', 'h', id, 98, 0, 0, 'forged', '{}', 'p', 'h' FROM ledger_book")


def test_postings_cannot_be_added_to_a_committed_entry(books, db):
    with pytest.raises(DBAPIError, match="already committed"):
        raw(db, "INSERT INTO ledger_posting (entry_id, account_id, amount, currency, account_seq, balance_after, "
                "effective_us) SELECT e.id, a.id, 1, 'GBP', 999, 0, 0 FROM ledger_entry e, ledger_account a "
                "WHERE e.book_seq = 1 AND a.code = 'w1:cash'")


def test_posting_to_a_closed_account_is_refused_by_the_database(books, db):
    raw(db, "UPDATE ledger_account SET status = 'closed' WHERE code = 'w1:hmrc'")
    with pytest.raises(DBAPIError, match="closed"):
        raw(db, "INSERT INTO ledger_posting (entry_id, account_id, amount, currency, account_seq, balance_after, "
                "effective_us) SELECT 997, id, 1, 'GBP', 1, 0, 0 FROM ledger_account WHERE code = 'w1:hmrc'")


def test_resolved_hold_cannot_change(books, db):
    from ledger.model import HoldRequest

    h = books.hold(HoldRequest("h", "w1:wages", "w1:cash", 100))
    books.release_hold(h.id, "h-release")
    with pytest.raises(DBAPIError, match="resolved once"):
        raw(db, "UPDATE ledger_hold SET status = 'pending'")


def test_a_write_the_ledgers_own_checks_miss_is_refused_by_the_database(books, db, monkeypatch):
    """A bug above the database (here: the checks switched off) meets the guards, and the caller gets
    IntegrityFault; nothing is written."""
    import ledger.service as service
    from ledger.errors import IntegrityFault

    raw(db, "UPDATE ledger_account SET status = 'closed' WHERE code = 'w1:hmrc'")
    monkeypatch.setattr(service, "_check_postable", lambda account, currency: None)
    monkeypatch.setattr(service, "_check_floor", lambda account, decrease: None)
    with pytest.raises(IntegrityFault, match="closed"):
        books.transfer("to-closed", "w1:hmrc", "w1:cash", 5)
    with pytest.raises(IntegrityFault):
        books.transfer("overspend", "w1:wages", "w1:cash", 1_000_000)
    assert books.entry_by_key("to-closed") is None and books.entry_by_key("overspend") is None
    assert books.balance("w1:cash").posted == 7_500

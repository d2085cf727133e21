from datetime import datetime, timedelta, timezone

import pytest

from ledger.errors import UnknownAccount, ValidationError

from .helpers import open_wallet


def at(day, hour=12):
    return datetime(2026, 4, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def history(ledger):
    open_wallet(ledger)
    ledger.transfer("f1", "w1:cash", "w1:council", 100_000, effective_at=at(6), description="Funding")
    ledger.transfer("p1", "w1:wages", "w1:cash", 20_000, effective_at=at(10), description="Wages")
    ledger.transfer("p2", "w1:wages", "w1:cash", 5_000, effective_at=at(10, 18), description="Taxi")
    ledger.transfer("f2", "w1:cash", "w1:council", 50_000, effective_at=at(20), description="Funding")
    return ledger


def test_balance_as_of_any_moment(history):
    cases = {at(5): 0, at(6, 11): 0, at(6): 100_000, at(10, 13): 80_000, at(10, 23): 75_000,
             at(19): 75_000, at(20): 125_000, at(30): 125_000}
    for moment, expected in cases.items():
        assert history.balance_as_of("w1:cash", moment) == expected, moment
    with pytest.raises(UnknownAccount):
        history.balance_as_of("nope", at(6))


def test_back_dated_entry_moves_every_later_balance(history):
    history.transfer("late", "w1:cash", "w1:council", 7_000, effective_at=at(8), description="Late grant")
    assert history.balance_as_of("w1:cash", at(7)) == 100_000
    assert history.balance_as_of("w1:cash", at(8)) == 107_000
    assert history.balance_as_of("w1:cash", at(19)) == 82_000
    assert history.balance_as_of("w1:cash", at(30)) == 132_000
    # Back-dated onto a day that already has a checkpoint.
    history.transfer("late2", "w1:wages", "w1:cash", 1_000, effective_at=at(10, 1))
    assert history.balance_as_of("w1:cash", at(10, 2)) == 106_000
    assert history.balance_as_of("w1:cash", at(30)) == 131_000
    assert history.balance("w1:cash").posted == 131_000


def test_statement_pages_carry_the_running_balance(history):
    page = history.statement("w1:cash", at(7), at(30), limit=2)
    assert page.opening_balance == 100_000
    assert [(l.amount, l.balance, l.description) for l in page.lines] == [
        (-20_000, 80_000, "Wages"), (-5_000, 75_000, "Taxi")]
    nxt = history.statement("w1:cash", at(7), at(30), limit=2, cursor=page.next_cursor)
    assert [(l.amount, l.balance) for l in nxt.lines] == [(50_000, 125_000)]
    assert nxt.next_cursor is None
    whole = history.statement("w1:cash", at(1), at(30), limit=100)
    assert whole.opening_balance == 0 and len(whole.lines) == 4 and whole.lines[-1].balance == 125_000


def test_statement_range_is_half_open(history):
    page = history.statement("w1:cash", at(6), at(10))
    assert [l.description for l in page.lines] == ["Funding"]


@pytest.mark.parametrize("kwargs", [dict(limit=0), dict(cursor="not-a-cursor"), dict(limit=10_001)])
def test_bad_statement_requests_are_refused(history, kwargs):
    with pytest.raises(ValidationError):
        history.statement("w1:cash", at(1), at(30), **kwargs)


def test_statement_end_before_start_is_refused(history):
    with pytest.raises(ValidationError):
        history.statement("w1:cash", at(30), at(1))


def test_balance_is_read_without_summing_history(history, db):
    """The current balance is the account row; as-of reads one checkpoint plus one day's postings."""
    from sqlalchemy import event

    statements = []
    listener = lambda conn, cursor, stmt, *a: statements.append(stmt)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        history.balance_as_of("w1:cash", at(25))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    posting_queries = [s for s in statements if "ledger_posting" in s]
    assert len(posting_queries) == 1 and "effective_us >=" in posting_queries[0]

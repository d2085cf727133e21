from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from ledger.errors import (AlreadyReversed, IdempotencyConflict, InsufficientFunds, UnbalancedEntry, UnknownAccount,
                           UnknownEntry, ValidationError)
from ledger.model import AccountSpec, AccountType, EntryRequest, Posting
from ledger.tables import entry_t, posting_t

from .helpers import fund, open_wallet


def count(db, table):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_transfer_moves_money_and_records_everything(ledger, clock):
    open_wallet(ledger)
    entry = ledger.transfer("fund-1", "w1:cash", "w1:council", 150_000, description="Council funding",
                            reference="INV-1", actor="officer:1", metadata={"period": "2026-04"})
    assert entry.postings == (Posting("w1:cash", 150_000), Posting("w1:council", -150_000))
    assert entry.recorded_at == clock.now() and entry.effective_at == clock.now()
    assert (entry.reference, entry.actor, entry.metadata) == ("INV-1", "officer:1", {"period": "2026-04"})
    assert entry.sequence == 1 and len(entry.hash) == 64
    assert ledger.balance("w1:cash").posted == 150_000
    assert ledger.balance("w1:council").posted == 150_000  # credit-normal: income reads positive


def test_multi_leg_entry_balances_per_currency(ledger):
    open_wallet(ledger)
    fund(ledger, 100_000)
    # Gross wages split into net pay (cash) and tax owed to HMRC.
    ledger.post(EntryRequest("pay-1", (Posting.debit("w1:wages", 60_000), Posting.credit("w1:cash", 50_000),
                                       Posting.credit("w1:hmrc", 10_000))))
    assert ledger.balance("w1:cash").posted == 50_000
    assert ledger.balance("w1:hmrc").posted == 10_000
    assert ledger.balance("w1:wages").posted == 60_000


@pytest.mark.parametrize("postings, error", [
    ((Posting.debit("w1:cash", 100), Posting.credit("w1:council", 99)), UnbalancedEntry),
    ((Posting.debit("w1:cash", 100),), UnbalancedEntry),
    ((Posting.debit("w1:cash", 0), Posting.credit("w1:council", 0)), ValidationError),
    ((Posting("w1:cash", 1.5), Posting("w1:council", -1.5)), ValidationError),
    ((Posting("w1:cash", True), Posting("w1:council", -1)), ValidationError),
    ((Posting.debit("w1:cash", 100), Posting.credit("nowhere", 100)), UnknownAccount),
])
def test_malformed_entries_are_refused_and_write_nothing(ledger, db, postings, error):
    open_wallet(ledger)
    with pytest.raises(error):
        ledger.post(EntryRequest("bad", postings))
    assert count(db, entry_t) == 0 and count(db, posting_t) == 0


def test_floor_refuses_overspend_and_overdraft_floor_allows_agreed_amount(ledger):
    open_wallet(ledger)
    fund(ledger, 10_000)
    with pytest.raises(InsufficientFunds) as refused:
        ledger.transfer("spend", "w1:wages", "w1:cash", 10_001)
    assert refused.value.available == 10_000 and refused.value.needed == 1
    ledger.transfer("spend-ok", "w1:wages", "w1:cash", 10_000)
    assert ledger.balance("w1:cash").posted == 0
    ledger.open_accounts([AccountSpec("w2:cash", AccountType.ASSET, floor=-5_000, book="w2"),
                          AccountSpec("w2:wages", AccountType.EXPENSE, book="w2")])
    ledger.transfer("od", "w2:wages", "w2:cash", 5_000)
    assert ledger.balance("w2:cash").posted == -5_000
    with pytest.raises(InsufficientFunds):
        ledger.transfer("od2", "w2:wages", "w2:cash", 1)


def test_batch_is_all_or_nothing(ledger, db):
    open_wallet(ledger)
    fund(ledger, 1_000)
    batch = [EntryRequest(f"b{i}", (Posting.debit("w1:wages", 400), Posting.credit("w1:cash", 400)))
             for i in range(3)]  # the third would take cash below zero
    with pytest.raises(InsufficientFunds):
        ledger.post_batch(batch)
    assert count(db, entry_t) == 1
    assert ledger.balance("w1:cash").posted == 1_000
    done = ledger.post_batch(batch[:2])
    assert [e.sequence for e in done] == [2, 3]
    assert ledger.balance("w1:cash").posted == 200


def test_idempotent_replay_returns_the_original_without_a_new_row(ledger, db, clock):
    open_wallet(ledger)
    first = fund(ledger, 5_000)
    clock.advance(hours=1)
    again = fund(ledger, 5_000)
    assert again == first
    assert count(db, entry_t) == 1 and ledger.balance("w1:cash").posted == 5_000
    replayed = ledger.post_batch([EntryRequest("fund-1", first.postings, description="Council funding"),
                                  EntryRequest("fund-2", first.postings)])
    assert replayed[0].id == first.id and replayed[1].id != first.id
    assert count(db, entry_t) == 2


def test_same_key_with_different_content_is_refused(ledger, db):
    open_wallet(ledger)
    fund(ledger, 5_000)
    with pytest.raises(IdempotencyConflict) as refused:
        fund(ledger, 5_001)
    assert refused.value.key == "fund-1"
    with pytest.raises(IdempotencyConflict):
        ledger.post_batch([EntryRequest("dup", (Posting.debit("w1:cash", 1), Posting.credit("w1:council", 1))),
                           EntryRequest("dup", (Posting.debit("w1:cash", 2), Posting.credit("w1:council", 2)))])
    assert count(db, entry_t) == 1


def test_reversal_undoes_and_points_at_the_original(ledger):
    open_wallet(ledger)
    fund(ledger, 10_000)
    wrong = ledger.transfer("pay", "w1:wages", "w1:cash", 2_500, description="Wages, wrong PA")
    fix = ledger.reverse(wrong.id, "pay-reversal", actor="admin:2")
    assert fix.reverses == wrong.id
    assert fix.postings == tuple(Posting(p.account, -p.amount) for p in wrong.postings)
    assert fix.description == "Reversal of: Wages, wrong PA"
    assert ledger.balance("w1:cash").posted == 10_000 and ledger.balance("w1:wages").posted == 0
    assert ledger.reverse(wrong.id, "pay-reversal", actor="admin:2") == fix  # replay
    with pytest.raises(AlreadyReversed):
        ledger.reverse(wrong.id, "another-key")
    with pytest.raises(UnknownEntry):
        ledger.reverse("00000000-0000-0000-0000-000000000000", "k")


def test_reversal_that_would_break_a_floor_is_refused(ledger):
    open_wallet(ledger)
    funding = fund(ledger, 10_000)
    ledger.transfer("spend", "w1:wages", "w1:cash", 9_000)
    with pytest.raises(InsufficientFunds):
        ledger.reverse(funding.id, "undo-funding")


def test_each_book_is_its_own_chain(ledger):
    open_wallet(ledger, "w1")
    open_wallet(ledger, "w2")
    a = fund(ledger, 100, "a", "w1")
    b = fund(ledger, 100, "b", "w2")
    c = fund(ledger, 100, "c", "w1")
    assert (a.book, a.sequence, b.book, b.sequence, c.sequence) == ("w1", 1, "w2", 1, 2)
    assert c.previous_hash == a.hash and b.previous_hash == "0" * 64


def test_entry_lookup_by_id_and_key(ledger):
    open_wallet(ledger)
    e = fund(ledger, 700, "fund-x")
    assert ledger.entry(e.id) == e == ledger.entry_by_key("fund-x")
    assert ledger.entry_by_key("missing") is None


def test_effective_date_in_the_past_is_kept(ledger):
    open_wallet(ledger)
    when = datetime(2026, 3, 30, 12, tzinfo=timezone.utc)
    e = ledger.transfer("late", "w1:cash", "w1:council", 900, effective_at=when)
    assert e.effective_at == when and e.recorded_at > when

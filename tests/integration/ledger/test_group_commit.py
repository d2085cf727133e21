"""Concurrent posts from threads sharing a Ledger commit together, yet each caller gets its own outcome."""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from ledger.clock import ordered_ids
from ledger.errors import IdempotencyConflict, InsufficientFunds, IntegrityFault, UnknownAccount
from ledger.model import EntryRequest, Posting
from ledger.service import Ledger
from ledger.verify import verify

from .helpers import fund, open_wallet


def post_as_one_group(ledger: Ledger, calls: list) -> tuple[list, list[int]]:
    """Run ``calls`` (functions of the ledger) in threads, queued behind a leader held at the door until all
    of them wait, so that they commit as one group. Returns each call's result or exception, and the sizes
    of the groups that ran."""
    group = ledger._group
    real_run = group._run
    sizes: list[int] = []
    holding = threading.Event()

    def run(batch):
        if not sizes:
            holding.set()
            deadline = time.monotonic() + 20
            while len(group._queue) < len(calls) and time.monotonic() < deadline:
                time.sleep(0.005)
        sizes.append(len(batch))
        real_run(batch)

    group._run = run
    outcomes: list = [None] * len(calls)

    def call(i):
        try:
            outcomes[i] = calls[i](ledger)
        except Exception as exc:  # each caller's own error, compared below
            outcomes[i] = exc

    try:
        opener = threading.Thread(target=fund, args=(ledger, 1, "opener"))
        opener.start()
        assert holding.wait(20)
        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads + [opener]:
            t.join(30)
    finally:
        group._run = real_run
    return outcomes, sizes


def spend(key: str, amount: int, source: str = "w1:cash"):
    return lambda ledger: ledger.transfer(key, "w1:wages", source, amount)


def test_concurrent_posts_share_a_transaction_and_each_gets_its_entry(ledger, db):
    open_wallet(ledger)
    fund(ledger, 10_000)
    outcomes, sizes = post_as_one_group(ledger, [spend(f"s{i}", 100 + i) for i in range(6)])
    assert sizes == [1, 6]
    assert sorted(e.postings[0].amount for e in outcomes) == [100, 101, 102, 103, 104, 105]
    assert sorted(e.sequence for e in outcomes) == [3, 4, 5, 6, 7, 8]  # fund-1 is 1, the opener 2
    for e in outcomes:
        assert ledger.entry(e.id) == e  # what the caller got is what was committed
    assert ledger.balance("w1:cash").posted == 10_001 - sum(range(100, 106))
    assert verify(db).ok


def test_a_refused_write_does_not_fail_the_others_in_its_group(ledger, db):
    open_wallet(ledger)
    fund(ledger, 1_000)
    outcomes, sizes = post_as_one_group(ledger, [
        spend("a", 600), spend("b", 600),                      # whichever comes second no longer fits
        spend("c", 300),
        spend("d", 5, source="w9:nowhere"),
        lambda l: l.post_batch([EntryRequest("e1", (Posting.debit("w1:wages", 50), Posting.credit("w1:cash", 50))),
                                EntryRequest("e2", (Posting.debit("w1:wages", 999), Posting.credit("w1:cash", 999)))]),
        spend("f", 100),
    ])
    assert sizes == [1, 6]
    a, b, c, d, e, f = outcomes
    assert sorted(type(x).__name__ for x in (a, b)) == ["Entry", "InsufficientFunds"]
    assert isinstance(e, InsufficientFunds)  # a batch is all or nothing: e1 is not written either
    assert isinstance(d, UnknownAccount)
    assert (c.key, f.key) == ("c", "f")
    assert ledger.balance("w1:cash").posted == 1_001 - 600 - 300 - 100
    assert ledger.entry_by_key("e1") is None
    report = verify(db)
    assert report.ok and report.entries == 5


def test_the_same_key_twice_in_one_group(ledger, db):
    open_wallet(ledger)
    fund(ledger, 1_000)
    outcomes, sizes = post_as_one_group(ledger, [spend("k", 10), spend("k", 10), spend("k", 11), spend("j", 1)])
    assert sizes == [1, 4]
    ten, ten_again, eleven, other = outcomes
    assert other.key == "j"
    if isinstance(eleven, IdempotencyConflict):   # a ten came first: both tens get the one entry
        assert ten == ten_again and ten.key == "k" and ten.postings[0].amount == 10
        spent = 10
    else:                                         # the eleven came first: both tens are refused
        assert isinstance(ten, IdempotencyConflict) and isinstance(ten_again, IdempotencyConflict)
        spent = 11
    assert ledger.balance("w1:cash").posted == 1_001 - spent - 1
    assert verify(db).ok


def test_a_group_the_database_refuses_is_run_again_one_write_at_a_time(ledger, db, monkeypatch):
    open_wallet(ledger)
    fund(ledger, 1_000)
    real = Ledger._post_units

    def refuse_groups(self, conn, units, **kw):
        if len(units) > 1:
            raise IntegrityFault("the database refused the write (simulated)")
        return real(self, conn, units, **kw)

    monkeypatch.setattr(Ledger, "_post_units", refuse_groups)
    outcomes, sizes = post_as_one_group(ledger, [spend("x", 10), spend("y", 20), spend("z", 5_000)])
    assert sizes == [1, 3]
    x, y, z = outcomes
    assert (x.key, y.key) == ("x", "y") and isinstance(z, InsufficientFunds)
    assert ledger.balance("w1:cash").posted == 1_001 - 30
    assert verify(db).ok


def test_without_group_commit_every_post_is_its_own_transaction(db, clock):
    ledger = Ledger(db, clock=clock, group_commit=False)
    open_wallet(ledger)
    fund(ledger, 500)
    with pytest.raises(InsufficientFunds):
        ledger.transfer("big", "w1:wages", "w1:cash", 501)
    assert ledger.transfer("ok", "w1:wages", "w1:cash", 500).sequence == 2
    assert verify(db).ok


def test_ordered_ids_are_version_7_uuids_that_sort_by_time():
    first = ordered_ids()
    time.sleep(0.002)
    later = [ordered_ids() for _ in range(100)]
    for value in [first] + later:
        parsed = uuid.UUID(value)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == value
    assert all(first < v for v in later)
    assert len(set(later)) == 100

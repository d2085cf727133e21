"""Drive the ledger with random operations and compare it with a plain in-memory model after every step."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test

from ledger.clock import ManualClock, seeded_ids
from ledger.db import Database
from ledger.errors import ExceedsHold, HoldExpired, HoldNotPending, InsufficientFunds
from ledger.model import AccountSpec, AccountType, EntryRequest, HoldRequest, Posting
from ledger.service import Ledger
from ledger.verify import verify

ACCOUNTS = {
    # code: (type, floor)
    "cash": (AccountType.ASSET, 0),
    "savings": (AccountType.ASSET, -500),
    "funder": (AccountType.INCOME, None),
    "spend": (AccountType.EXPENSE, None),
    "owed": (AccountType.LIABILITY, 0),
}
SIGN = {c: (1 if t in (AccountType.ASSET, AccountType.EXPENSE) else -1) for c, (t, _) in ACCOUNTS.items()}
codes = st.sampled_from(sorted(ACCOUNTS))
amounts = st.integers(min_value=1, max_value=5_000)


def test_ledger_agrees_with_a_simple_model(database_factory, clock):
    start = clock.now()

    class LedgerModel(RuleBasedStateMachine):
        holds = Bundle("holds")
        entries = Bundle("entries")

        @initialize()
        def setup(self):
            self.db = Database(database_factory())
            self.clock = ManualClock(start)
            self.ledger = Ledger(self.db, clock=self.clock, ids=seeded_ids(1))
            self.ledger.open_accounts([AccountSpec(c, t, floor=f, book="b") for c, (t, f) in ACCOUNTS.items()])
            self.balance = {c: 0 for c in ACCOUNTS}
            self.held = {c: 0 for c in ACCOUNTS}
            self.model_holds = {}  # id -> (debit, credit, amount, expires, status)
            self.posted = {}       # key -> request
            self.reversed = set()
            self.snapshots = []    # (moment, balances)
            self.n = 0

        def teardown(self):
            if hasattr(self, "db"):
                report = verify(self.db)
                self.db.dispose()
                assert report.ok, report.fault

        # -- model helpers
        def decreases(self, debit, credit):
            return [c for c, sign in ((debit, 1), (credit, -1)) if SIGN[c] * sign < 0]

        def fits(self, moves):
            trial = dict(self.balance)
            for debit, credit, amount in moves:
                for c in self.decreases(debit, credit):
                    floor = ACCOUNTS[c][1]
                    trial[c] -= amount
                    if floor is not None and trial[c] - self.held[c] < floor:
                        return False
                for c in {debit, credit} - set(self.decreases(debit, credit)):
                    trial[c] += amount
            return True

        def apply(self, debit, credit, amount):
            self.balance[debit] += amount * SIGN[debit]
            self.balance[credit] -= amount * SIGN[credit]

        def key(self):
            self.n += 1
            return f"k{self.n}"

        # -- rules
        @rule(target=entries, debit=codes, credit=codes, amount=amounts)
        def transfer(self, debit, credit, amount):
            if debit == credit:
                return None
            key = self.key()
            before = self.expire_model({debit, credit})
            if self.fits([(debit, credit, amount)]):
                e = self.ledger.transfer(key, debit, credit, amount)
                self.apply(debit, credit, amount)
                self.posted[key] = (debit, credit, amount)
                return e.id
            try:
                self.ledger.transfer(key, debit, credit, amount)
            except InsufficientFunds:
                self.undo_expiry(before)
                return None
            raise AssertionError("the ledger allowed a transfer the model refuses")

        @rule(moves=st.lists(st.tuples(codes, codes, amounts), min_size=1, max_size=4))
        def batch(self, moves):
            moves = [m for m in moves if m[0] != m[1]]
            if not moves:
                return
            before = self.expire_model({c for m in moves for c in m[:2]})
            requests = [EntryRequest(self.key(), (Posting.debit(d, a), Posting.credit(c, a))) for d, c, a in moves]
            if self.fits(moves):
                self.ledger.post_batch(requests)
                for d, c, a in moves:
                    self.apply(d, c, a)
            else:
                try:
                    self.ledger.post_batch(requests)
                except InsufficientFunds:
                    self.undo_expiry(before)
                    return
                raise AssertionError("the ledger allowed a batch the model refuses")

        @precondition(lambda self: self.posted)
        @rule(data=st.data())
        def replay(self, data):
            key = data.draw(st.sampled_from(sorted(self.posted)))
            debit, credit, amount = self.posted[key]
            before = dict(self.balance)
            self.ledger.transfer(key, debit, credit, amount)
            assert self.balance == before

        @rule(target=holds, debit=codes, credit=codes, amount=amounts, minutes=st.none() | st.integers(1, 120))
        def hold(self, debit, credit, amount, minutes):
            if debit == credit:
                return None
            expires = self.clock.now() + timedelta(minutes=minutes) if minutes else None
            reserved = self.decreases(debit, credit)
            before = self.expire_model({debit, credit})
            ok = all(ACCOUNTS[c][1] is None or self.balance[c] - self.held[c] - amount >= ACCOUNTS[c][1]
                     for c in reserved)
            try:
                h = self.ledger.hold(HoldRequest(self.key(), debit, credit, amount, expires_at=expires))
            except InsufficientFunds:
                assert not ok
                self.undo_expiry(before)
                return None
            assert ok
            for c in reserved:
                self.held[c] += amount
            self.model_holds[h.id] = [debit, credit, amount, expires, "pending"]
            return h.id

        def expire_model(self, touched=None):
            """Lapsed holds expire; a write sweeps those whose two accounts it locks. Returns what was there
            before, for ``undo_expiry``."""
            before = ({k: list(h) for k, h in self.model_holds.items()}, dict(self.held))
            for h in self.model_holds.values():
                if touched is not None and not {h[0], h[1]} <= set(touched):
                    continue
                if h[4] == "pending" and h[3] is not None and h[3] <= self.clock.now():
                    h[4] = "expired"
                    for c in self.decreases(h[0], h[1]):
                        self.held[c] -= h[2]
            return before

        def undo_expiry(self, before):
            """A refused write leaves nothing behind, not even the sweep of lapsed holds it began with."""
            self.model_holds, self.held = before

        @rule(hold=holds, fraction=st.integers(1, 110))
        def commit(self, hold, fraction):
            if hold is None:
                return
            debit, credit, amount, expires, status = self.model_holds[hold]
            take = max(1, amount * fraction // 100)
            lapsed = status == "pending" and expires is not None and expires <= self.clock.now()
            try:
                self.ledger.commit_hold(hold, self.key(), take)
            except HoldExpired:
                assert lapsed
                self.model_holds[hold][4] = "expired"
                for c in self.decreases(debit, credit):
                    self.held[c] -= amount
                return
            except HoldNotPending:
                assert status != "pending"
                return
            except ExceedsHold:
                assert take > amount
                return
            assert status == "pending" and not lapsed and take <= amount
            for c in self.decreases(debit, credit):
                self.held[c] -= amount
            self.apply(debit, credit, take)
            self.model_holds[hold][4] = "committed"

        @rule(hold=holds)
        def release(self, hold):
            if hold is None:
                return
            h = self.model_holds[hold]
            try:
                self.ledger.release_hold(hold, self.key())
            except HoldNotPending:
                assert h[4] != "pending" or (h[3] is not None and h[3] <= self.clock.now())
                return
            if h[4] == "pending":
                for c in self.decreases(h[0], h[1]):
                    self.held[c] -= h[2]
                h[4] = "released"

        @rule(entry=entries)
        def reverse(self, entry):
            if entry is None or entry in self.reversed:
                return
            e = self.ledger.entry(entry)
            (debit, amount), (credit, _) = [(p.account, p.amount) for p in e.postings]
            before = self.expire_model({debit, credit})
            if self.fits([(credit, debit, amount)]):
                self.ledger.reverse(entry, self.key())
                self.apply(credit, debit, amount)
                self.reversed.add(entry)
            else:
                try:
                    self.ledger.reverse(entry, self.key())
                except InsufficientFunds:
                    self.undo_expiry(before)
                    return
                raise AssertionError("the ledger allowed a reversal the model refuses")

        @rule(minutes=st.integers(1, 3000))
        def time_passes(self, minutes):
            self.snapshots.append((self.clock.now(), dict(self.balance)))
            self.clock.advance(minutes=minutes)

        @rule()
        def sweep(self):
            self.ledger.expire_holds()
            self.expire_model()

        @invariant()
        def balances_agree(self):
            if not hasattr(self, "ledger"):
                return
            for c in ACCOUNTS:
                b = self.ledger.balance(c)
                lapsed = sum(h[2] for h in self.model_holds.values()
                             if h[4] == "pending" and h[3] is not None and h[3] <= self.clock.now()
                             and c in self.decreases(h[0], h[1]))
                assert b.posted == self.balance[c], c
                assert b.held == self.held[c] - lapsed, c
            assert sum(self.balance[c] * SIGN[c] for c in ACCOUNTS) == 0  # zero-sum across the books

        @invariant()
        def past_balances_agree(self):
            for moment, balances in self.snapshots[-3:]:
                for c in ACCOUNTS:
                    assert self.ledger.balance_as_of(c, moment) == balances[c]

        @invariant()
        def chain_verifies(self):
            if hasattr(self, "db"):
                report = verify(self.db)
                assert report.ok, report.fault

    run_state_machine_as_test(LedgerModel, settings=settings(max_examples=25, stateful_step_count=30,
                                                             deadline=None))

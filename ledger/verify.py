"""Recompute the books from the journal and say whether they agree, naming the first thing that does not.

Checks, in one streaming pass each (constant memory however long the history):
- every book's hash chain: sequence numbers without gaps, each entry linked to the one before, each stored
  hash equal to the hash of the entry's content, and the book's head equal to its last entry;
- every entry balances to zero per currency and has at least two postings;
- every account's postings: sequence without gaps, running balances, the stored balance and count;
- every end-of-day checkpoint and every account's held amount (the sum of its pending reservations).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import select

from ledger import chain
from ledger.clock import US_PER_DAY
from ledger.db import Database
from ledger.model import Side
from ledger.tables import account_day_t, account_t, book_t, entry_t, hold_t, posting_t

_STREAM = 5000


@dataclass(frozen=True)
class Fault:
    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    books: int
    entries: int
    postings: int
    accounts: int
    holds: int
    fault: Fault | None

    @property
    def ok(self) -> bool:
        return self.fault is None


class _Stop(Exception):
    def __init__(self, fault: Fault):
        self.fault = fault


def verify(db: Database) -> VerifyReport:
    counts = {"books": 0, "entries": 0, "postings": 0, "accounts": 0, "holds": 0}
    try:
        with db.engine.connect() as conn:
            with conn.begin():
                if db.is_postgres:
                    # One consistent snapshot for the whole check, however long it takes.
                    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                _verify_chains(conn, counts)
                _verify_accounts(conn, counts)
    except _Stop as stop:
        return VerifyReport(fault=stop.fault, **counts)
    return VerifyReport(fault=None, **counts)


def _stream(conn, query) -> Iterator[Any]:
    result = conn.execution_options(yield_per=_STREAM).execute(query)
    yield from result


def _verify_chains(conn, counts: dict) -> None:
    books = {r.id: r for r in conn.execute(select(book_t))}
    codes = dict(conn.execute(select(account_t.c.id, account_t.c.code)).all())
    counts["books"] = len(books)
    q = (select(entry_t.c.id, entry_t.c.uuid, entry_t.c.book_id, entry_t.c.book_seq,
                entry_t.c.idempotency_key, entry_t.c.effective_us, entry_t.c.recorded_us,
                entry_t.c.description, entry_t.c.reference, entry_t.c.actor, entry_t.c.meta,
                entry_t.c.reverses_entry_id, entry_t.c.hold_id, entry_t.c.prev_hash, entry_t.c.hash,
                posting_t.c.account_id, posting_t.c.amount, posting_t.c.currency)
         .join(posting_t, posting_t.c.entry_id == entry_t.c.id, isouter=True)
         .order_by(entry_t.c.book_id, entry_t.c.book_seq, posting_t.c.id))
    uuid_of_entry: dict[int, str] = {}
    uuid_of_hold = dict(conn.execute(select(hold_t.c.id, hold_t.c.uuid)).all())
    state = {"book": None, "head": chain.GENESIS, "seq": 0}
    current: list[Any] = []

    def close_book() -> None:
        b = state["book"]
        if b is None:
            return
        book = books[b]
        if book.entry_count != state["seq"] or book.head_hash != state["head"]:
            raise _Stop(Fault("book head", f"book {book.code}",
                              f"book says {book.entry_count} entries ending {book.head_hash[:12]}, the journal "
                              f"has {state['seq']} ending {state['head'][:12]}"))

    def check_entry(rows: list[Any]) -> None:
        e = rows[0]
        where = f"entry {e.uuid} (book {books[e.book_id].code} #{e.book_seq})"
        if e.book_seq != state["seq"] + 1:
            raise _Stop(Fault("sequence gap", where, f"expected #{state['seq'] + 1}"))
        if e.prev_hash != state["head"]:
            raise _Stop(Fault("broken chain", where, "does not link to the entry before it"))
        postings = [(codes[r.account_id], r.currency, r.amount) for r in rows if r.account_id is not None]
        if len(postings) < 2:
            raise _Stop(Fault("too few postings", where, f"{len(postings)} posting(s)"))
        totals: dict[str, int] = {}
        for _, currency, amount in postings:
            totals[currency] = totals.get(currency, 0) + amount
        if any(totals.values()):
            raise _Stop(Fault("unbalanced entry", where, f"sums to {totals}"))
        # Entries only ever point back at earlier ones; an unseen id is itself a fault.
        reverses = None
        if e.reverses_entry_id is not None:
            reverses = uuid_of_entry.get(e.reverses_entry_id)
            if reverses is None:
                reverses = conn.execute(select(entry_t.c.uuid).where(
                    entry_t.c.id == e.reverses_entry_id)).scalar()
        expected = chain.entry_hash(
            previous=e.prev_hash, book=books[e.book_id].code, sequence=e.book_seq, entry_id=e.uuid,
            key=e.idempotency_key, effective_us=e.effective_us, recorded_us=e.recorded_us,
            description=e.description, reference=e.reference, actor=e.actor, metadata=e.meta,
            reverses=reverses, hold=uuid_of_hold.get(e.hold_id) if e.hold_id else None, postings=postings)
        if expected != e.hash:
            raise _Stop(Fault("hash mismatch", where, "content differs from what was committed"))
        state["head"], state["seq"] = e.hash, e.book_seq
        counts["entries"] += 1
        counts["postings"] += len(postings)
        uuid_of_entry[e.id] = e.uuid

    for row in _stream(conn, q):
        if current and row.id != current[0].id:
            check_entry(current)
            current = []
        if row.book_id != state["book"]:
            close_book()
            state.update(book=row.book_id, head=chain.GENESIS, seq=0)
        current.append(row)
    if current:
        check_entry(current)
    close_book()
    seen = {state["book"]} if state["book"] is not None else set()
    seen |= {r for r in conn.execute(select(entry_t.c.book_id).distinct()).scalars()}
    for b in books.values():
        if b.id not in seen and (b.entry_count != 0 or b.head_hash != chain.GENESIS):
            raise _Stop(Fault("book head", f"book {b.code}", "book claims entries the journal does not have"))


def _verify_accounts(conn, counts: dict) -> None:
    accounts = {r.id: r for r in conn.execute(select(account_t))}
    counts["accounts"] = len(accounts)
    held: dict[int, int] = {}
    for h in conn.execute(select(hold_t)):
        counts["holds"] += 1
        if h.status == "pending":
            if h.reserves_debit:
                held[h.debit_account_id] = held.get(h.debit_account_id, 0) + h.amount
            if h.reserves_credit:
                held[h.credit_account_id] = held.get(h.credit_account_id, 0) + h.amount

    days = _stream(conn, select(account_day_t).order_by(account_day_t.c.account_id, account_day_t.c.day))
    pending_day = next(days, None)

    def check_account(account_id: int, balance: int, count: int, closes: dict[int, int]) -> None:
        nonlocal pending_day
        a = accounts[account_id]
        where = f"account {a.code}"
        if a.balance != balance or a.posting_count != count:
            raise _Stop(Fault("balance mismatch", where,
                              f"stored {a.balance} over {a.posting_count} postings; journal gives {balance} "
                              f"over {count}"))
        if a.held != held.get(account_id, 0):
            raise _Stop(Fault("held mismatch", where,
                              f"stored {a.held} held; pending holds reserve {held.get(account_id, 0)}"))
        stored: dict[int, int] = {}
        while pending_day is not None and pending_day.account_id <= account_id:
            if pending_day.account_id == account_id:
                stored[pending_day.day] = pending_day.closing
            pending_day = next(days, None)
        running, expected = 0, {}
        for day in sorted(closes):
            running += closes[day]
            expected[day] = running
        if stored != expected:
            bad = sorted(set(stored.items()) ^ set(expected.items()))[0][0]
            raise _Stop(Fault("checkpoint mismatch", where, f"end-of-day balance for day {bad} is wrong"))

    q = (select(posting_t.c.account_id, posting_t.c.account_seq, posting_t.c.amount,
                posting_t.c.balance_after, posting_t.c.effective_us, entry_t.c.uuid)
         .join(entry_t, entry_t.c.id == posting_t.c.entry_id)
         .order_by(posting_t.c.account_id, posting_t.c.account_seq))
    order = sorted(accounts)
    position = 0

    def check_empty_before(account_id: int | None) -> None:
        # Accounts with no postings, in id order, so the checkpoint stream stays in step.
        nonlocal position
        while position < len(order) and (account_id is None or order[position] < account_id):
            check_account(order[position], 0, 0, {})
            position += 1

    current, balance, count, closes = None, 0, 0, {}
    for p in _stream(conn, q):
        if p.account_id != current:
            if current is not None:
                check_account(current, balance, count, closes)
                position += 1
            check_empty_before(p.account_id)
            current, balance, count, closes = p.account_id, 0, 0, {}
        a = accounts[p.account_id]
        delta = p.amount * Side(a.normal_side).sign
        balance += delta
        count += 1
        day = p.effective_us // US_PER_DAY
        closes[day] = closes.get(day, 0) + delta
        if p.account_seq != count:
            raise _Stop(Fault("posting sequence gap", f"account {a.code}",
                              f"posting #{p.account_seq} where #{count} was expected (entry {p.uuid})"))
        if p.balance_after != balance:
            raise _Stop(Fault("running balance mismatch", f"account {a.code}",
                              f"after entry {p.uuid} the stored balance is {p.balance_after}, the postings "
                              f"give {balance}"))
    if current is not None:
        check_account(current, balance, count, closes)
        position += 1
    check_empty_before(None)
    if pending_day is not None:
        raise _Stop(Fault("checkpoint mismatch", f"account id {pending_day.account_id}",
                          "a checkpoint for an account with no such postings"))

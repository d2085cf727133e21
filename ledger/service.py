"""The ledger service: every write is one database transaction that either commits whole or not at all.

The shape of a write: look up idempotency keys; lock the accounts touched (in id order, so two writers can
never deadlock), then their books; work out every posting, running balance, floor check and hash in
memory; then write postings, entries, balances and checkpoints in a few batched statements. The database
re-checks what it can (zero-sum, append-only, floors) as a second line of defence.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, InternalError

from ledger import chain, rawsql
from ledger.clock import Clock, IdFactory, SystemClock, US_PER_DAY, day_of, from_us, ordered_ids, to_us
from ledger.db import Database
from ledger.errors import (
    AccountClosed, AccountConflict, AccountNotEmpty, AlreadyReversed, CurrencyMismatch, ExceedsHold,
    HoldExpired, HoldNotPending, IdempotencyConflict, InsufficientFunds, IntegrityFault, LedgerError,
    UnbalancedEntry, UnknownAccount, UnknownEntry, UnknownHold, ValidationError,
)
from ledger.group import GroupCommit, Unit
from ledger.model import (
    Account, AccountSpec, AccountType, Balance, Entry, EntryRequest, Hold, HoldRequest, HoldStatus, Posting,
    Side, StatementLine, StatementPage, check_amount, check_code, check_currency, check_metadata,
)
from ledger.tables import account_day_t, account_t, book_t, entry_t, hold_t, posting_t

_CHUNK = 500

# The balance as of a moment: the closing checkpoint of the last earlier day (one index lookup) plus that
# day's postings up to the moment (an index range); the same arithmetic as ``Ledger._balance_as_of``.
_AS_OF = text(
    "SELECT a.normal_side, "
    "(SELECT d.closing FROM ledger_account_day d WHERE d.account_id = a.id AND d.day < :day "
    " ORDER BY d.day DESC LIMIT 1) AS closing, "
    "(SELECT coalesce(sum(p.amount), 0) FROM ledger_posting p WHERE p.account_id = a.id "
    " AND p.effective_us >= :day_start AND p.effective_us <= :at) AS same_day "
    "FROM ledger_account a WHERE a.code = :code")


@dataclass
class _AccountState:
    id: int
    code: str
    book_id: int
    sign: int
    currency: str
    floor: int | None
    status: str
    balance: int
    held: int
    posting_count: int
    last_day: int | None
    day_changes: list[tuple[int, int, int]] = field(default_factory=list)
    touched: bool = False

    def available(self) -> int:
        return self.balance - self.held


@dataclass
class _BookState:
    id: int
    code: str
    head: str
    count: int
    touched: bool = False


@dataclass(frozen=True)
class _NewEntry:
    key: str
    rhash: str
    postings: tuple[Posting, ...]
    description: str
    effective_us: int | None
    reference: str | None
    actor: str | None
    metadata: dict
    book: str | None
    reverses: tuple[int, str] | None = None
    hold: tuple[int, str] | None = None


class Ledger:
    def __init__(self, db: Database | str, clock: Clock | None = None, ids: IdFactory = ordered_ids, *,
                 group_commit: bool = True):
        """``group_commit``: concurrent ``post``/``post_batch`` calls from threads sharing this object share
        one transaction (one leader at a time runs whatever is waiting). Off, every call runs on its own."""
        self.db = db if isinstance(db, Database) else Database(db)
        self.clock = clock or SystemClock()
        self.ids = ids
        self._group = GroupCommit(self._run_units) if group_commit else None

    def group_commit_stats(self) -> tuple[int, int] | None:
        """(groups run, writes they held) since this Ledger was made; None without group commit."""
        return (self._group.transactions, self._group.writes) if self._group is not None else None

    # ------------------------------------------------------------------ accounts
    def open_account(self, spec: AccountSpec) -> Account:
        return self.open_accounts([spec])[0]

    def open_accounts(self, specs: Sequence[AccountSpec]) -> list[Account]:
        """Open accounts; opening one that exists with the same attributes returns it (the code is the key)."""
        for spec in specs:
            check_code(spec.code)
            check_code(spec.book, "book code")
            check_currency(spec.currency)
            AccountType(spec.type)
            if spec.floor is not None:
                check_amount(spec.floor, "floor")
            check_metadata(dict(spec.metadata))

        def work(conn: Connection) -> list[str]:
            now_us = self._now_us()
            codes = [s.code for s in specs]
            found = {r.code: r for r in self._account_rows(conn, codes=codes)}
            books = self._ensure_books(conn, {s.book for s in specs}, now_us)
            new_rows = []
            for spec in specs:
                row = found.get(spec.code)
                if row is not None:
                    if not _same_account(row, spec, books):
                        raise AccountConflict(f"account {spec.code!r} exists with different attributes")
                    continue
                new_rows.append(dict(
                    uuid=self.ids(), code=spec.code, book_id=books[spec.book].id,
                    type=AccountType(spec.type).value, normal_side=spec.side.value, currency=spec.currency,
                    floor=spec.floor, owner_ref=spec.owner_ref, meta=dict(spec.metadata), status="open",
                    balance=0, held=0, posting_count=0, last_day=None, created_us=now_us, closed_us=None))
                found[spec.code] = True
            if new_rows:
                conn.execute(account_t.insert(), new_rows)
            return codes

        codes = self.db.write(work)
        with self.db.read() as conn:
            by_code = {a.code: a for a in self._accounts(conn, codes)}
        return [by_code[c] for c in codes]

    def account(self, code: str) -> Account:
        with self.db.read() as conn:
            found = self._accounts(conn, [code])
        if not found:
            raise UnknownAccount(code)
        return found[0]

    def accounts(self, owner_ref: str | None = None, book: str | None = None) -> list[Account]:
        with self.db.read() as conn:
            q = select(account_t.c.code).order_by(account_t.c.id)
            if owner_ref is not None:
                q = q.where(account_t.c.owner_ref == owner_ref)
            if book is not None:
                q = q.join(book_t, book_t.c.id == account_t.c.book_id).where(book_t.c.code == book)
            codes = list(conn.execute(q).scalars())
            return self._accounts(conn, codes)

    def close_account(self, code: str) -> Account:
        def work(conn: Connection) -> None:
            acct = self._lock_accounts(conn, [code])[code]
            if acct.status == "closed":
                return
            if acct.balance != 0 or acct.held != 0:
                raise AccountNotEmpty(
                    f"account {code!r} still has a balance of {acct.balance} and {acct.held} held")
            conn.execute(update(account_t).where(account_t.c.id == acct.id)
                         .values(status="closed", closed_us=self._now_us()))

        self.db.write(work)
        return self.account(code)

    # ------------------------------------------------------------------ entries
    def post(self, request: EntryRequest) -> Entry:
        """Post one entry. Concurrent calls from threads sharing this ``Ledger`` are committed together
        (see ``ledger.group``); each still gets its own entry or its own refusal."""
        return self._prepare_and_submit([request])[0]

    def transfer(self, key: str, debit: str, credit: str, amount: int, *, currency: str = "GBP",
                 **fields: Any) -> Entry:
        """Move ``amount`` by debiting one account and crediting another."""
        check_amount(amount, "amount")
        if amount <= 0:
            raise ValidationError("a transfer amount must be more than zero")
        postings = (Posting.debit(debit, amount, currency), Posting.credit(credit, amount, currency))
        return self.post(EntryRequest(key=key, postings=postings, **fields))

    def post_batch(self, requests: Sequence[EntryRequest]) -> list[Entry]:
        """Post many entries in one transaction: all of them, or (on any refusal) none of them."""
        if not requests:
            return []
        entries = self._prepare_and_submit(requests)
        by_key = {e.key: e for e in entries}
        return [by_key[r.key] for r in requests]

    def post_batch_fast(self, requests: Sequence[EntryRequest]) -> int:
        """As ``post_batch`` but returns only how many entries were new, for bulk loads."""
        if not requests:
            return 0
        return self._prepare_and_submit(requests, count_only=True)

    def reverse(self, entry_id: str, key: str, *, actor: str | None = None, description: str | None = None,
                effective_at: datetime | None = None) -> Entry:
        """Correct a committed entry with a new one that undoes it and points at it."""
        rhash = chain.request_hash({"reverse": entry_id, "actor": actor, "description": description,
                                    "effective": to_us(effective_at) if effective_at else None})

        def work(conn: Connection) -> list[int]:
            prior = self._existing_keys(conn, [key])
            if key in prior:
                _check_replay(key, prior[key][1], rhash)
                return [prior[key][0]]
            row = conn.execute(select(entry_t.c.id, entry_t.c.description, entry_t.c.reference,
                                      entry_t.c.uuid).where(entry_t.c.uuid == entry_id)).first()
            if row is None:
                raise UnknownEntry(f"no entry {entry_id}")
            if conn.execute(select(entry_t.c.id).where(entry_t.c.reverses_entry_id == row.id)).first():
                raise AlreadyReversed(f"entry {entry_id} has already been reversed")
            postings = tuple(
                Posting(code, -amount, currency)
                for code, amount, currency in conn.execute(
                    select(account_t.c.code, posting_t.c.amount, posting_t.c.currency)
                    .join(account_t, account_t.c.id == posting_t.c.account_id)
                    .where(posting_t.c.entry_id == row.id).order_by(posting_t.c.id)))
            new = _NewEntry(
                key=key, rhash=rhash, postings=postings,
                description=description or f"Reversal of: {row.description}"[:500],
                effective_us=to_us(effective_at) if effective_at else None, reference=row.reference,
                actor=actor, metadata={}, book=None, reverses=(row.id, row.uuid))
            return self._post_prepared(conn, [new])

        ids = self.db.write(work)
        return self.entry_by_id(ids[0])

    def entry(self, entry_id: str) -> Entry:
        with self.db.read() as conn:
            row = conn.execute(select(entry_t.c.id).where(entry_t.c.uuid == entry_id)).first()
            if row is None:
                raise UnknownEntry(f"no entry {entry_id}")
            return self._load_entries(conn, [row.id])[0]

    def entry_by_key(self, key: str) -> Entry | None:
        with self.db.read() as conn:
            row = conn.execute(select(entry_t.c.id).where(entry_t.c.idempotency_key == key)).first()
            return self._load_entries(conn, [row.id])[0] if row else None

    def entry_by_id(self, internal_id: int) -> Entry:
        with self.db.read() as conn:
            return self._load_entries(conn, [internal_id])[0]

    # ------------------------------------------------------------------ holds
    def hold(self, request: HoldRequest) -> Hold:
        """Reserve money: the available balance falls now; the posted balance only when committed."""
        r = request
        check_code(r.key, "idempotency key")
        check_amount(r.amount, "amount")
        check_currency(r.currency)
        if r.amount <= 0:
            raise ValidationError("a hold must be for more than zero")
        if r.debit == r.credit:
            raise ValidationError("a hold needs two different accounts")
        meta = check_metadata(dict(r.metadata))
        expires_us = to_us(r.expires_at) if r.expires_at else None
        rhash = chain.request_hash({"hold": [r.debit, r.credit, r.amount, r.currency], "expires": expires_us,
                                    "description": r.description, "reference": r.reference,
                                    "actor": r.actor, "meta": meta})

        def work(conn: Connection) -> int:
            prior = conn.execute(select(hold_t.c.id, hold_t.c.request_hash)
                                 .where(hold_t.c.idempotency_key == r.key)).first()
            if prior is not None:
                _check_replay(r.key, prior.request_hash, rhash)
                return prior.id
            now_us = self._now_us()
            accts = self._lock_accounts(conn, [r.debit, r.credit])
            self._sweep_expired(conn, accts, now_us)
            debit, credit = accts[r.debit], accts[r.credit]
            for a in (debit, credit):
                _check_postable(a, r.currency)
            reserves_debit = debit.sign < 0     # debiting a credit-normal account lowers its balance
            reserves_credit = credit.sign > 0   # crediting a debit-normal account lowers its balance
            for a, reserves in ((debit, reserves_debit), (credit, reserves_credit)):
                if reserves:
                    _check_floor(a, r.amount)
                    a.held += r.amount
                    a.touched = True
            if expires_us is not None and expires_us <= now_us:
                raise ValidationError("a hold cannot expire before it is placed")
            hid = conn.execute(hold_t.insert().returning(hold_t.c.id), dict(
                uuid=self.ids(), idempotency_key=r.key, request_hash=rhash, debit_account_id=debit.id,
                credit_account_id=credit.id, reserves_debit=reserves_debit, reserves_credit=reserves_credit,
                amount=r.amount, currency=r.currency, status="pending", expires_us=expires_us,
                created_us=now_us, description=r.description[:500], reference=r.reference, actor=r.actor,
                meta=meta, resolved_us=None, resolved_key=None, committed_amount=None)).scalar_one()
            _Writer(self, conn, accts, {}).flush()
            return hid

        hid = self.db.write(work)
        return self._hold_by_internal_id(hid)

    def commit_hold(self, hold_id: str, key: str, amount: int | None = None, *,
                    effective_at: datetime | None = None, actor: str | None = None) -> Entry:
        """Post a hold, in full or in part; whatever is not committed is released."""
        check_code(key, "idempotency key")
        if amount is not None:
            check_amount(amount, "amount")
            if amount <= 0:
                raise ValidationError("a committed amount must be more than zero")
        eff_us = to_us(effective_at) if effective_at else None
        rhash = chain.request_hash({"commit": hold_id, "amount": amount, "effective": eff_us, "actor": actor})

        def work(conn: Connection) -> int | None:
            prior = self._existing_keys(conn, [key])
            if key in prior:
                _check_replay(key, prior[key][1], rhash)
                return prior[key][0]
            h, accts = self._lock_hold(conn, hold_id)
            now_us = self._now_us()
            if h.status != "pending":
                raise HoldNotPending(hold_id, h.status)
            if h.expires_us is not None and h.expires_us <= now_us:
                self._resolve_hold(conn, h, accts, "expired", None, None, now_us)
                return None
            take = h.amount if amount is None else amount
            if take > h.amount:
                raise ExceedsHold(hold_id, h.amount, take)
            _release_reservation(h, accts)
            postings = (Posting.debit(accts.code_of(h.debit_account_id), take, h.currency),
                        Posting.credit(accts.code_of(h.credit_account_id), take, h.currency))
            new = _NewEntry(key=key, rhash=rhash, postings=postings, description=h.description,
                            effective_us=eff_us, reference=h.reference, actor=actor or h.actor,
                            metadata=dict(h.meta), book=None, hold=(h.id, h.uuid))
            conn.execute(update(hold_t).where(hold_t.c.id == h.id).values(
                status="committed", resolved_us=now_us, resolved_key=key, committed_amount=take))
            return self._post_prepared(conn, [new], locked=accts)[0]

        entry_id = self.db.write(work)
        if entry_id is None:
            raise HoldExpired(hold_id)
        return self.entry_by_id(entry_id)

    def release_hold(self, hold_id: str, key: str, *, actor: str | None = None) -> Hold:
        """Give the reserved money back to the available balance."""
        check_code(key, "idempotency key")

        def work(conn: Connection) -> None:
            h, accts = self._lock_hold(conn, hold_id)
            if h.status == "released" and h.resolved_key == key:
                return
            if h.status != "pending":
                raise HoldNotPending(hold_id, h.status)
            self._resolve_hold(conn, h, accts, "released", key, None, self._now_us())

        self.db.write(work)
        return self.get_hold(hold_id)

    def expire_holds(self, now: datetime | None = None, limit: int = 1000) -> int:
        """Release every pending hold whose time has passed; returns how many expired."""
        now_us = to_us(now) if now else self._now_us()
        with self.db.read() as conn:
            due = list(conn.execute(select(hold_t.c.uuid).where(and_(
                hold_t.c.status == "pending", hold_t.c.expires_us <= now_us)).limit(limit)).scalars())
        expired = 0
        for hold_id in due:
            def work(conn: Connection, hold_id: str = hold_id) -> int:
                h, accts = self._lock_hold(conn, hold_id)
                if h.status != "pending" or h.expires_us is None or h.expires_us > now_us:
                    return 0
                self._resolve_hold(conn, h, accts, "expired", None, None, now_us)
                return 1
            expired += self.db.write(work)
        return expired

    def get_hold(self, hold_id: str) -> Hold:
        with self.db.read() as conn:
            row = conn.execute(select(hold_t.c.id).where(hold_t.c.uuid == hold_id)).first()
        if row is None:
            raise UnknownHold(f"no hold {hold_id}")
        return self._hold_by_internal_id(row.id)

    def holds(self, account: str, status: HoldStatus | None = HoldStatus.PENDING) -> list[Hold]:
        with self.db.read() as conn:
            acct = conn.execute(select(account_t.c.id).where(account_t.c.code == account)).first()
            if acct is None:
                raise UnknownAccount(account)
            q = select(hold_t.c.id).where(or_(hold_t.c.debit_account_id == acct.id,
                                              hold_t.c.credit_account_id == acct.id)).order_by(hold_t.c.id)
            if status is not None:
                q = q.where(hold_t.c.status == status.value)
            ids = list(conn.execute(q).scalars())
        return [self._hold_by_internal_id(i) for i in ids]

    # ------------------------------------------------------------------ balances
    def balance(self, code: str) -> Balance:
        """Posted, held and available now: one row read, plus the (few) holds that have lapsed unswept."""
        now_us = self._now_us()
        with self.db.read() as conn:
            row = conn.execute(select(account_t.c.id, account_t.c.balance, account_t.c.held,
                                      account_t.c.currency).where(account_t.c.code == code)).first()
            if row is None:
                raise UnknownAccount(code)
            lapsed = conn.execute(select(func.coalesce(func.sum(hold_t.c.amount), 0)).where(and_(
                hold_t.c.status == "pending", hold_t.c.expires_us <= now_us,
                or_(and_(hold_t.c.debit_account_id == row.id, hold_t.c.reserves_debit),
                    and_(hold_t.c.credit_account_id == row.id, hold_t.c.reserves_credit))))).scalar_one()
        return Balance(code, row.currency, row.balance, row.held - int(lapsed), from_us(now_us))

    def balance_as_of(self, code: str, moment: datetime) -> int:
        """The posted balance counting every posting effective at or before ``moment``.

        The closing checkpoint of the last earlier day is one index lookup; only that day's postings are
        added, never the whole history.
        """
        at_us = to_us(moment)
        day = day_of(at_us)
        row = self.db.read_one(_AS_OF, dict(code=code, day=day, day_start=day * US_PER_DAY, at=at_us))
        if row is None:
            raise UnknownAccount(code)
        return int(row.closing or 0) + int(row.same_day) * Side(row.normal_side).sign

    def _balance_as_of(self, conn: Connection, account_id: int, sign: int, at_us: int) -> int:
        day = day_of(at_us)
        closing = conn.execute(
            select(account_day_t.c.closing)
            .where(and_(account_day_t.c.account_id == account_id, account_day_t.c.day < day))
            .order_by(account_day_t.c.day.desc()).limit(1)).scalar()
        same_day = conn.execute(select(func.coalesce(func.sum(posting_t.c.amount), 0)).where(and_(
            posting_t.c.account_id == account_id, posting_t.c.effective_us >= day * US_PER_DAY,
            posting_t.c.effective_us <= at_us))).scalar_one()
        return int(closing or 0) + int(same_day) * sign

    def statement(self, code: str, start: datetime, end: datetime, *, limit: int = 100,
                  cursor: str | None = None) -> StatementPage:
        """Lines effective in [start, end), oldest first, with running balances; page on with the cursor."""
        if limit < 1 or limit > 10_000:
            raise ValidationError("a statement page holds 1 to 10,000 lines")
        start_us, end_us = to_us(start), to_us(end)
        if end_us < start_us:
            raise ValidationError("a statement must end after it starts")
        with self.db.read() as conn:
            acct = conn.execute(select(account_t.c.id, account_t.c.normal_side, account_t.c.currency)
                                .where(account_t.c.code == code)).first()
            if acct is None:
                raise UnknownAccount(code)
            sign = Side(acct.normal_side).sign
            opening = self._balance_as_of(conn, acct.id, sign, start_us - 1)
            q = (select(posting_t.c.id, posting_t.c.amount, posting_t.c.effective_us, entry_t.c.uuid,
                        entry_t.c.description, entry_t.c.reference)
                 .join(entry_t, entry_t.c.id == posting_t.c.entry_id)
                 .where(and_(posting_t.c.account_id == acct.id, posting_t.c.effective_us >= start_us,
                             posting_t.c.effective_us < end_us))
                 .order_by(posting_t.c.effective_us, posting_t.c.id).limit(limit + 1))
            running = opening
            if cursor:
                after_us, after_id, running = _decode_cursor(cursor)
                q = q.where(or_(posting_t.c.effective_us > after_us,
                                and_(posting_t.c.effective_us == after_us, posting_t.c.id > after_id)))
            rows = conn.execute(q).all()
        lines = []
        for row in rows[:limit]:
            running += row.amount * sign
            lines.append(StatementLine(row.uuid, from_us(row.effective_us), row.description, row.reference,
                                       row.amount * sign, running))
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = _encode_cursor(last.effective_us, last.id, running)
        return StatementPage(code, acct.currency, start, end, opening, tuple(lines), next_cursor)

    # ------------------------------------------------------------------ internals: writing
    def _day_upsert(self) -> Any:
        """Insert-or-replace of end-of-day balances; built once, it is the same statement every time."""
        if getattr(self, "_day_upsert_stmt", None) is None:
            dialect = postgresql if self.db.is_postgres else sqlite
            stmt = dialect.insert(account_day_t)
            self._day_upsert_stmt = stmt.on_conflict_do_update(
                index_elements=["account_id", "day"], set_={"closing": stmt.excluded.closing})
        return self._day_upsert_stmt

    def _now_us(self) -> int:
        return to_us(self.clock.now())

    def _prepare(self, r: EntryRequest) -> _NewEntry:
        check_code(r.key, "idempotency key")
        if len(r.postings) < 2:
            raise UnbalancedEntry("an entry needs at least two postings")
        totals: dict[str, int] = {}
        for p in r.postings:
            check_code(p.account)
            check_amount(p.amount, "posting amount")
            check_currency(p.currency)
            if p.amount == 0:
                raise ValidationError(f"posting to {p.account!r} is for zero")
            totals[p.currency] = totals.get(p.currency, 0) + p.amount
        unbalanced = {c: t for c, t in totals.items() if t != 0}
        if unbalanced:
            raise UnbalancedEntry(f"postings do not sum to zero: {unbalanced}")
        if len(r.description) > 500:
            raise ValidationError("a description is at most 500 characters")
        meta = check_metadata(dict(r.metadata))
        eff_us = to_us(r.effective_at) if r.effective_at else None
        rhash = chain.entry_request_hash(r.postings, r.description, eff_us, r.reference, r.actor, meta, r.book)
        return _NewEntry(key=r.key, rhash=rhash, postings=tuple(r.postings), description=r.description,
                         effective_us=eff_us, reference=r.reference, actor=r.actor, metadata=meta,
                         book=r.book)

    # The write path. A caller's entries are a Unit; ``post``, ``post_batch`` and ``post_batch_fast`` hand
    # their unit to the group commit (or run it at once), which runs units through ``_post_units``.
    def _prepare_and_submit(self, requests: Sequence[EntryRequest], count_only: bool = False) -> Any:
        group = self._group
        if group is None:
            unit = Unit(_dedupe([self._prepare(r) for r in requests]), count_only)
            self._run_units([unit])
            return unit.outcome()
        group.arrive()
        try:
            unit = Unit(_dedupe([self._prepare(r) for r in requests]), count_only)
        except BaseException:
            group.leave()
            raise
        return group.submit(unit, arrived=True)

    def _run_units(self, units: list[Unit]) -> None:
        """Run units in one transaction and settle each; never raises (each caller gets its own error)."""
        if len(units) == 1:
            unit = units[0]
            try:
                unit.settle(None, self.db.write(lambda conn: self._post_units(conn, units, isolate=False))[0][1])
            except Exception as exc:
                unit.settle(exc, None)
            return
        try:
            outcomes = self.db.write(lambda conn: self._post_units(conn, units, isolate=True))
        except Exception:
            # The database refused the group as a whole (or it could not be written): run every unit alone,
            # so that the refusal lands on the caller it belongs to.
            for unit in units:
                self._run_units([unit])
            return
        for unit, (error, result) in zip(units, outcomes):
            unit.settle(error, result)

    def _post_prepared(self, conn: Connection, prepared: Sequence[_NewEntry], *,
                       locked: "_Locked | None" = None) -> list[int]:
        """Post entries inside a transaction the caller has begun (reversals, commits of holds); returns
        their internal ids."""
        unit = Unit(list(prepared))
        self._post_units(conn, [unit], isolate=False, locked=locked, ids_only=True)
        return unit.result

    def _post_units(self, conn: Connection, units: Sequence[Unit], *, isolate: bool,
                    locked: "_Locked | None" = None, ids_only: bool = False) -> list[tuple[Any, Any]]:
        """Write ``units`` in the transaction of ``conn``; returns (error, result) for each.

        ``isolate``: a refused unit is dropped and the others written; otherwise the first refusal is raised
        (and the caller's transaction rolls back).
        """
        txn = rawsql.transaction(conn, self.db.is_postgres, may_begin=locked is None and not ids_only)
        try:
            out = self._post_units_in(conn, txn, units, isolate, locked, ids_only)
        except BaseException:
            txn.finish(conn, failed=True)
            raise
        txn.finish(conn, failed=False)
        return out

    def _post_units_in(self, conn: Connection, txn: Any, units: Sequence[Unit], isolate: bool,
                       locked: "_Locked | None", ids_only: bool) -> list[tuple[Any, Any]]:
        entries = [p for u in units for p in u.entries]
        have = locked if locked is not None else {}
        # One step reads the idempotency keys and locks every account (id order), then the books the
        # entries go to (id order), and allocates the entry ids.
        found = txn.read_and_lock(
            keys=list(dict.fromkeys(p.key for p in entries)),
            codes=sorted({post.account for p in entries for post in p.postings if post.account not in have}),
            first_codes=sorted({p.postings[0].account for p in entries if not p.book}),
            named_books=sorted({p.book for p in entries if p.book}),
            n_ids=len(entries))
        accts = locked if locked is not None else _Locked()
        for r in found.accounts:
            accts[r[1]] = _AccountState(
                id=r[0], code=r[1], book_id=r[2], sign=1 if r[3] == "debit" else -1, currency=r[4], floor=r[5],
                status=r[6], balance=r[7], held=r[8], posting_count=r[9], last_day=r[10])
        books = {r[0]: _BookState(r[0], r[1], r[2], r[3]) for r in found.books}
        by_code = {b.code: b for b in books.values()}
        now_us = self._now_us()
        if locked is None:
            self._sweep_expired(conn, accts, now_us)
        writer = _Writer(self, conn, accts, books, txn)
        ids = iter(found.ids)
        plans: list[tuple[LedgerError | None, list[Any]]] = []
        for unit in units:
            mark = writer.mark(unit, by_code) if isolate else None
            try:
                plans.append((None, self._plan(unit, found.prior, writer, accts, books, by_code, ids, now_us)))
            except LedgerError as exc:
                if not isolate:
                    raise
                writer.rewind(mark)
                plans.append((exc, []))
        # Replays answer with the entry first written under their key (read before this write commits).
        replayed = sorted({r for _, refs in plans for r in refs if isinstance(r, int)})
        loaded = ({e.key: e for e in self._load_entries(conn, replayed)}
                  if replayed and not ids_only and not all(u.count_only for u in units) else {})
        prior_ids = {found.prior[k][0]: k for k in found.prior}
        writer.flush()
        out: list[tuple[Any, Any]] = []
        for unit, (error, refs) in zip(units, plans):
            if error is not None:
                out.append((error, None))
            elif ids_only:
                unit.settle(None, [r if isinstance(r, int) else writer.written[r][0] for r in refs])
                out.append((None, unit.result))
            elif unit.count_only:
                out.append((None, sum(1 for r in refs if isinstance(r, str) and writer.written[r][1] is unit)))
            else:
                out.append((None, [loaded[prior_ids[r]] if isinstance(r, int) else writer.entry(r) for r in refs]))
        return out

    def _plan(self, unit: Unit, prior: dict[str, tuple[int, str]], writer: "_Writer", accts: "_Locked",
              books: dict[int, _BookState], by_code: dict[str, _BookState], ids: Any, now_us: int) -> list[Any]:
        """Check one unit under the locks and add its new entries to the writer. Returns, per entry, the
        internal id of the entry already written under its key (an int), or its key if new in this write."""
        refs: list[Any] = []
        new: list[_NewEntry] = []
        for p in unit.entries:
            hit = prior.get(p.key)
            if hit is not None:
                _check_replay(p.key, hit[1], p.rhash)
                refs.append(hit[0])
            else:
                earlier = writer.written.get(p.key)
                if earlier is not None and earlier[2].rhash != p.rhash:
                    raise IdempotencyConflict(p.key)
                refs.append(p.key)
                if earlier is None:
                    new.append(p)
        if new:
            for code in sorted({post.account for p in new for post in p.postings}):
                if code not in accts:
                    raise UnknownAccount(code)
            for p in new:
                if p.book and p.book not in by_code:
                    raise ValidationError(f"no book {p.book!r}")
            for p in new:
                book = by_code[p.book] if p.book else books[accts[p.postings[0].account].book_id]
                writer.add(next(ids), p, book, now_us, unit)
        return refs

    def _existing_keys(self, conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, str]]:
        found: dict[str, tuple[int, str]] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            for row in conn.execute(select(entry_t.c.id, entry_t.c.idempotency_key, entry_t.c.request_hash)
                                    .where(entry_t.c.idempotency_key.in_(chunk))):
                found[row.idempotency_key] = (row.id, row.request_hash)
        return found

    def _lock_accounts(self, conn: Connection, codes: Sequence[str] = (),
                       ids: Sequence[int] = ()) -> "_Locked":
        locked = _Locked()
        wanted = list(codes) or list(ids)
        column = account_t.c.code if codes else account_t.c.id
        for i in range(0, len(wanted), _CHUNK):
            q = (select(account_t.c.id, account_t.c.code, account_t.c.book_id, account_t.c.normal_side,
                        account_t.c.currency, account_t.c.floor, account_t.c.status, account_t.c.balance,
                        account_t.c.held, account_t.c.posting_count, account_t.c.last_day)
                 .where(column.in_(wanted[i:i + _CHUNK])).order_by(account_t.c.id))
            if self.db.is_postgres:
                q = q.with_for_update()
            for r in conn.execute(q):
                locked[r.code] = _AccountState(
                    id=r.id, code=r.code, book_id=r.book_id, sign=Side(r.normal_side).sign,
                    currency=r.currency, floor=r.floor, status=r.status, balance=r.balance, held=r.held,
                    posting_count=r.posting_count, last_day=r.last_day)
        for c in codes:
            if c not in locked:
                raise UnknownAccount(c)
        return locked

    def _ensure_books(self, conn: Connection, codes: set[str], now_us: int) -> dict[str, _BookState]:
        rows = {r.code: r for r in conn.execute(select(book_t).where(book_t.c.code.in_(sorted(codes))))}
        missing = sorted(codes - rows.keys())
        if missing:
            conn.execute(book_t.insert(), [dict(code=c, head_hash=chain.GENESIS, entry_count=0,
                                                created_us=now_us) for c in missing])
            rows = {r.code: r for r in conn.execute(select(book_t).where(book_t.c.code.in_(sorted(codes))))}
        return {c: _BookState(r.id, r.code, r.head_hash, r.entry_count) for c, r in rows.items()}

    def _sweep_expired(self, conn: Connection, accts: "_Locked", now_us: int) -> None:
        """Release lapsed holds on accounts this transaction already holds locks on (both sides)."""
        # Only an account with money held can have a lapsed hold on it: most writes skip the query.
        ids = [a.id for a in accts.values() if a.held > 0]
        if not ids:
            return
        rows = conn.execute(select(hold_t).where(and_(
            hold_t.c.status == "pending", hold_t.c.expires_us <= now_us,
            or_(hold_t.c.debit_account_id.in_(ids), hold_t.c.credit_account_id.in_(ids))))).all()
        for h in rows:
            if accts.has_id(h.debit_account_id) and accts.has_id(h.credit_account_id):
                self._resolve_hold(conn, h, accts, "expired", None, None, now_us, flush=False)

    def _lock_hold(self, conn: Connection, hold_id: str) -> tuple[Any, "_Locked"]:
        h = conn.execute(select(hold_t).where(hold_t.c.uuid == hold_id)).first()
        if h is None:
            raise UnknownHold(f"no hold {hold_id}")
        accts = self._lock_accounts(conn, ids=sorted({h.debit_account_id, h.credit_account_id}))
        # Every change to a hold locks its accounts first, so this second read is stable.
        h = conn.execute(select(hold_t).where(hold_t.c.id == h.id)).first()
        return h, accts

    def _resolve_hold(self, conn: Connection, h: Any, accts: "_Locked", status: str, key: str | None,
                      committed: int | None, now_us: int, flush: bool = True) -> None:
        _release_reservation(h, accts)
        conn.execute(update(hold_t).where(hold_t.c.id == h.id).values(
            status=status, resolved_us=now_us, resolved_key=key, committed_amount=committed))
        if flush:
            _Writer(self, conn, accts, {}).flush()

    # ------------------------------------------------------------------ internals: reading
    def _account_rows(self, conn: Connection, codes: Sequence[str]) -> list[Any]:
        out = []
        for i in range(0, len(codes), _CHUNK):
            out.extend(conn.execute(select(account_t).where(account_t.c.code.in_(codes[i:i + _CHUNK]))))
        return out

    def _accounts(self, conn: Connection, codes: Sequence[str]) -> list[Account]:
        books = {r.id: r.code for r in conn.execute(select(book_t.c.id, book_t.c.code))}
        return [_account_from_row(r, books) for r in self._account_rows(conn, codes)]

    def _load_entries(self, conn: Connection, ids: Sequence[int]) -> list[Entry]:
        rows: list[Any] = []
        postings: dict[int, list[Posting]] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = list(ids[i:i + _CHUNK])
            rows.extend(conn.execute(select(entry_t, book_t.c.code.label("book_code"))
                                     .join(book_t, book_t.c.id == entry_t.c.book_id)
                                     .where(entry_t.c.id.in_(chunk))))
            for p in conn.execute(select(posting_t.c.entry_id, account_t.c.code, posting_t.c.amount,
                                         posting_t.c.currency)
                                  .join(account_t, account_t.c.id == posting_t.c.account_id)
                                  .where(posting_t.c.entry_id.in_(chunk)).order_by(posting_t.c.id)):
                postings.setdefault(p.entry_id, []).append(Posting(p.code, p.amount, p.currency))
        refs = {r.reverses_entry_id for r in rows if r.reverses_entry_id}
        holds = {r.hold_id for r in rows if r.hold_id}
        ref_uuid = dict(conn.execute(select(entry_t.c.id, entry_t.c.uuid).where(entry_t.c.id.in_(refs)))
                        .all()) if refs else {}
        hold_uuid = dict(conn.execute(select(hold_t.c.id, hold_t.c.uuid).where(hold_t.c.id.in_(holds)))
                         .all()) if holds else {}
        by_id = {r.id: r for r in rows}
        return [
            Entry(id=r.uuid, key=r.idempotency_key, book=r.book_code, sequence=r.book_seq,
                  effective_at=from_us(r.effective_us), recorded_at=from_us(r.recorded_us),
                  description=r.description, reference=r.reference, actor=r.actor, metadata=r.meta,
                  postings=tuple(postings.get(r.id, ())), reverses=ref_uuid.get(r.reverses_entry_id),
                  hold=hold_uuid.get(r.hold_id), hash=r.hash, previous_hash=r.prev_hash)
            for r in (by_id[i] for i in ids)
        ]

    def _hold_by_internal_id(self, internal_id: int) -> Hold:
        with self.db.read() as conn:
            h = conn.execute(select(hold_t).where(hold_t.c.id == internal_id)).one()
            codes = dict(conn.execute(select(account_t.c.id, account_t.c.code).where(
                account_t.c.id.in_([h.debit_account_id, h.credit_account_id]))).all())
            commit = conn.execute(select(entry_t.c.uuid).where(entry_t.c.hold_id == h.id)).scalar()
        return Hold(id=h.uuid, key=h.idempotency_key, debit=codes[h.debit_account_id],
                    credit=codes[h.credit_account_id], amount=h.amount, currency=h.currency,
                    status=HoldStatus(h.status), expires_at=from_us(h.expires_us) if h.expires_us else None,
                    created_at=from_us(h.created_us), description=h.description, reference=h.reference,
                    actor=h.actor, metadata=h.meta, committed_amount=h.committed_amount, commit_entry=commit)


class _Locked(dict):
    """Account states this transaction holds locks on, by code (and findable by internal id)."""

    def __setitem__(self, code: str, state: _AccountState) -> None:
        super().__setitem__(code, state)
        self.__dict__.setdefault("ids", {})[state.id] = state

    def update(self, other: dict) -> None:  # type: ignore[override]
        for code, state in other.items():
            self[code] = state

    def has_id(self, account_id: int) -> bool:
        return account_id in self.__dict__.get("ids", {})

    def by_id(self, account_id: int) -> _AccountState:
        return self.__dict__["ids"][account_id]

    def code_of(self, account_id: int) -> str:
        return self.by_id(account_id).code


class _Writer:
    """Collects one transaction's postings, entries and balance changes, then writes them in batches."""

    def __init__(self, ledger: Ledger, conn: Connection, accts: _Locked, books: dict[int, _BookState],
                 txn: Any = None):
        self.ledger, self.conn, self.accts, self.books = ledger, conn, accts, books
        self.txn = txn if txn is not None else rawsql.transaction(conn, ledger.db.is_postgres, may_begin=False)
        self.postings: list[tuple] = []
        self.entries: list[tuple] = []
        # idempotency key -> (entry id, unit, request, uuid, book code, sequence, effective, recorded,
        #                     previous hash, hash)
        self.written: dict[str, tuple] = {}

    def add(self, entry_id: int, p: _NewEntry, book: _BookState, now_us: int, unit: Any = None) -> None:
        eff_us = p.effective_us if p.effective_us is not None else now_us
        day = eff_us // US_PER_DAY
        accts, rows = self.accts, self.postings
        hashed = []
        for post in p.postings:
            a = accts[post.account]
            if a.status != "open" or a.currency != post.currency:
                _check_postable(a, post.currency)
            delta = post.amount * a.sign
            if delta < 0 and a.floor is not None:
                _check_floor(a, -delta)
            a.balance += delta
            a.posting_count += 1
            a.touched = True
            a.day_changes.append((day, delta, a.balance))
            rows.append((entry_id, a.id, post.amount, post.currency, a.posting_count, a.balance, eff_us))
            hashed.append((post.account, post.currency, post.amount))
        uuid = self.ledger.ids()
        sequence = book.count + 1
        reverses = p.reverses[1] if p.reverses else None
        hold = p.hold[1] if p.hold else None
        digest = chain.entry_hash(
            previous=book.head, book=book.code, sequence=sequence, entry_id=uuid, key=p.key,
            effective_us=eff_us, recorded_us=now_us, description=p.description, reference=p.reference,
            actor=p.actor, metadata=p.metadata, reverses=reverses, hold=hold, postings=hashed)
        self.entries.append((
            entry_id, uuid, p.key, p.rhash, book.id, sequence, eff_us, now_us, p.description, p.reference,
            p.actor, chain.canonical(p.metadata) if p.metadata else "{}", p.reverses[0] if p.reverses else None, p.hold[0] if p.hold else None,
            book.head, digest))
        self.written[p.key] = (entry_id, unit, p, uuid, book.code, sequence, eff_us, now_us, book.head, digest)
        book.head, book.count, book.touched = digest, sequence, True

    def entry(self, key: str) -> Entry:
        """The entry written under ``key`` in this transaction, as a reader will see it once committed."""
        _, _, p, uuid, book, sequence, eff_us, now_us, previous, digest = self.written[key]
        return Entry(id=uuid, key=p.key, book=book, sequence=sequence, effective_at=from_us(eff_us),
                     recorded_at=from_us(now_us), description=p.description, reference=p.reference,
                     actor=p.actor, metadata=p.metadata, postings=tuple(p.postings),
                     reverses=p.reverses[1] if p.reverses else None, hold=p.hold[1] if p.hold else None,
                     hash=digest, previous_hash=previous)

    def mark(self, unit: Any, by_code: dict[str, _BookState]) -> tuple:
        """Where the writer stands before ``unit``, so that a refused unit can be undone in memory."""
        accts = {}
        books = {}
        for p in unit.entries:
            for post in p.postings:
                a = self.accts.get(post.account)
                if a is not None:
                    accts[a.id] = (a, a.balance, a.posting_count, a.touched, len(a.day_changes))
            b = by_code.get(p.book) if p.book else None
            if b is None and not p.book and p.postings[0].account in self.accts:
                b = self.books.get(self.accts[p.postings[0].account].book_id)
            if b is not None:
                books[b.id] = (b, b.head, b.count, b.touched)
        return len(self.postings), len(self.entries), list(accts.values()), list(books.values()), unit

    def rewind(self, mark: tuple) -> None:
        n_postings, n_entries, accts, books, unit = mark
        del self.postings[n_postings:]
        del self.entries[n_entries:]
        for a, balance, count, touched, n_changes in accts:
            a.balance, a.posting_count, a.touched = balance, count, touched
            del a.day_changes[n_changes:]
        for b, head, count, touched in books:
            b.head, b.count, b.touched = head, count, touched
        for key in [k for k, w in self.written.items() if w[1] is unit]:
            del self.written[key]

    def flush(self) -> None:
        try:
            days: list[tuple] = []
            accounts = [(a.id, a.balance, a.held, a.posting_count, self._checkpoint(a, days))
                        for a in self.accts.values() if a.touched]
            books = [(b.id, b.head, b.count) for b in self.books.values() if b.touched]
            self.txn.write(rawsql.Rows(self.postings, self.entries, accounts, days, books))
        except (IntegrityError, InternalError, *self.txn.errors) as exc:
            if _is_key_race(exc, self.ledger.db.is_postgres):
                raise
            raise IntegrityFault(f"the database refused the write: {_db_message(exc)}") from exc
        for a in self.accts.values():
            a.touched = False
            a.day_changes.clear()
        self.postings = []
        self.entries = []

    def _checkpoint(self, a: _AccountState, day_rows: list[tuple]) -> int | None:
        """The end-of-day balances this transaction changed; returns the account's latest day.

        Closings on or after the account's latest day join ``day_rows`` (written with the postings); a
        back-dated posting moves every later closing at once, here."""
        conn, last = self.conn, a.last_day
        closing: dict[int, int] = {}
        for day, delta, balance_after in a.day_changes:
            if last is None or day >= last:
                # Nothing effective later than this day has been posted, so the running balance is the close.
                closing[day] = balance_after
                last = day
                continue
            self._upsert_days(a.id, closing)
            closing = {}
            # Back-dated: every later close moves by the same amount.
            exists = conn.execute(select(account_day_t.c.day).where(and_(
                account_day_t.c.account_id == a.id, account_day_t.c.day == day))).first()
            if exists is None:
                before = conn.execute(select(account_day_t.c.closing).where(and_(
                    account_day_t.c.account_id == a.id, account_day_t.c.day < day))
                    .order_by(account_day_t.c.day.desc()).limit(1)).scalar() or 0
                conn.execute(account_day_t.insert(), dict(account_id=a.id, day=day, closing=before))
            conn.execute(update(account_day_t).where(and_(account_day_t.c.account_id == a.id,
                                                          account_day_t.c.day >= day))
                         .values(closing=account_day_t.c.closing + delta))
        day_rows.extend([(a.id, d, c) for d, c in closing.items()])
        a.last_day = last
        return last

    def _upsert_days(self, account_id: int, closing: dict[int, int]) -> None:
        if closing:
            self.conn.execute(self.ledger._day_upsert(),
                              [dict(account_id=account_id, day=d, closing=c) for d, c in closing.items()])


# ---------------------------------------------------------------------- helpers
def _check_postable(a: _AccountState, currency: str) -> None:
    if a.status != "open":
        raise AccountClosed(a.code)
    if a.currency != currency:
        raise CurrencyMismatch(f"account {a.code!r} holds {a.currency}, not {currency}")


def _check_floor(a: _AccountState, decrease: int) -> None:
    if a.floor is not None and a.available() - decrease < a.floor:
        raise InsufficientFunds(a.code, a.available(), a.floor, decrease - (a.available() - a.floor))


def _release_reservation(h: Any, accts: _Locked) -> None:
    for account_id, reserves in ((h.debit_account_id, h.reserves_debit), (h.credit_account_id, h.reserves_credit)):
        if reserves:
            a = accts.by_id(account_id)
            a.held -= h.amount
            a.touched = True


def _check_replay(key: str, stored_hash: str, rhash: str) -> None:
    if stored_hash != rhash:
        raise IdempotencyConflict(key)


def _dedupe(prepared: list[_NewEntry]) -> list[_NewEntry]:
    seen: dict[str, _NewEntry] = {}
    for p in prepared:
        if p.key in seen:
            if seen[p.key].rhash != p.rhash:
                raise IdempotencyConflict(p.key)
            continue
        seen[p.key] = p
    return list(seen.values())


def _same_account(row: Any, spec: AccountSpec, books: dict[str, _BookState]) -> bool:
    return (row.type == AccountType(spec.type).value and row.normal_side == spec.side.value
            and row.currency == spec.currency and row.floor == spec.floor
            and row.book_id == books[spec.book].id and row.owner_ref == spec.owner_ref)


def _account_from_row(r: Any, books: dict[int, str]) -> Account:
    return Account(id=r.uuid, code=r.code, type=AccountType(r.type), normal_side=Side(r.normal_side),
                   currency=r.currency, floor=r.floor, book=books[r.book_id], owner_ref=r.owner_ref,
                   metadata=r.meta, is_open=r.status == "open", created_at=from_us(r.created_us))


def _encode_cursor(effective_us: int, posting_id: int, running: int) -> str:
    raw = json.dumps([effective_us, posting_id, running]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        eff, pid, running = json.loads(raw)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (eff, pid, running)):
            raise ValueError
        return eff, pid, running
    except (ValueError, TypeError) as exc:
        raise ValidationError("that statement cursor is not valid") from exc


def _is_key_race(exc: Exception, postgres: bool) -> bool:
    if postgres:
        return getattr(getattr(exc, "orig", exc), "sqlstate", None) == "23505"
    return False


def _db_message(exc: Exception) -> str:
    orig = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None):
        return diag.message_primary
    return str(orig).splitlines()[0]


"""Wallets, their funding streams, money received, and what each funder's money did.

A wallet belongs to one budget holder and holds one kind of budget (direct payment, managed account, Individual
Service Fund, personal health budget, council-managed). Money comes from one or more funding streams; each stream
is its own sub-ledger in the wallet's book (see ``wallet.domain.chart`` for the accounts and how money moves),
so a funder sees exactly its own money: :func:`funder_summary` answers "how much of it is left, and where did it
go" straight from the ledger.
"""
from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import and_, select, update

from ledger.errors import InsufficientFunds
from ledger.model import Entry, EntryRequest, Posting, StatementLine
from ledger.service import Ledger
from wallet.domain.chart import Category, WalletChart
from wallet.domain.errors import Conflict, InvalidRequest, NotEnoughMoney, PermissionDenied, UnknownFundingStream
from wallet.domain.people import add_relationship, user_row
from wallet.domain.permissions import Action, Role, require
from wallet.domain.schedules import Period, PlanPeriod, Schedule, start_of
from wallet.domain.tables import funding_stream_t, user_t, wallet_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork

T = TypeVar("T")

DEFAULT_APPROVAL_THRESHOLD = 25_000
"""Payments above £250 need a second person's approval unless the wallet sets its own threshold."""
DEFAULT_SURPLUS_WEEKS = 8
DEFAULT_GRACE_DAYS = 7

_ONE_US = timedelta(microseconds=1)
_BEGINNING = datetime(1970, 1, 1, tzinfo=timezone.utc)
_END_OF_TIME = datetime(9999, 1, 1, tzinfo=timezone.utc)


class BudgetKind(str, enum.Enum):
    DIRECT_PAYMENT = "direct_payment"
    MANAGED_ACCOUNT = "managed_account"
    INDIVIDUAL_SERVICE_FUND = "individual_service_fund"
    PERSONAL_HEALTH_BUDGET = "personal_health_budget"
    COUNCIL_MANAGED = "council_managed"


class FunderKind(str, enum.Enum):
    COUNCIL_ADULT_SERVICES = "council_adult_services"
    COUNCIL_CHILDRENS_SERVICES = "council_childrens_services"
    NHS = "nhs"
    INDEPENDENT_LIVING_FUND = "independent_living_fund"
    CLIENT_CONTRIBUTION = "client_contribution"
    OTHER = "other"


@dataclass(frozen=True)
class FundingStream:
    id: str
    wallet_id: str
    code: str
    """Names the stream's ledger accounts (``s1``, ``s2``...)."""
    kind: FunderKind
    funder_ref: str
    """Who pays: e.g. the council (``council:leeds``), the NHS board, or the holder for their contribution."""
    label: str
    schedule: Schedule
    amount: int
    starts: date
    ends: date | None
    grace_days: int


@dataclass(frozen=True)
class Wallet:
    id: str
    reference: str | None
    name: str
    holder_id: str
    budget_kind: BudgetKind
    book: str
    currency: str
    plan_period: PlanPeriod
    plan_start: date
    approval_threshold: int
    surplus_weeks: int
    contingency_reserve: int
    insurance_renews_on: date | None
    payroll_employer_id: str | None
    streams: tuple[FundingStream, ...]

    @property
    def chart(self) -> WalletChart:
        return WalletChart(self.book, self.currency)

    def stream(self, stream_id: str) -> FundingStream:
        for s in self.streams:
            if s.id == stream_id:
                return s
        raise UnknownFundingStream(f"this wallet has no funding stream {stream_id}")


@dataclass(frozen=True)
class StreamBalance:
    stream_id: str
    label: str
    posted: int
    held: int

    @property
    def available(self) -> int:
        return self.posted - self.held


@dataclass(frozen=True)
class WalletBalance:
    wallet_id: str
    streams: tuple[StreamBalance, ...]

    @property
    def posted(self) -> int:
        return sum(s.posted for s in self.streams)

    @property
    def held(self) -> int:
        return sum(s.held for s in self.streams)

    @property
    def available(self) -> int:
        return self.posted - self.held


@dataclass(frozen=True)
class FunderSummary:
    """One funder's money in one wallet, every figure read from the stream's own ledger accounts."""

    stream: FundingStream
    period: Period | None
    received: int
    """Funding received (net of surplus reclaimed) in the period, or ever."""
    spent: dict[Category, int]
    """Spending by support-plan category in the period, or ever (payroll counts when the run is posted)."""
    owed_back: int
    """Owed back to the funder at the end (reclaimed, not yet repaid)."""
    cash: int
    """The funder's money held at the end."""
    held: int
    """Of that, held for payments awaiting approval (now)."""
    lines: tuple[StatementLine, ...]
    """Every movement of the funder's cash in the period: where the money went."""

    @property
    def spent_total(self) -> int:
        return sum(self.spent.values())

    @property
    def available(self) -> int:
        return self.cash - self.held


@dataclass(frozen=True)
class Transaction:
    stream_id: str
    stream_label: str
    entry_id: str
    effective_at: datetime
    description: str
    reference: str | None
    amount: int
    """Money in (positive) or out (negative) of that funder's cash."""
    balance: int
    """That funder's cash after this line."""


# ---------------------------------------------------------------------- loading
def stream_from_row(row: Any, wallet_uuid: str) -> FundingStream:
    return FundingStream(id=row.uuid, wallet_id=wallet_uuid, code=row.code, kind=FunderKind(row.kind),
                         funder_ref=row.funder_ref, label=row.label, schedule=Schedule(row.schedule),
                         amount=row.amount, starts=row.starts, ends=row.ends, grace_days=row.grace_days)


def load_wallet(tx: Tx, row: Any) -> Wallet:
    holder_uuid = tx.conn.execute(select(user_t.c.uuid).where(user_t.c.id == row.holder_user_id)).scalar_one()
    streams = tuple(stream_from_row(s, row.uuid) for s in tx.conn.execute(
        select(funding_stream_t).where(funding_stream_t.c.wallet_id == row.id).order_by(funding_stream_t.c.id)))
    return Wallet(id=row.uuid, reference=row.reference, name=row.name, holder_id=holder_uuid,
                  budget_kind=BudgetKind(row.budget_kind), book=row.book, currency=row.currency,
                  plan_period=PlanPeriod(row.plan_period), plan_start=row.plan_start,
                  approval_threshold=row.approval_threshold, surplus_weeks=row.surplus_weeks,
                  contingency_reserve=row.contingency_reserve, insurance_renews_on=row.insurance_renews_on,
                  payroll_employer_id=row.payroll_employer_id, streams=streams)


def stream_row(tx: Tx, wallet_row: Any, stream_id: str) -> Any:
    row = tx.conn.execute(select(funding_stream_t).where(and_(
        funding_stream_t.c.wallet_id == wallet_row.id, funding_stream_t.c.uuid == stream_id))).first()
    if row is None:
        raise UnknownFundingStream(f"this wallet has no funding stream {stream_id}")
    return row


def stream_pk(tx: Tx, stream_id: str) -> int:
    return tx.conn.execute(select(funding_stream_t.c.id).where(funding_stream_t.c.uuid == stream_id)).scalar_one()


def spending_money(tx: Tx, wallet: Wallet, stream: FundingStream, fn: Callable[[], T]) -> T:
    """Run a ledger write that takes money out of a stream's cash; not enough becomes NotEnoughMoney."""
    try:
        return fn()
    except InsufficientFunds as exc:
        if exc.code != wallet.chart.cash(stream.code):
            raise
        raise NotEnoughMoney(stream.label, exc.available - exc.floor, exc.needed + exc.available - exc.floor) \
            from exc


def check_pence(value: Any, what: str, positive: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{what} must be a whole number of pence, not {type(value).__name__}")
    if value < 0 or (positive and value == 0):
        raise InvalidRequest(f"{what} must be more than zero" if positive else f"{what} cannot be negative")
    return value


_KEY_PART = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def key_part(text: str) -> str:
    """A caller's key or id as part of a ledger idempotency key: as it is when it is plain, else its hash."""
    if _KEY_PART.match(text):
        return text
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:40]


# ---------------------------------------------------------------------- opening a wallet
def open_wallet(uow: UnitOfWork, *, holder: str, name: str, budget_kind: BudgetKind | str, plan_start: date,
                actor: str = SYSTEM, reference: str | None = None,
                plan_period: PlanPeriod | str = PlanPeriod.FOUR_WEEKLY,
                approval_threshold: int = DEFAULT_APPROVAL_THRESHOLD, surplus_weeks: int = DEFAULT_SURPLUS_WEEKS,
                contingency_reserve: int = 0, insurance_renews_on: date | None = None,
                payroll_employer_id: str | None = None, currency: str = "GBP") -> Wallet:
    """Open a wallet for ``holder`` and its whole chart of accounts in the ledger.

    Idempotent: with a ``reference`` already used, the same wallet is returned (for the same holder) and its
    accounts are opened again, which changes nothing. Opened by the service (onboarding, as ``SYSTEM``) or by
    the holder themselves.
    """
    kind = BudgetKind(budget_kind)
    period = PlanPeriod(plan_period)
    check_pence(approval_threshold, "the approval threshold", positive=False)
    check_pence(contingency_reserve, "the contingency reserve", positive=False)
    if not isinstance(surplus_weeks, int) or isinstance(surplus_weeks, bool) or surplus_weeks < 1:
        raise InvalidRequest("the surplus limit is a whole number of weeks, at least one")
    if not name.strip():
        raise InvalidRequest("a wallet needs a name")

    def work(tx: Tx) -> Wallet:
        holder_row = user_row(tx, holder)
        if actor not in (SYSTEM, holder):
            tx.audit(None, actor, "open_wallet", f"for {holder}", outcome="denied")
            raise PermissionDenied(actor, "open_wallet", None,
                                   "a wallet is opened by the service or by its holder")
        row = None
        if reference is not None:
            row = tx.conn.execute(select(wallet_t).where(wallet_t.c.reference == reference)).first()
            if row is not None and row.holder_user_id != holder_row.id:
                raise Conflict(f"the reference {reference} belongs to another person's wallet")
        if row is None:
            wallet_id = tx.new_id()
            tx.conn.execute(wallet_t.insert(), dict(
                uuid=wallet_id, reference=reference, name=name.strip(), holder_user_id=holder_row.id,
                budget_kind=kind.value, book=WalletChart.book_for(wallet_id), currency=currency,
                plan_period=period.value, plan_start=plan_start, approval_threshold=approval_threshold,
                surplus_weeks=surplus_weeks, contingency_reserve=contingency_reserve,
                insurance_renews_on=insurance_renews_on, payroll_employer_id=payroll_employer_id,
                next_stream_number=1, created_us=tx.now_us()))
            row = tx.wallet_row(wallet_id, lock=True)
            add_relationship(tx, row, holder, Role.HOLDER, actor)
            tx.audit(row.id, actor, "open_wallet", name.strip())
        wallet = load_wallet(tx, row)
        tx.ledger.open_accounts(wallet.chart.specs(wallet.id, [(s.code, s.label) for s in wallet.streams]))
        return wallet

    return uow.write(work)


def get_wallet(uow: UnitOfWork, wallet_id: str, *, actor: str) -> Wallet:
    def work(tx: Tx) -> Wallet:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_BALANCE, row, "wallet details", system_allowed=True)
        return load_wallet(tx, row)

    return uow.write(work)


_SETTINGS = ("approval_threshold", "surplus_weeks", "contingency_reserve", "insurance_renews_on",
             "payroll_employer_id", "name")


def update_wallet(uow: UnitOfWork, wallet_id: str, *, actor: str, **changes: Any) -> Wallet:
    """Change settings: ``approval_threshold``, ``surplus_weeks``, ``contingency_reserve``,
    ``insurance_renews_on``, ``payroll_employer_id``, ``name``."""
    unknown = set(changes) - set(_SETTINGS)
    if unknown:
        raise InvalidRequest(f"these are not wallet settings: {', '.join(sorted(unknown))}")
    for money in ("approval_threshold", "contingency_reserve"):
        if money in changes:
            check_pence(changes[money], money.replace("_", " "), positive=False)
    if "surplus_weeks" in changes and (not isinstance(changes["surplus_weeks"], int)
                                       or changes["surplus_weeks"] < 1):
        raise InvalidRequest("the surplus limit is a whole number of weeks, at least one")

    def work(tx: Tx) -> Wallet:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"settings: {', '.join(sorted(changes))}",
                system_allowed=True)
        if changes:
            tx.conn.execute(update(wallet_t).where(wallet_t.c.id == row.id).values(**changes))
        return load_wallet(tx, tx.wallet_row(wallet_id))

    return uow.write(work)


def set_funding_stream(uow: UnitOfWork, wallet_id: str, *, kind: FunderKind | str, funder_ref: str, label: str,
                       schedule: Schedule | str, amount: int, starts: date, actor: str,
                       ends: date | None = None, grace_days: int = DEFAULT_GRACE_DAYS) -> FundingStream:
    """Add a funding stream (and open its sub-ledger), or change the schedule of the one this funder already
    has in this wallet (one stream per funder and kind)."""
    kind = FunderKind(kind)
    sched = Schedule(schedule)
    check_pence(amount, "the scheduled amount", positive=False)
    if not funder_ref.strip() or not label.strip():
        raise InvalidRequest("a funding stream needs a funder reference and a label")
    if grace_days < 0:
        raise InvalidRequest("the grace period cannot be negative")

    def work(tx: Tx) -> FundingStream:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"funding stream {label}", system_allowed=True)
        terms = dict(label=label.strip(), schedule=sched.value, amount=amount, starts=starts, ends=ends,
                     grace_days=grace_days)
        existing = tx.conn.execute(select(funding_stream_t).where(and_(
            funding_stream_t.c.wallet_id == row.id, funding_stream_t.c.kind == kind.value,
            funding_stream_t.c.funder_ref == funder_ref))).first()
        if existing is not None:
            tx.conn.execute(update(funding_stream_t).where(funding_stream_t.c.id == existing.id).values(**terms))
            stream_id = existing.uuid
        else:
            stream_id = tx.new_id()
            code = f"s{row.next_stream_number}"
            tx.conn.execute(update(wallet_t).where(wallet_t.c.id == row.id)
                            .values(next_stream_number=row.next_stream_number + 1))
            tx.conn.execute(funding_stream_t.insert(), dict(
                uuid=stream_id, wallet_id=row.id, code=code, kind=kind.value, funder_ref=funder_ref,
                created_us=tx.now_us(), **terms))
        wallet = load_wallet(tx, row)
        stream = wallet.stream(stream_id)
        tx.ledger.open_accounts([s for s in wallet.chart.specs(wallet.id, [(stream.code, stream.label)])
                                 if s.code in wallet.chart.stream_accounts(stream.code)])
        return stream

    return uow.write(work)


# ---------------------------------------------------------------------- money in, money back
def record_funding(uow: UnitOfWork, wallet_id: str, stream_id: str, amount: int, received_on: date, *,
                   actor: str, key: str, reference: str | None = None, description: str | None = None) -> Entry:
    """Money received from a funder into the stream's cash. ``key`` makes it idempotent (a bank transaction
    id, say): recording the same receipt again returns the first entry."""
    check_pence(amount, "the amount received")

    def work(tx: Tx) -> Entry:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"funding received {amount}", system_allowed=True)
        wallet = load_wallet(tx, row)
        stream = wallet.stream(stream_id)
        chart = wallet.chart
        return tx.ledger.post(EntryRequest(
            key=f"{wallet.book}:funding:{stream.code}:{key_part(key)}",
            postings=(Posting.debit(chart.cash(stream.code), amount, wallet.currency),
                      Posting.credit(chart.funding(stream.code), amount, wallet.currency)),
            description=description or f"Money received from {stream.label}", reference=reference,
            effective_at=start_of(received_on), actor=actor,
            metadata={"wallet": wallet.id, "stream": stream.id, "kind": "funding"}))

    return uow.write(work)


def reclaim_surplus(uow: UnitOfWork, wallet_id: str, stream_id: str, amount: int, on: date, *, actor: str,
                    key: str, repaid: bool = True) -> list[Entry]:
    """A funder takes back unspent money: it becomes owed back to them (and, if ``repaid``, leaves their cash
    at once). Returns the entries posted."""
    check_pence(amount, "the amount reclaimed")

    def work(tx: Tx) -> list[Entry]:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"surplus reclaimed {amount}", system_allowed=True)
        wallet = load_wallet(tx, row)
        stream = wallet.stream(stream_id)
        chart, s, cur = wallet.chart, stream.code, wallet.currency
        base = f"{wallet.book}:reclaim:{s}:{key_part(key)}"
        meta = {"wallet": wallet.id, "stream": stream.id, "kind": "reclaim"}
        requests = [EntryRequest(
            key=base, postings=(Posting.debit(chart.funding(s), amount, cur), Posting.credit(chart.owed(s), amount, cur)),
            description=f"Surplus reclaimed by {stream.label}", effective_at=start_of(on), actor=actor,
            metadata=meta)]
        if repaid:
            requests.append(EntryRequest(
                key=base + ":repaid",
                postings=(Posting.debit(chart.owed(s), amount, cur), Posting.credit(chart.cash(s), amount, cur)),
                description=f"Surplus repaid to {stream.label}", effective_at=start_of(on), actor=actor,
                metadata=meta))
        return spending_money(tx, wallet, stream, lambda: tx.ledger.post_batch(requests))

    return uow.write(work)


# ---------------------------------------------------------------------- what there is, and where it went
def wallet_balance(uow: UnitOfWork, wallet_id: str, *, actor: str) -> WalletBalance:
    """Money held now, in total and per funder: posted, held for payments awaiting approval, available."""

    def work(tx: Tx) -> WalletBalance:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_BALANCE, row, "balance", system_allowed=True)
        return balance_of(tx.ledger, load_wallet(tx, row))

    return uow.write(work)


def balance_of(ledger: Ledger, wallet: Wallet, as_of: datetime | None = None) -> WalletBalance:
    """Each funder's cash: posted now (or as of a moment), and held now."""
    out = []
    for s in wallet.streams:
        code = wallet.chart.cash(s.code)
        b = ledger.balance(code)
        posted = b.posted if as_of is None else ledger.balance_as_of(code, as_of)
        out.append(StreamBalance(s.id, s.label, posted, b.held))
    return WalletBalance(wallet.id, tuple(out))


def change_in(ledger: Ledger, code: str, period: Period) -> int:
    """How much an account's balance moved over a period (postings effective inside it)."""
    return (ledger.balance_as_of(code, period.closes_at)
            - ledger.balance_as_of(code, period.opens_at - _ONE_US))


def statement_lines(ledger: Ledger, code: str, start: datetime, end: datetime) -> Iterator[StatementLine]:
    cursor = None
    while True:
        page = ledger.statement(code, start, end, limit=1000, cursor=cursor)
        yield from page.lines
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def funder_summary(uow: UnitOfWork, wallet_id: str, stream_id: str, *, actor: str,
                   period: Period | None = None) -> FunderSummary:
    """One funder's money: received, spent by category, owed back, left, and every movement of it."""

    def work(tx: Tx) -> FunderSummary:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, f"funder summary {stream_id}", system_allowed=True)
        wallet = load_wallet(tx, row)
        stream = wallet.stream(stream_id)
        return summarise_stream(tx.ledger, wallet, stream, period)

    return uow.write(work)


def summarise_stream(ledger: Ledger, wallet: Wallet, stream: FundingStream, period: Period | None) -> FunderSummary:
    chart, s = wallet.chart, stream.code
    if period is None:
        figure: Callable[[str], int] = lambda code: ledger.balance(code).posted
        at_end: Callable[[str], int] = figure
        start, end = _BEGINNING, _END_OF_TIME
    else:
        figure = lambda code: change_in(ledger, code, period)
        at_end = lambda code: ledger.balance_as_of(code, period.closes_at)
        start, end = period.opens_at, period.closes_at + _ONE_US
    spent = {c: figure(chart.spend(c, s)) for c in Category}
    return FunderSummary(
        stream=stream, period=period, received=figure(chart.funding(s)),
        spent={c: v for c, v in spent.items() if v}, owed_back=at_end(chart.owed(s)),
        cash=at_end(chart.cash(s)), held=ledger.balance(chart.cash(s)).held,
        lines=tuple(statement_lines(ledger, chart.cash(s), start, end)))


def transactions(uow: UnitOfWork, wallet_id: str, *, actor: str, start: date, end: date) -> list[Transaction]:
    """Every movement of money held, across all funders, dated from ``start`` up to (not including) ``end``."""

    def work(tx: Tx) -> list[Transaction]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, f"transactions {start} to {end}", system_allowed=True)
        wallet = load_wallet(tx, row)
        out = []
        for s in wallet.streams:
            for line in statement_lines(tx.ledger, wallet.chart.cash(s.code), start_of(start), start_of(end)):
                out.append(Transaction(s.id, s.label, line.entry, line.effective_at, line.description,
                                       line.reference, line.amount, line.balance))
        out.sort(key=lambda t: (t.effective_at, t.stream_id))
        return out

    return uow.write(work)

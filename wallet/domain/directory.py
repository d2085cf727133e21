"""Questions the portal's pages ask that cut across the other services: which wallets a person may see, what
they may do there, and the figures of one wallet's pages, each read in one transaction.

:func:`wallet_for_action` is the guard the web layer uses (``wallet.web.context.wallet_for``): it checks the
action through :func:`~wallet.domain.permissions.require`, so the view (or the refusal) is written to the access
log once per page. The other readers here check the same deny-by-default rule but do not log again: they
serve a page whose visit ``wallet_for_action`` has already recorded.

Money read here always comes from the ledger (cash, spending and funding accounts of the wallet's chart);
nothing is stored twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from sqlalchemy import BigInteger, and_, bindparam, case, func, or_, select

from ledger.clock import US_PER_DAY, day_of, from_us, to_us
from ledger.model import Balance, Side
from ledger.tables import account_day_t, account_t, entry_t, hold_t, posting_t
from wallet.domain.alerts import Alert
from wallet.domain.alerts import _alert as alert_from_row
from wallet.domain.chart import Category
from wallet.domain.dismissals import not_dismissed_by
from ledger.errors import LedgerError
from wallet.domain.errors import PermissionDenied, WalletError
from wallet.domain.payees import PayeeKind
from wallet.domain.permissions import (Action, Role, User, can, granted, load_access, load_user, require,
                                       user_from_row)
from wallet.domain.plans import PlanReport, awaiting_approval, current_period, load_lines, plan_figures
from wallet.domain.plans import _report as plan_report
from wallet.domain.schedules import Period, funding_dates, period_number, plan_period
from wallet.domain.tables import (alert_t, funding_stream_t, payee_t, payment_decision_t, payment_request_t,
                                  relationship_t, supplier_payable_t, user_t, wallet_t)
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import Wallet, WalletBalance, balance_of, load_wallet, statement_lines
from wallet.live.feed import book_position
from wallet.money import format_pence

T = TypeVar("T")

_ONE_US = timedelta(microseconds=1)
_BEGINNING = datetime(1970, 1, 1, tzinfo=timezone.utc)
_END_OF_TIME = datetime(9999, 1, 1, tzinfo=timezone.utc)


# ---------------------------------------------------------------------- the guard
def wallet_for_action(uow: UnitOfWork, wallet_id: str, *, actor: str, action: Action | str,
                      detail: str = "") -> Wallet:
    """The wallet, if ``actor`` may take ``action`` on it; the visit (or its refusal) goes to the access log.

    Unlike :func:`wallet.domain.wallets.get_wallet`, which always asks for ``view_balance``, this asks for the
    action the caller names: a family overseer shown only the transactions, or an auditor who may only export,
    is let in to exactly that."""
    wanted = Action(action)

    def work(tx: Tx) -> Wallet:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, wanted, row, detail or "page")
        return load_wallet(tx, row)

    return uow.write(work)


def _check(tx: Tx, actor: str, action: Action, wallet_row: Any) -> User:
    user = load_user(tx, actor) if actor != SYSTEM else None
    if user is None or not can(user, action, load_access(tx, wallet_row, user.id)):
        raise PermissionDenied(actor, action.value, wallet_row.uuid)
    return user


def actions_for(uow: UnitOfWork, wallet_id: str, user_id: str) -> frozenset[Action]:
    """Everything this person may do on this wallet (nothing for an unknown person or wallet). Not logged."""

    def work(tx: Tx) -> frozenset[Action]:
        row = tx.conn.execute(select(wallet_t).where(wallet_t.c.uuid == wallet_id)).first()
        user = load_user(tx, user_id)
        if row is None or user is None:
            return frozenset()
        return granted(user, load_access(tx, row, user.id))

    return uow.read(work)


# ---------------------------------------------------------------------- your wallets
@dataclass(frozen=True)
class WalletListing:
    id: str
    name: str
    reference: str | None
    holder_name: str
    actions: frozenset[Action]
    roles: tuple[Role, ...]
    """The person's own relationships to the wallet (empty for staff who see it through their job)."""


def visible_wallets(uow: UnitOfWork, user_id: str, limit: int = 500) -> list[WalletListing]:
    """The wallets a person may do anything with, by name: through a relationship (holder, appointee, family
    overseer with something shared, manager, auditor) or a staff role (payroll admins: every wallet; council
    officers: the wallets their council funds). Not logged: it names wallets, it shows none of their money."""

    def work(tx: Tx) -> list[WalletListing]:
        user = load_user(tx, user_id)
        if user is None:
            return []
        holder = user_t.alias("holder")
        q = (select(wallet_t, holder.c.name.label("holder_name"))
             .join(holder, holder.c.id == wallet_t.c.holder_user_id))
        me = tx.conn.execute(select(user_t.c.id).where(user_t.c.uuid == user_id)).scalar_one()
        related = select(relationship_t.c.wallet_id).where(and_(relationship_t.c.user_id == me,
                                                                relationship_t.c.revoked_us.is_(None)))
        if user.staff_role is Role.PAYROLL_ADMIN:
            pass
        elif user.staff_role is Role.COUNCIL_OFFICER and user.organisation_ref:
            funded = select(funding_stream_t.c.wallet_id).where(
                funding_stream_t.c.funder_ref == user.organisation_ref)
            q = q.where(or_(wallet_t.c.id.in_(related), wallet_t.c.id.in_(funded)))
        else:
            q = q.where(wallet_t.c.id.in_(related))
        out = []
        for row in tx.conn.execute(q.order_by(wallet_t.c.name, wallet_t.c.id).limit(limit)):
            access = load_access(tx, row, user.id)
            actions = granted(user, access)
            if not actions:
                continue   # a family overseer with nothing shared, say
            roles = tuple(sorted({r.role for r in access.relationships if not r.revoked}, key=lambda r: r.value))
            out.append(WalletListing(row.uuid, row.name, row.reference, row.holder_name, actions, roles))
        return out

    return uow.read(work)


# ---------------------------------------------------------------------- the home page
@dataclass(frozen=True)
class ExpectedFunding:
    stream_id: str
    funder: str
    amount: int
    on: date


@dataclass(frozen=True)
class BalancePoint:
    period: Period
    balance: int
    """Money held at the end of the period (or now, for the period running today)."""
    current: bool


@dataclass(frozen=True)
class HomeFigures:
    wallet: Wallet
    today: date
    period: Period
    balance: WalletBalance
    expected: tuple[ExpectedFunding, ...]
    history: tuple[BalancePoint, ...]
    shows_transactions: bool
    """False for someone shown the balance only: the figures below are then left empty."""
    money_in: int = 0
    money_out: int = 0
    plan: PlanReport | None = None
    awaiting: tuple["PaymentView", ...] = ()


def home_figures(uow: UnitOfWork, wallet_id: str, *, actor: str, history_periods: int = 13) -> HomeFigures:
    """What the wallet's home page shows, all read at one moment. Needs ``view_balance``; the money in and
    out, the plan and the payments awaiting approval also need ``view_transactions``."""

    def work(tx: Tx) -> HomeFigures:
        row = tx.wallet_row(wallet_id)
        user = _check(tx, actor, Action.VIEW_BALANCE, row)
        wallet = load_wallet(tx, row)
        today = tx.clock.now().date()
        period = current_period(wallet, today)
        balance = balance_of(tx.ledger, wallet)
        expected = []
        for s in wallet.streams:
            if s.amount <= 0:
                continue
            upcoming = [d for d in funding_dates(s.schedule, s.starts, today + timedelta(days=62), s.ends)
                        if d > today]
            if upcoming:
                expected.append(ExpectedFunding(s.id, s.label, s.amount, upcoming[0]))
        expected.sort(key=lambda e: (e.on, e.funder))
        n = period_number(wallet.plan_period, wallet.plan_start, today)
        history = []
        for k in range(max(0, n - history_periods + 1), n + 1) if n >= 0 else [n]:
            p = plan_period(wallet.plan_period, wallet.plan_start, k)
            if k == n:
                history.append(BalancePoint(p, balance.posted, True))
            else:
                history.append(BalancePoint(p, balance_of(tx.ledger, wallet, as_of=p.closes_at).posted, False))
        shows = can(user, Action.VIEW_TRANSACTIONS, load_access(tx, row, user.id))
        if not shows:
            return HomeFigures(wallet, today, period, balance, tuple(expected), tuple(history), False)
        money_in = money_out = 0
        for s in wallet.streams:
            for line in statement_lines(tx.ledger, wallet.chart.cash(s.code), period.opens_at,
                                        period.closes_at + _ONE_US):
                if line.amount > 0:
                    money_in += line.amount
                else:
                    money_out -= line.amount
        awaiting = tuple(p for p in _payment_views(tx, row, wallet) if p.status == "awaiting_approval")
        return HomeFigures(wallet, today, period, balance, tuple(expected), tuple(history), True, money_in,
                           money_out, plan_figures(tx, row, period), awaiting)

    return uow.read(work)


# ---------------------------------------------------------------------- transactions, explained
@dataclass(frozen=True)
class LedgerLine:
    """One ledger entry that moved the wallet's money, with the wallet's balance after it."""

    entry_id: str
    effective_at: datetime
    description: str
    explanation: str
    """What happened, in plain words: "Leeds adult social care paid in £1,860.00 for Asha's care"."""
    amount: int
    """Into (positive) or out of (negative) the wallet's money, all funders together."""
    balance: int
    """The wallet's money after this entry, all funders together."""
    by_stream: dict[str, tuple[int, int]]
    """For each funder touched: (amount, that funder's balance after)."""
    category: Category | None
    kind: str
    """funding, payment, pay, reclaim, correction or other."""


def ledger_lines(uow: UnitOfWork, wallet_id: str, *, actor: str, start: datetime | None = None,
                 end: datetime | None = None) -> list[LedgerLine]:
    """Every entry that moved the wallet's money in [start, end), oldest first, explained. Needs
    ``view_transactions``."""

    def work(tx: Tx) -> list[LedgerLine]:
        row = tx.wallet_row(wallet_id)
        _check(tx, actor, Action.VIEW_TRANSACTIONS, row)
        wallet = load_wallet(tx, row)
        lo, hi = start or _BEGINNING, end or _END_OF_TIME
        running: dict[str, int] = {}
        moves: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        for s in wallet.streams:
            code = wallet.chart.cash(s.code)
            running[s.id] = tx.ledger.balance_as_of(code, lo - _ONE_US) if lo > _BEGINNING else 0
            for line in statement_lines(tx.ledger, code, lo, hi):
                if line.entry not in moves:
                    moves[line.entry] = {"at": line.effective_at, "description": line.description, "streams": {}}
                    order.append(line.entry)
                moves[line.entry]["streams"][s.id] = (line.amount, line.balance)
        meta = _entry_meta(tx, order)
        payees = {r.uuid: r for r in tx.conn.execute(select(payee_t).where(payee_t.c.wallet_id == row.id))}
        by_employee = {r.employee_id: r for r in payees.values() if r.employee_id}
        holder = tx.conn.execute(select(user_t.c.name).where(user_t.c.id == row.holder_user_id)).scalar_one()
        labels = {s.id: s for s in wallet.streams}
        order.sort(key=lambda e: (moves[e]["at"], meta.get(e, {}).get("_seq", 0)))
        out = []
        for entry_id in order:
            m = moves[entry_id]
            for stream_id, (_, after) in m["streams"].items():
                running[stream_id] = after
            amount = sum(a for a, _ in m["streams"].values())
            info = meta.get(entry_id, {})
            kind, category, text = _explain(info, m["description"], amount, m["streams"], labels, payees,
                                            by_employee, holder)
            out.append(LedgerLine(entry_id, m["at"], m["description"], text, amount, sum(running.values()),
                                  dict(m["streams"]), category, kind))
        return out

    return uow.read(work)


def _entry_meta(tx: Tx, entry_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    ids = list(entry_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for r in tx.conn.execute(select(entry_t.c.uuid, entry_t.c.meta, entry_t.c.id,
                                        entry_t.c.reverses_entry_id).where(entry_t.c.uuid.in_(chunk))):
            info = dict(r.meta or {})
            info["_seq"] = r.id
            info["_reverses"] = r.reverses_entry_id is not None
            out[r.uuid] = info
    return out


_KIND_WORDS = {PayeeKind.PA.value: "personal assistant", PayeeKind.AGENCY.value: "care agency",
               PayeeKind.SUPPLIER.value: "supplier"}


def _pounds(pence: int) -> str:
    return format_pence(abs(pence))


def _explain(info: dict[str, Any], description: str, amount: int, streams: dict[str, tuple[int, int]],
             labels: dict[str, Any], payees: dict[str, Any], by_employee: dict[str, Any],
             holder: str) -> tuple[str, Category | None, str]:
    stream = labels.get(info.get("stream", "")) or (labels.get(next(iter(streams))) if streams else None)
    funder = stream.label if stream is not None else "the funder"
    if info.get("_reverses"):
        return "correction", None, f"Correction: {description}"
    kind = info.get("kind")
    if kind == "funding":
        if stream is not None and stream.kind.value == "client_contribution":
            return "funding", None, f"{holder} paid in {_pounds(amount)} as their own contribution"
        return "funding", None, f"{funder} paid in {_pounds(amount)} for {holder}'s care"
    if kind == "reclaim":
        return "reclaim", None, f"{_pounds(amount)} of unspent money paid back to {funder}"
    if "payment_request" in info:
        payee = payees.get(info.get("payee", ""))
        try:
            category = Category(info.get("category"))
        except ValueError:
            category = None
        if payee is None:
            return "payment", category, f"Paid {_pounds(amount)}: {description}"
        who = f"{payee.name} ({_KIND_WORDS.get(payee.kind, payee.kind)})"
        if category is Category.PA_WAGES:
            return "payment", category, f"Paid {who} wages"
        what = category.label.lower() if category else "spending"
        return "payment", category, f"Paid {who} for {what}"
    settles = info.get("settles")
    if settles == "net_pay":
        employee = next((e for e in by_employee if description.startswith(f"Net pay to employee {e} ")), None)
        payee = by_employee.get(employee) if employee else None
        name = f"{payee.name} (personal assistant)" if payee is not None else "a personal assistant"
        return "pay", Category.PA_WAGES, f"Paid {name} wages"
    if settles == "hmrc":
        return "pay", Category.PA_WAGES, "Paid tax and National Insurance for personal assistants to HMRC"
    if settles == "pension":
        return "pay", Category.PA_WAGES, "Paid pension contributions for personal assistants"
    direction = "Money in" if amount >= 0 else "Money out"
    return "other", None, f"{direction}: {description}"


# ---------------------------------------------------------------------- payment requests, with names
@dataclass(frozen=True)
class PaymentView:
    id: str
    payee: str
    payee_kind: str
    amount: int
    category: Category
    funder: str
    description: str
    status: str
    requested_by: str
    """The user id of the person who asked."""
    requested_by_name: str
    requested_at: datetime
    reasons: tuple[str, ...]
    decided_by_name: str | None = None
    decision_reason: str | None = None
    decided_at: datetime | None = None


def payment_views(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[PaymentView]:
    """The wallet's payment requests, newest first, with the names of payees and people. Needs
    ``view_transactions`` (or ``request_payment``, so a manager sees what they asked for)."""

    def work(tx: Tx) -> list[PaymentView]:
        row = tx.wallet_row(wallet_id)
        try:
            _check(tx, actor, Action.VIEW_TRANSACTIONS, row)
        except PermissionDenied:
            _check(tx, actor, Action.REQUEST_PAYMENT, row)
        return _payment_views(tx, row, load_wallet(tx, row))

    return uow.read(work)


def _payment_views(tx: Tx, row: Any, wallet: Wallet, status: str | None = None) -> list[PaymentView]:
    q = select(payment_request_t).where(payment_request_t.c.wallet_id == row.id)
    if status is not None:
        q = q.where(payment_request_t.c.status == status)
    requests = tx.conn.execute(q.order_by(payment_request_t.c.id.desc())).all()
    if not requests:
        return []
    streams = {r.id: r.label for r in tx.conn.execute(
        select(funding_stream_t.c.id, funding_stream_t.c.label).where(funding_stream_t.c.wallet_id == row.id))}
    payees = {r.id: r for r in tx.conn.execute(select(payee_t).where(payee_t.c.wallet_id == row.id))}
    decisions: dict[int, Any] = {}
    if requests:
        for d in tx.conn.execute(select(payment_decision_t).where(
                payment_decision_t.c.request_id.in_([r.id for r in requests])).order_by(payment_decision_t.c.id)):
            decisions[d.request_id] = d
    people = user_names(tx, {r.requested_by for r in requests} | {d.decided_by for d in decisions.values()})
    # approved payments to a payee paid by bank that no payment batch has paid yet
    awaiting_bank = set(tx.conn.execute(select(supplier_payable_t.c.request_id).where(and_(
        supplier_payable_t.c.request_id.in_([r.id for r in requests]), supplier_payable_t.c.paid_us.is_(None))))
        .scalars())
    out = []
    for r in requests:
        payee = payees[r.payee_id]
        d = decisions.get(r.id)
        out.append(PaymentView(
            r.uuid, payee.name, payee.kind, r.amount, Category(r.category), streams.get(r.stream_id, ""),
            r.description, "awaiting_bank_payment" if r.id in awaiting_bank else r.status, r.requested_by,
            people.get(r.requested_by, "Someone"),
            from_us(r.requested_us), tuple(r.approval_reasons),
            people.get(d.decided_by) if d else None, d.reason if d else None,
            from_us(d.decided_us) if d else None))
    return out


def request_wallet_id(uow: UnitOfWork, request_id: str) -> str | None:
    """Which wallet a payment request belongs to (None if there is no such request)."""

    def work(tx: Tx) -> str | None:
        return tx.conn.execute(select(wallet_t.c.uuid).join(
            payment_request_t, payment_request_t.c.wallet_id == wallet_t.c.id)
            .where(payment_request_t.c.uuid == request_id)).scalar()

    return uow.read(work)


@dataclass(frozen=True)
class PayeeChoice:
    id: str
    name: str
    kind: str


def active_payees(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[PayeeChoice]:
    """Payees a payment can be asked for, by name. Needs ``request_payment``."""

    def work(tx: Tx) -> list[PayeeChoice]:
        row = tx.wallet_row(wallet_id)
        _check(tx, actor, Action.REQUEST_PAYMENT, row)
        return [PayeeChoice(r.uuid, r.name, r.kind) for r in tx.conn.execute(
            select(payee_t).where(and_(payee_t.c.wallet_id == row.id, payee_t.c.active))
            .order_by(payee_t.c.name, payee_t.c.id))]

    return uow.read(work)


# ---------------------------------------------------------------------- whole pages, one transaction each
# The home and transactions pages are read by one function each, in one transaction that also writes the
# visit's one access-log row: the guard, the navigation's actions and every figure come from the same reads
# (the person and their access are read once), and the ledger is asked with a handful of indexed statements
# rather than a query per account, per period or per line of history.

@dataclass(frozen=True)
class PageVisit:
    """The wallet a page is about, and everything the visitor may do there (for the wallet navigation)."""

    wallet: Wallet
    actions: frozenset[Action]


def _visit(tx: Tx, wallet_id: str, actor: str, action: Action, detail: str) -> tuple[Any, User, Any, PageVisit]:
    """The guard of a page: :func:`~wallet.domain.permissions.require`'s deny-by-default rule and its
    access-log row (done, or denied), with the person and their access read once and reused."""
    row = tx.wallet_row(wallet_id)
    user = load_user(tx, actor) if actor != SYSTEM else None
    access = load_access(tx, row, user.id) if user is not None else None
    if user is None or access is None or not can(user, action, access):
        tx.audit(row.id, actor, action.value, detail or "page", outcome="denied")
        raise PermissionDenied(actor, action.value, row.uuid)
    tx.audit(row.id, actor, action.value, detail or "page")
    return row, user, access, PageVisit(load_wallet(tx, row), granted(user, access))


def _page(uow: UnitOfWork, work: Callable[[Tx], T]) -> T:
    """Run a page's reads and write its access-log row.

    PostgreSQL: one transaction, the row inserted at the end of the reads (``UnitOfWork.write``); nothing
    else waits for it. SQLite has one writer at a time, and a transaction that will write holds that lock
    from its start (``BEGIN IMMEDIATE``), so reading a page inside it would queue every page view in every
    worker behind the one being read. There the reads run in a read transaction (a consistent snapshot, no
    lock) and the row is then written in a short transaction of its own, shared with other visits in the
    process that end at the same moment (``UnitOfWork.log_visits``). A refusal is logged either way, as
    ``UnitOfWork.write`` logs it."""
    if uow.db.is_postgres:
        return uow.write(work)
    entries: list[Any] = []

    def read(tx: Tx) -> T:
        try:
            return work(tx)
        finally:
            entries.extend(tx.audit_entries)
            tx.audit_entries.clear()

    try:
        result = uow.read(read)
    except (WalletError, LedgerError) as exc:
        for e in entries:
            if e.outcome == "done":
                e.outcome = "denied" if isinstance(exc, PermissionDenied) else "refused"
                e.detail = f"{e.detail} ({type(exc).__name__}: {exc})"[:500]
        uow.log_visits(entries)
        raise
    uow.log_visits(entries)
    return result


def _account_rows(tx: Tx, codes: Sequence[str]) -> dict[str, Any]:
    """The ledger's rows of these accounts (current balance and held: O(1) each), in one statement."""
    rows = tx.conn.execute(select(account_t.c.id, account_t.c.code, account_t.c.normal_side, account_t.c.balance,
                                  account_t.c.held, account_t.c.currency).where(account_t.c.code.in_(list(codes))))
    return {r.code: r for r in rows}


def _lapsed_held(tx: Tx, account_id: int, now_us: int) -> int:
    """Holds on the account past their expiry but not swept yet (``Ledger.balance`` leaves them out too)."""
    return int(tx.conn.execute(select(func.coalesce(func.sum(hold_t.c.amount), 0)).where(and_(
        hold_t.c.status == "pending", hold_t.c.expires_us <= now_us,
        or_(and_(hold_t.c.debit_account_id == account_id, hold_t.c.reserves_debit),
            and_(hold_t.c.credit_account_id == account_id, hold_t.c.reserves_credit))))).scalar_one())


_FIGURE_PARAMS = {"end_of_day": ("a", "d"), "as_of": ("a", "d", "lo", "t", "s"),
                  "after_entry": ("a", "d", "lo", "t", "e", "s"), "in": ("a", "lo", "hi", "s"),
                  "out": ("a", "lo", "hi", "s")}


@lru_cache(maxsize=256)
def _figures_statement(kinds: tuple[str, ...]) -> Any:
    """One SELECT of scalar figures, each an index lookup (or a short index range), with bound parameters
    ``<name><i>``; built once for each list of kinds and reused, so a page pays for binding values only.

    * ``end_of_day`` (a, d): account a's balance at the end of day d: the closing checkpoint of d or the last
      day before it (``Ledger.balance_as_of`` at the last moment of a day).
    * ``as_of`` (a, d, lo, t, s): the balance as of moment t (day d, starting at lo), as ``Ledger.balance_as_of``
      works it out: the checkpoint of the last day before d, plus s × day d's postings up to t.
    * ``after_entry`` (a, d, lo, t, e, s): the same just after entry e effective at t, entries at the same moment
      taken in entry order (the statement's order).
    * ``in`` / ``out`` (a, lo, hi, s): the sum of account a's movements into / out of it in [lo, hi)."""
    columns = []
    for i, kind in enumerate(kinds):
        def p(name: str, i: int = i) -> Any:
            return bindparam(f"{name}{i}", type_=BigInteger)

        day, acct = account_day_t.c, posting_t.c
        if kind == "end_of_day":
            col = func.coalesce(select(day.closing).where(and_(day.account_id == p("a"), day.day <= p("d")))
                                .order_by(day.day.desc()).limit(1).scalar_subquery(), 0)
        elif kind in ("as_of", "after_entry"):
            closing = func.coalesce(select(day.closing).where(and_(day.account_id == p("a"), day.day < p("d")))
                                    .order_by(day.day.desc()).limit(1).scalar_subquery(), 0)
            upto = [acct.account_id == p("a"), acct.effective_us >= p("lo"), acct.effective_us <= p("t")]
            if kind == "after_entry":
                upto.append(or_(acct.effective_us < p("t"), acct.entry_id <= p("e")))
            col = closing + func.coalesce(select(func.sum(acct.amount)).where(and_(*upto))
                                          .scalar_subquery(), 0) * p("s")
        else:
            line = acct.amount * p("s")
            col = func.coalesce(select(func.sum(line)).where(and_(
                acct.account_id == p("a"), acct.effective_us >= p("lo"), acct.effective_us < p("hi"),
                line > 0 if kind == "in" else line < 0)).scalar_subquery(), 0)
        columns.append(col.label(f"f{i}"))
    return select(*columns)


def _figures(tx: Tx, wanted: Sequence[tuple[str, dict[str, int]]]) -> list[int]:
    """Read many scalar figures (see :func:`_figures_statement`) in one statement: [(kind, values)...]."""
    if not wanted:
        return []
    params = {f"{name}{i}": values[name] for i, (kind, values) in enumerate(wanted)
              for name in _FIGURE_PARAMS[kind]}
    row = tx.conn.execute(_figures_statement(tuple(kind for kind, _ in wanted)), params).one()
    return [int(v or 0) for v in row]


def _as_of(account: Any, at_us: int) -> tuple[str, dict[str, int]]:
    day = day_of(at_us)
    if at_us == (day + 1) * US_PER_DAY - 1:
        return "end_of_day", {"a": account.id, "d": day}
    return "as_of", {"a": account.id, "d": day, "lo": day * US_PER_DAY, "t": at_us,
                     "s": Side(account.normal_side).sign}


class _LedgerFigures:
    """Figures read from the ledger in one statement, answered the way a :class:`~ledger.service.Ledger` answers
    (``balance``, ``balance_as_of``), so that the domain's own arithmetic (``balance_of``, the plan report) runs
    on them unchanged. A figure that was not read beforehand is a bug: it fails, it never sends a query."""

    def __init__(self, now: datetime, accounts: dict[str, Any], held: dict[str, int],
                 as_of: dict[tuple[str, int], int]):
        self._now, self._accounts, self._held, self._as_of = now, accounts, held, as_of

    def balance(self, code: str) -> Balance:
        r = self._accounts[code]
        return Balance(code, r.currency, r.balance, r.held - self._held.get(code, 0), self._now)

    def balance_as_of(self, code: str, moment: datetime) -> int:
        return self._as_of[(code, to_us(moment))]


def _read_figures(tx: Tx, accounts: dict[str, Any], moments: Sequence[tuple[str, datetime]],
                  extra: Sequence[tuple[str, dict[str, int]]] = ()) -> tuple[_LedgerFigures, list[int]]:
    """Balances as of each (code, moment) and the ``extra`` figures, in one statement; held amounts net of
    lapsed holds for the (few) accounts with money held."""
    now = tx.clock.now()
    held = {c: _lapsed_held(tx, r.id, to_us(now)) for c, r in accounts.items() if r.held > 0}
    wanted = list(dict.fromkeys((c, to_us(m)) for c, m in moments))
    values = _figures(tx, [_as_of(accounts[c], at) for c, at in wanted] + list(extra))
    return _LedgerFigures(now, accounts, held, dict(zip(wanted, values))), values[len(wanted):]


@dataclass(frozen=True)
class HomePage:
    visit: PageVisit
    figures: HomeFigures
    alerts: tuple[Alert, ...]
    """Alerts raised and not dismissed, as stored by the daily check (``alerts.check_alerts``): read, not
    worked out again."""


def home_page(uow: UnitOfWork, wallet_id: str, *, actor: str, detail: str = "",
              history_periods: int = 13) -> HomePage:
    """Everything the wallet's home page shows, read in one transaction with the visit's access-log row: the
    same figures as :func:`home_figures`, with balances read from the account rows, past balances from the
    ledger's day checkpoints and the plan's actual spending from balance changes, all in one statement."""

    def work(tx: Tx) -> HomePage:
        row, user, access, visit = _visit(tx, wallet_id, actor, Action.VIEW_BALANCE, detail)
        wallet = visit.wallet
        chart = wallet.chart
        today = tx.clock.now().date()
        period = current_period(wallet, today)
        shows = can(user, Action.VIEW_TRANSACTIONS, access)
        cash = [chart.cash(s.code) for s in wallet.streams]
        n = period_number(wallet.plan_period, wallet.plan_start, today)
        past = [plan_period(wallet.plan_period, wallet.plan_start, k)
                for k in (range(max(0, n - history_periods + 1), n) if n >= 0 else [])]
        moments = [(c, p.closes_at) for p in past for c in cash]
        extra: list[tuple[str, dict[str, int]]] = []
        spend = [chart.spend(cat, s.code) for s in wallet.streams for cat in Category] if shows else []
        accounts = _account_rows(tx, cash + spend)
        if shows:
            moments += [(c, m) for c in spend for m in (period.closes_at, period.opens_at - _ONE_US)]
            lo, hi = to_us(period.opens_at), to_us(period.closes_at + _ONE_US)
            for c in cash:
                r = accounts[c]
                moved = {"a": r.id, "lo": lo, "hi": hi, "s": Side(r.normal_side).sign}
                extra += [("in", moved), ("out", moved)]
        ledger, moved_totals = _read_figures(tx, accounts, moments, extra)
        balance = balance_of(ledger, wallet)   # type: ignore[arg-type]
        history = [BalancePoint(p, balance_of(ledger, wallet, as_of=p.closes_at).posted, False)  # type: ignore[arg-type]
                   for p in past]
        history.append(BalancePoint(plan_period(wallet.plan_period, wallet.plan_start, n), balance.posted, True))
        expected = _expected(wallet, today)
        # Alerts nobody put away for the wallet, less those this person dismissed for themselves (same query).
        stored = tuple(alert_from_row(r, row.uuid) for r in tx.conn.execute(
            select(alert_t).where(and_(alert_t.c.wallet_id == row.id, alert_t.c.dismissed_us.is_(None),
                                       not_dismissed_by(actor)))
            .order_by(alert_t.c.id)))
        if not shows:
            return HomePage(visit, HomeFigures(wallet, today, period, balance, expected, tuple(history), False),
                            stored)
        money_in = sum(moved_totals[0::2])
        money_out = -sum(moved_totals[1::2])
        plan = plan_report(ledger, wallet, load_lines(tx, row), awaiting_approval(tx, row), period)  # type: ignore[arg-type]
        awaiting = tuple(_payment_views(tx, row, wallet, status="awaiting_approval"))
        return HomePage(visit, HomeFigures(wallet, today, period, balance, expected, tuple(history), True,
                                           money_in, money_out, plan, awaiting), stored)

    return _page(uow, work)


def _expected(wallet: Wallet, today: date) -> tuple[ExpectedFunding, ...]:
    expected = []
    for s in wallet.streams:
        if s.amount <= 0:
            continue
        upcoming = [d for d in funding_dates(s.schedule, s.starts, today + timedelta(days=62), s.ends) if d > today]
        if upcoming:
            expected.append(ExpectedFunding(s.id, s.label, s.amount, upcoming[0]))
    expected.sort(key=lambda e: (e.on, e.funder))
    return tuple(expected)


# ---------------------------------------------------------------------- the transactions page
@dataclass(frozen=True)
class TransactionFilters:
    start: datetime | None = None
    """Effective at or after (inclusive)."""
    end: datetime | None = None
    """Effective before (exclusive)."""
    funder: str = ""
    """A funding stream id: only that funder's money, with its own amounts and balances."""
    direction: str = ""
    """"in" (more than zero) or "out" (less than zero), after the funder is chosen."""
    category: str = ""
    """A :class:`Category` value, as :func:`_explain` assigns it."""
    search: str = ""
    """Words to find, any case, in the explanation or the description."""

    @property
    def narrowing(self) -> bool:
        return bool(self.direction or self.category or self.search)


@dataclass(frozen=True)
class TransactionsPage:
    visit: PageVisit
    rows: tuple[tuple[LedgerLine, int, int], ...]
    """(line, amount, balance after) newest first; amount and balance are the funder's when one is chosen."""
    total: int
    page: int
    pages: int
    live_after: int
    """The book's newest entry number, read before the rows (for the live feed)."""


def transactions_page(uow: UnitOfWork, wallet_id: str, *, actor: str, filters: TransactionFilters,
                      page: int = 1, page_size: int = 25, detail: str = "") -> TransactionsPage:
    """One page of the wallet's transactions, newest first, read in one transaction with the visit's
    access-log row. Needs ``view_transactions``.

    Paged in the database: postings on the wallet's cash accounts (or the chosen funder's), read through the
    ledger's posting indexes, grouped by entry, newest first, with LIMIT/OFFSET (the database groups and sorts
    the matching postings, a few hundred to a few thousand for a wallet; only the page is explained); the
    date range, funder, direction (the sign of the entry's movement) and category (from the entry's metadata,
    as :func:`_explain` reads it) are conditions of that query, and the count is the same query counted. The
    balance after each row shown is read from the day checkpoints (the closing of the day before, plus that
    day's postings up to the row): O(log n) a row, whatever the filters, and right for back-dated entries.

    Text search matches the plain-words explanation, which is made here, not stored, so a search scans the
    entries the other filters leave (the whole history without a date range) and explains each; only the page
    shown has its balances read."""

    def work(tx: Tx) -> TransactionsPage:
        row, _, _, visit = _visit(tx, wallet_id, actor, Action.VIEW_TRANSACTIONS, detail)
        wallet = visit.wallet
        live_after = book_position(tx.conn, wallet.book)
        chart = wallet.chart
        accounts = _account_rows(tx, [chart.cash(s.code) for s in wallet.streams])
        cash = {s.id: accounts[chart.cash(s.code)] for s in wallet.streams if chart.cash(s.code) in accounts}
        stream_of = {r.id: sid for sid, r in cash.items()}
        funder = filters.funder if filters.funder in cash else ""   # a funder not of this wallet is no filter
        chosen = [cash[funder]] if funder else list(cash.values())
        if not chosen:
            return TransactionsPage(visit, (), 0, 1, 1, live_after)
        q = _moves_query(chosen, filters)
        explainer = _Explainer(tx, row, wallet)
        if not filters.search:
            total = int(tx.conn.execute(select(func.count()).select_from(q.subquery())).scalar_one())
            pages = max(1, (total + page_size - 1) // page_size)
            page_no = min(max(1, page), pages)
            picked = [(r.entry_id, r.effective_us) for r in tx.conn.execute(
                q.order_by(posting_t.c.effective_us.desc(), posting_t.c.entry_id.desc())
                .limit(page_size).offset((page_no - 1) * page_size))]
            details = _entry_details(tx, [e for e, _ in picked], stream_of)
            shown = [(e, at, details[e]) for e, at in picked]
        else:
            words = filters.search.lower()
            found = []
            for chunk in _chunks([(r.entry_id, r.effective_us) for r in tx.conn.execute(
                    q.order_by(posting_t.c.effective_us.desc(), posting_t.c.entry_id.desc()))], 500):
                details = _entry_details(tx, [e for e, _ in chunk], stream_of)
                for e, at in chunk:
                    d = details[e]
                    if words in f"{explainer.explain(d)[2]} {d['description']}".lower():
                        found.append((e, at, d))
            total = len(found)
            pages = max(1, (total + page_size - 1) // page_size)
            page_no = min(max(1, page), pages)
            shown = found[(page_no - 1) * page_size: page_no * page_size]
        after = _balances_after(tx, [(e, at) for e, at, _ in shown], cash)
        rows = []
        for (e, at, d), balances in zip(shown, after):
            by_stream = {sid: (d["streams"][sid], balances[sid]) for sid in cash if sid in d["streams"]}
            amount = sum(a for a, _ in by_stream.values())
            kind, category, text = explainer.explain(d)
            line = LedgerLine(d["uuid"], from_us(at), d["description"], text, amount, sum(balances.values()),
                              by_stream, category, kind)
            if funder:
                rows.append((line, *by_stream[funder]))
            else:
                rows.append((line, line.amount, line.balance))
        return TransactionsPage(visit, tuple(rows), total, page_no, pages, live_after)

    return _page(uow, work)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _moves_query(chosen: list[Any], filters: TransactionFilters) -> Any:
    """Entries that moved the chosen cash accounts, one row each (entry id, effective time), unordered."""
    signs = {Side(r.normal_side).sign for r in chosen}
    amount = (posting_t.c.amount if signs == {1} else posting_t.c.amount * case(
        *((posting_t.c.account_id == r.id, Side(r.normal_side).sign) for r in chosen), else_=1))
    conditions = [posting_t.c.account_id.in_([r.id for r in chosen])]
    if filters.start is not None:
        conditions.append(posting_t.c.effective_us >= to_us(filters.start))
    if filters.end is not None:
        conditions.append(posting_t.c.effective_us < to_us(filters.end))
    q = select(posting_t.c.entry_id, posting_t.c.effective_us)
    if filters.category:
        q = q.join(entry_t, entry_t.c.id == posting_t.c.entry_id)
        conditions.append(_category_is(filters.category))
    q = q.where(and_(*conditions)).group_by(posting_t.c.entry_id, posting_t.c.effective_us)
    if filters.direction == "in":
        q = q.having(func.sum(amount) > 0)
    elif filters.direction == "out":
        q = q.having(func.sum(amount) < 0)
    return q


def _category_is(category: str) -> Any:
    """The entries :func:`_explain` files under ``category``, as a condition on ``ledger_entry`` (its metadata):
    not a correction, not funding or a reclaim; a payment request's own category, or, with no payment request,
    settling payroll (net pay, HMRC, pension) for personal assistant wages."""
    meta = entry_t.c.meta
    kind = func.coalesce(meta["kind"].as_string(), "")
    request = meta["payment_request"].as_string()
    settles = meta["settles"].as_string()
    plain = and_(entry_t.c.reverses_entry_id.is_(None), kind.not_in(["funding", "reclaim"]))
    paid = and_(request.is_not(None), meta["category"].as_string() == category)
    if Category(category) is Category.PA_WAGES:
        return and_(plain, or_(paid, and_(request.is_(None), settles.in_(["net_pay", "hmrc", "pension"]))))
    return and_(plain, paid)


def _entry_details(tx: Tx, entry_ids: Sequence[int], stream_of: dict[int, str]) -> dict[int, dict[str, Any]]:
    """Description, metadata and the movement on each funder's cash of these entries, in one statement."""
    out: dict[int, dict[str, Any]] = {}
    if not entry_ids:
        return out
    rows = tx.conn.execute(
        select(entry_t.c.id, entry_t.c.uuid, entry_t.c.description, entry_t.c.meta, entry_t.c.reverses_entry_id,
               posting_t.c.account_id, posting_t.c.amount, account_t.c.normal_side)
        .join(posting_t, posting_t.c.entry_id == entry_t.c.id)
        .join(account_t, account_t.c.id == posting_t.c.account_id)
        .where(and_(entry_t.c.id.in_(list(entry_ids)), posting_t.c.account_id.in_(list(stream_of))))
        .order_by(posting_t.c.id))
    for r in rows:
        d = out.get(r.id)
        if d is None:
            info = dict(r.meta or {})
            info["_seq"] = r.id
            info["_reverses"] = r.reverses_entry_id is not None
            d = out[r.id] = {"uuid": r.uuid, "description": r.description, "info": info, "streams": {}}
        sid = stream_of[r.account_id]
        d["streams"][sid] = d["streams"].get(sid, 0) + r.amount * Side(r.normal_side).sign
    return out


def _balances_after(tx: Tx, rows: Sequence[tuple[int, int]], cash: dict[str, Any]) -> list[dict[str, int]]:
    """Each funder's cash after each (entry id, effective µs), in effective order with the entry id breaking
    ties (the order of the statement): the day checkpoint before plus that day's postings up to the entry."""
    wanted = []
    for entry_id, at_us in rows:
        day = day_of(at_us)
        for r in cash.values():
            wanted.append(("after_entry", {"a": r.id, "d": day, "lo": day * US_PER_DAY, "t": at_us, "e": entry_id,
                                           "s": Side(r.normal_side).sign}))
    values = iter(_figures(tx, wanted))
    return [{sid: next(values) for sid in cash} for _ in rows]


class _Explainer:
    """Plain words for entries (see :func:`_explain`), with the wallet's payees and holder read once."""

    def __init__(self, tx: Tx, row: Any, wallet: Wallet):
        self._tx, self._row, self._labels = tx, row, {s.id: s for s in wallet.streams}
        self._loaded = False

    def _load(self) -> None:
        tx, row = self._tx, self._row
        self._payees = {r.uuid: r for r in tx.conn.execute(select(payee_t).where(payee_t.c.wallet_id == row.id))}
        self._by_employee = {r.employee_id: r for r in self._payees.values() if r.employee_id}
        self._holder = tx.conn.execute(select(user_t.c.name).where(user_t.c.id == row.holder_user_id)).scalar_one()
        self._loaded = True

    def explain(self, d: dict[str, Any]) -> tuple[str, Category | None, str]:
        if not self._loaded:
            self._load()
        streams = d["streams"]
        amount = sum(streams.values())
        # In the wallet's order of funders, as ledger_lines gives them (the first names the funder if need be).
        ordered = {sid: (streams[sid], 0) for sid in self._labels if sid in streams}
        return _explain(d["info"], d["description"], amount, ordered,
                        self._labels, self._payees, self._by_employee, self._holder)


# ---------------------------------------------------------------------- people
def user_names(tx: Tx, user_ids: Iterable[str]) -> dict[str, str]:
    ids = [i for i in set(user_ids) if i and i != SYSTEM]
    out = {SYSTEM: "Care Wallet (automatic)"}
    for i in range(0, len(ids), 500):
        for r in tx.conn.execute(select(user_t.c.uuid, user_t.c.name).where(user_t.c.uuid.in_(ids[i:i + 500]))):
            out[r.uuid] = r.name
    return out


def names_of(uow: UnitOfWork, user_ids: Iterable[str]) -> dict[str, str]:
    """People's names by user id (the service itself is named too)."""
    wanted = list(user_ids)
    return uow.read(lambda tx: user_names(tx, wanted))


def user_by_email(uow: UnitOfWork, email: str) -> User | None:
    """The person with this e-mail address, if there is one."""
    wanted = email.strip().lower()

    def work(tx: Tx) -> User | None:
        row = tx.conn.execute(select(user_t).where(user_t.c.email == wanted)).first()
        return user_from_row(row) if row else None

    return uow.read(work)


@dataclass(frozen=True)
class PersonWithAccess:
    user_id: str
    name: str
    email: str
    role: Role
    shares: frozenset[Action]
    revoked: bool
    granted_at: datetime
    revoked_at: datetime | None = None


def people_with_access(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[PersonWithAccess]:
    """Everyone with a role on the wallet, revoked ones included (marked). Needs ``manage_sharing``."""

    def work(tx: Tx) -> list[PersonWithAccess]:
        row = tx.wallet_row(wallet_id)
        _check(tx, actor, Action.MANAGE_SHARING, row)
        rows = tx.conn.execute(
            select(relationship_t, user_t.c.uuid.label("user_uuid"), user_t.c.name, user_t.c.email)
            .join(user_t, user_t.c.id == relationship_t.c.user_id)
            .where(relationship_t.c.wallet_id == row.id).order_by(relationship_t.c.id))
        return [PersonWithAccess(r.user_uuid, r.name, r.email, Role(r.role),
                                 frozenset(Action(s) for s in r.shares), r.revoked_us is not None,
                                 from_us(r.granted_us), from_us(r.revoked_us) if r.revoked_us else None)
                for r in rows]

    return uow.read(work)


__all__ = ["wallet_for_action", "actions_for", "WalletListing", "visible_wallets", "HomeFigures",
           "home_figures", "LedgerLine", "ledger_lines", "PaymentView", "payment_views", "request_wallet_id",
           "PayeeChoice", "active_payees", "names_of", "user_by_email", "PersonWithAccess", "people_with_access",
           "PageVisit", "HomePage", "home_page", "TransactionFilters", "TransactionsPage", "transactions_page"]

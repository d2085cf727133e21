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
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, or_, select

from ledger.clock import from_us
from ledger.tables import entry_t
from wallet.domain.chart import Category
from wallet.domain.errors import PermissionDenied
from wallet.domain.payees import PayeeKind
from wallet.domain.permissions import (Action, Role, User, can, granted, load_access, load_user, require,
                                       user_from_row)
from wallet.domain.plans import PlanReport, current_period, plan_figures
from wallet.domain.schedules import Period, funding_dates, period_number, plan_period
from wallet.domain.tables import (funding_stream_t, payee_t, payment_decision_t, payment_request_t,
                                  relationship_t, user_t, wallet_t)
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import Wallet, WalletBalance, balance_of, load_wallet, statement_lines
from wallet.money import format_pence

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


def _payment_views(tx: Tx, row: Any, wallet: Wallet) -> list[PaymentView]:
    streams = {r.id: r.label for r in tx.conn.execute(
        select(funding_stream_t.c.id, funding_stream_t.c.label).where(funding_stream_t.c.wallet_id == row.id))}
    payees = {r.id: r for r in tx.conn.execute(select(payee_t).where(payee_t.c.wallet_id == row.id))}
    requests = tx.conn.execute(select(payment_request_t).where(payment_request_t.c.wallet_id == row.id)
                               .order_by(payment_request_t.c.id.desc())).all()
    decisions: dict[int, Any] = {}
    if requests:
        for d in tx.conn.execute(select(payment_decision_t).where(
                payment_decision_t.c.request_id.in_([r.id for r in requests])).order_by(payment_decision_t.c.id)):
            decisions[d.request_id] = d
    people = user_names(tx, {r.requested_by for r in requests} | {d.decided_by for d in decisions.values()})
    out = []
    for r in requests:
        payee = payees[r.payee_id]
        d = decisions.get(r.id)
        out.append(PaymentView(
            r.uuid, payee.name, payee.kind, r.amount, Category(r.category), streams.get(r.stream_id, ""),
            r.description, r.status, r.requested_by, people.get(r.requested_by, "Someone"),
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
           "PayeeChoice", "active_payees", "names_of", "user_by_email", "PersonWithAccess", "people_with_access"]

"""Reconciliation: Stripe's balance transactions against the ledger entries the wallet made for them.

Each money movement Stripe makes for the wallets has one balance transaction whose ``source`` names what
moved it: a charge (a top-up or contribution paid in), an Issuing transaction (a card capture or refund), a
refund of a payment in, or a dispute (its withdrawal and, if won, its reinstatement). The wallet keeps, for each
of those, the ledger entries it posted (``stripe_payment``, ``stripe_card_transaction``, ``stripe_money_in_entry``).
A charge's refunds are compared together (``refunds:<charge>``): Stripe's event says how much of a charge has been
refunded, not by which refund; a dispute's withdrawal and reinstatement are compared by the dispute's id.
The report compares the two for a window of time and lists every difference:

* ``missing_in_ledger``: Stripe moved money the wallet never posted (an event lost, or for no wallet of ours);
* ``missing_in_stripe``: the wallet posted money Stripe has no balance transaction for;
* ``amount_differs``: both have it, for different amounts.

Amounts are compared as they touch the funder's cash, or its shortfall accounts where the cash ran out: money in
positive, money out negative (Stripe's sign).
The ledger side is read from the ledger's own postings, not from the Stripe tables' copies. Stripe's fees,
payouts and Issuing holds are counted but not matched: the wallet's ledger does not carry them.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import and_, select

from ledger.tables import account_t, entry_t, posting_t
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.money import format_pence
from wallet.stripe_gateway.client import BalanceTransaction, StripeGateway
from wallet.stripe_gateway.money_in import SHORTFALL_KINDS
from wallet.stripe_gateway.tables import card_transaction_t, money_in_change_t, money_in_entry_t, payment_t

log = logging.getLogger(__name__)

MATCHED_TYPES = frozenset({"charge", "payment", "issuing_transaction", "refund", "payment_refund", "adjustment"})
_REFUNDS = ("refund", "payment_refund")
MARGIN = timedelta(days=1)
"""Stripe stamps a balance transaction when the money moves; the wallet keeps the time of the object that moved
it. Each side is looked for this much beyond the window, so nothing at its edges is reported missing wrongly."""


@dataclass(frozen=True)
class Difference:
    kind: str
    """missing_in_ledger, missing_in_stripe or amount_differs."""
    source: str
    """The Stripe object that moved the money (a charge, or an Issuing transaction), or a payment intent."""
    stripe_amount: int | None
    ledger_amount: int | None
    balance_transaction: str | None = None
    entry_id: str | None = None

    @property
    def words(self) -> str:
        if self.kind == "missing_in_ledger":
            return (f"{self.source}: Stripe moved {format_pence(self.stripe_amount or 0)} "
                    f"({self.balance_transaction}) and the ledger has no entry for it")
        if self.kind == "missing_in_stripe":
            return (f"{self.source}: the ledger has {format_pence(self.ledger_amount or 0)} (entry {self.entry_id}) "
                    "and Stripe has no balance transaction for it")
        return (f"{self.source}: Stripe moved {format_pence(self.stripe_amount or 0)} ({self.balance_transaction}) "
                f"but the ledger has {format_pence(self.ledger_amount or 0)} (entry {self.entry_id})")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "stripe_amount": self.stripe_amount,
                "ledger_amount": self.ledger_amount, "balance_transaction": self.balance_transaction,
                "entry_id": self.entry_id}


@dataclass(frozen=True)
class ReconciliationReport:
    start: datetime
    end: datetime
    stripe_checked: int
    ledger_checked: int
    matched: int
    differences: tuple[Difference, ...]
    not_matched_types: dict[str, int] = field(default_factory=dict)
    """Balance transactions of kinds the ledger does not carry (fees, payouts, holds), by type."""

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        head = (f"Stripe reconciliation {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC: "
                f"{self.stripe_checked} Stripe balance transactions and {self.ledger_checked} ledger entries "
                f"checked, {self.matched} matched, {len(self.differences)} difference"
                f"{'' if len(self.differences) == 1 else 's'}.")
        if self.not_matched_types:
            head += " Not matched (the ledger does not carry them): " + ", ".join(
                f"{n} {t}" for t, n in sorted(self.not_matched_types.items())) + "."
        return head

    def lines(self) -> list[str]:
        return [self.summary(), *(f"- {d.kind.replace('_', ' ')}: {d.words}" for d in self.differences)]

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "stripe_checked": self.stripe_checked,
                "ledger_checked": self.ledger_checked, "matched": self.matched,
                "differences": [d.as_dict() for d in self.differences],
                "not_matched_types": dict(self.not_matched_types)}


@dataclass(frozen=True)
class _LedgerItem:
    source: str
    amount: int
    entry_id: str
    created: int


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _cash_amount(tx: Tx, entry_id: str) -> int:
    """What the entry did to the funder's cash and shortfall accounts (debit positive: money in)."""
    rows = tx.conn.execute(
        select(posting_t.c.amount, account_t.c.code)
        .join(account_t, account_t.c.id == posting_t.c.account_id)
        .join(entry_t, entry_t.c.id == posting_t.c.entry_id)
        .where(entry_t.c.uuid == entry_id)).all()
    return sum(int(r.amount) for r in rows if any(f":{kind}:" in r.code for kind in _CASH_LIKE))


_CASH_LIKE = ("cash", *SHORTFALL_KINDS)


def source_of(bt: BalanceTransaction) -> str | None:
    """What a balance transaction is matched by: its source, a charge's refunds together, or None for one the
    ledger does not carry (an adjustment that is not a dispute's)."""
    if bt.type in _REFUNDS:
        return f"refunds:{bt.source_charge}" if bt.source_charge else bt.source
    if bt.type == "adjustment":
        return bt.source if bt.source and bt.source_charge else None
    return bt.source


def ledger_items(uow: UnitOfWork, start: int, end: int) -> list[_LedgerItem]:
    """Money the wallets posted for Stripe with Stripe times in [start, end) (Unix seconds)."""

    def work(tx: Tx) -> list[_LedgerItem]:
        out = []
        p = payment_t.c
        for r in tx.conn.execute(select(p.payment_intent_id, p.charge_id, p.entry_id, p.stripe_created).where(and_(
                p.status == "succeeded", p.stripe_created >= start, p.stripe_created < end))):
            out.append(_LedgerItem(r.charge_id or r.payment_intent_id, _cash_amount(tx, r.entry_id), r.entry_id,
                                   int(r.stripe_created)))
        c = card_transaction_t.c
        for r in tx.conn.execute(select(c.transaction_id, c.entry_id, c.stripe_created).where(and_(
                c.stripe_created >= start, c.stripe_created < end))):
            out.append(_LedgerItem(r.transaction_id, _cash_amount(tx, r.entry_id), r.entry_id,
                                   int(r.stripe_created)))
        m, ch = money_in_entry_t.c, money_in_change_t.c
        for r in tx.conn.execute(select(m.entry_id, m.stripe_created, ch.kind, ch.stripe_id)
                                 .join(money_in_change_t, ch.id == m.change_id)
                                 .where(and_(m.stripe_created >= start, m.stripe_created < end))):
            source = f"refunds:{r.stripe_id}" if r.kind == "refund" else r.stripe_id
            out.append(_LedgerItem(source, _cash_amount(tx, r.entry_id), r.entry_id, int(r.stripe_created)))
        return out

    return uow.read(work)


def compare(stripe_items: Iterable[BalanceTransaction], ledger: Iterable[_LedgerItem], start: datetime,
            end: datetime) -> ReconciliationReport:
    """The report, from both sides already read. Each side may reach ``MARGIN`` beyond the window; only what
    falls inside it is reported missing from the other."""
    lo, hi = _epoch(start), _epoch(end)
    ignored: Counter[str] = Counter()
    by_source: dict[str, list[BalanceTransaction]] = {}
    for bt in stripe_items:
        source = source_of(bt) if bt.type in MATCHED_TYPES else None
        if not source:
            if lo <= _epoch(bt.created) < hi:
                ignored[bt.type] += 1
            continue
        by_source.setdefault(source, []).append(bt)
    ours: dict[str, list[_LedgerItem]] = {}
    for item in ledger:
        ours.setdefault(item.source, []).append(item)
    differences: list[Difference] = []
    matched = stripe_checked = ledger_checked = 0
    for source, bts in sorted(by_source.items()):
        inside = any(lo <= _epoch(bt.created) < hi for bt in bts)
        mine = ours.get(source, [])
        mine_inside = any(lo <= i.created < hi for i in mine)
        if not inside and not mine_inside:
            continue
        stripe_checked += sum(1 for bt in bts if lo <= _epoch(bt.created) < hi)
        stripe_amount = sum(bt.amount for bt in bts)
        first = bts[0].id
        if not mine:
            differences.append(Difference("missing_in_ledger", source, stripe_amount, None, first))
            continue
        ledger_amount = sum(i.amount for i in mine)
        if ledger_amount != stripe_amount:
            differences.append(Difference("amount_differs", source, stripe_amount, ledger_amount, first,
                                          mine[0].entry_id))
        else:
            matched += 1
    for source, mine in sorted(ours.items()):
        inside = [i for i in mine if lo <= i.created < hi]
        ledger_checked += len(inside)
        if inside and source not in by_source:
            differences.append(Difference("missing_in_stripe", source, None, sum(i.amount for i in mine), None,
                                          mine[0].entry_id))
    return ReconciliationReport(start, end, stripe_checked, ledger_checked, matched, tuple(differences),
                                dict(ignored))


def reconcile(uow: UnitOfWork, gateway: StripeGateway, *, start: datetime, end: datetime) -> ReconciliationReport:
    """Compare Stripe's balance transactions created in [start, end) with the ledger. Reads only."""
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError("reconcile a window of aware times that ends after it starts")
    stripe_items = list(gateway.balance_transactions(created_from=start - MARGIN, created_before=end + MARGIN))
    ledger = ledger_items(uow, _epoch(start - MARGIN), _epoch(end + MARGIN))
    report = compare(stripe_items, ledger, start, end)
    log.info("%s", report.summary())
    return report


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


# ---------------------------------------------------------------------- the scheduler's job
def reconcile_job():
    """Each morning, reconcile the day before and leave a notice with every difference. Due only where Stripe
    is configured (``WALLET_STRIPE_SECRET_KEY``)."""
    from wallet.scheduler.jobs import Job, JobContext, Occurrence, at
    from wallet.stripe_gateway.settings import stripe_config

    def due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
        if stripe_config() is None:
            return []
        out = []
        day = after.astimezone(timezone.utc).date()
        while at(day) <= upto:
            if at(day) > after:
                out.append(Occurrence("stripe_reconcile", f"stripe_reconcile:{day.isoformat()}", at(day),
                                      {"day": (day - timedelta(days=1)).isoformat()}))
            day += timedelta(days=1)
        return out

    def run(ctx: JobContext, occ: Occurrence) -> str:
        config = stripe_config()
        if config is None:
            return "Stripe is not configured here; nothing to reconcile."
        day = date.fromisoformat(occ.params["day"])
        start, end = day_window(day)
        report = reconcile(ctx.uow, StripeGateway(config), start=start, end=end)
        ctx.notice(kind="stripe_reconciliation", subject=None, due_on=day, message="\n".join(report.lines()),
                   details=report.as_dict())
        return report.summary()

    return Job("stripe_reconcile", "Compare Stripe's balance transactions with the ledger (daily, for the day "
               "before).", due, run)

"""Wallet cards (Stripe Issuing) and payments in by card or Direct Debit, as the wallet's people see them.

A card belongs to one wallet and spends from one funding stream for one support-plan category, so its spending
counts against that line of the plan. Its controls come from the plan, never from a blanket ban: the plan
line's amount becomes the card's limit for the plan's period (a monthly plan: a monthly limit; a four-weekly
plan: a weekly limit of a quarter of it, rounded down to the penny), and the person's own choices add merchant
categories allowed or blocked and a limit a payment. A card cannot be issued for a category the plan has no
line for.

Every card decision is kept with its reason (``stripe_authorization``) and listed for the people who may see
the wallet's transactions: the holder, their appointee, and those they share with.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select

from ledger.clock import from_us
from wallet.domain.chart import Category
from wallet.domain.errors import InvalidRequest
from wallet.domain.permissions import Action, require
from wallet.domain.plans import BudgetLine, load_lines
from wallet.domain.schedules import PlanPeriod
from wallet.domain.tables import funding_stream_t
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.domain.wallets import FundingStream, Wallet, check_pence, load_wallet, stream_pk
from wallet.stripe_gateway.client import Address, CardholderDetails, StripeGateway
from wallet.stripe_gateway.controls import CardControls, SpendingLimit
from wallet.stripe_gateway.store import StripeStore
from wallet.stripe_gateway.tables import authorization_t, card_t, payment_t

MAX_DECISIONS = 200


@dataclass(frozen=True)
class WalletCard:
    id: str
    stripe_card_id: str
    kind: str
    status: str
    last4: str
    category: Category
    stream_id: str
    controls: CardControls


@dataclass(frozen=True)
class CardDecision:
    authorization_id: str
    decided_at: datetime
    card_last4: str | None
    merchant: str
    merchant_category: str
    amount: int
    approved: bool
    approved_amount: int
    code: str
    reason: str
    status: str
    """declined, held (waiting for the shop to take it), captured, released."""
    captured: int
    refunded: int


def plan_controls(line: BudgetLine, plan_period: PlanPeriod | str, *, allowed: Iterable[str] = (),
                  blocked: Iterable[str] = (), per_payment: int | None = None) -> CardControls:
    """The card's controls from one plan line and the person's own choices."""
    planned = line.planned_per_period
    if PlanPeriod(plan_period) is PlanPeriod.MONTHLY:
        period_limit = SpendingLimit(planned, "monthly")
    else:
        # integer pence, floor division: never allows more than the plan a week
        period_limit = SpendingLimit(planned // 4, "weekly")
    limits = [period_limit]
    if per_payment is not None:
        check_pence(per_payment, "the limit a payment")
        limits.insert(0, SpendingLimit(per_payment, "per_authorization"))
    try:
        return CardControls(allowed_categories=tuple(allowed), blocked_categories=tuple(blocked),
                            spending_limits=tuple(limits))
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(str(exc)) from exc


def _card_from_row(row: Any, stream_uuid: str) -> WalletCard:
    return WalletCard(id=row.uuid, stripe_card_id=row.stripe_card_id, kind=row.kind, status=row.status,
                      last4=row.last4, category=Category(row.category), stream_id=stream_uuid,
                      controls=CardControls.from_stripe(row.controls))


def _plan_line(tx: Tx, wallet_row: Any, wallet: Wallet, stream_id: str, category: Category) -> tuple[
        FundingStream, BudgetLine]:
    stream = wallet.stream(stream_id)
    line = next((ln for ln in load_lines(tx, wallet_row) if ln.category is category and ln.stream_id == stream.id),
                None)
    if line is None:
        raise InvalidRequest(f"the support plan has no line for {category.label.lower()} from {stream.label}; "
                             "a card spends only on what the plan has a line for")
    return stream, line


def issue_card(uow: UnitOfWork, gateway: StripeGateway, wallet_id: str, *, actor: str, stream_id: str,
               category: Category | str, holder: CardholderDetails, key: str, kind: str = "virtual",
               allowed: Iterable[str] = (), blocked: Iterable[str] = (), per_payment: int | None = None,
               shipping_address: Address | None = None) -> WalletCard:
    """Issue a card for a wallet: virtual, or physical (posted to ``shipping_address``). ``key`` is the caller's
    idempotency key: a repeat (after a lost answer, say) returns the same card and never makes a second one."""
    cat = Category(category)
    if kind not in ("virtual", "physical"):
        raise InvalidRequest("a card is virtual or physical")
    allowed, blocked = tuple(allowed), tuple(blocked)

    def plan(tx: Tx) -> tuple[Wallet, CardControls]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.MANAGE_WALLET, row, f"issue a {kind} card for {cat.value}", system_allowed=True)
        wallet = load_wallet(tx, row)
        _, line = _plan_line(tx, row, wallet, stream_id, cat)
        return wallet, plan_controls(line, wallet.plan_period, allowed=allowed, blocked=blocked,
                                     per_payment=per_payment)

    wallet, controls = uow.write(plan)
    # Stripe is called outside any transaction; its idempotency keys make a retry safe.
    cardholder = gateway.create_cardholder(holder, wallet_id=wallet.id, idempotency_key=f"{key}:cardholder")
    issued = gateway.issue_card(cardholder.id, controls, wallet_id=wallet.id, idempotency_key=f"{key}:card",
                                kind=kind,  # type: ignore[arg-type]
                                shipping_name=holder.name if kind == "physical" else None,
                                shipping_address=shipping_address if kind == "physical" else None)

    def keep(tx: Tx) -> WalletCard:
        row = tx.wallet_row(wallet_id, lock=True)
        found = tx.conn.execute(select(card_t).where(card_t.c.stripe_card_id == issued.id)).first()
        if found is None:
            tx.conn.execute(card_t.insert(), dict(
                uuid=tx.new_id(), wallet_id=row.id, stream_id=stream_pk(tx, stream_id), category=cat.value,
                stripe_card_id=issued.id, cardholder_id=cardholder.id, kind=kind, status=issued.status,
                last4=issued.last4[:4], controls=issued.controls.to_stripe(), created_by=actor,
                created_us=tx.now_us()))
            tx.audit(row.id, actor, Action.MANAGE_WALLET.value, f"{kind} card ending {issued.last4} issued")
            found = tx.conn.execute(select(card_t).where(card_t.c.stripe_card_id == issued.id)).one()
        return _card_from_row(found, stream_id)

    return uow.write(keep)


def wallet_cards(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[WalletCard]:
    def work(tx: Tx) -> list[WalletCard]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, "cards", system_allowed=True)
        rows = tx.conn.execute(select(card_t, funding_stream_t.c.uuid.label("stream_uuid"))
                               .join(funding_stream_t, funding_stream_t.c.id == card_t.c.stream_id)
                               .where(card_t.c.wallet_id == row.id).order_by(card_t.c.id)).all()
        return [_card_from_row(r, r.stream_uuid) for r in rows]

    return uow.write(work)


def card_decisions(uow: UnitOfWork, wallet_id: str, *, actor: str, limit: int = MAX_DECISIONS) -> list[CardDecision]:
    """The wallet's card decisions, newest first, each with its reason in plain words."""

    def work(tx: Tx) -> list[CardDecision]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, "card decisions", system_allowed=True)
        a = authorization_t.c
        rows = tx.conn.execute(
            select(authorization_t, card_t.c.last4).outerjoin(card_t, card_t.c.id == a.card_id)
            .where(a.wallet_id == row.id).order_by(a.decided_us.desc(), a.id.desc()).limit(limit)).all()
        return [CardDecision(
            authorization_id=r.authorization_id, decided_at=from_us(r.decided_us), card_last4=r.last4,
            merchant=r.merchant_name, merchant_category=r.merchant_category, amount=r.amount,
            approved=r.approved, approved_amount=r.approved_amount, code=r.code, reason=r.reason,
            status=r.status, captured=r.captured, refunded=r.refunded) for r in rows]

    return uow.write(work)


def start_top_up(uow: UnitOfWork, gateway: StripeGateway, wallet_id: str, *, actor: str, stream_id: str,
                 amount: int, key: str, bacs: dict[str, str] | None = None) -> str:
    """Ask Stripe for a payment into the wallet's funding stream: a card top-up the person confirms in the
    browser (returns the PaymentIntent's client secret), or, with ``bacs`` (``customer_id`` and
    ``payment_method_id`` of a Direct Debit mandate), the client's contribution collected by Bacs (returns the
    PaymentIntent's id). The money is posted only when Stripe says it succeeded."""
    check_pence(amount, "the amount")

    def check(tx: Tx) -> tuple[int, int, str]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.MANAGE_WALLET, row, f"payment in of {amount} by "
                f"{'Direct Debit' if bacs else 'card'}", system_allowed=True)
        stream = load_wallet(tx, row).stream(stream_id)
        return row.id, stream_pk(tx, stream.id), row.uuid

    wallet_pk, stream_key, wallet_uuid = uow.write(check)
    if bacs:
        intent = gateway.collect_bacs_debit(amount, customer_id=bacs["customer_id"],
                                            payment_method_id=bacs["payment_method_id"], wallet_id=wallet_uuid,
                                            idempotency_key=key, stream_id=stream_id)
        method, purpose, answer = "bacs_debit", "client_contribution", intent.id
    else:
        intent = gateway.create_top_up(amount, wallet_id=wallet_uuid, idempotency_key=key, stream_id=stream_id)
        method, purpose, answer = "card", "top_up", intent.client_secret or intent.id
    store = StripeStore(uow)
    uow.write(lambda tx: store.start_payment(tx, payment_intent_id=intent.id, wallet_pk=wallet_pk,
                                             stream_pk=stream_key, method=method, purpose=purpose, amount=amount))
    return answer


@dataclass(frozen=True)
class PaymentIn:
    payment_intent_id: str
    stream_id: str
    method: str
    purpose: str
    amount: int
    status: str
    entry_id: str | None
    failure: str | None


def payments_in(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[PaymentIn]:
    def work(tx: Tx) -> list[PaymentIn]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, "payments in", system_allowed=True)
        rows = tx.conn.execute(select(payment_t, funding_stream_t.c.uuid.label("stream_uuid"))
                               .join(funding_stream_t, funding_stream_t.c.id == payment_t.c.stream_id)
                               .where(payment_t.c.wallet_id == row.id).order_by(payment_t.c.id)).all()
        return [PaymentIn(r.payment_intent_id, r.stream_uuid, r.method, r.purpose, r.amount, r.status, r.entry_id,
                          r.failure) for r in rows]

    return uow.write(work)

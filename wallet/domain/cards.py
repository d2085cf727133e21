"""Wallet cards (Stripe Issuing) and payments in by card or Direct Debit, as the wallet's people see them.

A card belongs to one wallet and spends from one funding stream for one support-plan category, so its spending
counts against that line of the plan. Its controls come from the plan, never from a blanket ban: the plan
line's amount becomes the card's limit for the plan's period (a monthly plan: a monthly limit; a four-weekly
plan: a weekly limit of a quarter of it, rounded down to the penny), and the person's own choices add merchant
categories allowed or blocked and a limit a payment. A card cannot be issued for a category the plan has no
line for.

Every card decision is kept with its reason (``stripe_authorization``) and listed for the people who may see
the wallet's transactions: the holder, their appointee, and those they share with.

The client's own contribution can be collected by Bacs Direct Debit under a mandate per funding stream
(``start_direct_debit``, ``finish_direct_debit``, ``collect_direct_debit``); only masked bank details are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import and_, select, update

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
from wallet.stripe_gateway.tables import authorization_t, card_t, mandate_t, payment_t

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


def _wallet_rows(uow: UnitOfWork, wallet_id: str, actor: str, table: Any, what: str) -> list[Any]:
    """A wallet's rows of ``table`` in order, each with its funding stream's id as ``stream_uuid`` (None when
    the row names no stream), for whoever may see the wallet's transactions (a refusal is logged)."""
    def work(tx: Tx) -> list[Any]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, what, system_allowed=True)
        return tx.conn.execute(select(table, funding_stream_t.c.uuid.label("stream_uuid"))
                               .outerjoin(funding_stream_t, funding_stream_t.c.id == table.c.stream_id)
                               .where(table.c.wallet_id == row.id).order_by(table.c.id)).all()

    return uow.write(work)


def wallet_cards(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[WalletCard]:
    return [_card_from_row(r, r.stream_uuid) for r in _wallet_rows(uow, wallet_id, actor, card_t, "cards")]


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
    return [PaymentIn(r.payment_intent_id, r.stream_uuid, r.method, r.purpose, r.amount, r.status, r.entry_id,
                      r.failure) for r in _wallet_rows(uow, wallet_id, actor, payment_t, "payments in")]


# ---------------------------------------------------------------------- Bacs Direct Debit mandates
@dataclass(frozen=True)
class Mandate:
    """A Direct Debit mandate for one funding stream, with the bank details masked (``**-**-00``, last four)."""

    stream_id: str | None
    setup_intent_id: str | None
    mandate_id: str | None
    status: str
    """pending (set up, not yet confirmed), active, inactive or revoked (by the payer or their bank), failed."""
    sort_code_masked: str | None
    last4: str | None
    reason: str | None

    @property
    def usable(self) -> bool:
        return self.status == "active" and self.mandate_id is not None


def _mandate(row: Any, stream_uuid: str | None) -> Mandate:
    return Mandate(stream_uuid, row.setup_intent_id, row.mandate_id, row.status, row.sort_code_masked, row.last4,
                   row.reason)


def start_direct_debit(uow: UnitOfWork, gateway: StripeGateway, wallet_id: str, *, actor: str, stream_id: str,
                       key: str, name: str, email: str | None = None) -> tuple[str, str | None]:
    """Start a Bacs Direct Debit mandate that pays into one funding stream (the person's own contribution): a
    SetupIntent the person confirms in Stripe's form. Returns its id and client secret. The mandate is usable
    once Stripe says the set-up succeeded (``setup_intent.succeeded``)."""

    def check(tx: Tx) -> tuple[int, int, str, str | None]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.MANAGE_WALLET, row, "set up a Direct Debit", system_allowed=True)
        stream = load_wallet(tx, row).stream(stream_id)
        customer = tx.conn.execute(select(mandate_t.c.customer_id).where(and_(
            mandate_t.c.wallet_id == row.id, mandate_t.c.customer_id.is_not(None))).limit(1)).scalar()
        return row.id, stream_pk(tx, stream.id), row.uuid, customer

    wallet_pk, stream_key, wallet_uuid, customer = uow.write(check)
    if customer is None:
        customer = gateway.create_customer(name=name, email=email, wallet_id=wallet_uuid,
                                           idempotency_key=f"{key}:customer")
    setup = gateway.create_bacs_debit_setup(customer, wallet_id=wallet_uuid, stream_id=stream_id,
                                            idempotency_key=f"{key}:setup")

    def keep(tx: Tx) -> None:
        row = tx.wallet_row(wallet_id, lock=True)
        if tx.conn.execute(select(mandate_t.c.id).where(mandate_t.c.setup_intent_id == setup.id)).first():
            return
        now = tx.now_us()
        tx.conn.execute(mandate_t.insert(), dict(
            wallet_id=wallet_pk, stream_id=stream_key, setup_intent_id=setup.id, customer_id=customer,
            status="pending", created_us=now, updated_us=now))
        tx.audit(row.id, actor, Action.MANAGE_WALLET.value, "Direct Debit set-up started")

    uow.write(keep)
    return setup.id, setup.client_secret


def finish_direct_debit(uow: UnitOfWork, gateway: StripeGateway, wallet_id: str, setup_intent_id: str, *,
                        actor: str) -> Mandate:
    """After the person has confirmed: read the set-up back from Stripe and keep the masked bank details (the
    webhook carries only ids). The mandate's state still comes from Stripe's events."""
    details = gateway.retrieve_bacs_setup(setup_intent_id)

    def work(tx: Tx) -> Mandate:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, "finish a Direct Debit set-up", system_allowed=True)
        m = mandate_t.c
        found = tx.conn.execute(select(mandate_t).where(and_(m.setup_intent_id == setup_intent_id,
                                                             m.wallet_id == row.id))).first()
        if found is None:
            raise InvalidRequest("this Direct Debit set-up was not started for this wallet")
        values: dict[str, Any] = dict(sort_code_masked=details.sort_code_masked, last4=details.last4,
                                      updated_us=tx.now_us())
        if details.payment_method_id and not found.payment_method_id:
            values["payment_method_id"] = details.payment_method_id
        taken = details.mandate_id and tx.conn.execute(select(m.id).where(and_(
            m.mandate_id == details.mandate_id, m.id != found.id))).first()
        if details.mandate_id and not found.mandate_id and not taken:
            values["mandate_id"] = details.mandate_id
        tx.conn.execute(update(mandate_t).where(m.id == found.id).values(**values))
        fresh = tx.conn.execute(select(mandate_t).where(m.id == found.id)).one()
        return _mandate(fresh, _stream_uuid(tx, fresh.stream_id))

    return uow.write(work)


def _stream_uuid(tx: Tx, stream_key: int | None) -> str | None:
    if stream_key is None:
        return None
    return tx.conn.execute(select(funding_stream_t.c.uuid).where(funding_stream_t.c.id == stream_key)).scalar()


def direct_debit_mandates(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[Mandate]:
    return [_mandate(r, r.stream_uuid)
            for r in _wallet_rows(uow, wallet_id, actor, mandate_t, "Direct Debit mandates")]


def collect_direct_debit(uow: UnitOfWork, gateway: StripeGateway, wallet_id: str, *, actor: str, stream_id: str,
                         amount: int, key: str) -> str:
    """Collect a contribution into ``stream_id`` under its active mandate (a PaymentIntent confirmed off
    session with the stored payment method). Returns the PaymentIntent's id; the money is posted when Stripe
    says it succeeded."""
    check_pence(amount, "the amount")

    def check(tx: Tx) -> tuple[int, int, str, Any]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.MANAGE_WALLET, row, f"collect {amount} by Direct Debit", system_allowed=True)
        stream = load_wallet(tx, row).stream(stream_id)
        key_ = stream_pk(tx, stream.id)
        m = mandate_t.c
        mandate = tx.conn.execute(select(mandate_t).where(and_(
            m.wallet_id == row.id, m.stream_id == key_, m.status == "active", m.mandate_id.is_not(None),
            m.payment_method_id.is_not(None), m.customer_id.is_not(None))).order_by(m.id.desc()).limit(1)).first()
        if mandate is None:
            raise InvalidRequest(f"there is no active Direct Debit for {stream.label}; set one up first")
        return row.id, key_, row.uuid, mandate

    wallet_pk, stream_key, wallet_uuid, mandate = uow.write(check)
    intent = gateway.collect_bacs_debit(amount, customer_id=mandate.customer_id,
                                        payment_method_id=mandate.payment_method_id, wallet_id=wallet_uuid,
                                        idempotency_key=key, stream_id=stream_id, mandate_id=mandate.mandate_id)
    store = StripeStore(uow)
    uow.write(lambda tx: store.start_payment(tx, payment_intent_id=intent.id, wallet_pk=wallet_pk,
                                             stream_pk=stream_key, method="bacs_debit",
                                             purpose="client_contribution", amount=amount))
    return intent.id

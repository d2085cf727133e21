"""Payment requests and their approval: controls per person, and two people for money spent on someone's behalf.

A request pays one payee from one funder's money for one support-plan category. It goes straight through only
when the holder asks for it, the payee has been paid before, the plan has room for it (a budget line for the
category whose planned amount for the current plan period, less what was spent and what awaits approval, covers
it) and it is not above the wallet's approval threshold. Otherwise it waits for approval, for every reason that
applies (all are stored):

* ``on_behalf``: asked for by someone other than the holder (an appointee, a support manager);
* ``new_payee``: the first payment to this payee;
* ``no_budget_line`` / ``line_exhausted``: outside the plan;
* ``above_threshold``: more than the wallet's threshold;
* ``invoice_check``: a provider's invoice above the agreed rate or beyond the plan's hours (the caller says so
  through ``needs_approval``).

While it waits, the money is held in the ledger (a hold debiting ``spend:<category>:<stream>`` and crediting
``cash:<stream>``), so it cannot be spent twice and the funder's available balance shows it. Approval (by the
holder or an appointee, never the person who asked) commits the hold: the spending is posted from the right
funding stream. Rejection needs a reason and releases the hold. The requester may withdraw a request that waits.

A payee paid by bank (``wallet.domain.supplier_payables``) is not paid at approval: the spending is posted into
what the wallet owes that payee, the funder's cash stays held for it, and the request is "approved, awaiting
bank payment" until a payment batch line for it is confirmed paid. Its stored status is ``paid`` (decided, the
spending posted); :class:`PaymentRequest` reports the bank's part.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from sqlalchemy import and_, func, select, update

from ledger.clock import from_us
from ledger.model import HoldRequest
from wallet.domain.chart import Category
from wallet.domain.errors import (Conflict, FundingStreamNeeded, InvalidRequest, PermissionDenied, RequestNotPending,
                                  SelfApprovalRefused, UnknownPaymentRequest)
from wallet.domain.payees import has_been_paid, payee_row
from wallet.domain.permissions import Action, require
from wallet.domain.plans import BudgetLine, current_period, load_lines
from wallet.domain import supplier_payables
from wallet.domain.schedules import prorate
from wallet.domain.tables import (budget_line_t, funding_stream_t, payee_t, payment_decision_t, payment_request_t,
                                  wallet_t)
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.domain.wallets import (FundingStream, Wallet, change_in, check_pence, load_wallet, spending_money,
                                   stream_pk)


class PaymentStatus(str, enum.Enum):
    AWAITING_APPROVAL = "awaiting_approval"
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    AWAITING_BANK_PAYMENT = "awaiting_bank_payment"
    """Approved, awaiting bank payment: owed to a payee paid by bank until a payment batch pays it. Never stored:
    the stored status is ``paid`` and the payable says whether the bank has paid."""


class ApprovalReason(str, enum.Enum):
    ON_BEHALF = "on_behalf"
    NEW_PAYEE = "new_payee"
    NO_BUDGET_LINE = "no_budget_line"
    LINE_EXHAUSTED = "line_exhausted"
    ABOVE_THRESHOLD = "above_threshold"
    INVOICE_CHECK = "invoice_check"
    """A provider's invoice that did not pass its checks (rate, hours, amount: ``wallet.domain.invoices``)."""


@dataclass(frozen=True)
class Decision:
    decision: str
    """approved, rejected or withdrawn."""
    decided_by: str
    reason: str | None
    decided_at: datetime


@dataclass(frozen=True)
class PaymentRequest:
    id: str
    wallet_id: str
    payee_id: str
    category: Category
    stream_id: str
    budget_line_id: str | None
    amount: int
    description: str
    reference: str | None
    requested_by: str
    requested_at: datetime
    on_behalf: bool
    approval_reasons: tuple[ApprovalReason, ...]
    status: PaymentStatus
    hold_id: str | None
    """The ledger hold that reserves the money while the request waits."""
    entry_id: str | None
    """The ledger entry that paid it (for a payee paid by bank: that put it in what the wallet owes them)."""
    decisions: tuple[Decision, ...] = ()
    bank_payment: supplier_payables.BankPayment | None = None
    """For a payee paid by bank: the payable, and the entry that paid it once a payment batch did."""

    @property
    def needed_approval(self) -> bool:
        return bool(self.approval_reasons)


# ---------------------------------------------------------------------- reading
def _load(tx: Tx, row: Any) -> PaymentRequest:
    wallet_uuid = tx.conn.execute(select(wallet_t.c.uuid).where(wallet_t.c.id == row.wallet_id)).scalar_one()
    payee_uuid = tx.conn.execute(select(payee_t.c.uuid).where(payee_t.c.id == row.payee_id)).scalar_one()
    stream_uuid = tx.conn.execute(select(funding_stream_t.c.uuid)
                                  .where(funding_stream_t.c.id == row.stream_id)).scalar_one()
    line_uuid = None
    if row.budget_line_id is not None:
        line_uuid = tx.conn.execute(select(budget_line_t.c.uuid)
                                    .where(budget_line_t.c.id == row.budget_line_id)).scalar_one()
    decisions = tuple(
        Decision(d.decision, d.decided_by, d.reason, from_us(d.decided_us))
        for d in tx.conn.execute(select(payment_decision_t).where(payment_decision_t.c.request_id == row.id)
                                 .order_by(payment_decision_t.c.id)))
    bank = supplier_payables.bank_payment(tx, row.id) if row.status == PaymentStatus.PAID.value else None
    status = PaymentStatus(row.status)
    if bank is not None and bank.paid_at is None:
        status = PaymentStatus.AWAITING_BANK_PAYMENT
    return PaymentRequest(
        id=row.uuid, wallet_id=wallet_uuid, payee_id=payee_uuid, category=Category(row.category),
        stream_id=stream_uuid, budget_line_id=line_uuid, amount=row.amount, description=row.description,
        reference=row.reference, requested_by=row.requested_by, requested_at=from_us(row.requested_us),
        on_behalf=row.on_behalf, approval_reasons=tuple(ApprovalReason(r) for r in row.approval_reasons),
        status=status, hold_id=row.hold_id, entry_id=row.entry_id, decisions=decisions, bank_payment=bank)


def _request_row(tx: Tx, request_id: str) -> Any:
    row = tx.conn.execute(select(payment_request_t).where(payment_request_t.c.uuid == request_id)).first()
    if row is None:
        raise UnknownPaymentRequest(f"there is no payment request {request_id}")
    return row


def _locked_request(tx: Tx, request_id: str) -> tuple[Any, Any]:
    """The request's wallet (locked first, as every writer does), then the request as it is now."""
    first = _request_row(tx, request_id)
    wallet_uuid = tx.conn.execute(select(wallet_t.c.uuid).where(wallet_t.c.id == first.wallet_id)).scalar_one()
    wallet = tx.wallet_row(wallet_uuid, lock=True)
    return wallet, _request_row(tx, request_id)


def get_payment_request(uow: UnitOfWork, request_id: str, *, actor: str) -> PaymentRequest:
    def work(tx: Tx) -> PaymentRequest:
        row = _request_row(tx, request_id)
        wallet = tx.conn.execute(select(wallet_t).where(wallet_t.c.id == row.wallet_id)).one()
        require(tx, actor, Action.VIEW_TRANSACTIONS, wallet, f"payment request {request_id}", system_allowed=True)
        return _load(tx, row)

    return uow.write(work)


def payment_requests(uow: UnitOfWork, wallet_id: str, *, actor: str,
                     status: PaymentStatus | str | None = None) -> list[PaymentRequest]:
    def work(tx: Tx) -> list[PaymentRequest]:
        wallet = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, wallet, "payment requests", system_allowed=True)
        q = select(payment_request_t).where(payment_request_t.c.wallet_id == wallet.id)
        wanted = PaymentStatus(status) if status is not None else None
        if wanted is not None:
            stored = PaymentStatus.PAID if wanted is PaymentStatus.AWAITING_BANK_PAYMENT else wanted
            q = q.where(payment_request_t.c.status == stored.value)
        found = [_load(tx, r) for r in tx.conn.execute(q.order_by(payment_request_t.c.id))]
        return [p for p in found if wanted is None or p.status is wanted]

    return uow.write(work)


# ---------------------------------------------------------------------- asking
def _room_in_line(tx: Tx, wallet: Wallet, wallet_pk: int, line: BudgetLine, stream: FundingStream) -> int:
    """What the line has left in the plan period running today: planned - spent - awaiting approval."""
    period = current_period(wallet, tx.clock.now().date())
    planned = prorate(line.planned_per_period, wallet.plan_period, wallet.plan_start, period)
    spent = change_in(tx.ledger, wallet.chart.spend(line.category, stream.code), period)
    waiting = tx.conn.execute(
        select(func.coalesce(func.sum(payment_request_t.c.amount), 0)).where(and_(
            payment_request_t.c.wallet_id == wallet_pk, payment_request_t.c.status == "awaiting_approval",
            payment_request_t.c.category == line.category.value,
            payment_request_t.c.stream_id == stream_pk(tx, stream.id)))).scalar_one()
    return planned - spent - int(waiting)


def _choose_funding(tx: Tx, wallet: Wallet, wallet_row: Any, category: Category, amount: int,
                    stream_id: str | None) -> tuple[FundingStream, BudgetLine | None, int]:
    """Which funder pays, under which plan line, and how much room that line has (0 with no line)."""
    wallet_pk = wallet_row.id
    lines = [ln for ln in load_lines(tx, wallet_row) if ln.category is category]
    if stream_id is not None:
        stream = wallet.stream(stream_id)
        line = next((ln for ln in lines if ln.stream_id == stream.id), None)
        room = _room_in_line(tx, wallet, wallet_pk, line, stream) if line else 0
        return stream, line, room
    if lines:
        rooms = [(ln, _room_in_line(tx, wallet, wallet_pk, ln, wallet.stream(ln.stream_id))) for ln in lines]
        line, room = next(((ln, r) for ln, r in rooms if r >= amount), rooms[0])
        return wallet.stream(line.stream_id), line, room
    if len(wallet.streams) == 1:
        return wallet.streams[0], None, 0
    if not wallet.streams:
        raise FundingStreamNeeded("this wallet has no funding stream yet")
    raise FundingStreamNeeded(f"the plan has no line for {category.label.lower()}: say which funder pays")


def request_payment(uow: UnitOfWork, wallet_id: str, *, actor: str, payee_id: str, amount: int,
                    category: Category | str, description: str, stream_id: str | None = None,
                    reference: str | None = None, key: str | None = None,
                    needs_approval: Sequence[ApprovalReason] = (),
                    metadata: Mapping[str, Any] | None = None) -> PaymentRequest:
    """Ask to pay a payee. Paid at once if no approval is needed; otherwise the money is held until a second
    person decides. ``key`` (the caller's idempotency key) makes a repeat return the first request.
    ``needs_approval``: reasons of the caller's that also make it wait (an invoice's failed checks);
    ``metadata``: more for the ledger hold or entry's metadata (never replacing the keys set here)."""
    check_pence(amount, "the amount")
    cat = Category(category)
    description = description.strip()
    if not description or len(description) > 500:
        raise InvalidRequest("a payment needs a description (at most 500 characters)")

    def work(tx: Tx) -> PaymentRequest:
        wallet_row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.REQUEST_PAYMENT, wallet_row, f"{cat.value} {amount} to {payee_id}")
        payee = payee_row(tx, wallet_row, payee_id)
        if key is not None:
            prior = tx.conn.execute(select(payment_request_t).where(and_(
                payment_request_t.c.wallet_id == wallet_row.id, payment_request_t.c.client_key == key))).first()
            if prior is not None:
                same = (prior.payee_id, prior.amount, prior.category, prior.description, prior.reference,
                        prior.requested_by) == (payee.id, amount, cat.value, description, reference, actor)
                if not same:
                    raise Conflict(f"the key {key} was already used for a different payment request")
                return _load(tx, prior)
        if not payee.active:
            raise InvalidRequest(f"{payee.name} is no longer a payee of this wallet")
        wallet = load_wallet(tx, wallet_row)
        stream, line, room = _choose_funding(tx, wallet, wallet_row, cat, amount, stream_id)
        on_behalf = actor != wallet.holder_id
        reasons = []
        if on_behalf:
            reasons.append(ApprovalReason.ON_BEHALF)
        if not has_been_paid(tx, payee.id):
            reasons.append(ApprovalReason.NEW_PAYEE)
        if line is None:
            reasons.append(ApprovalReason.NO_BUDGET_LINE)
        elif room < amount:
            reasons.append(ApprovalReason.LINE_EXHAUSTED)
        if amount > wallet.approval_threshold:
            reasons.append(ApprovalReason.ABOVE_THRESHOLD)
        reasons.extend(ApprovalReason(r) for r in needs_approval if ApprovalReason(r) not in reasons)

        request_id = tx.new_id()
        chart = wallet.chart
        ledger_key = f"{wallet.book}:pay:{request_id}"
        meta = {**dict(metadata or {}), "wallet": wallet.id, "stream": stream.id, "payment_request": request_id,
                "payee": payee.uuid, "category": cat.value}
        text = f"{description} ({payee.name})"[:500]
        hold_id = entry_id = None
        owed = None
        if reasons:
            hold = spending_money(tx, wallet, stream, lambda: tx.ledger.hold(HoldRequest(
                key=ledger_key, debit=chart.spend(cat, stream.code), credit=chart.cash(stream.code), amount=amount,
                currency=wallet.currency, description=text, reference=request_id, actor=actor, metadata=meta)))
            hold_id = hold.id
        elif supplier_payables.paid_by_bank(tx, payee):
            owed = supplier_payables.owe(tx, wallet, stream, payee, request_id=request_id,
                                         spend_account=chart.spend(cat, stream.code), amount=amount, text=text,
                                         actor=actor, metadata=meta, entry_key=ledger_key)
            entry_id = owed.entry_id
        else:
            entry = spending_money(tx, wallet, stream, lambda: tx.ledger.transfer(
                ledger_key, chart.spend(cat, stream.code), chart.cash(stream.code), amount,
                currency=wallet.currency, description=text, reference=request_id, actor=actor, metadata=meta))
            entry_id = entry.id
        line_pk = None
        if line is not None:
            line_pk = tx.conn.execute(select(budget_line_t.c.id).where(budget_line_t.c.uuid == line.id)).scalar_one()
        now = tx.now_us()
        tx.conn.execute(payment_request_t.insert(), dict(
            uuid=request_id, wallet_id=wallet_row.id, client_key=key, payee_id=payee.id,
            stream_id=stream_pk(tx, stream.id),
            budget_line_id=line_pk, category=cat.value, amount=amount, description=description,
            reference=reference, requested_by=actor, on_behalf=on_behalf,
            approval_reasons=[r.value for r in reasons],
            status=(PaymentStatus.AWAITING_APPROVAL if reasons else PaymentStatus.PAID).value,
            hold_id=hold_id, entry_id=entry_id, requested_us=now, decided_us=None if reasons else now))
        if owed is not None:
            owed.record(tx, wallet_row.id, _request_row(tx, request_id).id)
        return _load(tx, _request_row(tx, request_id))

    return uow.write(work)


# ---------------------------------------------------------------------- deciding
def _decide(tx: Tx, row: Any, decision: str, actor: str, reason: str | None, status: PaymentStatus,
            entry_id: str | None = None) -> None:
    now = tx.now_us()
    values: dict[str, Any] = dict(status=status.value, decided_us=now)
    if entry_id is not None:
        values["entry_id"] = entry_id
    done = tx.conn.execute(update(payment_request_t).where(and_(
        payment_request_t.c.id == row.id, payment_request_t.c.status == PaymentStatus.AWAITING_APPROVAL.value))
        .values(**values))
    if done.rowcount != 1:
        raise RequestNotPending(row.uuid, row.status)
    tx.conn.execute(payment_decision_t.insert(), dict(request_id=row.id, decision=decision, decided_by=actor,
                                                      reason=reason, decided_us=now))


def _check_decider(tx: Tx, wallet: Any, row: Any, actor: str, what: str) -> None:
    if row.requested_by == actor:
        tx.audit(wallet.id, actor, Action.APPROVE_PAYMENT.value, f"{what} own payment request {row.uuid}",
                 outcome="denied")
        raise SelfApprovalRefused(actor, wallet.uuid)
    require(tx, actor, Action.APPROVE_PAYMENT, wallet, f"{what} payment request {row.uuid}")
    if row.status != PaymentStatus.AWAITING_APPROVAL.value:
        raise RequestNotPending(row.uuid, row.status)


def approve_payment(uow: UnitOfWork, request_id: str, *, actor: str, note: str | None = None) -> PaymentRequest:
    """A second person approves: the held money is paid (posted to the spending line, from its funder)."""

    def work(tx: Tx) -> PaymentRequest:
        wallet, row = _locked_request(tx, request_id)
        _check_decider(tx, wallet, row, actor, "approve")
        key = f"{wallet.book}:pay:{row.uuid}:approved"
        payee = tx.conn.execute(select(payee_t).where(payee_t.c.id == row.payee_id)).one()
        owed = None
        if supplier_payables.paid_by_bank(tx, payee):
            # The money held for approval becomes money owed to the payee, still held until the bank pays.
            held = tx.ledger.get_hold(row.hold_id)
            tx.ledger.release_hold(row.hold_id, f"{key}:to-payable", actor=actor)
            book = load_wallet(tx, wallet)
            stream_uuid = tx.conn.execute(select(funding_stream_t.c.uuid)
                                          .where(funding_stream_t.c.id == row.stream_id)).scalar_one()
            owed = supplier_payables.owe(tx, book, book.stream(stream_uuid), payee, request_id=row.uuid,
                                         spend_account=held.debit, amount=row.amount, text=held.description,
                                         actor=actor, metadata=dict(held.metadata), entry_key=key)
            entry_id = owed.entry_id
        else:
            entry_id = tx.ledger.commit_hold(row.hold_id, key, actor=actor).id
        _decide(tx, row, "approved", actor, (note or "").strip() or None, PaymentStatus.PAID, entry_id)
        if owed is not None:
            owed.record(tx, wallet.id, row.id)
        return _load(tx, _request_row(tx, request_id))

    return uow.write(work)


def reject_payment(uow: UnitOfWork, request_id: str, *, actor: str, reason: str) -> PaymentRequest:
    """A second person says no, and why: the held money is released."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("say why the payment is rejected")

    def work(tx: Tx) -> PaymentRequest:
        wallet, row = _locked_request(tx, request_id)
        _check_decider(tx, wallet, row, actor, "reject")
        tx.ledger.release_hold(row.hold_id, f"{wallet.book}:pay:{row.uuid}:rejected", actor=actor)
        _decide(tx, row, "rejected", actor, reason[:1000], PaymentStatus.REJECTED)
        return _load(tx, _request_row(tx, request_id))

    return uow.write(work)


def withdraw_payment(uow: UnitOfWork, request_id: str, *, actor: str, reason: str | None = None) -> PaymentRequest:
    """The person who asked takes the request back before anyone decides: the held money is released."""

    def work(tx: Tx) -> PaymentRequest:
        wallet, row = _locked_request(tx, request_id)
        if row.requested_by != actor:
            tx.audit(wallet.id, actor, Action.REQUEST_PAYMENT.value, f"withdraw payment request {row.uuid}",
                     outcome="denied")
            raise PermissionDenied(actor, "withdraw_payment", wallet.uuid,
                                   "only the person who asked for a payment can withdraw it")
        require(tx, actor, Action.REQUEST_PAYMENT, wallet, f"withdraw payment request {row.uuid}")
        if row.status != PaymentStatus.AWAITING_APPROVAL.value:
            raise RequestNotPending(row.uuid, row.status)
        tx.ledger.release_hold(row.hold_id, f"{wallet.book}:pay:{row.uuid}:withdrawn", actor=actor)
        _decide(tx, row, "withdrawn", actor, (reason or "").strip() or None, PaymentStatus.WITHDRAWN)
        return _load(tx, _request_row(tx, request_id))

    return uow.write(work)


__all__ = ["PaymentStatus", "ApprovalReason", "Decision", "PaymentRequest", "request_payment", "approve_payment",
           "reject_payment", "withdraw_payment", "payment_requests", "get_payment_request"]

"""Money in after the first payment: Bacs Direct Debit mandates, refunds and disputes of payments received, and
money Stripe took beyond what a funder's cash held.

Each handler runs inside the webhook's transaction (see ``service.LedgerWebhookReceiver``), so its rows, its
ledger entries and the record of the event commit together.

**Mandates** (``stripe_mandate``, one a wallet's funding stream and set-up): ``setup_intent.succeeded`` stores the
payment method and mandate ids, ``mandate.updated`` the mandate's state. Either may come first, and each may come
again: a row is found by set-up id, mandate id or payment method, two rows for one mandate are merged, and the
state is the one Stripe reported last (by the event's time), except that an inactive or revoked mandate stays so
(Stripe never makes one active again). Bank details are kept masked only.

**Refunds and disputes** of a payment in (``stripe_money_in_change``, one a refunded charge or a dispute) record
what Stripe says (the most refunded so far; whether a dispute's money was withdrawn and reinstated) and then
*settle*: post the difference between that and what the ledger already shows, once the payment itself has been
posted. So repeats post nothing, a refund that overtakes its payment waits for it, and any order of delivery ends
with the same books. Ledger keys are derived from Stripe's ids and the cumulative amount posted.

    refunded, or a dispute's money withdrawn   funding:<s> / cash:<s>   (the payment reversed)
    a dispute won: the money reinstated        cash:<s>    / funding:<s>

**Shortfalls.** Stripe has already moved the money when it tells us, so an event is never refused for want of
funds (Stripe would only retry it for days). What the funder's cash cannot cover is credited to a liability in
the wallet's book, ``card-overspend:<s>`` for card payments and ``money-in-shortfall:<s>`` for payments taken
back, to be made good, and an alert is raised for the holder and appointee.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from sqlalchemy import and_, delete, select, update

from ledger.model import AccountSpec, AccountType, EntryRequest, Posting
from wallet.domain.tables import alert_t, funding_stream_t, wallet_t
from wallet.domain.unit_of_work import SYSTEM, Tx
from wallet.domain.wallets import key_part
from wallet.money import format_pence
from wallet.stripe_gateway.client import mask_sort_code
from wallet.stripe_gateway.tables import mandate_t, money_in_change_t, money_in_entry_t, payment_t

log = logging.getLogger(__name__)

CURRENCY = "GBP"
CARD_OVERSPEND = "card-overspend"
MONEY_IN_SHORTFALL = "money-in-shortfall"
SHORTFALL_KINDS = (CARD_OVERSPEND, MONEY_IN_SHORTFALL)
_SHORTFALL_LABELS = {CARD_OVERSPEND: "Card payments beyond the money held from {label}, to be made good",
                     MONEY_IN_SHORTFALL: "Payments in taken back beyond the money held from {label}, to be made good"}
_ALERT_KINDS = {CARD_OVERSPEND: "card_overspend", MONEY_IN_SHORTFALL: "money_in_shortfall"}

MANDATE_EVENTS = ("setup_intent.succeeded", "setup_intent.setup_failed", "mandate.updated")
REFUND_EVENTS = ("charge.refunded",)
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.funds_withdrawn",
                  "charge.dispute.funds_reinstated", "charge.dispute.closed")
_FINAL = ("inactive", "revoked")
_DISPUTE_CLOSED = ("won", "lost", "warning_closed")


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------------- shortfalls
def take_from_cash(tx: Tx, *, book: str, wallet_uuid: str, stream_code: str, stream_label: str, amount: int,
                   kind: str) -> tuple[list[Posting], int]:
    """Credit postings that take ``amount`` pence out of a funder's cash: as much as its available balance
    covers, the rest to the wallet's shortfall account ``kind`` (opened when first needed). Returns the postings
    and the shortfall. The caller holds the wallet's lock."""
    cash = f"{book}:cash:{stream_code}"
    available = max(tx.ledger.balance(cash).available, 0)
    from_cash = min(amount, available)
    shortfall = amount - from_cash
    postings = [Posting.credit(cash, from_cash, CURRENCY)] if from_cash else []
    if shortfall:
        code = f"{book}:{kind}:{stream_code}"
        tx.ledger.open_accounts([AccountSpec(
            code, AccountType.LIABILITY, currency=CURRENCY, book=book, owner_ref=wallet_uuid,
            metadata={"label": _SHORTFALL_LABELS[kind].format(label=stream_label), "stream": stream_code})])
        postings.append(Posting.credit(code, shortfall, CURRENCY))
    return postings, shortfall


def raise_shortfall_alert(tx: Tx, *, wallet_pk: int, kind: str, cause: str, message: str,
                          details: dict[str, Any]) -> None:
    """An alert on the wallet's home page (once per cause)."""
    if tx.conn.execute(select(alert_t.c.id).where(and_(alert_t.c.wallet_id == wallet_pk,
                                                       alert_t.c.cause == cause[:200]))).first():
        return
    tx.conn.execute(alert_t.insert(), dict(
        uuid=tx.new_id(), wallet_id=wallet_pk, kind=_ALERT_KINDS[kind], cause=cause[:200], message=message[:500],
        details=details, raised_us=tx.now_us(), dismissed_by=None, dismissed_us=None))
    log.warning("stripe: wallet %s short by %s pence (%s)", wallet_pk, details.get("shortfall"), cause)


def stream_label(tx: Tx, wallet_pk: int, stream_code: str) -> str:
    label = tx.conn.execute(select(funding_stream_t.c.label).where(and_(
        funding_stream_t.c.wallet_id == wallet_pk, funding_stream_t.c.code == stream_code))).scalar()
    return label or stream_code


# ---------------------------------------------------------------------- mandates
def _later(current: str, current_at: int | None, new: str, new_at: int | None) -> bool:
    """Whether a reported state replaces the one kept: Stripe's latest report wins; an inactive or revoked
    mandate never comes back."""
    if current in _FINAL:
        return False
    if new in _FINAL or current_at is None:
        return True
    return new_at is not None and new_at >= current_at


def _mandate_row(tx: Tx, column: Any, value: str | None) -> Any:
    if not value:
        return None
    return tx.conn.execute(select(mandate_t).where(column == value)).first()


def _wallet_and_stream(tx: Tx, meta: Mapping[str, Any]) -> tuple[int | None, int | None]:
    wallet_pk = tx.conn.execute(select(wallet_t.c.id).where(wallet_t.c.uuid == str(meta.get("wallet_id") or ""))
                                ).scalar()
    if wallet_pk is None:
        return None, None
    streams = tx.conn.execute(select(funding_stream_t.c.id, funding_stream_t.c.uuid, funding_stream_t.c.kind)
                              .where(funding_stream_t.c.wallet_id == wallet_pk)).all()
    wanted = meta.get("stream_id")
    if wanted:
        found = [s.id for s in streams if s.uuid == wanted]
    else:
        found = [s.id for s in streams if s.kind == "client_contribution"]
    return wallet_pk, (found[0] if len(found) == 1 else None)


def on_mandate_event(tx: Tx, event: Mapping[str, Any]) -> None:
    obj = (event.get("data") or {}).get("object") or {}
    event_type = event.get("type", "")
    at = int(event.get("created") or 0)
    now = tx.now_us()
    if event_type.startswith("setup_intent."):
        if "bacs_debit" not in (obj.get("payment_method_types") or ()):
            return
        setup_id = obj.get("id")
        mandate_id = _id_of(obj.get("mandate"))
        method = obj.get("payment_method")
        bacs = (method.get("bacs_debit") or {}) if isinstance(method, Mapping) else {}
        if event_type == "setup_intent.succeeded":
            status, reason = "active", None
        else:
            status = "failed"
            reason = ((obj.get("last_setup_error") or {}).get("message") or "the Direct Debit was not set up")
        by_setup = _mandate_row(tx, mandate_t.c.setup_intent_id, setup_id)
        by_mandate = _mandate_row(tx, mandate_t.c.mandate_id, mandate_id)
        values: dict[str, Any] = {"setup_intent_id": setup_id, "updated_us": now}
        if mandate_id:
            values["mandate_id"] = mandate_id
        if _id_of(method):
            values["payment_method_id"] = _id_of(method)
        if obj.get("customer"):
            values["customer_id"] = _id_of(obj.get("customer"))
        if bacs:
            values.update(sort_code_masked=mask_sort_code(bacs.get("sort_code")), last4=bacs.get("last4") or None)
        wallet_pk, stream_pk = _wallet_and_stream(tx, obj.get("metadata") or {})
        if wallet_pk is not None:
            values.update(wallet_id=wallet_pk, stream_id=stream_pk)
        keep = by_setup or by_mandate
        if by_setup is not None and by_mandate is not None and by_setup.id != by_mandate.id:
            # mandate.updated came first and made a row of its own: fold its state into the set-up's row
            tx.conn.execute(delete(mandate_t).where(mandate_t.c.id == by_mandate.id))
            if _later(by_setup.status, by_setup.status_created, by_mandate.status, by_mandate.status_created):
                values.update(status=by_mandate.status, status_created=by_mandate.status_created,
                              reason=by_mandate.reason)
        _apply(tx, keep, values, status, at, reason)
        return
    # mandate.updated
    mandate_id = obj.get("id")
    method = _id_of(obj.get("payment_method"))
    details = ((obj.get("payment_method_details") or {}).get("bacs_debit") or {})
    if details.get("network_status") == "revoked":
        status = "revoked"
    else:
        status = {"active": "active", "pending": "pending"}.get(obj.get("status"), "inactive")
    reason = details.get("revocation_reason")
    row = _mandate_row(tx, mandate_t.c.mandate_id, mandate_id) or _mandate_row(
        tx, mandate_t.c.payment_method_id, method)
    values = {"mandate_id": mandate_id, "updated_us": now}
    if method:
        values["payment_method_id"] = method
    _apply(tx, row, values, status, at, reason)


def _apply(tx: Tx, row: Any, values: dict[str, Any], status: str, at: int, reason: str | None) -> None:
    if row is None:
        values.update(status=status, status_created=at, reason=reason, created_us=values["updated_us"])
        tx.conn.execute(mandate_t.insert(), values)
        return
    current, current_at = values.get("status", row.status), values.get("status_created", row.status_created)
    if _later(current, current_at, status, at):
        values.update(status=status, status_created=at, reason=reason)
    tx.conn.execute(update(mandate_t).where(mandate_t.c.id == row.id).values(**values))


# ---------------------------------------------------------------------- refunds and disputes
def on_refund_event(tx: Tx, event: Mapping[str, Any]) -> None:
    """``charge.refunded``: ``amount_refunded`` is cumulative; keep the most seen, post the difference."""
    charge = (event.get("data") or {}).get("object") or {}
    charge_id, payment_intent = charge.get("id"), _id_of(charge.get("payment_intent"))
    if not charge_id or not payment_intent:
        log.warning("refund of %s names no payment intent; left for reconciliation", charge_id)
        return
    refunded = int(charge.get("amount_refunded") or 0)
    _record_change(tx, "refund", charge_id, payment_intent, charge_id, refunded, "refunded",
                   int(event.get("created") or 0), withdrawn=True, reinstated=False)
    settle(tx, payment_intent)


def on_dispute_event(tx: Tx, event: Mapping[str, Any]) -> None:
    """A dispute (for Bacs, an indemnity claim): the money is withdrawn when Stripe takes it (at once, unless it
    is only an inquiry, ``warning_*``) and reinstated if the dispute is won."""
    dispute = (event.get("data") or {}).get("object") or {}
    event_type = event.get("type", "")
    dispute_id, payment_intent = dispute.get("id"), _id_of(dispute.get("payment_intent"))
    charge_id = _id_of(dispute.get("charge"))
    if not dispute_id:
        return
    if not payment_intent and charge_id:
        payment_intent = tx.conn.execute(select(payment_t.c.payment_intent_id)
                                         .where(payment_t.c.charge_id == charge_id)).scalar()
    if not payment_intent:
        log.warning("dispute %s names no payment of ours; left for reconciliation", dispute_id)
        return
    status = str(dispute.get("status") or "")
    inquiry = status.startswith("warning_")
    withdrawn = event_type == "charge.dispute.funds_withdrawn" or (
        not inquiry and event_type != "charge.dispute.funds_reinstated")
    reinstated = event_type == "charge.dispute.funds_reinstated" or (
        event_type == "charge.dispute.closed" and status == "won")
    if reinstated:
        withdrawn = True
    _record_change(tx, "dispute", dispute_id, payment_intent, charge_id, int(dispute.get("amount") or 0), status,
                   int(event.get("created") or 0), withdrawn=withdrawn, reinstated=reinstated)
    settle(tx, payment_intent)


def _record_change(tx: Tx, kind: str, stripe_id: str, payment_intent: str, charge_id: str | None, amount: int,
                   status: str, at: int, *, withdrawn: bool, reinstated: bool) -> None:
    c = money_in_change_t.c
    row = tx.conn.execute(select(money_in_change_t).where(and_(c.kind == kind, c.stripe_id == stripe_id))
                          ).first()
    now = tx.now_us()
    if row is None:
        tx.conn.execute(money_in_change_t.insert(), dict(
            kind=kind, stripe_id=stripe_id, payment_intent_id=payment_intent, charge_id=charge_id, amount=amount,
            status=status[:30], withdrawn=withdrawn, reinstated=reinstated, posted_out=0, posted_back=0,
            stripe_created=at, updated_us=now))
        return
    # facts only grow: the most refunded, withdrawn and reinstated once seen; a closed dispute stays closed
    values: dict[str, Any] = dict(amount=max(row.amount, amount), withdrawn=row.withdrawn or withdrawn,
                                  reinstated=row.reinstated or reinstated, stripe_created=max(row.stripe_created, at),
                                  updated_us=now)
    if row.status not in _DISPUTE_CLOSED:
        values["status"] = status[:30]
    if charge_id and not row.charge_id:
        values["charge_id"] = charge_id
    tx.conn.execute(update(money_in_change_t).where(c.id == row.id).values(**values))


def settle(tx: Tx, payment_intent: str) -> None:
    """Post what the payment's refunds and disputes call for and the ledger does not show yet. Nothing until
    the payment itself is posted."""
    p = payment_t.c
    pay = tx.conn.execute(select(payment_t).where(p.payment_intent_id == payment_intent)).first()
    if pay is None or pay.status != "succeeded":
        return
    c = money_in_change_t.c
    changes = tx.conn.execute(select(money_in_change_t).where(c.payment_intent_id == payment_intent)
                              .order_by(c.id)).all()
    if not changes:
        return
    wallet_uuid = tx.conn.execute(select(wallet_t.c.uuid).where(wallet_t.c.id == pay.wallet_id)).scalar_one()
    tx.wallet_row(wallet_uuid, lock=True)
    stream = tx.conn.execute(select(funding_stream_t.c.code, funding_stream_t.c.label, funding_stream_t.c.uuid)
                             .where(funding_stream_t.c.id == pay.stream_id)).one()
    book = f"wallet-{wallet_uuid}"
    cash, funding = f"{book}:cash:{stream.code}", f"{book}:funding:{stream.code}"
    for ch in changes:
        out_target = min(ch.amount if ch.withdrawn else 0, pay.amount)
        back_target = out_target if (ch.kind == "dispute" and ch.reinstated) else 0
        posted_out, posted_back = ch.posted_out, ch.posted_back
        what = "Refund" if ch.kind == "refund" else "Disputed payment taken back"
        if out_target > posted_out:
            amount = out_target - posted_out
            credits, shortfall = take_from_cash(tx, book=book, wallet_uuid=wallet_uuid, stream_code=stream.code,
                                                stream_label=stream.label, amount=amount, kind=MONEY_IN_SHORTFALL)
            key = f"{book}:stripe:{ch.kind}:{key_part(ch.stripe_id)}:out:{out_target}"
            entry_id = tx.ledger.post(EntryRequest(
                key=key, postings=(Posting.debit(funding, amount, CURRENCY), *credits),
                description=f"{what} of a payment in ({stream.label})"[:500], reference=ch.stripe_id, actor=SYSTEM,
                metadata={"wallet": wallet_uuid, "stream": stream.uuid, "kind": f"stripe_{ch.kind}",
                          "stripe_payment_intent": payment_intent, "stripe_id": ch.stripe_id})).id
            _entry(tx, ch.id, "out", -amount, entry_id, ch.stripe_created)
            posted_out = out_target
            if shortfall:
                raise_shortfall_alert(
                    tx, wallet_pk=pay.wallet_id, kind=MONEY_IN_SHORTFALL,
                    cause=f"money_in_shortfall:{ch.stripe_id}:{out_target}",
                    message=(f"{format_pence(amount)} paid in to {stream.label} was taken back "
                             f"({'refunded' if ch.kind == 'refund' else 'disputed'}) after it had been spent: "
                             f"{format_pence(shortfall)} more than the money held must be made good."),
                    details={"stripe_id": ch.stripe_id, "amount": amount, "shortfall": shortfall,
                             "stream": stream.uuid})
        if back_target > posted_back:
            amount = back_target - posted_back
            key = f"{book}:stripe:{ch.kind}:{key_part(ch.stripe_id)}:back:{back_target}"
            entry_id = tx.ledger.post(EntryRequest(
                key=key, postings=(Posting.debit(cash, amount, CURRENCY), Posting.credit(funding, amount, CURRENCY)),
                description=f"Dispute won: payment in returned ({stream.label})"[:500], reference=ch.stripe_id,
                actor=SYSTEM, metadata={"wallet": wallet_uuid, "stream": stream.uuid, "kind": "stripe_dispute_won",
                                        "stripe_payment_intent": payment_intent, "stripe_id": ch.stripe_id})).id
            _entry(tx, ch.id, "back", amount, entry_id, ch.stripe_created)
            posted_back = back_target
        if (posted_out, posted_back) != (ch.posted_out, ch.posted_back):
            tx.conn.execute(update(money_in_change_t).where(c.id == ch.id).values(
                posted_out=posted_out, posted_back=posted_back))


def _entry(tx: Tx, change_pk: int, direction: str, amount: int, entry_id: str, at: int) -> None:
    tx.conn.execute(money_in_entry_t.insert(), dict(change_id=change_pk, direction=direction, amount=amount,
                                                    entry_id=entry_id, stripe_created=at, recorded_us=tx.now_us()))

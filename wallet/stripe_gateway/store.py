"""The Stripe ports kept in the wallet's database: money and holds in the wallet's ledger book, cards from the
``stripe_card`` table, decisions in ``stripe_authorization``, processed events in ``stripe_event``.

A card spends from one **purse**: one wallet, one funding stream, one support-plan category. Its available money
is that funder's ``cash:<s>`` available balance; an approved payment is a ledger hold debiting
``spend:<category>:<s>`` and crediting ``cash:<s>`` (as a payment awaiting approval is), so the money cannot be
spent twice and the funder's available balance shows it at once. A capture commits the hold (in part: the rest
is released); a reversal releases it; a refund posts the money back to the same stream and category. A capture
beyond the hold, or with none, is posted all the same (the money has left Stripe): what the funder's cash cannot
cover goes to the wallet's ``card-overspend:<s>`` account, with an alert (see ``money_in``).

Every port call runs in the current transaction when :meth:`StripeStore.transaction` has opened one (the webhook
receiver opens one per event, so the decision, the hold, the decision's record and the event's record commit
together or not at all), else in a transaction of its own.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, TypeVar

from sqlalchemy import and_, bindparam, case, func, select, update

from ledger.clock import to_us
from ledger.errors import HoldExpired, HoldNotPending, InsufficientFunds
from ledger.model import EntryRequest, HoldRequest, Posting
from ledger.tables import hold_t
from wallet.domain.chart import Category, WalletChart
from wallet.domain.tables import funding_stream_t, wallet_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import key_part, load_wallet
from wallet.money import format_pence
from wallet.stripe_gateway.authorization import AuthorizationRequest, Decision
from wallet.stripe_gateway.controls import CardControls
from wallet.stripe_gateway.money_in import (
    CARD_OVERSPEND, on_dispute_event, on_mandate_event, on_refund_event, raise_shortfall_alert, settle, stream_label,
    take_from_cash,
)
from wallet.stripe_gateway.ports import CardAccount, FundsUnavailable
from wallet.stripe_gateway.tables import (authorization_t, card_t, card_transaction_t, event_t, payment_t)
from wallet.stripe_gateway.webhooks import HOLD_KEY_PREFIX, hold_key

log = logging.getLogger(__name__)
T = TypeVar("T")

HOLD_LIFETIME = timedelta(days=10)
"""Stripe closes an uncaptured authorisation after about seven days and tells us; the hold lapses by itself a
little later in case that word never comes. A capture after that is still posted (see ``card_transaction``)."""
CURRENCY = "GBP"


@dataclass(frozen=True)
class Purse:
    """Where a card's money comes from and what its spending counts against."""

    wallet_id: str
    stream_code: str
    category: str

    @property
    def ref(self) -> str:
        return f"{self.wallet_id}|{self.stream_code}|{self.category}"

    @classmethod
    def parse(cls, ref: str) -> "Purse":
        parts = ref.split("|")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"not a card purse: {ref!r}")
        return cls(*parts)

    @property
    def chart(self) -> WalletChart:
        return WalletChart(WalletChart.book_for(self.wallet_id), CURRENCY)

    @property
    def cash(self) -> str:
        return self.chart.cash(self.stream_code)

    @property
    def spend(self) -> str:
        return self.chart.spend(Category(self.category), self.stream_code)


def period_starts(at: datetime) -> dict[str, datetime]:
    """When each of Stripe's limit periods began, for a moment: days from midnight UTC, weeks from Sunday, months
    from the 1st, years from 1 January."""
    at = at.astimezone(timezone.utc)
    day = datetime(at.year, at.month, at.day, tzinfo=timezone.utc)
    week = day - timedelta(days=(day.weekday() + 1) % 7)   # Monday is 0: back to the Sunday
    return {"daily": day, "weekly": week, "monthly": day.replace(day=1),
            "yearly": day.replace(month=1, day=1)}


class StripeStore:
    """WalletFunds, CardDirectory, ProcessedEvents and DecisionLog over one UnitOfWork."""

    def __init__(self, uow: UnitOfWork):
        self.uow = uow
        self._local = threading.local()
        self._queue = _writer_queue(uow) if uow.db.dialect == "sqlite" else None

    def __repr__(self) -> str:
        return f"StripeStore({self.uow.db.dialect})"

    # ------------------------------------------------------------------ transactions
    def transaction(self, work: Callable[[], T]) -> T:
        """Run ``work`` with every port call inside one write transaction (retried whole if the database asks)."""
        if getattr(self._local, "tx", None) is not None:
            return work()

        def run(tx: Tx) -> T:
            self._local.tx = tx
            try:
                return work()
            finally:
                self._local.tx = None

        if self._queue is None:
            return self.uow.write(run)
        # SQLite has one writer at a time, and a writer that finds the file locked sleeps in growing steps
        # (up to 100 ms each): under load some card payments would wait seconds. Threads of this process
        # queue here instead and take turns at once.
        with self._queue:
            return self.uow.write(run)

    def _run(self, work: Callable[[Tx], T]) -> T:
        tx = getattr(self._local, "tx", None)
        return work(tx) if tx is not None else self.uow.write(work)

    def _lock_wallet(self, tx: Tx, wallet_id: str) -> None:
        """The wallet's write lock, taken once in a transaction (before any ledger account, as every writer does)."""
        locked = tx.__dict__.setdefault("_stripe_locked", set())
        if wallet_id not in locked:
            tx.wallet_row(wallet_id, lock=True)
            locked.add(wallet_id)

    # ------------------------------------------------------------------ WalletFunds
    def available(self, wallet: str) -> int:
        purse = Purse.parse(wallet)

        def work(tx: Tx) -> int:
            self._lock_wallet(tx, purse.wallet_id)
            return tx.ledger.balance(purse.cash).available

        return self._run(work)

    def hold(self, wallet: str, key: str, amount: int, reason: str) -> str:
        purse = Purse.parse(wallet)

        def work(tx: Tx) -> str:
            self._lock_wallet(tx, purse.wallet_id)
            found = _hold_by_key(tx, key)
            if found is not None:
                _memo(tx, "holds")[key] = found
                return found.uuid
            try:
                made = tx.ledger.hold(HoldRequest(
                    key=key, debit=purse.spend, credit=purse.cash, amount=amount, currency=CURRENCY,
                    expires_at=tx.clock.now() + HOLD_LIFETIME, description=reason[:500],
                    reference=key.removeprefix(HOLD_KEY_PREFIX), actor=SYSTEM,
                    metadata={"wallet": purse.wallet_id, "kind": "card_payment", "category": purse.category}))
            except InsufficientFunds as exc:
                raise FundsUnavailable(f"the wallet cannot cover {amount} pence") from exc
            _memo(tx, "holds")[key] = _Held(made.id, made.status.value, made.amount)
            return made.id

        return self._run(work)

    def find_hold(self, key: str) -> str | None:
        def work(tx: Tx) -> str | None:
            row = _hold_by_key(tx, key)
            return row.uuid if row else None

        return self._run(work)

    def commit(self, hold_id: str, amount: int) -> None:
        self._run(lambda tx: tx.ledger.commit_hold(hold_id, f"stripe-commit:{hold_id}", amount, actor=SYSTEM))

    def release(self, hold_id: str) -> None:
        """Free a hold that still waits; one already committed, released or lapsed is left as it is (a reversal
        can arrive after the capture)."""

        def work(tx: Tx) -> None:
            row = tx.conn.execute(select(hold_t.c.status, hold_t.c.idempotency_key)
                                  .where(hold_t.c.uuid == hold_id)).first()
            if row is None or row.status != "pending":
                return
            tx.ledger.release_hold(hold_id, f"stripe-release:{hold_id}", actor=SYSTEM)
            auth_id = row.idempotency_key.removeprefix(HOLD_KEY_PREFIX)
            tx.conn.execute(update(authorization_t).where(and_(
                authorization_t.c.authorization_id == auth_id, authorization_t.c.status == "held"))
                .values(status="released", counted=authorization_t.c.captured))

        self._run(work)

    # ------------------------------------------------------------------ CardDirectory
    def card(self, card_id: str) -> CardAccount | None:
        def work(tx: Tx) -> CardAccount | None:
            row = _card_row(tx, card_id)
            if row is None:
                return None
            _memo(tx, "cards")[card_id] = row
            return CardAccount(wallet=Purse(row.wallet_uuid, row.stream_code, row.category).ref,
                               controls=CardControls.from_stripe(row.controls))

        return self._run(work)

    def spent(self, card_id: str, at: datetime) -> Mapping[str, int]:
        """What the card's approved payments count for in each current period: the held amount while waiting,
        the captured amount once taken, nothing once released (refunds do not give a limit back, as at Stripe)."""
        params = {f"from_{k}": to_us(v) for k, v in period_starts(at).items()}

        def work(tx: Tx) -> Mapping[str, int]:
            row = tx.conn.execute(_SPENT, {"card": card_id, **params}).one()
            return {name: int(row._mapping[name]) for name in _PERIODS}

        return self._run(work)

    # ------------------------------------------------------------------ DecisionLog
    @property
    def decision_log(self) -> "_DecisionLog":
        """The DecisionLog port (its ``record`` would clash with ProcessedEvents' on this object)."""
        return _DecisionLog(self)

    def record_decision(self, request: AuthorizationRequest, decision: Decision, account: CardAccount | None,
                        event_id: str | None) -> None:
        def work(tx: Tx) -> None:
            a = authorization_t.c
            if tx.conn.execute(select(a.id).where(a.authorization_id == request.authorization_id)).first():
                return   # decided before (a repeat under another event id): the first record stands
            # what this transaction already read or made, else from the database
            card = _memo(tx, "cards").get(request.card_id) or _card_row(tx, request.card_id)
            key = hold_key(request.authorization_id)
            held = _memo(tx, "holds").get(key)
            if held is None and decision.approved and decision.amount > 0:
                held = _hold_by_key(tx, key)
            holding = held is not None and held.status == "pending"
            if not decision.approved:
                status = "declined"
            else:
                status = "held" if holding else "released"
            tx.conn.execute(authorization_t.insert(), dict(
                authorization_id=request.authorization_id, event_id=event_id,
                card_id=card.id if card else None, wallet_id=card.wallet_pk if card else None,
                stripe_card_id=request.card_id or "", amount=request.amount, approved=decision.approved,
                approved_amount=decision.amount, code=decision.code[:40], reason=decision.reason[:500],
                merchant_name=request.merchant_name[:200], merchant_category=request.merchant_category[:100],
                hold_id=held.uuid if held else None, status=status,
                counted=held.amount if holding else 0, captured=0, refunded=0, decided_us=tx.now_us()))

        self._run(work)

    # ------------------------------------------------------------------ ProcessedEvents
    def reply_for(self, event_id: str) -> bytes | None:
        def work(tx: Tx) -> bytes | None:
            reply = tx.conn.execute(select(event_t.c.reply).where(event_t.c.event_id == event_id)).scalar()
            return reply.encode("utf-8") if reply is not None else None

        return self._run(work)

    def record(self, event_id: str, event_type: str, reply: bytes) -> bool:
        def work(tx: Tx) -> bool:
            if getattr(self._local, "tx", None) is None and tx.conn.execute(
                    select(event_t.c.id).where(event_t.c.event_id == event_id)).first():
                return False
            # In the event's own transaction, reply_for has just found nothing; a delivery racing this one makes
            # the insert fail on the unique id, and the transaction is retried and answers as a repeat.
            tx.conn.execute(event_t.insert(), dict(event_id=event_id, event_type=event_type[:100],
                                                   reply=reply.decode("utf-8"), processed_us=tx.now_us()))
            return True

        return self._run(work)

    # ------------------------------------------------------------------ card money moving
    def card_transaction(self, obj: Mapping[str, Any]) -> bool:
        """An ``issuing.transaction``: a capture takes the money (committing the hold when it covers it), a refund
        gives it back to the same funder and category. Once per transaction id; False for one not ours."""
        kind = obj.get("type")
        if kind not in ("capture", "refund"):
            return False
        txn_id = obj["id"]
        amount = int(obj["amount"])            # Stripe's sign: money leaving the card is negative
        authorization = obj.get("authorization")
        if isinstance(authorization, Mapping):
            authorization = authorization.get("id")
        card_id = obj.get("card")
        if isinstance(card_id, Mapping):
            card_id = card_id.get("id")
        merchant = (obj.get("merchant_data") or {}).get("name") or ""

        def work(tx: Tx) -> bool:
            if tx.conn.execute(select(card_transaction_t.c.id)
                               .where(card_transaction_t.c.transaction_id == txn_id)).first():
                return True
            card = _card_row(tx, card_id) if card_id else None
            if card is None:
                return False
            purse = Purse(card.wallet_uuid, card.stream_code, card.category)
            tx.wallet_row(purse.wallet_id, lock=True)
            where = f" at {merchant}" if merchant else ""
            meta = {"wallet": purse.wallet_id, "kind": f"card_{kind}", "category": purse.category,
                    "stripe_transaction": txn_id}
            key = f"{purse.chart.book}:stripe:{key_part(txn_id)}"
            if kind == "capture":
                entry_id = self._capture(tx, purse, authorization, -amount, key, f"Card payment{where}", meta)
                if authorization:
                    a = authorization_t.c
                    tx.conn.execute(update(authorization_t).where(a.authorization_id == authorization).values(
                        captured=a.captured + (-amount), counted=a.captured + (-amount), status="captured"))
            else:
                entry_id = _transfer(tx, key, purse.cash, purse.spend, amount, f"Card refund{where}",
                                     authorization or txn_id, meta)
                if authorization:
                    a = authorization_t.c
                    tx.conn.execute(update(authorization_t).where(a.authorization_id == authorization)
                                    .values(refunded=a.refunded + amount))
            tx.conn.execute(card_transaction_t.insert(), dict(
                transaction_id=txn_id, authorization_id=authorization, wallet_id=card.wallet_pk, kind=kind,
                amount=amount, entry_id=entry_id, stripe_created=int(obj.get("created") or 0),
                recorded_us=tx.now_us()))
            return True

        return self._run(work)

    def _capture(self, tx: Tx, purse: Purse, authorization: str | None, take: int, key: str, text: str,
                 meta: dict[str, Any]) -> str:
        """One ledger entry for one capture: the hold committed when it still waits and covers the amount,
        otherwise the hold (if any) released and the amount moved directly: a capture after the hold lapsed, a
        second capture, or one larger than approved (a tip) still leaves the wallet, because it left Stripe."""
        held = _hold_by_key(tx, hold_key(authorization)) if authorization else None
        if held is not None and held.status == "pending":
            if 0 < take <= held.amount:
                try:
                    return tx.ledger.commit_hold(held.uuid, key, take, actor=SYSTEM).id
                except (HoldExpired, HoldNotPending):
                    pass
            else:
                tx.ledger.release_hold(held.uuid, f"stripe-release:{held.uuid}", actor=SYSTEM)
        return self._spend(tx, purse, take, key, text, authorization or key, meta)

    def _spend(self, tx: Tx, purse: Purse, take: int, key: str, text: str, reference: str,
               meta: dict[str, Any]) -> str:
        """Money a card took beyond its hold (or with none): from the funder's cash as far as it goes, the rest
        to the wallet's ``card-overspend`` account with an alert. Never refused: it has left Stripe already."""
        card_pk = tx.conn.execute(select(wallet_t.c.id).where(wallet_t.c.uuid == purse.wallet_id)).scalar_one()
        label = stream_label(tx, card_pk, purse.stream_code)
        credits, shortfall = take_from_cash(tx, book=purse.chart.book, wallet_uuid=purse.wallet_id,
                                            stream_code=purse.stream_code, stream_label=label, amount=take,
                                            kind=CARD_OVERSPEND)
        if not shortfall:
            return _transfer(tx, key, purse.spend, purse.cash, take, text, reference, meta)
        entry = tx.ledger.post(EntryRequest(
            key=key, postings=(Posting.debit(purse.spend, take, CURRENCY), *credits), description=text[:500],
            reference=reference, actor=SYSTEM, metadata={**meta, "card_overspend": shortfall}))
        raise_shortfall_alert(
            tx, wallet_pk=card_pk, kind=CARD_OVERSPEND, cause=f"card_overspend:{meta['stripe_transaction']}",
            message=(f"{text} of {format_pence(take)} was more than the money held from {label}: "
                     f"{format_pence(shortfall)} was paid beyond it and must be made good."),
            details={"stripe_transaction": meta["stripe_transaction"], "amount": take, "shortfall": shortfall,
                     "category": purse.category})
        return entry.id

    # ------------------------------------------------------------------ money in
    def money_in(self, event: Mapping[str, Any]) -> None:
        """``payment_intent.*``: a payment into a wallet (a top-up, or the client's contribution by card or Bacs
        Direct Debit). Succeeded: posted once to the funding stream its metadata names. Failed or cancelled:
        recorded, nothing posted, and never over a success (events can arrive out of order)."""
        obj = (event.get("data") or {}).get("object") or {}
        event_type = event.get("type", "")
        status = {"payment_intent.succeeded": "succeeded", "payment_intent.payment_failed": "failed",
                  "payment_intent.canceled": "failed"}.get(event_type, "started")
        pi_id = obj.get("id")
        meta = obj.get("metadata") or {}
        wallet_id = meta.get("wallet_id")
        if not pi_id or not wallet_id or (obj.get("currency") or "gbp").lower() != "gbp":
            log.warning("payment %s has no wallet or is not in pounds; left for reconciliation", pi_id)
            return
        amount = obj.get("amount_received") if status == "succeeded" else obj.get("amount")
        amount = int(amount or obj.get("amount") or 0)
        method = "bacs_debit" if "bacs_debit" in (obj.get("payment_method_types") or ()) else "card"
        purpose = meta.get("purpose") or "top_up"
        failure = (obj.get("last_payment_error") or {}).get("message") if status == "failed" else None
        if status == "failed" and not failure:
            failure = "cancelled" if event_type == "payment_intent.canceled" else "the payment failed"
        charge = obj.get("latest_charge")
        if isinstance(charge, Mapping):
            charge = charge.get("id")

        at = int(event.get("created") or 0)

        def work(tx: Tx) -> None:
            p = payment_t.c
            row = tx.conn.execute(select(payment_t).where(p.payment_intent_id == pi_id)).first()
            if row is not None and row.status == "succeeded":
                return
            if (row is not None and status != "succeeded" and row.status_created is not None
                    and at < row.status_created):
                return   # an older report (processing after failed, say) never overrides a newer one
            wallet_row = tx.conn.execute(select(wallet_t).where(wallet_t.c.uuid == wallet_id)).first()
            if wallet_row is None:
                log.warning("payment %s names no wallet of ours; left for reconciliation", pi_id)
                return
            wallet_row = tx.wallet_row(wallet_id, lock=True)
            wallet = load_wallet(tx, wallet_row)
            stream = _money_in_stream(wallet, meta.get("stream_id"), purpose, row, tx)
            if stream is None:
                log.warning("payment %s: wallet %s has no funding stream to post it to", pi_id, wallet_id)
                return
            entry_id = None
            if status == "succeeded":
                chart = wallet.chart
                how = "by Direct Debit" if method == "bacs_debit" else "by card"
                what = "Contribution" if purpose == "client_contribution" else "Top-up"
                entry_id = tx.ledger.post(EntryRequest(
                    key=f"{wallet.book}:funding:{stream.code}:{key_part('stripe-' + pi_id)}",
                    postings=(Posting.debit(chart.cash(stream.code), amount, wallet.currency),
                              Posting.credit(chart.funding(stream.code), amount, wallet.currency)),
                    description=f"{what} paid {how} ({stream.label})", reference=pi_id, actor=SYSTEM,
                    metadata={"wallet": wallet.id, "stream": stream.id, "kind": "funding",
                              "stripe_payment_intent": pi_id})).id
            now = tx.now_us()
            values = dict(status=status, entry_id=entry_id, failure=failure, charge_id=charge,
                          stripe_created=obj.get("created"), updated_us=now, amount=amount, status_created=at)
            if row is None:
                stream_pk = tx.conn.execute(select(funding_stream_t.c.id)
                                            .where(funding_stream_t.c.uuid == stream.id)).scalar_one()
                tx.conn.execute(payment_t.insert(), dict(
                    payment_intent_id=pi_id, wallet_id=wallet_row.id, stream_id=stream_pk, method=method,
                    purpose=purpose[:30], created_us=now, **values))
            else:
                tx.conn.execute(update(payment_t).where(p.id == row.id).values(**values))
            if status == "succeeded":
                settle(tx, pi_id)   # refunds or disputes that overtook the payment

        self._run(work)

    def mandate_event(self, event: Mapping[str, Any]) -> None:
        """``setup_intent.*`` and ``mandate.updated``: a Direct Debit mandate's ids and state (see money_in)."""
        self._run(lambda tx: on_mandate_event(tx, event))

    def refund_event(self, event: Mapping[str, Any]) -> None:
        """``charge.refunded``: a payment in given back, in whole or in part."""
        self._run(lambda tx: on_refund_event(tx, event))

    def dispute_event(self, event: Mapping[str, Any]) -> None:
        """``charge.dispute.*``: a payment in taken back by the payer's bank, and returned if the dispute is won."""
        self._run(lambda tx: on_dispute_event(tx, event))

    def start_payment(self, tx: Tx, *, payment_intent_id: str, wallet_pk: int, stream_pk: int, method: str,
                      purpose: str, amount: int) -> None:
        """Remember a payment we asked Stripe for, before its outcome arrives (once per payment intent)."""
        if tx.conn.execute(select(payment_t.c.id).where(payment_t.c.payment_intent_id == payment_intent_id)).first():
            return
        now = tx.now_us()
        tx.conn.execute(payment_t.insert(), dict(
            payment_intent_id=payment_intent_id, wallet_id=wallet_pk, stream_id=stream_pk, method=method,
            purpose=purpose, amount=amount, status="started", created_us=now, updated_us=now))


@dataclass(frozen=True)
class _DecisionLog:
    store: StripeStore

    def record(self, request: AuthorizationRequest, decision: Decision, account: CardAccount | None,
               event_id: str | None) -> None:
        self.store.record_decision(request, decision, account, event_id)


# ---------------------------------------------------------------------- helpers
_QUEUES: dict[str, threading.Lock] = {}
_QUEUES_LOCK = threading.Lock()


def _writer_queue(uow: UnitOfWork) -> threading.Lock:
    """One lock per SQLite file in this process, shared by every store on it."""
    key = str(uow.db.engine.url)
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(key, threading.Lock())


_PERIODS = ("daily", "weekly", "monthly", "yearly", "all_time")


def _spent_statement() -> Any:
    """One statement, built once (so SQLAlchemy compiles it once): what a card's payments count for in each
    period, the periods' starts given as parameters."""
    a = authorization_t.c
    sums = [func.coalesce(func.sum(case((a.decided_us >= bindparam(f"from_{name}"), a.counted), else_=0)), 0)
            .label(name) for name in _PERIODS[:-1]]
    sums.append(func.coalesce(func.sum(a.counted), 0).label("all_time"))
    return select(*sums).where(and_(a.stripe_card_id == bindparam("card"), a.counted > 0))


_SPENT = _spent_statement()


@dataclass(frozen=True)
class _Held:
    uuid: str
    status: str
    amount: int


def _memo(tx: Tx, what: str) -> dict[str, Any]:
    """Rows this transaction has read or made, so one event does not read them twice."""
    return tx.__dict__.setdefault(f"_stripe_{what}", {})


def _hold_by_key(tx: Tx, key: str) -> Any:
    return tx.conn.execute(select(hold_t.c.uuid, hold_t.c.status, hold_t.c.amount)
                           .where(hold_t.c.idempotency_key == key)).first()


def _card_row(tx: Tx, stripe_card_id: str) -> Any:
    return tx.conn.execute(
        select(card_t.c.id, card_t.c.category, card_t.c.controls, card_t.c.status,
               wallet_t.c.id.label("wallet_pk"), wallet_t.c.uuid.label("wallet_uuid"),
               funding_stream_t.c.code.label("stream_code"))
        .join(wallet_t, wallet_t.c.id == card_t.c.wallet_id)
        .join(funding_stream_t, funding_stream_t.c.id == card_t.c.stream_id)
        .where(card_t.c.stripe_card_id == stripe_card_id)).first()


def _transfer(tx: Tx, key: str, debit: str, credit: str, amount: int, text: str, reference: str,
              meta: dict[str, Any]) -> str:
    return tx.ledger.transfer(key, debit, credit, amount, currency=CURRENCY, description=text[:500],
                              reference=reference, actor=SYSTEM, metadata=meta).id


def _money_in_stream(wallet: Any, stream_id: str | None, purpose: str, row: Any, tx: Tx) -> Any:
    """The stream a payment in goes to: the one its metadata (or our own record of it) names; else the client
    contribution stream for a contribution; else the wallet's only stream."""
    if stream_id:
        for s in wallet.streams:
            if s.id == stream_id:
                return s
        return None
    if row is not None:
        uuid = tx.conn.execute(select(funding_stream_t.c.uuid)
                               .where(funding_stream_t.c.id == row.stream_id)).scalar_one()
        return next((s for s in wallet.streams if s.id == uuid), None)
    if purpose == "client_contribution":
        own = [s for s in wallet.streams if s.kind.value == "client_contribution"]
        if len(own) == 1:
            return own[0]
    return wallet.streams[0] if len(wallet.streams) == 1 else None

"""Receiving Stripe webhooks: check the signature with Stripe's own code, answer each event once, and move the
wallet's holds as card payments are authorised, captured, declined or reversed.

``WebhookReceiver.handle(payload, signature)`` is framework-free: the web layer passes the raw body and the
``Stripe-Signature`` header and sends back the ``WebhookReply`` it gets. Real-time authorisations are answered in
the reply itself (see ``authorization.py``); every other event gets ``{"received": true}``.

Holds are keyed ``stripe-authorization:<authorization id>``, so a repeat delivery never holds twice.
A card payment's life and what the receiver does:

    issuing_authorization.request   decide; if approved, hold the amount in the wallet, then answer
    issuing_authorization.created   if Stripe's final answer was a decline, release our hold
    issuing_authorization.updated   reversed, or closed with nothing captured: release the hold
    issuing_transaction.created     a capture: commit the hold with the captured amount
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import stripe

from wallet.stripe_gateway.authorization import (
    AuthorizationRequest, Decision, WebhookReply, authorization_reply, decide_authorization,
)
from wallet.stripe_gateway.errors import WebhookRejected
from wallet.stripe_gateway.ports import (
    CardAccount, CardDirectory, DecisionLog, FundsUnavailable, ProcessedEvents, WalletFunds,
)

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE  # 300 seconds
AUTHORIZATION_REQUEST = "issuing_authorization.request"
HOLD_KEY_PREFIX = "stripe-authorization:"


def hold_key(authorization_id: str) -> str:
    return f"{HOLD_KEY_PREFIX}{authorization_id}"


def verify_event(payload: bytes | str, signature: str | None, secret: str,
                 tolerance: int = DEFAULT_TOLERANCE) -> dict[str, Any]:
    """Check ``Stripe-Signature`` over the raw body with Stripe's own ``WebhookSignature.verify_header`` and return
    the event as plain data. Raises WebhookRejected for a missing, wrong, tampered or stale signature, or a body
    that is not a Stripe event."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance)
        # Stripe's construct_event would also build StripeObjects from the body: several milliseconds on a
        # card authorisation that must be answered quickly, for plain data we would turn it back into.
        data = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Stripe signature check failed: {exc.user_message}") from None
    except ValueError:
        raise WebhookRejected("webhook body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookRejected("webhook body is not a Stripe event")
    if data.get("object") != "event" or not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise WebhookRejected("webhook body is not a Stripe event")
    return data


def _json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


_JSON = {"Content-Type": "application/json"}


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class WebhookReceiver:
    def __init__(self, *, secret: str, processed: ProcessedEvents, funds: WalletFunds, cards: CardDirectory,
                 stripe_version: str = stripe.api_version, tolerance: int = DEFAULT_TOLERANCE,
                 clock: Callable[[], datetime] = _utc_now,
                 handlers: Mapping[str, Callable[[dict[str, Any]], None]] | None = None,
                 decisions: DecisionLog | None = None):
        if not secret:
            raise ValueError("a webhook signing secret (whsec_...) is required")
        self._secret = secret
        self.processed = processed
        self.funds = funds
        self.cards = cards
        self.stripe_version = stripe_version
        self.tolerance = tolerance
        self.clock = clock
        self.handlers = dict(handlers or {})
        self.decisions = decisions

    def __repr__(self) -> str:
        return f"WebhookReceiver(stripe_version={self.stripe_version!r}, handles={sorted(self.handlers)!r})"

    # ------------------------------------------------------------------ entry point
    def handle(self, payload: bytes, signature: str | None) -> WebhookReply:
        try:
            event = verify_event(payload, signature, self._secret, self.tolerance)
        except WebhookRejected as exc:
            log.warning("stripe webhook refused: %s", exc)
            return WebhookReply(400, _json({"error": str(exc)}), _JSON)
        event_id, event_type = event["id"], event["type"]
        try:
            return self.process(event)
        except Exception:  # noqa: BLE001 - anything else: let Stripe retry later, or decline a card payment
            log.exception("stripe webhook %s (%s) failed", event_id, event_type)
            if event_type == AUTHORIZATION_REQUEST:
                decline = Decision(False, "Declined: the wallet could not be checked just now.", 0, "error")
                body = _json({"approved": False, "metadata": {"wallet_decision": decline.code,
                                                              "wallet_reason": decline.reason}})
                return self._reply(event_id, event_type, body, duplicate=False)
            return WebhookReply(500, _json({"error": "the event could not be processed; retry later"}), _JSON,
                                event_id=event_id, event_type=event_type)

    def process(self, event: dict[str, Any]) -> WebhookReply:
        """Answer a verified event once: a repeat gets the first answer. Raises if the work failed, so nothing
        is recorded and Stripe's redelivery is processed afresh. A store that keeps the wallet in a database
        overrides this to run it all in one transaction."""
        event_id, event_type = event["id"], event["type"]
        previous = self.processed.reply_for(event_id)
        if previous is not None:
            log.info("stripe webhook %s (%s) is a duplicate; answering as before", event_id, event_type)
            return self._reply(event_id, event_type, previous, duplicate=True)
        body = self._dispatch(event)
        if not self.processed.record(event_id, event_type, body):
            earlier = self.processed.reply_for(event_id)
            return self._reply(event_id, event_type, earlier if earlier is not None else body, duplicate=True)
        return self._reply(event_id, event_type, body, duplicate=False)

    def _reply(self, event_id: str, event_type: str, body: bytes, *, duplicate: bool) -> WebhookReply:
        headers = dict(_JSON)
        if event_type == AUTHORIZATION_REQUEST:
            headers["Stripe-Version"] = self.stripe_version
        return WebhookReply(200, body, headers, duplicate=duplicate, event_id=event_id, event_type=event_type)

    def _dispatch(self, event: dict[str, Any]) -> bytes:
        event_type = event["type"]
        obj = (event.get("data") or {}).get("object") or {}
        if event_type == AUTHORIZATION_REQUEST:
            return self.authorize(obj, event_id=event["id"]).body
        handled = True
        if event_type == "issuing_authorization.created":
            handled = self._on_authorization_created(obj)
        elif event_type == "issuing_authorization.updated":
            handled = self._on_authorization_updated(obj)
        elif event_type == "issuing_transaction.created":
            handled = self._on_transaction_created(obj)
        elif event_type in self.handlers:
            self.handlers[event_type](event)
        else:
            handled = False
        return _json({"received": True, "handled": handled})

    # ------------------------------------------------------------------ card payments
    def authorize(self, obj: Mapping[str, Any], *, event_id: str | None = None) -> WebhookReply:
        """Decide a real-time authorisation, hold the money and log the decision. A failure to check declines;
        only a failure to log the decision raises (the caller then declines, and a store rolls the hold back)."""
        try:
            request = AuthorizationRequest.from_stripe(obj)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("authorization request could not be read: %s", exc)
            request = AuthorizationRequest(authorization_id=str(obj.get("id", "")), card_id="", amount=0,
                                           currency="", merchant_category="")
            return authorization_reply(Decision(False, "Declined: the payment request could not be read.", 0,
                                                "unreadable"), request, stripe_version=self.stripe_version,
                                       event_id=event_id)
        found: list[CardAccount] = []
        try:
            decision = self._decide_and_hold(request, found)
        except Exception:  # noqa: BLE001 - fail closed: decline rather than let a payment through unchecked
            log.exception("authorization %s could not be checked; declining", request.authorization_id)
            decision = Decision(False, "Declined: the wallet could not be checked just now.", 0, "error")
        log.info("authorization %s on card %s: %s (%s)", request.authorization_id, request.card_id,
                 "approved" if decision.approved else "declined", decision.code)
        if self.decisions is not None:
            # a decision that cannot be logged is not given: the error reaches the caller, which declines
            self.decisions.record(request, decision, found[0] if found else None, event_id)
        return authorization_reply(decision, request, stripe_version=self.stripe_version, event_id=event_id)

    def _decide_and_hold(self, request: AuthorizationRequest, found: list[CardAccount] | None = None) -> Decision:
        account = self.cards.card(request.card_id)
        if account is None:
            return Decision(False, "Declined: this card is not linked to a wallet.", 0, "unknown_card")
        if found is not None:
            found.append(account)
        available = self.funds.available(account.wallet)
        spent = self.cards.spent(request.card_id, self.clock())
        decision = decide_authorization(request, available, account.controls, spent)
        if decision.approved and decision.amount > 0:
            reason = "Card payment"
            if request.merchant_name:
                reason += f" at {request.merchant_name}"
            reason += f" ({request.authorization_id})"
            try:
                self.funds.hold(account.wallet, hold_key(request.authorization_id), decision.amount, reason)
            except FundsUnavailable:
                return Decision(False, "Declined: the wallet no longer has enough money available.", 0,
                                "insufficient_funds")
        return decision

    def _release(self, authorization_id: str) -> bool:
        hold_id = self.funds.find_hold(hold_key(authorization_id))
        if hold_id is None:
            return False
        self.funds.release(hold_id)
        return True

    def _on_authorization_created(self, obj: Mapping[str, Any]) -> bool:
        if obj.get("approved") is False:  # Stripe (or a timeout) declined after all: free what we held
            return self._release(obj["id"])
        return True

    def _on_authorization_updated(self, obj: Mapping[str, Any]) -> bool:
        status = obj.get("status")
        if status == "reversed" or (status == "closed" and not obj.get("transactions")):
            return self._release(obj["id"])
        return True

    def _on_transaction_created(self, obj: Mapping[str, Any]) -> bool:
        authorization = obj.get("authorization")
        if isinstance(authorization, Mapping):
            authorization = authorization.get("id")
        if obj.get("type") != "capture" or not authorization:
            handler = self.handlers.get("issuing_transaction.created")
            if handler is None:
                return False
            handler({"type": "issuing_transaction.created", "data": {"object": dict(obj)}})
            return True
        hold_id = self.funds.find_hold(hold_key(authorization))
        if hold_id is None:
            return False
        self.funds.commit(hold_id, -int(obj["amount"]))  # Stripe: money leaving the card is negative
        return True

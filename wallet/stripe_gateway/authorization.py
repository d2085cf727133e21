"""Approve or decline a card payment as it happens, and the answer Stripe expects.

When a wallet card is used, Stripe sends ``issuing_authorization.request`` and waits at most 2 seconds for the
answer in the webhook response itself: HTTP 200, a ``Stripe-Version`` header, and a JSON body
``{"approved": true|false}``, optionally with ``amount`` (only when the request's amount is controllable, such
as at a fuel pump) and ``metadata``. ``decide_authorization`` is pure and fast; nothing here does I/O.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from wallet.stripe_gateway.controls import PERIOD_INTERVALS, CardControls

CARD_CURRENCY = "gbp"
_PERIOD_WORDS = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "yearly": "yearly",
                 "all_time": "total"}
_PERIOD_SO_FAR = {"daily": "today", "weekly": "this week", "monthly": "this month", "yearly": "this year",
                  "all_time": "in all"}


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    whole, rem = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{rem:02d}"


def category_words(category: str) -> str:
    return category.replace("_", " ")


@dataclass(frozen=True)
class AuthorizationRequest:
    """The parts of a Stripe ``issuing.authorization`` (status pending) that the decision needs."""

    authorization_id: str
    card_id: str
    amount: int
    """Pence asked for, in the card's currency (``pending_request.amount``)."""
    currency: str
    merchant_category: str
    merchant_name: str = ""
    merchant_country: str | None = None
    amount_controllable: bool = False
    cardholder_id: str | None = None

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> "AuthorizationRequest":
        if obj.get("object") != "issuing.authorization":
            raise ValueError(f"expected an issuing.authorization, not {obj.get('object')!r}")
        pending = obj.get("pending_request") or {}
        merchant = obj.get("merchant_data") or {}
        card = obj.get("card")
        card_id = card.get("id") if isinstance(card, Mapping) else card
        cardholder = obj.get("cardholder")
        if isinstance(cardholder, Mapping):
            cardholder = cardholder.get("id")
        amount = pending.get("amount", obj.get("amount"))
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError("authorization has no whole-number amount")
        return cls(authorization_id=obj["id"], card_id=card_id, amount=amount,
                   currency=(pending.get("currency") or obj.get("currency") or "").lower(),
                   merchant_category=merchant.get("category") or "", merchant_name=merchant.get("name") or "",
                   merchant_country=merchant.get("country"),
                   amount_controllable=bool(pending.get("is_amount_controllable")), cardholder_id=cardholder)


@dataclass(frozen=True)
class Decision:
    approved: bool
    reason: str
    """Plain English, for the person and the audit trail."""
    amount: int
    """Pence approved; 0 when declined. Less than asked only when the amount was controllable."""
    code: str = "approved"
    """A short machine word: approved, wrong_currency, category_blocked, country_blocked, over_payment_limit,
    over_period_limit, insufficient_funds."""


def decide_authorization(request: AuthorizationRequest, available_balance_pence: int, controls: CardControls,
                         spent: Mapping[str, int] | None = None) -> Decision:
    """Approve or decline a card payment against the card's controls and the wallet's available balance.

    ``spent`` maps an interval (daily, weekly, monthly, yearly, all_time) to what the card has spent in the
    current period. A limit kept for some categories only is checked against the same figure, which can only
    make the answer stricter. When the amount is controllable and too big, approve the most that may be spent.
    """
    spent = spent or {}
    asked = request.amount
    where = f" at {request.merchant_name}" if request.merchant_name else ""

    def decline(code: str, reason: str) -> Decision:
        return Decision(False, f"Declined: {reason}", 0, code)

    if request.currency != CARD_CURRENCY:
        return decline("wrong_currency", f"the card pays in pounds, but the payment asked for {request.currency!r}.")
    if asked < 0:
        return decline("wrong_amount", "the payment amount is below zero.")
    if not controls.category_allowed(request.merchant_category):
        what = category_words(request.merchant_category) or "this kind of shop"
        return decline("category_blocked", f"this card cannot be used for {what}{where}.")
    if not controls.country_allowed(request.merchant_country):
        return decline("country_blocked",
                       f"this card cannot be used with shops in {request.merchant_country or 'an unknown country'}.")

    cap = asked
    why_less = ""
    for limit in controls.limits_for(request.merchant_category, "per_authorization"):
        if cap > limit.amount:
            if not request.amount_controllable:
                return decline("over_payment_limit",
                               f"{_pounds(asked)} is over this card's limit of {_pounds(limit.amount)} a payment.")
            cap, why_less = limit.amount, f"this card's limit of {_pounds(limit.amount)} a payment"
    for interval in PERIOD_INTERVALS:
        so_far = spent.get(interval, 0)
        for limit in controls.limits_for(request.merchant_category, interval):
            left = max(limit.amount - so_far, 0)
            if cap > left:
                if not request.amount_controllable or left == 0:
                    return decline(
                        "over_period_limit",
                        f"{_pounds(asked)} would go over this card's {_PERIOD_WORDS[interval]} limit of "
                        f"{_pounds(limit.amount)} ({_pounds(so_far)} spent {_PERIOD_SO_FAR[interval]}, "
                        f"{_pounds(left)} left).")
                cap, why_less = left, f"what is left of the {_PERIOD_WORDS[interval]} limit"
    available = max(available_balance_pence, 0)
    if cap > available:
        if not request.amount_controllable or available == 0:
            return decline("insufficient_funds",
                           f"the wallet has {_pounds(available)} available and this payment is {_pounds(asked)}.")
        cap, why_less = available, "the money available in the wallet"
    if asked == 0:
        return Decision(True, f"Approved: a card check for {_pounds(0)}{where}.", 0)
    if cap < asked:
        return Decision(True, f"Approved: {_pounds(cap)} of {_pounds(asked)}{where}, {why_less}.", cap)
    return Decision(True, f"Approved: {_pounds(asked)}{where}.", asked)


@dataclass(frozen=True)
class WebhookReply:
    """What an HTTP handler sends back to Stripe."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    duplicate: bool = False
    """True when the event had been processed before and this is the first answer again."""
    event_id: str | None = None
    event_type: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


def authorization_reply(decision: Decision, request: AuthorizationRequest, *, stripe_version: str,
                        event_id: str | None = None) -> WebhookReply:
    """The synchronous answer to ``issuing_authorization.request``: 200, Stripe-Version, JSON approve/decline."""
    body: dict[str, Any] = {"approved": decision.approved}
    if decision.approved and request.amount_controllable:
        body["amount"] = decision.amount
    body["metadata"] = {"wallet_decision": decision.code, "wallet_reason": decision.reason[:500]}
    return WebhookReply(status=200, body=json.dumps(body, separators=(",", ":")).encode("utf-8"),
                        headers={"Stripe-Version": stripe_version, "Content-Type": "application/json"},
                        event_id=event_id, event_type="issuing_authorization.request")

"""Stripe in the portal: the webhook endpoint Stripe calls, and each wallet's card page.

``POST /stripe/webhook`` takes no session and no CSRF token (Stripe cannot have either): the signature over the
raw body, checked with the configured signing secret, is its authentication. Card authorisations are answered
in the response, well inside Stripe's two seconds; every other event gets 200 once processed, or 500 so Stripe
tries again.

``GET /wallets/<id>/card`` lists the wallet's cards and every card decision with its reason, its Direct Debit
mandates (bank details masked) and the money paid in by card or Direct Debit, for whoever may see the wallet's
transactions (the holder, an appointee, and those they share with). ``POST /wallets/<id>/card/direct-debit``
collects a contribution under an active mandate, for whoever manages the wallet.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required

from wallet.domain import cards as card_service
from wallet.domain.errors import WalletError
from wallet.domain.permissions import Action
from wallet.money import format_pence, parse_pounds
from wallet.stripe_gateway.client import StripeGateway
from wallet.stripe_gateway.errors import StripeGatewayError
from wallet.stripe_gateway.service import LedgerWebhookReceiver
from wallet.stripe_gateway.settings import stripe_config, webhook_secret
from wallet.web.context import uow, user_id
from wallet.web.extensions import csrf
from wallet.web.views import plain, wallet_page

bp = Blueprint("stripe", __name__, template_folder="templates")

STATUS_WORDS = {"declined": "Declined", "held": "Approved, waiting for the shop", "captured": "Paid",
                "released": "Approved, then cancelled"}
MANDATE_WORDS = {"pending": "Waiting for the bank to confirm", "active": "Active", "inactive": "Stopped",
                 "revoked": "Cancelled by the payer or their bank", "failed": "Could not be set up"}
PAYMENT_IN_WORDS = {"started": "Asked for", "processing": "On its way (Direct Debits take about 3 working days)",
                    "succeeded": "Received", "failed": "Failed", "canceled": "Cancelled"}
MAX_COLLECTION = 1_000_000   # £10,000: a contribution larger than this is not taken by Direct Debit from here


def receiver() -> LedgerWebhookReceiver | None:
    ext = current_app.extensions
    if "wallet.stripe_receiver" not in ext:
        secret = webhook_secret(current_app.config)
        ext["wallet.stripe_receiver"] = LedgerWebhookReceiver(uow(), secret=secret) if secret else None
    return ext["wallet.stripe_receiver"]


@bp.post("/stripe/webhook")
@csrf.exempt
def webhook():
    handler = receiver()
    if handler is None:
        return jsonify(error="Stripe webhooks are not configured here"), 503
    reply = handler.handle(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    response = Response(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response.headers[name] = value
    return response


@bp.get("/wallets/<wallet_id>/card")
@login_required
def card_page(wallet_id: str):
    return _card_page(wallet_page(Action.VIEW_TRANSACTIONS, wallet_id))


def _card_page(wallet, errors: dict[str, str] | None = None, form: dict[str, str] | None = None):
    me = user_id()
    cards = card_service.wallet_cards(uow(), wallet.id, actor=me)
    decisions = card_service.card_decisions(uow(), wallet.id, actor=me)
    mandates = card_service.direct_debit_mandates(uow(), wallet.id, actor=me)
    paid_in = card_service.payments_in(uow(), wallet.id, actor=me)
    streams = {s.id: s.label for s in wallet.streams}
    form = form or {"stream": "", "amount": "", "key": str(uuid.uuid4())}
    return render_template("stripe_gateway/card.html", wallet=wallet, cards=cards, decisions=decisions,
                           streams=streams, status_words=STATUS_WORDS, mandates=mandates,
                           mandate_words=MANDATE_WORDS, paid_in=list(reversed(paid_in)),
                           payment_in_words=PAYMENT_IN_WORDS, usable=[m for m in mandates if m.usable],
                           errors=errors or {}, form=form, page="card"), 400 if errors else 200


@bp.post("/wallets/<wallet_id>/card/direct-debit")
@login_required
def collect_direct_debit(wallet_id: str):
    """Collect a contribution under the stream's active mandate; the money is posted when Stripe says so."""
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    form = {k: request.form.get(k, "").strip() for k in ("stream", "amount", "key")}
    form["key"] = form["key"][:60] or str(uuid.uuid4())
    errors: dict[str, str] = {}
    usable = {m.stream_id for m in card_service.direct_debit_mandates(uow(), wallet.id, actor=user_id())
              if m.usable}
    if form["stream"] not in usable:
        errors["stream"] = "Choose a funder with an active Direct Debit"
    amount = 0
    try:
        amount = parse_pounds(form["amount"])
    except ValueError:
        errors["amount"] = "Enter the amount in pounds and pence, like 45.50"
    else:
        if amount <= 0:
            errors["amount"] = "The amount must be more than £0.00"
        elif amount > MAX_COLLECTION:
            errors["amount"] = f"The amount must be {format_pence(MAX_COLLECTION)} or less"
    if not errors:
        config = stripe_config(current_app.config)
        if config is None:
            errors["amount"] = "Direct Debits cannot be collected here: the card service is not set up"
        else:
            try:
                card_service.collect_direct_debit(uow(), StripeGateway(config), wallet.id, actor=user_id(),
                                                  stream_id=form["stream"], amount=amount,
                                                  key=f"web-dd-{form['key']}")
            except WalletError as refused:
                errors["amount"] = plain(refused)
            except StripeGatewayError as failed:
                errors["amount"] = f"Stripe did not take the Direct Debit: {failed}"
            else:
                flash(f"A Direct Debit of {format_pence(amount)} has been asked for. It usually arrives in about "
                      "3 working days, and shows here and in the transactions when it does.", "success")
                return redirect(url_for("stripe.card_page", wallet_id=wallet.id))
    return _card_page(wallet, errors, form)


def init_app(app) -> None:
    app.register_blueprint(bp)

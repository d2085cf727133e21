"""Stripe in the portal: the webhook endpoint Stripe calls, and each wallet's card page.

``POST /stripe/webhook`` takes no session and no CSRF token (Stripe cannot have either): the signature over the
raw body, checked with the configured signing secret, is its authentication. Card authorisations are answered
in the response, well inside Stripe's two seconds; every other event gets 200 once processed, or 500 so Stripe
tries again.

``GET /wallets/<id>/card`` lists the wallet's cards and every card decision with its reason, for whoever may
see the wallet's transactions (the holder, an appointee, and those they share with).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_login import login_required

from wallet.domain import cards as card_service
from wallet.domain.permissions import Action
from wallet.stripe_gateway.service import LedgerWebhookReceiver
from wallet.stripe_gateway.settings import webhook_secret
from wallet.web.context import uow, user_id
from wallet.web.extensions import csrf
from wallet.web.views import wallet_page

bp = Blueprint("stripe", __name__, template_folder="templates")

STATUS_WORDS = {"declined": "Declined", "held": "Approved, waiting for the shop", "captured": "Paid",
                "released": "Approved, then cancelled"}


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
    wallet = wallet_page(Action.VIEW_TRANSACTIONS, wallet_id)
    cards = card_service.wallet_cards(uow(), wallet.id, actor=user_id())
    decisions = card_service.card_decisions(uow(), wallet.id, actor=user_id())
    streams = {s.id: s.label for s in wallet.streams}
    return render_template("stripe_gateway/card.html", wallet=wallet, cards=cards, decisions=decisions,
                           streams=streams, status_words=STATUS_WORDS, page="card")


def init_app(app) -> None:
    app.register_blueprint(bp)

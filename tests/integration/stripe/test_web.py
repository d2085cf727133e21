"""The Flask side: Stripe's webhook route (no session, no CSRF token, the signature is the authentication) and
the wallet's card page listing every decision with its reason, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
import stripe

from tests.integration.stripe.test_ledger_ports import HOLDER
from tests.integration.web.conftest import portal  # noqa: F401  (fixture)
from wallet.domain import cards
from wallet.domain.chart import Category


@pytest.fixture
def site(portal, fake):  # noqa: F811
    portal.app.config["STRIPE_WEBHOOK_SECRET"] = fake.webhook_secret
    return portal


@pytest.fixture
def card(site, gateway):
    w = site.world
    return cards.issue_card(w.uow, gateway, w.wallet.id, actor=w.users["holder"], stream_id=w.council.id,
                            category=Category.TRANSPORT, holder=HOLDER, key="web-card", per_payment=1_500,
                            blocked=["betting_casino_gambling"])


def post(client, fake, event, *, signature=None, payload=None):
    body = payload if payload is not None else json.dumps(event)
    header = signature if signature is not None else fake.sign(body)
    return client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": header},
                       content_type="application/json")


def test_a_card_authorisation_is_answered_in_the_response(site, fake, card):
    client = site.client()   # Stripe has no session and no CSRF token
    event = fake.event("issuing_authorization.request",
                       fake.authorization_request(card.stripe_card_id, 1_200, merchant_name="FIRST BUS"))
    response = post(client, fake, event)
    assert response.status_code == 200
    assert response.headers["Stripe-Version"] == stripe.api_version
    assert response.get_json()["approved"] is True
    assert response.get_json()["metadata"]["wallet_reason"] == "Approved: £12.00 at FIRST BUS."
    assert site.world.cash(site.world.council).available == 186_000 - 1_200
    # repeated: the first answer, nothing held twice
    assert post(client, fake, event).get_data() == response.get_data()
    assert site.world.cash(site.world.council).available == 186_000 - 1_200


def test_bad_signatures_are_refused(site, fake, card):
    client = site.client()
    event = fake.event("issuing_authorization.request", fake.authorization_request(card.stripe_card_id, 100))
    body = json.dumps(event)
    assert post(client, fake, event, signature=fake.sign(body, secret="whsec_not_ours")).status_code == 400
    assert post(client, fake, event, payload=body.replace('"amount": 100', '"amount": 1'),
                signature=fake.sign(body)).status_code == 400
    missing = client.post("/stripe/webhook", data=body, content_type="application/json")
    assert missing.status_code == 400 and "signature" in missing.get_json()["error"]
    assert site.world.cash(site.world.council).available == 186_000
    assert cards.card_decisions(site.world.uow, site.world.wallet.id, actor=site.world.users["holder"]) == []


def test_without_a_signing_secret_the_route_is_unavailable(portal, fake):  # noqa: F811
    response = portal.app.test_client().post("/stripe/webhook", data="{}", headers={"Stripe-Signature": "t=1"})
    assert response.status_code == 503


@pytest.mark.parametrize("who", ["holder", "appointee"])
def test_the_holder_and_appointee_see_every_decision_with_its_reason(site, fake, card, who):
    client = site.client()
    post(client, fake, fake.event("issuing_authorization.request",
                                  fake.authorization_request(card.stripe_card_id, 900, merchant_name="FIRST BUS")))
    post(client, fake, fake.event("issuing_authorization.request", fake.authorization_request(
        card.stripe_card_id, 400, merchant_category="betting_casino_gambling", merchant_name="LUCKY BETS")))
    html = site.client(who).get(f"/wallets/{site.world.wallet.id}/card").get_data(as_text=True)
    assert "Virtual card ending" in html and "£15.00 a payment" in html and "£20.00 weekly" in html
    assert "Approved: £9.00 at FIRST BUS." in html
    assert "Declined: this card cannot be used for betting casino gambling at LUCKY BETS." in html
    assert html.count('class="decision-') == 2


def test_someone_with_no_part_in_the_wallet_cannot_see_its_card(site, card):
    assert site.client("stranger").get(f"/wallets/{site.world.wallet.id}/card").status_code == 403

"""The card page in a real browser: a card issued through the real stripe library (against the local fake
Stripe), two payments decided by the signed webhook, and the holder and appointee seeing each decision with its
reason; the page passes axe-core and reflows at 320 CSS pixels."""
from __future__ import annotations

import json
import urllib.request

import pytest

from tests.e2e.conftest import axe_violations
from tests.e2e.test_portal_pages import server, sign_in  # noqa: F401  (fixture)
from tests.integration.stripe.test_ledger_ports import HOLDER
from tests.support.fake_stripe import FakeStripe
from wallet.domain import cards
from wallet.domain.chart import Category
from wallet.stripe_gateway import StripeConfig, StripeGateway


@pytest.fixture
def card_site(server):  # noqa: F811
    with FakeStripe() as fake:
        server.app.config["STRIPE_WEBHOOK_SECRET"] = fake.webhook_secret
        w = server.world
        gateway = StripeGateway(StripeConfig(api_key=fake.api_key, api_base=fake.url, max_network_retries=0))
        card = cards.issue_card(w.uow, gateway, w.wallet.id, actor=w.users["holder"], stream_id=w.council.id,
                                category=Category.ACTIVITIES, holder=HOLDER, key="e2e-card", per_payment=1_500,
                                blocked=["betting_casino_gambling"])
        for amount, extra in ((900, {"merchant_name": "FIRST BUS"}),
                              (400, {"merchant_name": "LUCKY BETS", "merchant_category": "betting_casino_gambling"})):
            body = json.dumps(fake.event("issuing_authorization.request",
                                         fake.authorization_request(card.stripe_card_id, amount, **extra)))
            sent = urllib.request.Request(server.url + "/stripe/webhook", data=body.encode(), method="POST",
                                          headers={"Stripe-Signature": fake.sign(body),
                                                   "Content-Type": "application/json"})
            with urllib.request.urlopen(sent, timeout=10) as reply:
                assert reply.status == 200
        yield server


@pytest.mark.parametrize("who", ["holder", "appointee"])
def test_the_card_page_shows_each_decision_and_its_reason(page, card_site, who):
    sign_in(page, card_site, who)
    page.goto(f"{card_site.url}/wallets/{card_site.world.wallet.id}/card")
    text = page.locator("main").inner_text()
    assert "Approved: £9.00 at FIRST BUS." in text
    assert "Declined: this card cannot be used for betting casino gambling at LUCKY BETS." in text
    assert "£15.00 a payment" in text
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 320, "height": 800})
    wider = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not wider, "the card page scrolls sideways at 320 px"

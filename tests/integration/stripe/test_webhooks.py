"""Webhooks: Stripe's signature scheme checked by Stripe's own code, events answered once, and card payments
moving the wallet's holds, all over HTTP from the fake to a local endpoint."""
from __future__ import annotations

import json
import time

import pytest
import stripe

from tests.integration.stripe.conftest import NOW
from wallet.stripe_gateway import (
    CardAccount, CardControls, StripeConfig, StripeGateway, WebhookRejected, hold_key, verify_event,
)
from wallet.stripe_gateway.client import Address, CardholderDetails

CONTROLS = CardControls.simple(per_payment=5_000, weekly=20_000, blocked=["betting_casino_gambling"])


@pytest.fixture
def card_id(fake, cards):
    gateway = StripeGateway(StripeConfig(api_key=fake.api_key, api_base=fake.url, max_network_retries=0))
    holder = gateway.create_cardholder(
        CardholderDetails("Amira", "Khan", Address("14 Mill Lane", "Leeds", "LS6 2AA")), wallet_id="wallet-amira",
        idempotency_key="holder-1")
    card = gateway.issue_card(holder.id, CONTROLS, wallet_id="wallet-amira", idempotency_key="card-1")
    cards.cards[card.id] = CardAccount(wallet="wallet-amira", controls=card.controls)
    return card.id


def payment_intent_event(fake) -> dict:
    return fake.event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent", "amount": 2_500,
                                                   "currency": "gbp", "status": "succeeded"})


# ---------------------------------------------------------------- signatures

def test_the_fakes_signature_is_stripes_scheme(fake):
    payload = '{"id": "evt_1", "object": "event"}'
    header = fake.sign(payload, timestamp=1_700_000_000)
    assert header == stripe.WebhookSignature.generate_signature_header(payload, fake.webhook_secret,
                                                                       timestamp=1_700_000_000)


def test_a_good_signature_is_accepted(fake):
    event = payment_intent_event(fake)
    payload = json.dumps(event)
    verified = verify_event(payload.encode(), fake.sign(payload), fake.webhook_secret)
    assert verified["id"] == event["id"] and verified["type"] == "payment_intent.succeeded"
    assert verified["data"]["object"]["amount"] == 2_500


def test_a_signature_made_with_another_secret_is_refused(fake):
    payload = json.dumps(payment_intent_event(fake))
    with pytest.raises(WebhookRejected, match="No signatures found matching the expected signature"):
        verify_event(payload, fake.sign(payload, secret="whsec_someone_else"), fake.webhook_secret)


def test_a_tampered_body_is_refused(fake):
    event = payment_intent_event(fake)
    payload = json.dumps(event)
    header = fake.sign(payload)
    tampered = payload.replace('"amount": 2500', '"amount": 250000')
    assert tampered != payload
    with pytest.raises(WebhookRejected, match="No signatures found matching"):
        verify_event(tampered, header, fake.webhook_secret)


def test_a_stale_signature_is_refused(fake):
    payload = json.dumps(payment_intent_event(fake))
    header = fake.sign(payload, timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookRejected, match="Timestamp outside the tolerance zone"):
        verify_event(payload, header, fake.webhook_secret)
    assert verify_event(payload, fake.sign(payload, timestamp=int(time.time()) - 60), fake.webhook_secret)


def test_a_missing_or_garbled_header_is_refused(fake):
    payload = json.dumps(payment_intent_event(fake))
    with pytest.raises(WebhookRejected, match="No Stripe-Signature header"):
        verify_event(payload, None, fake.webhook_secret)
    with pytest.raises(WebhookRejected, match="Unable to extract timestamp"):
        verify_event(payload, "v1=abc", fake.webhook_secret)


def test_a_body_that_is_not_an_event_is_refused(fake):
    payload = '{"hello": "world"}'
    with pytest.raises(WebhookRejected, match="not a Stripe event"):
        verify_event(payload, fake.sign(payload), fake.webhook_secret)


def test_the_endpoint_answers_400_to_bad_signatures_and_200_to_good(fake, endpoint, processed):
    event = payment_intent_event(fake)
    good = fake.send_event(endpoint.url, event)
    assert good.status == 200 and good.json() == {"received": True, "handled": False}
    payload = json.dumps(event, indent=2)
    tampered = fake.send_event(endpoint.url, event, payload=payload.replace("2500", "9999"),
                               signature=fake.sign(payload))
    assert tampered.status == 400 and "signature check failed" in tampered.json()["error"]
    stale = fake.send_event(endpoint.url, fake.event("payment_intent.succeeded", {}),
                            timestamp=int(time.time()) - 3_600)
    assert stale.status == 400 and "tolerance" in stale.json()["error"]
    assert list(processed.replies) == [event["id"]]  # refused deliveries are not recorded


# ---------------------------------------------------------------- duplicates

def test_a_repeated_event_is_reported_as_a_duplicate(fake, receiver, processed):
    event = payment_intent_event(fake)
    payload = json.dumps(event)
    first = receiver.handle(payload.encode(), fake.sign(payload))
    again = receiver.handle(payload.encode(), fake.sign(payload))
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.status == 200 and again.body == first.body and again.event_id == event["id"]
    assert processed.reply_for(event["id"]) == first.body


def test_handlers_run_once_per_event(fake, funds, cards, processed):
    from wallet.stripe_gateway import WebhookReceiver

    seen: list[str] = []
    receiver = WebhookReceiver(secret=fake.webhook_secret, processed=processed, funds=funds, cards=cards,
                               handlers={"payment_intent.succeeded": lambda e: seen.append(e["id"])})
    event = payment_intent_event(fake)
    payload = json.dumps(event)
    for _ in range(3):
        assert receiver.handle(payload.encode(), fake.sign(payload)).status == 200
    assert seen == [event["id"]]


def test_a_failing_handler_answers_500_so_stripe_retries_and_the_retry_is_processed(fake, funds, cards, processed):
    from wallet.stripe_gateway import WebhookReceiver

    attempts: list[str] = []

    def flaky(event: dict) -> None:
        attempts.append(event["id"])
        if len(attempts) == 1:
            raise RuntimeError("database briefly unavailable")

    receiver = WebhookReceiver(secret=fake.webhook_secret, processed=processed, funds=funds, cards=cards,
                               handlers={"payment_intent.succeeded": flaky})
    payload = json.dumps(payment_intent_event(fake))
    assert receiver.handle(payload.encode(), fake.sign(payload)).status == 500
    retried = receiver.handle(payload.encode(), fake.sign(payload))
    assert retried.status == 200 and not retried.duplicate and len(attempts) == 2


# ---------------------------------------------------------------- card payments end to end

def test_a_card_payment_is_approved_held_captured_and_committed(fake, endpoint, funds, card_id):
    auth, delivery = fake.authorize(endpoint.url, card_id, 2_350)
    assert delivery.status == 200
    assert delivery.headers["Stripe-Version"] == stripe.api_version
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.json()["approved"] is True
    assert delivery.json()["metadata"]["wallet_reason"] == "Approved: £23.50 at TESCO STORES 3108."
    assert delivery.elapsed_ms < 2_000  # Stripe waits at most 2 seconds
    assert auth["approved"] is True
    hold = funds.hold_for(hold_key(auth["id"]))
    assert hold is not None and hold.amount == 2_350 and hold.status == "pending"
    assert funds.available("wallet-amira") == 50_000 - 2_350
    fake.capture(endpoint.url, auth["id"], 2_350)
    assert hold.status == "committed" and hold.committed == 2_350
    assert funds.balances["wallet-amira"] == 47_650 and funds.available("wallet-amira") == 47_650
    assert all(d.status == 200 for d in fake.deliveries)


def test_a_payment_over_the_balance_is_declined_and_nothing_is_held(fake, endpoint, funds, cards, card_id):
    cards.cards[card_id] = CardAccount(wallet="wallet-tom", controls=CONTROLS)  # £10.00 in the wallet
    auth, delivery = fake.authorize(endpoint.url, card_id, 2_350)
    assert delivery.status == 200 and delivery.json()["approved"] is False
    assert delivery.json()["metadata"]["wallet_decision"] == "insufficient_funds"
    assert delivery.json()["metadata"]["wallet_reason"] == (
        "Declined: the wallet has £10.00 available and this payment is £23.50.")
    assert auth["approved"] is False and funds.find_hold(hold_key(auth["id"])) is None
    assert funds.available("wallet-tom") == 1_000


def test_a_blocked_category_is_declined(fake, endpoint, card_id):
    _, delivery = fake.authorize(endpoint.url, card_id, 1_000, merchant_category="betting_casino_gambling",
                                 merchant_name="LUCKY BETS")
    assert delivery.json()["approved"] is False
    assert delivery.json()["metadata"]["wallet_decision"] == "category_blocked"


def test_the_period_limit_uses_what_the_card_spent(fake, endpoint, cards, card_id):
    cards.spending[card_id] = {"weekly": 19_500}
    _, delivery = fake.authorize(endpoint.url, card_id, 1_000)
    assert delivery.json()["metadata"]["wallet_decision"] == "over_period_limit"
    assert cards.asked == [(card_id, NOW)]


def test_an_unknown_card_is_declined(fake, endpoint, cards, card_id):
    cards.cards.clear()
    _, delivery = fake.authorize(endpoint.url, card_id, 100)
    assert delivery.status == 200 and delivery.json()["approved"] is False
    assert delivery.json()["metadata"]["wallet_reason"] == "Declined: this card is not linked to a wallet."


def test_a_wallet_that_cannot_be_read_declines_rather_than_lets_money_through(fake, endpoint, funds, card_id):
    def broken(wallet: str) -> int:
        raise RuntimeError("ledger unavailable")

    funds.available = broken  # type: ignore[method-assign]
    _, delivery = fake.authorize(endpoint.url, card_id, 100)
    assert delivery.status == 200 and delivery.json()["approved"] is False
    assert delivery.json()["metadata"]["wallet_decision"] == "error"


def test_if_the_event_store_is_down_a_card_payment_is_declined_and_other_events_retried(fake, receiver, card_id):
    def down(*args: object) -> None:
        raise RuntimeError("database unavailable")

    receiver.processed.reply_for = down  # type: ignore[method-assign]
    auth = json.dumps(fake.event("issuing_authorization.request", fake.authorization_request(card_id, 100)))
    reply = receiver.handle(auth.encode(), fake.sign(auth))
    assert reply.status == 200 and reply.json()["approved"] is False
    assert reply.headers["Stripe-Version"] == stripe.api_version
    other = json.dumps(payment_intent_event(fake))
    assert receiver.handle(other.encode(), fake.sign(other)).status == 500


def test_a_repeated_authorization_request_gets_the_same_answer_and_one_hold(fake, receiver, funds, card_id):
    auth = fake.authorization_request(card_id, 3_000)
    event = fake.event("issuing_authorization.request", auth)
    payload = json.dumps(event)
    first = receiver.handle(payload.encode(), fake.sign(payload))
    # the wallet's balance changes in between; the repeat must not decide again
    funds.balances["wallet-amira"] = 0
    again = receiver.handle(payload.encode(), fake.sign(payload))
    assert again.duplicate and again.body == first.body and json.loads(again.body)["approved"] is True
    assert again.headers["Stripe-Version"] == stripe.api_version
    assert len(funds.holds) == 1


def test_a_controllable_amount_is_approved_in_part_and_only_that_is_held(fake, endpoint, funds, card_id):
    auth, delivery = fake.authorize(endpoint.url, card_id, 8_000, merchant_category="automated_fuel_dispensers",
                                    merchant_name="SHELL", controllable=True)
    assert delivery.json()["approved"] is True and delivery.json()["amount"] == 5_000
    assert auth["amount"] == 5_000
    assert funds.hold_for(hold_key(auth["id"])).amount == 5_000


def test_a_reversed_authorization_releases_the_hold(fake, endpoint, funds, card_id):
    auth, _ = fake.authorize(endpoint.url, card_id, 2_000)
    assert funds.available("wallet-amira") == 48_000
    fake.reverse(endpoint.url, auth["id"])
    assert funds.hold_for(hold_key(auth["id"])).status == "released"
    assert funds.available("wallet-amira") == 50_000 and funds.balances["wallet-amira"] == 50_000


def test_when_stripe_declines_after_we_approved_the_hold_is_released(fake, receiver, funds, card_id):
    auth = fake.authorization_request(card_id, 1_200)
    request = fake.event("issuing_authorization.request", auth)
    payload = json.dumps(request)
    assert json.loads(receiver.handle(payload.encode(), fake.sign(payload)).body)["approved"] is True
    auth.update({"approved": False, "status": "closed", "pending_request": None})
    created = json.dumps(fake.event("issuing_authorization.created", auth))
    reply = receiver.handle(created.encode(), fake.sign(created))
    assert reply.status == 200 and reply.json() == {"received": True, "handled": True}
    assert funds.hold_for(hold_key(auth["id"])).status == "released"

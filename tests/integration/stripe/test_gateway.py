"""The Stripe adapter, through the real stripe library, against a local server that speaks Stripe's HTTP API."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from tests.support.fake_stripe import FakeStripe
from wallet.stripe_gateway import (
    Address, CardControls, CardholderDetails, IdempotencyKeyReused, InvalidStripeRequest, PaymentDeclined,
    SpendingLimit, StripeAuthenticationFailed, StripeConfig, StripeGateway, StripeObjectNotFound, StripeUnavailable,
)

HOME = Address(line1="14 Mill Lane", city="Leeds", postal_code="LS6 2AA")
AMIRA = CardholderDetails(first_name="Amira", last_name="Khan", billing_address=HOME, email="amira@example.org",
                          phone_number="+447700900123")
SHOPPING = CardControls(
    allowed_categories=("grocery_stores_supermarkets", "drug_stores_and_pharmacies"),
    spending_limits=(SpendingLimit(5_000, "per_authorization"), SpendingLimit(20_000, "weekly"),
                     SpendingLimit(3_000, "daily", ("drug_stores_and_pharmacies",))),
    allowed_merchant_countries=("GB",))


@pytest.fixture
def holder(gateway):
    return gateway.create_cardholder(AMIRA, wallet_id="wallet-amira", idempotency_key="holder-amira-1")


def test_create_cardholder(fake, gateway, holder):
    assert holder.id.startswith("ich_") and holder.name == "Amira Khan" and holder.status == "active"
    stored = fake.objects[holder.id]
    assert stored["object"] == "issuing.cardholder" and stored["livemode"] is False
    assert stored["billing"]["address"]["postal_code"] == "LS6 2AA"
    assert stored["billing"]["address"]["country"] == "GB"
    assert stored["individual"]["first_name"] == "Amira"
    assert stored["metadata"] == {"wallet_id": "wallet-amira"}
    sent = fake.calls("POST", "/v1/issuing/cardholders")[0]
    assert sent.headers["idempotency-key"] == "holder-amira-1"
    assert sent.headers["authorization"] == f"Bearer {fake.api_key}"


def test_cardholder_contact_details_never_show_in_a_repr():
    text = repr(AMIRA)
    assert "amira@example.org" not in text and "+447700900123" not in text and "Mill Lane" not in text


def test_issue_a_virtual_card_with_spending_controls(fake, gateway, holder):
    card = gateway.issue_card(holder.id, SHOPPING, wallet_id="wallet-amira", idempotency_key="card-amira-1")
    assert card.id.startswith("ic_") and card.type == "virtual" and card.status == "active"
    assert card.cardholder_id == holder.id and len(card.last4) == 4
    assert card.controls == SHOPPING
    # what went over the wire, in Stripe's form encoding
    sent = fake.calls("POST", "/v1/issuing/cards")[0].params
    assert sent["currency"] == "gbp" and sent["type"] == "virtual"
    assert sent["spending_controls"]["allowed_categories"] == ["grocery_stores_supermarkets",
                                                               "drug_stores_and_pharmacies"]
    assert sent["spending_controls"]["spending_limits"][2] == {
        "amount": "3000", "interval": "daily", "categories": ["drug_stores_and_pharmacies"]}
    stored = fake.objects[card.id]["spending_controls"]
    assert stored["spending_limits"][0] == {"amount": 5_000, "categories": None, "interval": "per_authorization"}
    assert stored["spending_limits_currency"] == "gbp"


def test_issue_a_physical_card_posted_home(fake, gateway, holder):
    card = gateway.issue_card(holder.id, CardControls.simple(per_payment=10_000), wallet_id="wallet-amira",
                              idempotency_key="card-amira-physical", kind="physical", shipping_name="Amira Khan",
                              shipping_address=HOME, active=False)
    assert card.type == "physical" and card.status == "inactive"
    assert fake.objects[card.id]["shipping"]["address"]["line1"] == "14 Mill Lane"
    with pytest.raises(ValueError, match="needs a name and address"):
        gateway.issue_card(holder.id, CardControls(), wallet_id="w", idempotency_key="k2", kind="physical")


def test_update_controls_replaces_and_clears(fake, gateway, holder):
    card = gateway.issue_card(holder.id, SHOPPING, wallet_id="wallet-amira", idempotency_key="card-amira-1")
    looser = CardControls.simple(monthly=60_000, blocked=["betting_casino_gambling", "automated_cash_disburse"])
    updated = gateway.update_card_controls(card.id, looser, idempotency_key="controls-amira-2")
    assert updated.controls == looser
    stored = fake.objects[card.id]["spending_controls"]
    assert stored["allowed_categories"] is None and stored["allowed_merchant_countries"] is None
    assert stored["blocked_categories"] == ["betting_casino_gambling", "automated_cash_disburse"]
    assert gateway.retrieve_card(card.id).controls == looser


def test_freeze_and_cancel_a_card(gateway, holder):
    card = gateway.issue_card(holder.id, SHOPPING, wallet_id="wallet-amira", idempotency_key="card-amira-1")
    assert gateway.set_card_status(card.id, "inactive", idempotency_key="freeze-1").status == "inactive"
    assert gateway.set_card_status(card.id, "canceled", idempotency_key="cancel-1").status == "canceled"
    with pytest.raises(InvalidStripeRequest, match="You cannot update a canceled card"):
        gateway.set_card_status(card.id, "active", idempotency_key="unfreeze-1")


def test_top_up_payment_intent(fake, gateway):
    intent = gateway.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="topup-1")
    assert intent.id.startswith("pi_") and intent.amount == 2_500 and intent.currency == "gbp"
    assert intent.status == "requires_payment_method"
    assert intent.client_secret and intent.client_secret.startswith(intent.id)
    assert intent.client_secret not in repr(intent)
    stored = fake.objects[intent.id]
    assert stored["payment_method_types"] == ["card"]
    assert stored["metadata"] == {"wallet_id": "wallet-amira", "purpose": "top_up"}
    assert gateway.retrieve_payment_intent(intent.id).amount == 2_500


def test_bacs_direct_debit_setup_and_collection_for_a_client_contribution(fake, gateway):
    customer = gateway.create_customer(name="Amira Khan", email="amira@example.org", wallet_id="wallet-amira",
                                       idempotency_key="cus-amira")
    setup = gateway.create_bacs_debit_setup(customer, wallet_id="wallet-amira", idempotency_key="seti-amira")
    assert setup.id.startswith("seti_") and setup.customer == customer
    assert setup.status == "requires_payment_method" and setup.mandate is None
    assert fake.objects[setup.id]["payment_method_types"] == ["bacs_debit"]
    assert fake.objects[setup.id]["usage"] == "off_session"
    debit = gateway.collect_bacs_debit(4_250, customer_id=customer, payment_method_id="pm_bacs_amira",
                                       wallet_id="wallet-amira", idempotency_key="contribution-2026-05")
    assert debit.status == "processing" and debit.amount == 4_250


def test_balance_transactions_page_through_a_window(fake, gateway):
    base = int(datetime(2026, 5, 1, tzinfo=timezone.utc).timestamp())
    for day in range(7):
        fake.add_balance_transaction(1_000 + day, fee=35, created=base + day * 86_400, source=f"ch_{day}")
    fake.add_balance_transaction(-500, type_="issuing_authorization_hold", created=base + 3 * 86_400 + 60)
    found = list(gateway.balance_transactions(created_from=datetime(2026, 5, 2, tzinfo=timezone.utc),
                                              created_before=datetime(2026, 5, 6, tzinfo=timezone.utc),
                                              page_size=2))
    assert [t.amount for t in found] == [1_004, -500, 1_003, 1_002, 1_001]
    assert found[0].fee == 35 and found[0].net == 969 and found[0].source == "ch_4"
    assert found[0].created == datetime(2026, 5, 5, tzinfo=timezone.utc)
    assert found[1].type == "issuing_authorization_hold"
    pages = fake.calls("GET", "/v1/balance_transactions")
    assert len(pages) == 3 and pages[1].params["starting_after"] == found[1].id
    assert pages[0].params["created"] == {"gte": str(base + 86_400), "lt": str(base + 5 * 86_400)}


def test_a_top_up_from_a_saved_card_shows_in_balance_transactions(fake, gateway):
    assert list(gateway.balance_transactions(type="charge")) == []
    customer = gateway.create_customer(name="Amira Khan", email=None, wallet_id="wallet-amira",
                                       idempotency_key="cus-amira")
    intent = gateway.charge_saved_card(10_000, customer_id=customer, payment_method_id="pm_card_visa",
                                       wallet_id="wallet-amira", idempotency_key="auto-topup-2026-05")
    assert intent.status == "succeeded"
    charges = list(gateway.balance_transactions(type="charge"))
    assert [(c.amount, c.fee, c.net) for c in charges] == [(10_000, 170, 9_830)]


# ---------------------------------------------------------------- idempotency

def test_the_same_idempotency_key_replays_the_first_answer(fake, gateway, holder):
    first = gateway.issue_card(holder.id, SHOPPING, wallet_id="wallet-amira", idempotency_key="card-amira-1")
    again = gateway.issue_card(holder.id, SHOPPING, wallet_id="wallet-amira", idempotency_key="card-amira-1")
    assert again == first
    assert len(fake.of_type("issuing.card")) == 1


def test_reusing_a_key_for_a_different_request_is_refused(gateway):
    gateway.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="topup-1")
    with pytest.raises(IdempotencyKeyReused, match="idempotency key was already used for a different request"):
        gateway.create_top_up(9_999, wallet_id="wallet-amira", idempotency_key="topup-1")


def test_every_write_needs_an_idempotency_key(gateway):
    with pytest.raises(ValueError, match="idempotency key is required"):
        gateway.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="")


def test_a_failed_request_is_retried_with_the_same_key_and_makes_one_object(fake):
    retrying = StripeGateway(StripeConfig(api_key=fake.api_key, api_base=fake.url, max_network_retries=2))
    fake.fail_next(500, "api_error", "Something went wrong on Stripe's end.")
    intent = retrying.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="topup-retry")
    calls = fake.calls("POST", "/v1/payment_intents")
    assert len(calls) == 2 and {c.headers["idempotency-key"] for c in calls} == {"topup-retry"}
    assert [o["id"] for o in fake.of_type("payment_intent")] == [intent.id]


# ---------------------------------------------------------------- errors

def test_an_unknown_object_is_not_found(gateway):
    with pytest.raises(StripeObjectNotFound) as caught:
        gateway.retrieve_card("ic_missing")
    err = caught.value
    assert err.http_status == 404 and err.code == "resource_missing" and err.request_id.startswith("req_")
    assert str(err).startswith("Stripe refused to look up the card: No such issuing card: 'ic_missing'")


def test_a_bad_request_names_the_parameter(gateway):
    with pytest.raises(InvalidStripeRequest) as caught:
        gateway.create_top_up(10, wallet_id="wallet-amira", idempotency_key="tiny")
    assert caught.value.code == "amount_too_small" and caught.value.param == "amount"
    assert "Amount must be at least £0.30" in str(caught.value)


def test_a_wrong_api_key_is_a_configuration_error_that_does_not_echo_the_key(fake):
    wrong = "sk_test_wrong_key_9876543210"
    bad = StripeGateway(StripeConfig(api_key=wrong, api_base=fake.url, max_network_retries=0))
    with pytest.raises(StripeAuthenticationFailed) as caught:
        bad.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="topup-1")
    assert caught.value.http_status == 401
    assert "check the configured secret key" in str(caught.value)
    assert "9876543210" not in str(caught.value) and wrong not in repr(bad.config)


def test_a_declined_card_is_a_payment_declined(fake, gateway):
    customer = gateway.create_customer(name="Tom", email=None, wallet_id="wallet-tom", idempotency_key="cus-tom")
    with pytest.raises(PaymentDeclined) as caught:
        gateway.charge_saved_card(1_000, customer_id=customer, payment_method_id="pm_card_chargeDeclined",
                                  wallet_id="wallet-tom", idempotency_key="auto-topup-tom")
    assert caught.value.http_status == 402 and caught.value.code == "card_declined"
    assert str(caught.value).startswith(
        "Stripe declined to take the top-up from the saved card: Your card was declined.")


def test_rate_limits_and_outages_are_retryable(fake, gateway):
    fake.fail_next(429, "invalid_request_error", "Too many requests hit the API too quickly.", "rate_limit")
    with pytest.raises(StripeUnavailable) as caught:
        gateway.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="topup-1")
    assert caught.value.retryable and caught.value.http_status == 429
    fake.fail_next(503, "api_error", "Stripe is temporarily unavailable.")
    with pytest.raises(StripeUnavailable, match="try again shortly"):
        gateway.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="topup-1")
    # the key was not used up by the failures
    assert gateway.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="topup-1").amount == 2_500


def test_an_unreachable_stripe_is_retryable():
    with FakeStripe() as gone:
        url = gone.url
    dead = StripeGateway(StripeConfig(api_key="sk_test_x", api_base=url, max_network_retries=0, timeout_seconds=2))
    with pytest.raises(StripeUnavailable) as caught:
        dead.create_top_up(2_500, wallet_id="w", idempotency_key="k")
    assert caught.value.retryable


def test_gateway_logs_carry_no_secrets(fake, caplog):
    gateway = StripeGateway(StripeConfig(api_key=fake.api_key, api_base=fake.url, max_network_retries=0))
    with caplog.at_level(logging.DEBUG):
        intent = gateway.create_top_up(2_500, wallet_id="wallet-amira", idempotency_key="topup-1")
        with pytest.raises(StripeObjectNotFound):
            gateway.retrieve_card("ic_missing")
    assert fake.api_key not in caplog.text and intent.client_secret not in caplog.text
    assert fake.api_key not in repr(gateway) and fake.api_key not in repr(gateway.config)

"""Real-time card decisions (pure) and the JSON answer Stripe expects for issuing_authorization.request."""
from __future__ import annotations

import json

import pytest

from wallet.stripe_gateway import (
    AuthorizationRequest, CardControls, Decision, SpendingLimit, authorization_reply, decide_authorization,
)

SHOPPING = CardControls(
    blocked_categories=("betting_casino_gambling", "automated_cash_disburse"),
    spending_limits=(SpendingLimit(5_000, "per_authorization"), SpendingLimit(20_000, "weekly"),
                     SpendingLimit(60_000, "monthly"), SpendingLimit(1_500, "daily", ("taxicabs_limousines",))),
    blocked_merchant_countries=("RU",))


def request(amount: int, category: str = "grocery_stores_supermarkets", **over) -> AuthorizationRequest:
    data = dict(authorization_id="iauth_1", card_id="ic_1", amount=amount, currency="gbp",
                merchant_category=category, merchant_name="TESCO STORES 3108", merchant_country="GB")
    data.update(over)
    return AuthorizationRequest(**data)


def test_approves_within_balance_and_limits():
    decision = decide_authorization(request(2_350), 10_000, SHOPPING, {"weekly": 5_000, "monthly": 12_000})
    assert decision == Decision(True, "Approved: £23.50 at TESCO STORES 3108.", 2_350, "approved")


def test_declines_when_the_wallet_has_too_little_available():
    decision = decide_authorization(request(2_350), 2_000, SHOPPING)
    assert not decision.approved and decision.amount == 0 and decision.code == "insufficient_funds"
    assert decision.reason == "Declined: the wallet has £20.00 available and this payment is £23.50."


def test_a_negative_available_balance_counts_as_nothing():
    decision = decide_authorization(request(100), -500, CardControls())
    assert decision.code == "insufficient_funds" and "£0.00 available" in decision.reason


def test_declines_a_blocked_merchant_category():
    decision = decide_authorization(request(1_000, "betting_casino_gambling", merchant_name="LUCKY BETS"), 50_000,
                                    SHOPPING)
    assert not decision.approved and decision.code == "category_blocked"
    assert decision.reason == "Declined: this card cannot be used for betting casino gambling at LUCKY BETS."


def test_declines_a_category_outside_an_allow_list():
    pharmacy_only = CardControls(allowed_categories=("drug_stores_and_pharmacies",))
    assert decide_authorization(request(500, "drug_stores_and_pharmacies"), 5_000, pharmacy_only).approved
    decision = decide_authorization(request(500, "eating_places_restaurants"), 5_000, pharmacy_only)
    assert decision.code == "category_blocked" and "eating places restaurants" in decision.reason


def test_declines_over_the_per_payment_limit():
    decision = decide_authorization(request(5_001), 50_000, SHOPPING)
    assert decision.code == "over_payment_limit"
    assert decision.reason == "Declined: £50.01 is over this card's limit of £50.00 a payment."
    assert decide_authorization(request(5_000), 50_000, SHOPPING).approved


def test_declines_over_a_period_limit_given_what_was_spent():
    decision = decide_authorization(request(3_000), 50_000, SHOPPING, {"weekly": 18_000})
    assert decision.code == "over_period_limit"
    assert decision.reason == ("Declined: £30.00 would go over this card's weekly limit of £200.00 "
                               "(£180.00 spent this week, £20.00 left).")
    assert decide_authorization(request(2_000), 50_000, SHOPPING, {"weekly": 18_000}).approved
    monthly = decide_authorization(request(1_000), 50_000, SHOPPING, {"weekly": 0, "monthly": 59_500})
    assert monthly.code == "over_period_limit" and "monthly limit of £600.00" in monthly.reason


def test_a_limit_for_some_categories_applies_only_to_them():
    taxi = decide_authorization(request(1_200, "taxicabs_limousines"), 50_000, SHOPPING, {"daily": 800})
    assert taxi.code == "over_period_limit" and "daily limit of £15.00" in taxi.reason
    shop = decide_authorization(request(1_200), 50_000, SHOPPING, {"daily": 800})
    assert shop.approved


def test_declines_a_blocked_country():
    decision = decide_authorization(request(100, merchant_country="RU"), 5_000, SHOPPING)
    assert decision.code == "country_blocked"


def test_declines_a_currency_other_than_pounds():
    assert decide_authorization(request(100, currency="eur"), 5_000, SHOPPING).code == "wrong_currency"


def test_the_first_reason_wins_category_before_money():
    decision = decide_authorization(request(99_999, "betting_casino_gambling"), 0, SHOPPING)
    assert decision.code == "category_blocked"


def test_a_controllable_amount_is_approved_up_to_what_may_be_spent():
    fuel = request(8_000, "automated_fuel_dispensers", merchant_name="SHELL", amount_controllable=True)
    by_limit = decide_authorization(fuel, 50_000, SHOPPING)
    assert (by_limit.approved, by_limit.amount) == (True, 5_000)
    assert by_limit.reason == "Approved: £50.00 of £80.00 at SHELL, this card's limit of £50.00 a payment."
    by_balance = decide_authorization(fuel, 3_210, SHOPPING)
    assert (by_balance.approved, by_balance.amount) == (True, 3_210)
    assert "the money available in the wallet" in by_balance.reason
    by_period = decide_authorization(fuel, 50_000, SHOPPING, {"weekly": 19_000})
    assert (by_period.approved, by_period.amount) == (True, 1_000)
    nothing_left = decide_authorization(fuel, 0, SHOPPING)
    assert not nothing_left.approved and nothing_left.code == "insufficient_funds"


def test_a_zero_card_check_is_approved_without_money():
    decision = decide_authorization(request(0), 0, SHOPPING)
    assert decision.approved and decision.amount == 0 and "card check" in decision.reason


def test_request_is_read_from_stripes_authorization_object():
    obj = {"id": "iauth_9", "object": "issuing.authorization", "amount": 0, "approved": False,
           "card": {"id": "ic_9", "object": "issuing.card"}, "cardholder": "ich_9", "currency": "gbp",
           "merchant_data": {"category": "taxicabs_limousines", "name": "ADDISON LEE", "country": "GB"},
           "pending_request": {"amount": 1_840, "currency": "gbp", "is_amount_controllable": False,
                               "merchant_amount": 1_840, "merchant_currency": "gbp"},
           "status": "pending"}
    parsed = AuthorizationRequest.from_stripe(obj)
    assert parsed == AuthorizationRequest(authorization_id="iauth_9", card_id="ic_9", amount=1_840, currency="gbp",
                                          merchant_category="taxicabs_limousines", merchant_name="ADDISON LEE",
                                          merchant_country="GB", amount_controllable=False, cardholder_id="ich_9")
    with pytest.raises(ValueError, match="issuing.authorization"):
        AuthorizationRequest.from_stripe({"object": "charge"})


def test_reply_shape_for_an_approval():
    decision = decide_authorization(request(2_350), 10_000, SHOPPING)
    reply = authorization_reply(decision, request(2_350), stripe_version="2026-10-28.endive")
    assert reply.status == 200
    assert reply.headers == {"Stripe-Version": "2026-10-28.endive", "Content-Type": "application/json"}
    body = json.loads(reply.body)
    assert body == {"approved": True, "metadata": {"wallet_decision": "approved",
                                                   "wallet_reason": "Approved: £23.50 at TESCO STORES 3108."}}
    assert "amount" not in body  # only for controllable amounts


def test_reply_shape_for_a_decline_and_a_partial_approval():
    declined = authorization_reply(decide_authorization(request(2_350), 0, SHOPPING), request(2_350),
                                   stripe_version="v")
    assert declined.status == 200 and json.loads(declined.body)["approved"] is False
    fuel = request(8_000, "automated_fuel_dispensers", amount_controllable=True)
    partial = authorization_reply(decide_authorization(fuel, 3_000, SHOPPING), fuel, stripe_version="v")
    assert json.loads(partial.body)["amount"] == 3_000


def test_controls_refuse_contradictions():
    with pytest.raises(ValueError, match="not both"):
        CardControls(allowed_categories=("a_b",), blocked_categories=("c_d",))
    with pytest.raises(ValueError, match="interval"):
        SpendingLimit(100, "fortnightly")
    with pytest.raises(ValueError, match="whole number of pence"):
        SpendingLimit(-1, "daily")
    with pytest.raises(TypeError, match="list of names"):
        CardControls(blocked_categories="betting_casino_gambling")  # type: ignore[arg-type]


def test_controls_round_trip_through_stripes_shape():
    assert CardControls.from_stripe(SHOPPING.to_stripe()) == SHOPPING
    cleared = CardControls().to_stripe(for_update=True)
    assert cleared == {"allowed_categories": "", "blocked_categories": "", "allowed_merchant_countries": "",
                       "blocked_merchant_countries": "", "spending_limits": ""}
    assert CardControls().to_stripe() == {}

"""Card payments against the wallet's own ledger, through the fake Stripe server, on SQLite and PostgreSQL:
cards from the plan, real-time decisions with holds, captures, partial captures, reversals, refunds, decisions
kept with their reasons, and events processed exactly once (repeats, out-of-order, failures retried)."""
from __future__ import annotations

import json

import pytest

from tests.integration.stripe.test_webhooks import payment_intent_event
from wallet.domain import cards, plans
from wallet.domain.chart import Category
from wallet.domain.errors import InvalidRequest, PermissionDenied
from wallet.domain.unit_of_work import SYSTEM
from wallet.stripe_gateway import Address, CardholderDetails, SpendingLimit, hold_key
from wallet.stripe_gateway.store import Purse, StripeStore, period_starts
from wallet.stripe_gateway.tables import authorization_t, event_t

HOLDER = CardholderDetails("Asha", "Patel", Address("3 Park Row", "Leeds", "LS1 5HN"))


def make_card(world, gateway, *, category=Category.TRANSPORT, stream=None, key="card-1", **choices):
    return cards.issue_card(world.uow, gateway, world.wallet.id, actor=world.users["holder"],
                            stream_id=(stream or world.council).id, category=category, holder=HOLDER, key=key,
                            **choices)


def available(world, stream=None):
    return world.cash(stream or world.council).available


def posted(world, stream=None):
    return world.cash(stream or world.council).posted


def decisions(world):
    return cards.card_decisions(world.uow, world.wallet.id, actor=world.users["holder"])


def rows(world, table):
    with world.uow.db.read() as conn:
        return conn.execute(table.select()).all()


@pytest.fixture
def card(world, gateway):
    # Transport: £80.00 a four-weekly plan period -> £20.00 a week; at most £15.00 a payment; no gambling.
    return make_card(world, gateway, per_payment=1_500, blocked=["betting_casino_gambling"])


# ---------------------------------------------------------------- cards from the plan

def test_a_card_takes_its_controls_from_the_plan_line(fake, world, card):
    assert card.kind == "virtual" and card.status == "active" and card.category is Category.TRANSPORT
    assert card.controls.spending_limits == (SpendingLimit(1_500, "per_authorization"),
                                             SpendingLimit(2_000, "weekly"))
    assert card.controls.blocked_categories == ("betting_casino_gambling",)
    sent = fake.objects[card.stripe_card_id]["spending_controls"]
    assert sent["spending_limits"] == [{"amount": 1_500, "categories": None, "interval": "per_authorization"},
                                       {"amount": 2_000, "categories": None, "interval": "weekly"}]
    assert fake.objects[card.stripe_card_id]["metadata"] == {"wallet_id": world.wallet.id}
    assert cards.wallet_cards(world.uow, world.wallet.id, actor=world.users["appointee"]) == [card]


def test_issuing_again_with_the_same_key_gives_the_same_card(fake, world, gateway, card):
    again = make_card(world, gateway, per_payment=1_500, blocked=["betting_casino_gambling"])
    assert again == card and len(fake.of_type("issuing.card")) == 1


def test_a_physical_card_is_posted_to_the_address_given(fake, world, gateway):
    made = make_card(world, gateway, kind="physical", key="card-physical",
                     shipping_address=Address("3 Park Row", "Leeds", "LS1 5HN"))
    assert made.kind == "physical"
    assert fake.objects[made.stripe_card_id]["shipping"]["address"]["postal_code"] == "LS1 5HN"


def test_no_card_for_a_category_the_plan_has_no_line_for(world, gateway):
    with pytest.raises(InvalidRequest, match="no line for equipment"):
        make_card(world, gateway, category=Category.EQUIPMENT)


def test_a_family_overseer_cannot_issue_cards(world, gateway):
    with pytest.raises(PermissionDenied):
        cards.issue_card(world.uow, gateway, world.wallet.id, actor=world.users["overseer"],
                         stream_id=world.council.id, category=Category.TRANSPORT, holder=HOLDER, key="k")


# ---------------------------------------------------------------- decisions

def test_an_approved_payment_is_held_in_the_ledger_and_logged_with_its_reason(fake, world, card, ledger_endpoint):
    before = available(world)
    auth, delivery = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_250, merchant_name="FIRST BUS")
    assert delivery.status == 200 and delivery.json()["approved"] is True
    assert delivery.elapsed_ms < 2_000
    assert available(world) == before - 1_250 and posted(world) == 186_000
    hold = world.ledger.get_hold(world.ledger.holds(world.wallet.chart.cash(world.council.code))[0].id)
    assert hold.key == hold_key(auth["id"]) and hold.debit == world.wallet.chart.spend(Category.TRANSPORT, "s1")
    [logged] = decisions(world)
    assert (logged.approved, logged.amount, logged.status, logged.card_last4) == (True, 1_250, "held", card.last4)
    assert logged.reason == "Approved: £12.50 at FIRST BUS." and logged.merchant == "FIRST BUS"
    # the appointee sees the same
    assert cards.card_decisions(world.uow, world.wallet.id, actor=world.users["appointee"]) == [logged]


def test_a_payment_over_the_funders_available_money_is_declined(fake, world, gateway, ledger_endpoint):
    plans.set_budget_line(world.uow, world.wallet.id, category=Category.ACTIVITIES, stream_id=world.own.id,
                          planned_per_period=400_000, actor=SYSTEM)
    own_card = make_card(world, gateway, category=Category.ACTIVITIES, stream=world.own, key="card-own")
    _, delivery = fake.authorize(ledger_endpoint.url, own_card.stripe_card_id, 15_000, merchant_name="LEISURE")
    assert delivery.json()["approved"] is False
    assert delivery.json()["metadata"]["wallet_decision"] == "insufficient_funds"
    assert available(world, world.own) == 12_000
    [logged] = decisions(world)
    assert logged.reason == "Declined: the wallet has £120.00 available and this payment is £150.00."
    assert logged.status == "declined" and logged.approved_amount == 0


def test_a_blocked_category_is_declined(fake, world, card, ledger_endpoint):
    _, delivery = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 500,
                                 merchant_category="betting_casino_gambling", merchant_name="LUCKY BETS")
    assert delivery.json()["metadata"]["wallet_decision"] == "category_blocked"
    assert decisions(world)[0].reason == "Declined: this card cannot be used for betting casino gambling at LUCKY BETS."
    assert available(world) == 186_000


def test_the_limit_a_payment_is_applied(fake, world, card, ledger_endpoint):
    _, delivery = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_501)
    assert delivery.json()["metadata"]["wallet_decision"] == "over_payment_limit"


def test_the_weekly_limit_counts_what_the_card_already_spent(fake, world, card, ledger_endpoint):
    first, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_500)
    _, second = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 600)
    assert second.json()["metadata"]["wallet_decision"] == "over_period_limit"
    assert "(£15.00 spent this week, £5.00 left)" in second.json()["metadata"]["wallet_reason"]
    # a reversal gives the limit back
    fake.reverse(ledger_endpoint.url, first["id"])
    _, third = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 600)
    assert third.json()["approved"] is True


def test_limit_periods_start_at_midnight_sunday_the_first_and_new_year(world):
    from datetime import datetime, timezone
    starts = period_starts(datetime(2026, 4, 8, 15, 30, tzinfo=timezone.utc))   # a Wednesday
    assert starts == {"daily": datetime(2026, 4, 8, tzinfo=timezone.utc),
                      "weekly": datetime(2026, 4, 5, tzinfo=timezone.utc),
                      "monthly": datetime(2026, 4, 1, tzinfo=timezone.utc),
                      "yearly": datetime(2026, 1, 1, tzinfo=timezone.utc)}
    assert period_starts(datetime(2026, 4, 5, 0, 0, tzinfo=timezone.utc))["weekly"] == datetime(
        2026, 4, 5, tzinfo=timezone.utc)


def test_an_unknown_card_is_declined_and_logged_without_a_wallet(fake, world, gateway, ledger_receiver):
    other = gateway.issue_card(gateway.create_cardholder(HOLDER, wallet_id="x", idempotency_key="h2").id,
                               cards.plan_controls(plans.budget_lines(world.uow, world.wallet.id, actor=SYSTEM)[0],
                                                   "monthly"),
                               wallet_id="x", idempotency_key="c2")
    payload = json.dumps(fake.event("issuing_authorization.request", fake.authorization_request(other.id, 100)))
    reply = ledger_receiver.handle(payload.encode(), fake.sign(payload))
    assert reply.json()["metadata"]["wallet_decision"] == "unknown_card"
    [row] = rows(world, authorization_t)
    assert row.wallet_id is None and row.code == "unknown_card"


# ---------------------------------------------------------------- captures, reversals, refunds

def test_a_capture_posts_the_hold(fake, world, card, ledger_endpoint):
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_250)
    fake.capture(ledger_endpoint.url, auth["id"])
    assert posted(world) == 186_000 - 1_250 and available(world) == 186_000 - 1_250
    assert world.spent(Category.TRANSPORT, world.council) == 1_250
    assert world.ledger.holds(world.wallet.chart.cash("s1")) == []
    [logged] = decisions(world)
    assert (logged.status, logged.captured) == ("captured", 1_250)
    assert all(d.status == 200 for d in fake.deliveries)


def test_a_partial_capture_posts_part_and_releases_the_rest(fake, world, card, ledger_endpoint):
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_200)
    fake.capture(ledger_endpoint.url, auth["id"], 800)
    assert posted(world) == 186_000 - 800 and available(world) == 186_000 - 800
    assert world.spent(Category.TRANSPORT, world.council) == 800
    store = StripeStore(world.uow)
    assert store.spent(card.stripe_card_id, world.clock.now())["weekly"] == 800


def test_a_capture_bigger_than_the_hold_takes_what_was_taken(fake, world, card, ledger_endpoint):
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_000)
    fake.capture(ledger_endpoint.url, auth["id"], 1_150)   # a tip added after the authorisation
    assert posted(world) == 186_000 - 1_150 and available(world) == 186_000 - 1_150


def test_a_reversal_releases_the_hold(fake, world, card, ledger_endpoint):
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_000)
    fake.reverse(ledger_endpoint.url, auth["id"])
    assert available(world) == 186_000 and posted(world) == 186_000
    assert decisions(world)[0].status == "released"


def test_a_refund_returns_money_to_the_same_funder_and_category(fake, world, card, ledger_endpoint):
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_400)
    fake.capture(ledger_endpoint.url, auth["id"])
    fake.refund(ledger_endpoint.url, auth["id"], 400)
    assert posted(world) == 186_000 - 1_000 and world.spent(Category.TRANSPORT, world.council) == 1_000
    assert decisions(world)[0].refunded == 400


def test_stripe_declining_after_we_approved_releases_the_hold(fake, world, card, ledger_receiver):
    auth = fake.authorization_request(card.stripe_card_id, 900)
    payload = json.dumps(fake.event("issuing_authorization.request", auth))
    assert ledger_receiver.handle(payload.encode(), fake.sign(payload)).json()["approved"] is True
    assert available(world) == 186_000 - 900
    auth.update({"approved": False, "status": "closed", "pending_request": None})
    created = json.dumps(fake.event("issuing_authorization.created", auth))
    assert ledger_receiver.handle(created.encode(), fake.sign(created)).json() == {"received": True, "handled": True}
    assert available(world) == 186_000


# ---------------------------------------------------------------- exactly once

def send(receiver, fake, event):
    payload = json.dumps(event)
    return receiver.handle(payload.encode(), fake.sign(payload))


def test_a_repeated_authorization_request_gets_the_first_answer_one_hold_and_one_record(
        fake, world, card, ledger_receiver):
    event = fake.event("issuing_authorization.request", fake.authorization_request(card.stripe_card_id, 700))
    first = send(ledger_receiver, fake, event)
    again = send(ledger_receiver, fake, event)
    assert (first.duplicate, again.duplicate) == (False, True) and again.body == first.body
    assert again.headers["Stripe-Version"] == first.headers["Stripe-Version"]
    assert available(world) == 186_000 - 700
    assert len(rows(world, authorization_t)) == 1 and len(rows(world, event_t)) == 1


def test_a_repeated_capture_posts_once(fake, world, card, ledger_endpoint, ledger_receiver):
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_000)
    fake.capture(ledger_endpoint.url, auth["id"])
    capture = next(d.event for d in fake.deliveries if d.event["type"] == "issuing_transaction.created")
    assert send(ledger_receiver, fake, capture).duplicate
    # the same transaction under a new event id (Stripe resends an object, not an event) is still posted once
    assert send(ledger_receiver, fake, {**capture, "id": "evt_other"}).status == 200
    assert posted(world) == 186_000 - 1_000


def test_a_reversal_arriving_after_the_capture_changes_nothing(fake, world, card, ledger_endpoint, ledger_receiver):
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_000)
    reversed_event = fake.event("issuing_authorization.updated", {**auth, "status": "reversed", "amount": 0})
    fake.capture(ledger_endpoint.url, auth["id"])
    reply = send(ledger_receiver, fake, reversed_event)   # late: the capture came first
    assert reply.status == 200
    assert posted(world) == 186_000 - 1_000 and available(world) == 186_000 - 1_000


def test_a_capture_arriving_after_the_hold_was_released_is_still_posted(fake, world, card, ledger_endpoint):
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_000)
    fake.reverse(ledger_endpoint.url, auth["id"])
    assert available(world) == 186_000
    fake.capture(ledger_endpoint.url, auth["id"], 1_000)   # a late capture: the money left Stripe all the same
    assert posted(world) == 186_000 - 1_000 and available(world) == 186_000 - 1_000
    assert all(d.status == 200 for d in fake.deliveries)


def test_a_failed_event_is_rolled_back_not_recorded_and_processed_on_redelivery(fake, world, ledger_receiver):
    real = ledger_receiver.handlers["payment_intent.succeeded"]
    calls = []

    def flaky(event):
        calls.append(event["id"])
        real(event)   # posts the money ...
        if len(calls) == 1:
            raise RuntimeError("the database went away")   # ... then fails: nothing may stay

    ledger_receiver.handlers["payment_intent.succeeded"] = flaky
    intent = {**payment_intent_event(fake)["data"]["object"], "amount_received": 2_500,
              "metadata": {"wallet_id": world.wallet.id, "stream_id": world.own.id}}
    event = fake.event("payment_intent.succeeded", intent)
    assert send(ledger_receiver, fake, event).status == 500
    assert posted(world, world.own) == 12_000 and rows(world, event_t) == []
    retried = send(ledger_receiver, fake, event)
    assert retried.status == 200 and not retried.duplicate
    assert posted(world, world.own) == 12_000 + 2_500 and len(calls) == 2


def test_a_purse_names_the_wallet_funder_and_category():
    purse = Purse.parse("w-1|s2|transport")
    assert (purse.cash, purse.spend) == ("wallet-w-1:cash:s2", "wallet-w-1:spend:transport:s2")
    with pytest.raises(ValueError):
        Purse.parse("wallet-amira")


def test_payments_at_once_never_hold_more_than_the_funder_has(fake, world, gateway, ledger_receiver):
    from concurrent.futures import ThreadPoolExecutor

    plans.set_budget_line(world.uow, world.wallet.id, category=Category.ACTIVITIES, stream_id=world.own.id,
                          planned_per_period=400_000, actor=SYSTEM)
    own_card = make_card(world, gateway, category=Category.ACTIVITIES, stream=world.own, key="card-own")
    events = [fake.event("issuing_authorization.request", fake.authorization_request(own_card.stripe_card_id, 1_000))
              for _ in range(20)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda e: send(ledger_receiver, fake, e), events))
    approved = [r for r in replies if r.json()["approved"]]
    assert all(r.status == 200 for r in replies)
    assert len(approved) == 12            # £120.00 of own money, £10.00 a payment
    assert {r.json()["metadata"]["wallet_decision"] for r in replies if r not in approved} == {"insufficient_funds"}
    assert available(world, world.own) == 0 and posted(world, world.own) == 12_000
    assert len(rows(world, authorization_t)) == 20 and len(rows(world, event_t)) == 20

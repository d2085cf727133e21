"""Money in given back or taken back, and card payments beyond the money held, through the fake Stripe server
with webhooks signed by Stripe's own signing code: refunds (cumulative amounts, the difference posted once),
disputes (withdrawn, won, lost), shortfalls kept in the wallet's book with an alert, reconciliation without false
differences, and one payment's whole event sequence delivered five times over, shuffled. SQLite and PostgreSQL."""
from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from ledger.verify import verify
from tests.integration.stripe.test_ledger_ports import make_card
from tests.integration.stripe.test_mandates import deliver
from tests.integration.wallet.conftest import TODAY
from wallet.domain import alerts, cards, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.unit_of_work import SYSTEM
from wallet.stripe_gateway.reconcile import reconcile


def snap(obj):
    return copy.deepcopy(obj)


def paid_in(fake, gateway, world, ledger_receiver, amount=10_000, key="dd-1", wallet=None, stream=None):
    """A contribution by Direct Debit collected and succeeded; returns the payment intent."""
    customer = gateway.create_customer(name="Asha Patel", email=None, wallet_id=world.wallet.id,
                                       idempotency_key=f"{key}:customer")
    intent = gateway.collect_bacs_debit(amount, customer_id=customer, payment_method_id="pm_bacs_1",
                                        wallet_id=(wallet or world.wallet).id, stream_id=(stream or world.own).id,
                                        idempotency_key=key)
    deliver(ledger_receiver, fake, fake.event("payment_intent.succeeded", snap(fake.succeed_payment_intent(intent.id))))
    return fake.objects[intent.id]


def own(world):
    return world.cash(world.own)


def balance(world, code):
    return world.ledger.balance(code).posted


# ---------------------------------------------------------------- refunds

def test_partial_refunds_post_only_the_new_difference_once(fake, gateway, world, ledger_receiver):
    intent = paid_in(fake, gateway, world, ledger_receiver)
    assert own(world).posted == 22_000
    first, _ = fake.refund_charge(intent["id"], 1_500)
    first_event = fake.event("charge.refunded", snap(first))
    deliver(ledger_receiver, fake, first_event)
    assert deliver(ledger_receiver, fake, first_event).duplicate
    second, _ = fake.refund_charge(intent["id"], 2_000)     # amount_refunded is now 3,500
    second_event = fake.event("charge.refunded", snap(second))
    deliver(ledger_receiver, fake, second_event)
    deliver(ledger_receiver, fake, {**first_event, "id": "evt_first_again_late"})   # an older total, late
    deliver(ledger_receiver, fake, {**second_event, "id": "evt_second_resent"})
    assert own(world).posted == 22_000 - 3_500
    assert balance(world, world.wallet.chart.funding(world.own.code)) == 22_000 - 3_500
    entries = [world.ledger.entry_by_key(f"{world.wallet.book}:stripe:refund:{first['id']}:out:{n}")
               for n in (1_500, 3_500)]
    assert [e.description for e in entries] == ["Refund of a payment in (Own contribution)"] * 2


def test_a_refund_that_overtakes_its_payment_waits_for_it(fake, gateway, world, ledger_receiver):
    customer = gateway.create_customer(name="Asha Patel", email=None, wallet_id=world.wallet.id,
                                       idempotency_key="c")
    intent = gateway.collect_bacs_debit(8_000, customer_id=customer, payment_method_id="pm_bacs_1",
                                        wallet_id=world.wallet.id, stream_id=world.own.id, idempotency_key="dd-2")
    succeeded = fake.event("payment_intent.succeeded", snap(fake.succeed_payment_intent(intent.id)))
    charge, _ = fake.refund_charge(intent.id, 8_000)
    deliver(ledger_receiver, fake, fake.event("charge.refunded", snap(charge)))
    assert own(world).posted == 12_000      # nothing to reverse yet
    deliver(ledger_receiver, fake, succeeded)
    assert own(world).posted == 12_000      # paid in and fully refunded
    assert balance(world, world.wallet.chart.funding(world.own.code)) == 12_000


# ---------------------------------------------------------------- disputes

@pytest.mark.parametrize("outcome, expected", [("won", 22_000), ("lost", 22_000 - 10_000)])
def test_a_dispute_takes_the_money_out_once_and_a_win_returns_it(fake, gateway, world, ledger_receiver, outcome,
                                                                   expected):
    intent = paid_in(fake, gateway, world, ledger_receiver)
    dispute = fake.dispute(intent["id"])
    created = fake.event("charge.dispute.created", snap(dispute))
    withdrawn = fake.event("charge.dispute.funds_withdrawn", snap(dispute))
    for event in (created, withdrawn, created):
        deliver(ledger_receiver, fake, event)
    assert own(world).posted == 22_000 - 10_000
    closed = fake.event("charge.dispute.closed", snap(fake.close_dispute(dispute["id"], outcome)))
    deliver(ledger_receiver, fake, closed)
    deliver(ledger_receiver, fake, {**closed, "id": "evt_closed_again"})
    deliver(ledger_receiver, fake, {**withdrawn, "id": "evt_withdrawn_late"})
    assert own(world).posted == expected


def test_an_inquiry_takes_no_money_until_it_becomes_a_dispute(fake, gateway, world, ledger_receiver):
    intent = paid_in(fake, gateway, world, ledger_receiver)
    inquiry = fake.dispute(intent["id"], status="warning_needs_response")
    deliver(ledger_receiver, fake, fake.event("charge.dispute.created", snap(inquiry)))
    assert own(world).posted == 22_000
    deliver(ledger_receiver, fake, fake.event("charge.dispute.closed", {**snap(inquiry), "status": "warning_closed"}))
    assert own(world).posted == 22_000


def test_money_taken_back_after_it_was_spent_is_a_shortfall_with_an_alert(fake, gateway, world, ledger_receiver):
    intent = paid_in(fake, gateway, world, ledger_receiver, amount=10_000)
    # spend most of the own-contribution money first
    world.ledger.transfer("spend-own", world.wallet.chart.spend(Category.ACTIVITIES, world.own.code),
                          world.wallet.chart.cash(world.own.code), 20_000, actor=SYSTEM)
    dispute = fake.dispute(intent["id"])
    deliver(ledger_receiver, fake, fake.event("charge.dispute.created", snap(dispute)))
    shortfall = f"{world.wallet.book}:money-in-shortfall:{world.own.code}"
    assert own(world).posted == 0 and balance(world, shortfall) == 8_000
    [alert] = [a for a in alerts.alerts(world.uow, world.wallet.id, actor=world.users["holder"])
               if a.kind is alerts.AlertKind.MONEY_IN_SHORTFALL]
    assert "£80.00 more than the money held" in alert.message and alert.details["shortfall"] == 8_000
    assert [a.id for a in alerts.alerts(world.uow, world.wallet.id, actor=world.users["appointee"])
            if a.kind is alerts.AlertKind.MONEY_IN_SHORTFALL] == [alert.id]


# ---------------------------------------------------------------- card payments beyond the hold

@pytest.fixture
def own_card(world, gateway):
    plans.set_budget_line(world.uow, world.wallet.id, category=Category.ACTIVITIES, stream_id=world.own.id,
                          planned_per_period=400_000, actor=SYSTEM)
    return make_card(world, gateway, category=Category.ACTIVITIES, stream=world.own, key="card-own")


def test_a_capture_beyond_the_money_held_is_posted_with_the_shortfall_and_an_alert(
        fake, world, own_card, ledger_endpoint, ledger_receiver):
    auth, delivery = fake.authorize(ledger_endpoint.url, own_card.stripe_card_id, 11_000, merchant_name="CAFE")
    assert delivery.json()["approved"] is True
    fake.capture(ledger_endpoint.url, auth["id"], 13_500)    # a tip on top: more than the £120.00 held
    assert all(d.status == 200 for d in fake.deliveries)
    overspend = f"{world.wallet.book}:card-overspend:{world.own.code}"
    assert own(world).posted == 0 and balance(world, overspend) == 1_500
    assert world.spent(Category.ACTIVITIES, world.own) == 13_500
    [alert] = [a for a in alerts.alerts(world.uow, world.wallet.id, actor=world.users["holder"])
               if a.kind is alerts.AlertKind.CARD_OVERSPEND]
    assert alert.message == ("Card payment at CAFE of £135.00 was more than the money held from Own contribution: "
                             "£15.00 was paid beyond it and must be made good.")
    # repeated: posted and alerted once
    capture = next(d.event for d in fake.deliveries if d.event["type"] == "issuing_transaction.created")
    deliver(ledger_receiver, fake, {**capture, "id": "evt_capture_again"})
    assert balance(world, overspend) == 1_500
    assert len([a for a in alerts.alerts(world.uow, world.wallet.id, actor=SYSTEM)
                if a.kind is alerts.AlertKind.CARD_OVERSPEND]) == 1


def test_a_force_capture_with_no_authorisation_is_posted_and_a_card_refund_returns_money_once(
        fake, world, own_card, ledger_receiver):
    force = {"id": "ipi_force_1", "object": "issuing.transaction", "amount": -2_500, "authorization": None,
             "card": own_card.stripe_card_id, "created": fake.clock(), "currency": "gbp", "type": "capture",
             "merchant_data": {"name": "TAXI CO"}}
    event = fake.event("issuing_transaction.created", force)
    deliver(ledger_receiver, fake, event)
    deliver(ledger_receiver, fake, {**event, "id": "evt_force_again"})
    assert own(world).posted == 12_000 - 2_500
    refund = {**force, "id": "ipi_refund_1", "amount": 1_000, "type": "refund"}
    refund_event = fake.event("issuing_transaction.created", refund)
    for e in (refund_event, refund_event, {**refund_event, "id": "evt_refund_again"}):
        deliver(ledger_receiver, fake, e)
    assert own(world).posted == 12_000 - 1_500 and world.spent(Category.ACTIVITIES, world.own) == 1_500


# ---------------------------------------------------------------- reconciliation

def test_reconciliation_knows_refunds_disputes_and_card_shortfalls(fake, gateway, world, ledger_receiver, own_card,
                                                                    ledger_endpoint):
    intent = paid_in(fake, gateway, world, ledger_receiver)
    charge, _ = fake.refund_charge(intent["id"], 1_000)
    deliver(ledger_receiver, fake, fake.event("charge.refunded", snap(charge)))
    charge, _ = fake.refund_charge(intent["id"], 500)
    deliver(ledger_receiver, fake, fake.event("charge.refunded", snap(charge)))
    dispute = fake.dispute(intent["id"], 4_000)
    deliver(ledger_receiver, fake, fake.event("charge.dispute.created", snap(dispute)))
    deliver(ledger_receiver, fake, fake.event("charge.dispute.closed", snap(fake.close_dispute(dispute["id"], "won"))))
    auth, _ = fake.authorize(ledger_endpoint.url, own_card.stripe_card_id, 2_000)
    fake.capture(ledger_endpoint.url, auth["id"], 30_000)    # far beyond the money held
    now = datetime.fromtimestamp(fake.clock(), tz=timezone.utc)
    report = reconcile(world.uow, gateway, start=now - timedelta(hours=1), end=now + timedelta(hours=1))
    assert report.differences == ()
    # the charge, its two refunds together, the dispute's withdrawal and return together, the card capture
    assert report.matched == 4 and report.stripe_checked == 6


# ---------------------------------------------------------------- one payment's whole story, any order

def _twin(world, n):
    """Another wallet like the test wallet (same streams and funding), for a second run of the same story."""
    w = wallets.open_wallet(world.uow, holder=world.users["holder"], name=f"Twin {n}", budget_kind="direct_payment",
                            plan_start=TODAY, reference=f"twin-{n}", approval_threshold=25_000)
    council = wallets.set_funding_stream(world.uow, w.id, kind="council_adult_services", funder_ref="council:leeds",
                                         label="Leeds adult social care", schedule="four_weekly", amount=186_000,
                                         starts=TODAY, actor=SYSTEM)
    own_stream = wallets.set_funding_stream(world.uow, w.id, kind="client_contribution", funder_ref="holder",
                                            label="Own contribution", schedule="four_weekly", amount=12_000,
                                            starts=TODAY, actor=SYSTEM)
    wallets.record_funding(world.uow, w.id, council.id, 186_000, TODAY, actor=SYSTEM, key=f"twin-{n}-council")
    wallets.record_funding(world.uow, w.id, own_stream.id, 12_000, TODAY, actor=SYSTEM, key=f"twin-{n}-own")
    return wallets.get_wallet(world.uow, w.id, actor=SYSTEM), own_stream


def _retarget(event, suffix, wallet_id, stream_id):
    """The same event for another wallet: every Stripe id suffixed, the metadata pointing at that wallet."""
    text = json.dumps(event)
    for prefix in ("evt_", "pi_", "ch_", "du_", "re_"):
        text = text.replace(f'"{prefix}', f'"{prefix}{suffix}')
    out = json.loads(text)
    meta = out["data"]["object"].get("metadata")
    if meta and "wallet_id" in meta:
        meta.update(wallet_id=wallet_id, stream_id=stream_id)
    return out


def _book(world, wallet):
    return {a.code.split(":", 1)[1]: world.ledger.balance(a.code)
            for a in world.ledger.accounts(book=wallet.book)}


@pytest.mark.slow
def test_a_whole_payment_story_delivered_five_times_shuffled_ends_as_delivered_once_in_order(
        fake, gateway, world, ledger_receiver):
    customer = gateway.create_customer(name="Asha Patel", email=None, wallet_id=world.wallet.id,
                                       idempotency_key="story-customer")
    intent = gateway.collect_bacs_debit(12_000, customer_id=customer, payment_method_id="pm_bacs_1",
                                        wallet_id=world.wallet.id, stream_id=world.own.id, idempotency_key="story")
    story = [fake.event("payment_intent.processing", snap(fake.objects[intent.id])),
             fake.event("payment_intent.succeeded", snap(fake.succeed_payment_intent(intent.id)))]
    story.append(fake.event("charge.refunded", snap(fake.refund_charge(intent.id, 1_000)[0])))
    story.append(fake.event("charge.refunded", snap(fake.refund_charge(intent.id, 1_500)[0])))
    dispute = fake.dispute(intent.id, 5_000)
    story.append(fake.event("charge.dispute.created", snap(dispute)))
    story.append(fake.event("charge.dispute.funds_withdrawn", snap(dispute)))
    story.append(fake.event("charge.dispute.closed", snap(fake.close_dispute(dispute["id"], "lost"))))
    for i, event in enumerate(story):          # Stripe's times, one second apart, in the order it happened
        event["created"] = 1_780_000_000 + i

    for event in story:                        # once, in order: what the books must show
        deliver(ledger_receiver, fake, event)
    expected = _book(world, world.wallet)
    assert expected["cash:" + world.own.code].posted == 12_000 + 12_000 - 2_500 - 5_000
    [paid] = cards.payments_in(world.uow, world.wallet.id, actor=SYSTEM)

    for seed in (1, 2, 3):
        twin, twin_own = _twin(world, seed)
        copies = [_retarget(e, f"s{seed}x", twin.id, twin_own.id) for e in story] * 5
        random.Random(seed).shuffle(copies)
        replies = [deliver(ledger_receiver, fake, e) for e in copies]
        assert sum(not r.duplicate for r in replies) == len(story)
        got = _book(world, twin)
        assert {k: (v.posted, v.available) for k, v in got.items()} == {
            k: (v.posted, v.available) for k, v in expected.items()}, f"seed {seed}"
        [twin_paid] = cards.payments_in(world.uow, twin.id, actor=SYSTEM)
        assert (twin_paid.status, twin_paid.amount) == (paid.status, paid.amount)
    report = verify(world.uow.db)
    assert report.ok, report.fault

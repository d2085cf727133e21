"""Money in by card or Bacs Direct Debit (PaymentIntents): each successful payment posts once to the funding
stream it names; failures post nothing; events in any order. SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest

from wallet.domain import cards
from wallet.domain.errors import PermissionDenied


def send(receiver, fake, event):
    payload = json.dumps(event)
    return receiver.handle(payload.encode(), fake.sign(payload))


def own_posted(world):
    return world.cash(world.own).posted


def test_a_card_top_up_posts_once_to_the_stream_it_names(fake, gateway, world, ledger_receiver):
    secret = cards.start_top_up(world.uow, gateway, world.wallet.id, actor=world.users["holder"],
                                stream_id=world.own.id, amount=5_000, key="top-up-1")
    [intent] = fake.of_type("payment_intent")
    assert secret == intent["client_secret"]
    assert intent["metadata"] == {"wallet_id": world.wallet.id, "purpose": "top_up", "stream_id": world.own.id}
    [started] = cards.payments_in(world.uow, world.wallet.id, actor=world.users["holder"])
    assert (started.status, started.entry_id) == ("started", None) and own_posted(world) == 12_000
    event = fake.event("payment_intent.succeeded", fake.succeed_payment_intent(intent["id"]))
    assert send(ledger_receiver, fake, event).status == 200
    assert send(ledger_receiver, fake, event).duplicate
    assert send(ledger_receiver, fake, {**event, "id": "evt_resent_object"}).status == 200
    assert own_posted(world) == 12_000 + 5_000
    assert world.cash(world.council).posted == 186_000
    [paid] = cards.payments_in(world.uow, world.wallet.id, actor=world.users["appointee"])
    assert paid.status == "succeeded" and paid.entry_id is not None
    entry = world.ledger.entry(paid.entry_id)
    assert entry.reference == intent["id"] and entry.description == "Top-up paid by card (Own contribution)"


def test_a_failed_payment_posts_nothing_and_a_late_failure_never_undoes_a_success(fake, gateway, world,
                                                                                  ledger_receiver):
    cards.start_top_up(world.uow, gateway, world.wallet.id, actor=world.users["holder"], stream_id=world.own.id,
                       amount=3_000, key="top-up-2")
    [intent] = fake.of_type("payment_intent")
    failed = fake.event("payment_intent.payment_failed", dict(fake.fail_payment_intent(intent["id"])))
    assert send(ledger_receiver, fake, failed).status == 200
    [row] = cards.payments_in(world.uow, world.wallet.id, actor=world.users["holder"])
    assert (row.status, row.failure, row.entry_id) == ("failed", "Your card was declined.", None)
    assert own_posted(world) == 12_000
    # the person tries again and it succeeds; then an old failure is delivered late
    succeeded = fake.event("payment_intent.succeeded", dict(fake.succeed_payment_intent(intent["id"])))
    send(ledger_receiver, fake, succeeded)
    send(ledger_receiver, fake, {**failed, "id": "evt_late_failure"})
    [row] = cards.payments_in(world.uow, world.wallet.id, actor=world.users["holder"])
    assert row.status == "succeeded" and own_posted(world) == 12_000 + 3_000


def test_a_contribution_by_direct_debit_posts_when_bacs_collects_it(fake, gateway, world, ledger_receiver):
    customer = gateway.create_customer(name="Asha Patel", email=None, wallet_id=world.wallet.id,
                                       idempotency_key="customer-1")
    intent_id = cards.start_top_up(world.uow, gateway, world.wallet.id, actor=world.users["appointee"],
                                   stream_id=world.own.id, amount=12_000, key="dd-1",
                                   bacs={"customer_id": customer, "payment_method_id": "pm_bacs_1"})
    intent = fake.objects[intent_id]
    assert intent["status"] == "processing" and intent["payment_method_types"] == ["bacs_debit"]
    send(ledger_receiver, fake, fake.event("payment_intent.processing", dict(intent)))
    assert own_posted(world) == 12_000
    send(ledger_receiver, fake, fake.event("payment_intent.succeeded", dict(fake.succeed_payment_intent(intent_id))))
    [row] = cards.payments_in(world.uow, world.wallet.id, actor=world.users["holder"])
    assert (row.method, row.purpose, row.status) == ("bacs_debit", "client_contribution", "succeeded")
    assert own_posted(world) == 24_000
    assert world.ledger.entry(row.entry_id).description == "Contribution paid by Direct Debit (Own contribution)"


def test_a_contribution_without_a_stream_goes_to_the_client_contribution_stream(fake, world, ledger_receiver):
    intent = {"id": "pi_from_dashboard", "object": "payment_intent", "amount": 2_000, "amount_received": 2_000,
              "currency": "gbp", "status": "succeeded", "payment_method_types": ["bacs_debit"],
              "created": 1_770_000_000, "latest_charge": "ch_dashboard",
              "metadata": {"wallet_id": world.wallet.id, "purpose": "client_contribution"}}
    send(ledger_receiver, fake, fake.event("payment_intent.succeeded", intent))
    assert own_posted(world) == 14_000 and world.cash(world.council).posted == 186_000


def test_a_payment_for_no_wallet_of_ours_is_acknowledged_and_posts_nothing(fake, world, ledger_receiver):
    intent = {"id": "pi_elsewhere", "object": "payment_intent", "amount": 2_000, "currency": "gbp",
              "status": "succeeded", "metadata": {"wallet_id": "not-a-wallet"}}
    reply = send(ledger_receiver, fake, fake.event("payment_intent.succeeded", intent))
    assert reply.status == 200
    assert own_posted(world) == 12_000


def test_a_family_overseer_cannot_start_a_payment(fake, gateway, world):
    with pytest.raises(PermissionDenied):
        cards.start_top_up(world.uow, gateway, world.wallet.id, actor=world.users["overseer"],
                           stream_id=world.own.id, amount=1_000, key="x")
    assert fake.of_type("payment_intent") == []

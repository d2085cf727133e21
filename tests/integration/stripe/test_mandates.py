"""Bacs Direct Debit mandates for the client's own contribution, through the real stripe library against the fake
Stripe server, with webhooks signed by Stripe's own signing code: set-up, the mandate stored once (masked bank
details only), collection under it, revocation, and events in any order or repeated. SQLite and PostgreSQL."""
from __future__ import annotations

import copy
import json

import pytest
import stripe

from wallet.domain import cards
from wallet.domain.errors import InvalidRequest, PermissionDenied
from wallet.stripe_gateway.tables import mandate_t


def deliver(receiver, fake, event):
    """Sign the event as Stripe does (its own library's signing code) and hand it to the receiver."""
    payload = json.dumps(event)
    reply = receiver.handle(payload.encode(), stripe.WebhookSignature.generate_signature_header(
        payload, fake.webhook_secret))
    assert reply.status == 200, reply.body
    return reply


def own_posted(world):
    return world.cash(world.own).posted


def mandate_rows(world):
    with world.uow.db.read() as conn:
        return conn.execute(mandate_t.select().order_by(mandate_t.c.id)).all()


def set_up(fake, gateway, world, key="dd-setup-1"):
    setup_id, secret = cards.start_direct_debit(world.uow, gateway, world.wallet.id, actor=world.users["appointee"],
                                                stream_id=world.own.id, key=key, name="Asha Patel")
    fake.confirm_setup_intent(setup_id, sort_code="108800", account_number="00012345")
    return setup_id, secret


def succeeded_event(fake, setup_id):
    return fake.event("setup_intent.succeeded", copy.deepcopy(fake.objects[setup_id]))


def test_a_mandate_is_set_up_with_a_setup_intent_and_stored_when_it_succeeds(fake, gateway, world, ledger_receiver):
    setup_id, secret = set_up(fake, gateway, world)
    setup = fake.objects[setup_id]
    assert secret == setup["client_secret"] and setup["payment_method_types"] == ["bacs_debit"]
    assert setup["metadata"] == {"wallet_id": world.wallet.id, "purpose": "client_contribution",
                                 "stream_id": world.own.id}
    [pending] = cards.direct_debit_mandates(world.uow, world.wallet.id, actor=world.users["holder"])
    assert (pending.status, pending.mandate_id, pending.usable) == ("pending", None, False)
    event = succeeded_event(fake, setup_id)
    deliver(ledger_receiver, fake, event)
    assert deliver(ledger_receiver, fake, event).duplicate
    [mandate] = cards.direct_debit_mandates(world.uow, world.wallet.id, actor=world.users["holder"])
    assert mandate.status == "active" and mandate.usable and mandate.stream_id == world.own.id
    assert mandate.mandate_id == setup["mandate"]
    # the webhook carries ids only; the masked bank details are read back once the person has confirmed
    assert mandate.sort_code_masked is None
    finished = cards.finish_direct_debit(world.uow, gateway, world.wallet.id, setup_id, actor=world.users["holder"])
    assert (finished.sort_code_masked, finished.last4) == ("**-**-00", "2345")
    [row] = mandate_rows(world)
    stored = " ".join(str(v) for v in row)
    assert "108800" not in stored and "00012345" not in stored
    assert row.payment_method_id == setup["payment_method"]


def test_a_contribution_is_collected_under_the_stored_mandate_and_posted_once(fake, gateway, world, ledger_receiver):
    setup_id, _ = set_up(fake, gateway, world)
    deliver(ledger_receiver, fake, succeeded_event(fake, setup_id))
    intent_id = cards.collect_direct_debit(world.uow, gateway, world.wallet.id, actor=world.users["appointee"],
                                           stream_id=world.own.id, amount=6_000, key="dd-collect-1")
    intent = fake.objects[intent_id]
    setup = fake.objects[setup_id]
    assert intent["status"] == "processing" and intent["off_session"] is True
    assert (intent["payment_method"], intent["mandate"]) == (setup["payment_method"], setup["mandate"])
    [call] = fake.calls("POST", "/v1/payment_intents")
    assert call.params["confirm"] == "true" and call.params["payment_method_types"] == ["bacs_debit"]
    deliver(ledger_receiver, fake, fake.event("payment_intent.processing", copy.deepcopy(intent)))
    assert own_posted(world) == 12_000
    succeeded = fake.event("payment_intent.succeeded", copy.deepcopy(fake.succeed_payment_intent(intent_id)))
    deliver(ledger_receiver, fake, succeeded)
    deliver(ledger_receiver, fake, {**succeeded, "id": "evt_resent"})
    assert own_posted(world) == 18_000
    [paid] = cards.payments_in(world.uow, world.wallet.id, actor=world.users["holder"])
    assert (paid.method, paid.purpose, paid.status) == ("bacs_debit", "client_contribution", "succeeded")


def test_a_revoked_mandate_is_marked_and_cannot_be_collected_under(fake, gateway, world, ledger_receiver):
    setup_id, _ = set_up(fake, gateway, world)
    deliver(ledger_receiver, fake, succeeded_event(fake, setup_id))
    mandate = fake.revoke_mandate(fake.objects[setup_id]["mandate"])
    deliver(ledger_receiver, fake, fake.event("mandate.updated", copy.deepcopy(mandate)))
    [row] = cards.direct_debit_mandates(world.uow, world.wallet.id, actor=world.users["holder"])
    assert (row.status, row.reason, row.usable) == ("revoked", "account_closed", False)
    with pytest.raises(InvalidRequest, match="no active Direct Debit for Own contribution"):
        cards.collect_direct_debit(world.uow, gateway, world.wallet.id, actor=world.users["appointee"],
                                   stream_id=world.own.id, amount=6_000, key="dd-collect-2")
    assert fake.calls("POST", "/v1/payment_intents") == []


@pytest.mark.parametrize("order", ["revoked_first", "in_order"])
def test_a_mandate_update_before_the_setup_succeeded_is_not_lost(fake, gateway, world, ledger_receiver, order):
    setup_id, _ = set_up(fake, gateway, world)
    succeeded = succeeded_event(fake, setup_id)
    revoked = fake.event("mandate.updated", copy.deepcopy(fake.revoke_mandate(fake.objects[setup_id]["mandate"])))
    revoked["created"] = succeeded["created"] + 60
    events = [revoked, succeeded] if order == "revoked_first" else [succeeded, revoked]
    for event in events + events:   # and each again
        deliver(ledger_receiver, fake, event)
    [row] = mandate_rows(world)
    assert (row.status, row.setup_intent_id, row.mandate_id) == ("revoked", setup_id,
                                                                  fake.objects[setup_id]["mandate"])
    assert row.wallet_id is not None and row.payment_method_id == fake.objects[setup_id]["payment_method"]


def test_an_older_mandate_report_does_not_undo_a_newer_one(fake, gateway, world, ledger_receiver):
    setup_id, _ = set_up(fake, gateway, world)
    mandate = copy.deepcopy(fake.objects[fake.objects[setup_id]["mandate"]])
    pending = fake.event("mandate.updated", {**mandate, "status": "pending"})
    active = fake.event("mandate.updated", mandate)
    pending["created"], active["created"] = 100, 200
    deliver(ledger_receiver, fake, active)
    deliver(ledger_receiver, fake, pending)
    deliver(ledger_receiver, fake, succeeded_event(fake, setup_id))
    [row] = mandate_rows(world)
    assert row.status == "active"


def test_a_failed_setup_is_kept_as_failed_with_its_reason(fake, gateway, world, ledger_receiver):
    setup_id, _ = cards.start_direct_debit(world.uow, gateway, world.wallet.id, actor=world.users["holder"],
                                           stream_id=world.own.id, key="dd-fail", name="Asha Patel")
    failed = {**copy.deepcopy(fake.objects[setup_id]),
              "last_setup_error": {"message": "The bank account could not be verified."}}
    deliver(ledger_receiver, fake, fake.event("setup_intent.setup_failed", failed))
    [row] = cards.direct_debit_mandates(world.uow, world.wallet.id, actor=world.users["holder"])
    assert (row.status, row.reason) == ("failed", "The bank account could not be verified.")


def test_a_bacs_debit_that_fails_after_processing_posts_nothing_whatever_the_order(fake, gateway, world,
                                                                                  ledger_receiver):
    setup_id, _ = set_up(fake, gateway, world)
    deliver(ledger_receiver, fake, succeeded_event(fake, setup_id))
    intent_id = cards.collect_direct_debit(world.uow, gateway, world.wallet.id, actor=world.users["holder"],
                                           stream_id=world.own.id, amount=4_000, key="dd-fails")
    processing = fake.event("payment_intent.processing", copy.deepcopy(fake.objects[intent_id]))
    failed = fake.event("payment_intent.payment_failed", copy.deepcopy(
        fake.fail_payment_intent(intent_id, "The customer's bank account has insufficient funds.")))
    processing["created"], failed["created"] = 100, 200
    for event in (failed, processing, failed, processing):   # late and repeated
        deliver(ledger_receiver, fake, event)
    [row] = cards.payments_in(world.uow, world.wallet.id, actor=world.users["holder"])
    assert (row.status, row.entry_id) == ("failed", None)
    assert row.failure == "The customer's bank account has insufficient funds."
    assert own_posted(world) == 12_000 and world.ledger.entry_by_key(
        f"{world.wallet.book}:funding:{world.own.code}:stripe-{intent_id}") is None


def test_a_family_overseer_can_neither_set_up_nor_collect(fake, gateway, world):
    with pytest.raises(PermissionDenied):
        cards.start_direct_debit(world.uow, gateway, world.wallet.id, actor=world.users["overseer"],
                                 stream_id=world.own.id, key="x", name="Asha Patel")
    with pytest.raises(PermissionDenied):
        cards.collect_direct_debit(world.uow, gateway, world.wallet.id, actor=world.users["overseer"],
                                   stream_id=world.own.id, amount=1_000, key="y")
    assert fake.of_type("setup_intent") == [] and fake.of_type("customer") == []

"""Reconciliation: the fake Stripe's balance transactions against the ledger, every difference reported; the
scheduler's job and the `wallet stripe reconcile` command. SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from tests.integration.stripe.test_ledger_ports import make_card
from wallet.cli import cli
from wallet.domain import cards
from wallet.scheduler.jobs import JobContext, Occurrence, at, default_jobs
from wallet.scheduler.store import notices
from wallet.stripe_gateway.reconcile import reconcile, reconcile_job


def send(receiver, fake, event):
    payload = json.dumps(event)
    reply = receiver.handle(payload.encode(), fake.sign(payload))
    assert reply.status == 200
    return reply


def window(fake):
    now = datetime.fromtimestamp(fake.clock(), tz=timezone.utc)
    return now - timedelta(hours=1), now + timedelta(hours=1)


@pytest.fixture
def books(fake, gateway, world, ledger_receiver, ledger_endpoint):
    """A top-up paid in, a card payment captured and partly refunded: Stripe and the ledger agree."""
    cards.start_top_up(world.uow, gateway, world.wallet.id, actor=world.users["holder"], stream_id=world.own.id,
                       amount=5_000, key="top-up")
    [intent] = fake.of_type("payment_intent")
    send(ledger_receiver, fake, fake.event("payment_intent.succeeded", fake.succeed_payment_intent(intent["id"])))
    card = make_card(world, gateway, per_payment=1_500)
    auth, _ = fake.authorize(ledger_endpoint.url, card.stripe_card_id, 1_200)
    fake.capture(ledger_endpoint.url, auth["id"], 1_100)
    fake.refund(ledger_endpoint.url, auth["id"], 300)
    return world


def test_when_stripe_and_the_ledger_agree_there_is_no_difference(fake, gateway, books):
    start, end = window(fake)
    report = reconcile(books.uow, gateway, start=start, end=end)
    assert report.ok and report.differences == ()
    assert (report.stripe_checked, report.ledger_checked, report.matched) == (3, 3, 3)


def test_every_difference_is_reported(fake, gateway, books, ledger_receiver):
    world = books
    fake.add_balance_transaction(1_000, type_="charge", source="ch_nobody_posted")
    fake.add_balance_transaction(-5_000, type_="payout", source="po_1")
    fake.add_balance_transaction(-20, type_="stripe_fee", source=None)
    # a payment the ledger posted that Stripe never made
    ghost = {"id": "pi_ghost", "object": "payment_intent", "amount": 700, "amount_received": 700,
             "currency": "gbp", "status": "succeeded", "created": fake.clock(), "latest_charge": "ch_ghost",
             "metadata": {"wallet_id": world.wallet.id, "stream_id": world.own.id}}
    send(ledger_receiver, fake, fake.event("payment_intent.succeeded", ghost))
    # a payment whose event told the ledger less than Stripe took
    cards.start_top_up(world.uow, gateway, world.wallet.id, actor=world.users["holder"], stream_id=world.own.id,
                       amount=4_000, key="top-up-2")
    second = fake.of_type("payment_intent")[-1]
    told = {**fake.succeed_payment_intent(second["id"]), "amount_received": 3_500}
    send(ledger_receiver, fake, fake.event("payment_intent.succeeded", told))

    start, end = window(fake)
    report = reconcile(world.uow, gateway, start=start, end=end)
    found = {(d.kind, d.source): (d.stripe_amount, d.ledger_amount) for d in report.differences}
    assert found == {
        ("missing_in_ledger", "ch_nobody_posted"): (1_000, None),
        ("missing_in_stripe", "ch_ghost"): (None, 700),
        ("amount_differs", f"ch_for_{second['id']}"): (4_000, 3_500),
    }
    assert report.not_matched_types == {"payout": 1, "stripe_fee": 1}
    assert report.matched == 3 and not report.ok
    text = "\n".join(report.lines())
    assert "£40.00" in text and "£35.00" in text and "ch_nobody_posted" in text


def test_the_window_leaves_out_what_moved_outside_it(fake, gateway, books):
    start, _ = window(fake)
    report = reconcile(books.uow, gateway, start=start - timedelta(days=3), end=start - timedelta(days=2))
    assert report.ok and report.stripe_checked == 0 and report.ledger_checked == 0


def test_the_command_prints_the_report_and_exits_1_on_a_difference(fake, books, database_url, monkeypatch):
    monkeypatch.setenv("WALLET_STRIPE_SECRET_KEY", fake.api_key)
    monkeypatch.setenv("WALLET_STRIPE_API_BASE", fake.url)
    today = datetime.fromtimestamp(fake.clock(), tz=timezone.utc).date()
    args = ["--database-url", database_url, "stripe", "reconcile", "--from", f"{today - timedelta(days=1)}",
            "--to", f"{today + timedelta(days=1)}"]
    agreed = CliRunner().invoke(cli, args)
    assert agreed.exit_code == 0, agreed.output
    assert "3 matched, 0 differences" in agreed.output and fake.api_key not in agreed.output
    fake.add_balance_transaction(1_000, type_="charge", source="ch_nobody_posted")
    differs = CliRunner().invoke(cli, [*args, "--json"])
    assert differs.exit_code == 1
    assert json.loads(differs.output)["differences"][0]["kind"] == "missing_in_ledger"


def test_the_command_says_when_stripe_is_not_configured(monkeypatch, database_url):
    monkeypatch.delenv("WALLET_STRIPE_SECRET_KEY", raising=False)
    result = CliRunner().invoke(cli, ["--database-url", database_url, "stripe", "reconcile"])
    assert result.exit_code == 2 and "not configured" in result.output


def test_the_daily_job_is_registered_and_due_only_where_stripe_is_configured(fake, books, monkeypatch):
    assert "stripe_reconcile" in [j.name for j in default_jobs()]
    job = reconcile_job()
    ctx = JobContext(uow=books.uow, clock=books.clock)
    after, upto = datetime(2026, 1, 1, 7, tzinfo=timezone.utc), datetime(2026, 1, 3, 7, tzinfo=timezone.utc)
    monkeypatch.delenv("WALLET_STRIPE_SECRET_KEY", raising=False)
    assert job.due(ctx, after, upto) == []
    monkeypatch.setenv("WALLET_STRIPE_SECRET_KEY", fake.api_key)
    monkeypatch.setenv("WALLET_STRIPE_API_BASE", fake.url)
    due = job.due(ctx, after, upto)
    assert [(o.key, o.params["day"]) for o in due] == [("stripe_reconcile:2026-01-02", "2026-01-01"),
                                                       ("stripe_reconcile:2026-01-03", "2026-01-02")]
    today = datetime.fromtimestamp(fake.clock(), tz=timezone.utc).date()
    occ = Occurrence("stripe_reconcile", f"stripe_reconcile:{today + timedelta(days=1)}", at(today),
                     {"day": today.isoformat()})
    ctx.run_key = occ.key
    assert "3 matched, 0 differences" in job.run(ctx, occ)
    [notice] = notices(books.uow.db, kind="stripe_reconciliation")
    assert notice.details["matched"] == 3 and notice.details["differences"] == []

"""A local fake of Stripe's API, the real stripe library pointed at it, and in-memory wallet parts."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.integration.stripe.memory import MemoryCards, MemoryFunds, MemoryProcessedEvents
from tests.support.fake_stripe import FakeStripe, WebhookEndpoint
from wallet.stripe_gateway import StripeConfig, StripeGateway, WebhookReceiver

NOW = datetime(2026, 5, 14, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def fake():
    with FakeStripe() as server:
        yield server


@pytest.fixture
def gateway(fake):
    return StripeGateway(StripeConfig(api_key=fake.api_key, api_base=fake.url, max_network_retries=0))


@pytest.fixture
def funds():
    return MemoryFunds({"wallet-amira": 50_000, "wallet-tom": 1_000})


@pytest.fixture
def cards():
    return MemoryCards()


@pytest.fixture
def processed():
    return MemoryProcessedEvents()


@pytest.fixture
def receiver(fake, funds, cards, processed):
    return WebhookReceiver(secret=fake.webhook_secret, processed=processed, funds=funds, cards=cards,
                           clock=lambda: NOW)


@pytest.fixture
def endpoint(receiver):
    def handle(body: bytes, signature: str | None):
        reply = receiver.handle(body, signature)
        return reply.status, dict(reply.headers), reply.body

    with WebhookEndpoint(handle) as server:
        yield server


# ---------------------------------------------------------------- the wallet's database behind the ports
# The standard test wallet (tests/integration/wallet/conftest.py), on SQLite and PostgreSQL.
from tests.integration.wallet.conftest import uow, world  # noqa: E402,F401  (fixtures)
from wallet.stripe_gateway.service import LedgerWebhookReceiver  # noqa: E402


@pytest.fixture
def ledger_receiver(fake, world):
    return LedgerWebhookReceiver(world.uow, secret=fake.webhook_secret)


@pytest.fixture
def ledger_endpoint(ledger_receiver):
    def handle(body: bytes, signature: str | None):
        reply = ledger_receiver.handle(body, signature)
        return reply.status, dict(reply.headers), reply.body

    with WebhookEndpoint(handle) as server:
        yield server

"""The webhook receiver wired to the wallet's database: one transaction per event.

Everything an event does (the decision, the ledger hold, the decision's record, a capture's entry, a payment's
posting) and the record that the event was processed commit together. So an event is processed exactly once:
a repeat finds the record and gets the first answer; a failure rolls everything back, records nothing, and
Stripe's redelivery is processed afresh. Two deliveries of one event at once: the second waits for the first's
locks (or, on PostgreSQL, is retried after a key race) and then answers as a repeat.
"""
from __future__ import annotations

from typing import Any, Mapping

import stripe

from wallet.domain.unit_of_work import UnitOfWork
from wallet.stripe_gateway.authorization import WebhookReply
from wallet.stripe_gateway.money_in import DISPUTE_EVENTS, MANDATE_EVENTS, REFUND_EVENTS
from wallet.stripe_gateway.store import StripeStore
from wallet.stripe_gateway.webhooks import DEFAULT_TOLERANCE, WebhookReceiver

MONEY_IN_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
                   "payment_intent.processing")


class LedgerWebhookReceiver(WebhookReceiver):
    def __init__(self, uow: UnitOfWork, *, secret: str, stripe_version: str = stripe.api_version,
                 tolerance: int = DEFAULT_TOLERANCE, store: StripeStore | None = None):
        self.store = store or StripeStore(uow)
        handlers = {name: self.store.money_in for name in MONEY_IN_EVENTS}
        handlers.update({name: self.store.mandate_event for name in MANDATE_EVENTS})
        handlers.update({name: self.store.refund_event for name in REFUND_EVENTS})
        handlers.update({name: self.store.dispute_event for name in DISPUTE_EVENTS})
        super().__init__(secret=secret, processed=self.store, funds=self.store, cards=self.store,
                         decisions=self.store.decision_log, stripe_version=stripe_version, tolerance=tolerance,
                         clock=uow.clock.now, handlers=handlers)

    def process(self, event: dict[str, Any]) -> WebhookReply:
        return self.store.transaction(lambda: super(LedgerWebhookReceiver, self).process(event))

    def _on_transaction_created(self, obj: Mapping[str, Any]) -> bool:
        return self.store.card_transaction(obj)


def make_receiver(uow: UnitOfWork, secret: str, **kwargs: Any) -> LedgerWebhookReceiver:
    return LedgerWebhookReceiver(uow, secret=secret, **kwargs)

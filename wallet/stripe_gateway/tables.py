"""The Stripe edge's own tables (prefix ``stripe_``). Migration ``0007_stripe`` creates them
(``0013_stripe_mandates`` the mandates, refunds and disputes); ``tests/integration/stripe/test_schema.py``
checks the two agree.

Money is BIGINT pence and times integer microseconds (UTC), as in the ledger; ``stripe_created`` is Stripe's own
``created`` (Unix seconds), kept so reconciliation can ask Stripe for the same window. Nothing here holds a
balance: money is always read from the ledger, and each row names the ledger hold or entry it made.
"""
from __future__ import annotations

from sqlalchemy import (
    JSON, BigInteger, Boolean, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
)

BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()


def _id() -> Column:
    return Column("id", BigId, primary_key=True)


def _us(name: str, nullable: bool = False) -> Column:
    return Column(name, BigInteger, nullable=nullable)


card_t = Table(
    "stripe_card", metadata,
    _id(),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=False),
    Column("stream_id", BigInteger, ForeignKey("wallet_funding_stream.id"), nullable=False),
    Column("category", String(40), nullable=False),                 # the support-plan line the card spends on
    Column("stripe_card_id", String(64), nullable=False, unique=True),
    Column("cardholder_id", String(64), nullable=False),
    Column("kind", String(10), nullable=False),                     # virtual, physical
    Column("status", String(20), nullable=False),                   # active, inactive, canceled
    Column("last4", String(4), nullable=False),
    Column("controls", JSON, nullable=False),                       # CardControls.to_stripe()
    Column("created_by", String(64), nullable=False),
    _us("created_us"),
    Index("ix_stripe_card_wallet", "wallet_id"),
)

event_t = Table(
    "stripe_event", metadata,
    _id(),
    Column("event_id", String(255), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("reply", Text, nullable=False),                          # the body answered, replayed to a repeat
    _us("processed_us"),
)

authorization_t = Table(
    "stripe_authorization", metadata,
    _id(),
    Column("authorization_id", String(64), nullable=False, unique=True),
    Column("event_id", String(255), nullable=True),
    Column("card_id", BigInteger, ForeignKey("stripe_card.id"), nullable=True),   # none for a card we do not know
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=True),
    Column("stripe_card_id", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),                   # asked for
    Column("approved", Boolean, nullable=False),
    Column("approved_amount", BigInteger, nullable=False),
    Column("code", String(40), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("merchant_name", String(200), nullable=False),
    Column("merchant_category", String(100), nullable=False),
    Column("hold_id", String(36), nullable=True),
    Column("status", String(20), nullable=False),                   # declined, held, captured, released
    Column("counted", BigInteger, nullable=False),                  # what counts against the card's limits now
    Column("captured", BigInteger, nullable=False),
    Column("refunded", BigInteger, nullable=False),
    _us("decided_us"),
    Index("ix_stripe_authorization_card_at", "stripe_card_id", "decided_us"),
    Index("ix_stripe_authorization_wallet_at", "wallet_id", "decided_us"),
)

card_transaction_t = Table(
    "stripe_card_transaction", metadata,
    _id(),
    Column("transaction_id", String(64), nullable=False, unique=True),           # ipi_...
    Column("authorization_id", String(64), nullable=True),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=False),
    Column("kind", String(10), nullable=False),                     # capture, refund
    Column("amount", BigInteger, nullable=False),                   # pence, money out negative (Stripe's sign)
    Column("entry_id", String(36), nullable=False),
    Column("stripe_created", BigInteger, nullable=False),
    _us("recorded_us"),
    Index("ix_stripe_card_transaction_created", "stripe_created"),
)

payment_t = Table(
    "stripe_payment", metadata,
    _id(),
    Column("payment_intent_id", String(64), nullable=False, unique=True),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=False),
    Column("stream_id", BigInteger, ForeignKey("wallet_funding_stream.id"), nullable=False),
    Column("method", String(20), nullable=False),                   # card, bacs_debit
    Column("purpose", String(30), nullable=False),                  # top_up, client_contribution
    Column("amount", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),                   # started, succeeded, failed
    Column("charge_id", String(64), nullable=True),
    Column("entry_id", String(36), nullable=True),
    Column("failure", String(500), nullable=True),
    Column("stripe_created", BigInteger, nullable=True),
    _us("created_us"),
    _us("updated_us"),
    Column("status_created", BigInteger, nullable=True),            # Stripe time of the event behind the status
    Index("ix_stripe_payment_wallet", "wallet_id", "status"),
)

# Migration 0013_stripe_mandates: Direct Debit mandates, refunds and disputes of payments in.
mandate_t = Table(
    "stripe_mandate", metadata,
    _id(),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=True),     # none until known
    Column("stream_id", BigInteger, ForeignKey("wallet_funding_stream.id"), nullable=True),
    Column("setup_intent_id", String(64), nullable=True, unique=True),
    Column("mandate_id", String(64), nullable=True, unique=True),
    Column("customer_id", String(64), nullable=True),
    Column("payment_method_id", String(64), nullable=True),
    Column("sort_code_masked", String(8), nullable=True),           # **-**-56: never the whole sort code
    Column("last4", String(4), nullable=True),                      # of the account number
    Column("status", String(20), nullable=False),                   # pending, active, inactive, revoked, failed
    Column("status_created", BigInteger, nullable=True),            # Stripe time of the event that set it
    Column("reason", String(200), nullable=True),
    _us("created_us"),
    _us("updated_us"),
    Index("ix_stripe_mandate_wallet", "wallet_id", "stream_id"),
)

money_in_change_t = Table(
    "stripe_money_in_change", metadata,
    _id(),
    Column("kind", String(10), nullable=False),                     # refund (one row a charge), dispute
    Column("stripe_id", String(64), nullable=False),                # the charge refunded, or the dispute
    Column("payment_intent_id", String(64), nullable=False),
    Column("charge_id", String(64), nullable=True),
    Column("amount", BigInteger, nullable=False),                   # refunded so far (the most seen), or disputed
    Column("status", String(30), nullable=False),                   # Stripe's dispute status; "refunded"
    Column("withdrawn", Boolean, nullable=False),                   # a dispute: Stripe took the money
    Column("reinstated", Boolean, nullable=False),                  # a dispute: won, the money came back
    Column("posted_out", BigInteger, nullable=False),               # taken out of the wallet in the ledger
    Column("posted_back", BigInteger, nullable=False),              # put back
    Column("stripe_created", BigInteger, nullable=False),
    _us("updated_us"),
    UniqueConstraint("kind", "stripe_id", name="uq_stripe_money_in_change"),
    Index("ix_stripe_money_in_change_payment", "payment_intent_id"),
)

money_in_entry_t = Table(
    "stripe_money_in_entry", metadata,
    _id(),
    Column("change_id", BigInteger, ForeignKey("stripe_money_in_change.id"), nullable=False),
    Column("direction", String(4), nullable=False),                 # out, back
    Column("amount", BigInteger, nullable=False),                   # pence, Stripe's sign (out negative)
    Column("entry_id", String(36), nullable=False),
    Column("stripe_created", BigInteger, nullable=False),
    _us("recorded_us"),
    Index("ix_stripe_money_in_entry_created", "stripe_created"),
)

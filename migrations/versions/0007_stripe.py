"""Stripe: cards per wallet, processed webhook events, authorisation decisions, card captures and refunds,
money-in payments.

Revision ID: 0007_stripe
Revises: 0006_scheduler
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_stripe"
down_revision = "0006_scheduler"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _wallet_fk(nullable: bool = False) -> sa.Column:
    return sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "stripe_card",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        _wallet_fk(),
        sa.Column("stream_id", sa.BigInteger(), sa.ForeignKey("wallet_funding_stream.id"), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("stripe_card_id", sa.String(64), nullable=False, unique=True),
        sa.Column("cardholder_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("controls", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('virtual', 'physical')", name="ck_stripe_card_kind"),
    )
    op.create_index("ix_stripe_card_wallet", "stripe_card", ["wallet_id"])
    op.create_table(
        "stripe_event",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("event_id", sa.String(255), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("processed_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "stripe_authorization",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("authorization_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("card_id", sa.BigInteger(), sa.ForeignKey("stripe_card.id"), nullable=True),
        _wallet_fk(nullable=True),
        sa.Column("stripe_card_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("approved_amount", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("merchant_name", sa.String(200), nullable=False),
        sa.Column("merchant_category", sa.String(100), nullable=False),
        sa.Column("hold_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("counted", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("decided_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("approved_amount >= 0 AND counted >= 0 AND captured >= 0 AND refunded >= 0",
                           name="ck_stripe_authorization_amounts"),
        sa.CheckConstraint("status IN ('declined', 'held', 'captured', 'released')",
                           name="ck_stripe_authorization_status"),
    )
    op.create_index("ix_stripe_authorization_card_at", "stripe_authorization", ["stripe_card_id", "decided_us"])
    op.create_index("ix_stripe_authorization_wallet_at", "stripe_authorization", ["wallet_id", "decided_us"])
    op.create_table(
        "stripe_card_transaction",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("transaction_id", sa.String(64), nullable=False, unique=True),
        sa.Column("authorization_id", sa.String(64), nullable=True),
        _wallet_fk(),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("stripe_created", sa.BigInteger(), nullable=False),
        sa.Column("recorded_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('capture', 'refund')", name="ck_stripe_card_transaction_kind"),
    )
    op.create_index("ix_stripe_card_transaction_created", "stripe_card_transaction", ["stripe_created"])
    op.create_table(
        "stripe_payment",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("payment_intent_id", sa.String(64), nullable=False, unique=True),
        _wallet_fk(),
        sa.Column("stream_id", sa.BigInteger(), sa.ForeignKey("wallet_funding_stream.id"), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(30), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("charge_id", sa.String(64), nullable=True),
        sa.Column("entry_id", sa.String(36), nullable=True),
        sa.Column("failure", sa.String(500), nullable=True),
        sa.Column("stripe_created", sa.BigInteger(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_stripe_payment_amount"),
        sa.CheckConstraint("status IN ('started', 'succeeded', 'failed')", name="ck_stripe_payment_status"),
        # posted exactly when it succeeded
        sa.CheckConstraint("(status = 'succeeded') = (entry_id IS NOT NULL)", name="ck_stripe_payment_posted"),
    )
    op.create_index("ix_stripe_payment_wallet", "stripe_payment", ["wallet_id", "status"])


def downgrade() -> None:
    op.drop_table("stripe_payment")
    op.drop_table("stripe_card_transaction")
    op.drop_table("stripe_authorization")
    op.drop_table("stripe_event")
    op.drop_table("stripe_card")

"""Stripe money in: Bacs Direct Debit mandates, refunds and disputes of payments received.

Revision ID: 0013_stripe_mandates
Revises: 0012_payment_batches
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_stripe_mandates"
down_revision = "0012_payment_batches"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stripe_mandate",
        sa.Column("id", _BigId, primary_key=True),
        # unknown until setup_intent.succeeded when a mandate.updated arrives first
        sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=True),
        sa.Column("stream_id", sa.BigInteger(), sa.ForeignKey("wallet_funding_stream.id"), nullable=True),
        sa.Column("setup_intent_id", sa.String(64), nullable=True, unique=True),
        sa.Column("mandate_id", sa.String(64), nullable=True, unique=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("payment_method_id", sa.String(64), nullable=True),
        sa.Column("sort_code_masked", sa.String(8), nullable=True),
        sa.Column("last4", sa.String(4), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_created", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'active', 'inactive', 'revoked', 'failed')",
                           name="ck_stripe_mandate_status"),
    )
    op.create_index("ix_stripe_mandate_wallet", "stripe_mandate", ["wallet_id", "stream_id"])
    op.create_table(
        "stripe_money_in_change",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("stripe_id", sa.String(64), nullable=False),
        sa.Column("payment_intent_id", sa.String(64), nullable=False),
        sa.Column("charge_id", sa.String(64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("reinstated", sa.Boolean(), nullable=False),
        sa.Column("posted_out", sa.BigInteger(), nullable=False),
        sa.Column("posted_back", sa.BigInteger(), nullable=False),
        sa.Column("stripe_created", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('refund', 'dispute')", name="ck_stripe_money_in_change_kind"),
        sa.CheckConstraint("amount >= 0 AND posted_out >= 0 AND posted_back >= 0 AND posted_out <= amount "
                           "AND posted_back <= posted_out", name="ck_stripe_money_in_change_amounts"),
        sa.UniqueConstraint("kind", "stripe_id", name="uq_stripe_money_in_change"),
    )
    op.create_index("ix_stripe_money_in_change_payment", "stripe_money_in_change", ["payment_intent_id"])
    op.create_table(
        "stripe_money_in_entry",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("change_id", sa.BigInteger(), sa.ForeignKey("stripe_money_in_change.id"), nullable=False),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("stripe_created", sa.BigInteger(), nullable=False),
        sa.Column("recorded_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("direction IN ('out', 'back')", name="ck_stripe_money_in_entry_direction"),
    )
    op.create_index("ix_stripe_money_in_entry_created", "stripe_money_in_entry", ["stripe_created"])
    # a plain ADD COLUMN: SQLite would otherwise copy the table, and the payments must stay as they are
    op.add_column("stripe_payment", sa.Column("status_created", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("stripe_payment", "status_created")
    op.drop_table("stripe_money_in_entry")
    op.drop_table("stripe_money_in_change")
    op.drop_table("stripe_mandate")

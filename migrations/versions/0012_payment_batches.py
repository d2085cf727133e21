"""Payment batches kept in the database: bank payments out of a wallet, each line tied to the payable it settles.

A batch is made from a wallet's unpaid payables, exported once to a bank file (its format and SHA-256 kept),
and its lines confirmed paid one by one or all at once. Bank details are never stored in clear: each line keeps
them sealed (``payroll.sealed.FieldCipher``) and a masked form to show. ``payable_key`` names the debt a line
pays (pay run posting, kind, PA) and is unique, so one debt cannot sit in two batches.

Revision ID: 0012_payment_batches
Revises: 0011_ledger_write_path
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_payment_batches"
down_revision = "0011_ledger_write_path"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "wallet_payment_batch",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _money("created_us"),
        sa.Column("export_format", sa.String(20), nullable=True),
        sa.Column("export_digest", sa.String(64), nullable=True),
        sa.Column("exported_by", sa.String(64), nullable=True),
        _money("exported_us", nullable=True),
        _money("paid_us", nullable=True),
        sa.CheckConstraint("status IN ('created','exported','part_paid','paid')",
                           name="ck_wallet_payment_batch_status"),
        sa.CheckConstraint("(status = 'created') = (exported_us IS NULL)", name="ck_wallet_payment_batch_exported"),
        sa.Index("ix_wallet_payment_batch_wallet", "wallet_id", "id"),
    )
    op.create_table(
        "wallet_payment_batch_line",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("batch_id", sa.BigInteger(), sa.ForeignKey("wallet_payment_batch.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("payee_name", sa.String(200), nullable=False),
        sa.Column("account_masked", sa.String(40), nullable=False),
        sa.Column("account_sealed", sa.String(500), nullable=False),
        _money("amount"),
        sa.Column("reference", sa.String(18), nullable=False),
        sa.Column("posting_id", sa.BigInteger(), sa.ForeignKey("wallet_pay_run_posting.id"), nullable=True),
        sa.Column("employee_id", sa.String(64), nullable=False),         # '' unless net pay to one PA
        sa.Column("payable_entry_id", sa.String(36), nullable=False),
        sa.Column("payable_key", sa.String(200), nullable=False),
        sa.Column("settlement_entry_id", sa.String(36), nullable=True),
        sa.Column("paid_by", sa.String(64), nullable=True),
        _money("paid_us", nullable=True),
        sa.UniqueConstraint("payable_key", name="uq_wallet_payment_batch_line_payable"),
        sa.CheckConstraint("kind IN ('net_pay','hmrc','pension','supplier')",
                           name="ck_wallet_payment_batch_line_kind"),
        sa.CheckConstraint("amount > 0", name="ck_wallet_payment_batch_line_amount"),
        sa.CheckConstraint("(paid_us IS NULL) = (settlement_entry_id IS NULL)",
                           name="ck_wallet_payment_batch_line_paid"),
        sa.Index("ix_wallet_payment_batch_line_batch", "batch_id", "id"),
    )


def downgrade() -> None:
    op.drop_table("wallet_payment_batch_line")
    op.drop_table("wallet_payment_batch")

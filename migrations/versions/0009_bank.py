"""Bank statements: imports, lines, matches, remembered column mappings; monthly reports.

Revision ID: 0009_bank
Revises: 0008_evidence
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_bank"
down_revision = "0008_evidence"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bank_account",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=False),
        sa.Column("account_key", sa.String(64), nullable=False),     # a keyed hash: no account number is kept
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("last4", sa.String(4), nullable=True),
        sa.Column("stream_id", sa.BigInteger(), sa.ForeignKey("wallet_funding_stream.id"), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("wallet_id", "account_key", name="uq_bank_account_key"),
    )
    op.create_table(
        "bank_statement",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("bank_account.id"), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("bank", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("opening_balance", sa.BigInteger(), nullable=True),
        sa.Column("closing_balance", sa.BigInteger(), nullable=True),
        sa.Column("closing_on", sa.Date(), nullable=True),
        sa.Column("lines_in_file", sa.Integer(), nullable=False),
        sa.Column("lines_new", sa.Integer(), nullable=False),
        sa.Column("lines_duplicate", sa.Integer(), nullable=False),
        sa.Column("lines_matched", sa.Integer(), nullable=False),
        sa.Column("lines_suggested", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("imported_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_bank_statement_wallet", "bank_statement", ["wallet_id", "imported_us"])
    op.create_table(
        "bank_line",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("bank_account.id"), nullable=False),
        sa.Column("statement_id", sa.BigInteger(), sa.ForeignKey("bank_statement.id"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("payee", sa.String(200), nullable=True),
        sa.Column("bank_ref", sa.String(100), nullable=True),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=True),
        sa.Column("suggested_entry_id", sa.String(36), nullable=True),
        sa.Column("entry_on", sa.Date(), nullable=True),
        sa.Column("similarity", sa.Integer(), nullable=True),
        sa.Column("match_kind", sa.String(10), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_us", sa.BigInteger(), nullable=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        # A re-imported line is the same fingerprint: it is never stored twice.
        sa.UniqueConstraint("account_id", "fingerprint", name="uq_bank_line_fingerprint"),
        # A ledger entry is matched to at most one line of an account.
        sa.UniqueConstraint("account_id", "entry_id", name="uq_bank_line_entry"),
        sa.CheckConstraint("status IN ('matched', 'suggested', 'unmatched', 'explained')", name="ck_bank_line_status"),
        sa.CheckConstraint("(status = 'matched') = (entry_id IS NOT NULL)", name="ck_bank_line_matched"),
        sa.CheckConstraint("status <> 'explained' OR note IS NOT NULL", name="ck_bank_line_explained"),
        sa.CheckConstraint("amount <> 0", name="ck_bank_line_amount"),
    )
    op.create_index("ix_bank_line_wallet_status", "bank_line", ["wallet_id", "status"])
    op.create_index("ix_bank_line_account_booked", "bank_line", ["account_id", "booked_on"])
    op.create_table(
        "bank_csv_mapping",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("signature", sa.String(64), nullable=False, unique=True),
        sa.Column("bank", sa.String(100), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_bank_csv_mapping_bank", "bank_csv_mapping", ["bank"])
    op.create_table(
        "bank_upload",     # a CSV waiting for its column mapping; deleted when imported
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "report_monthly",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("generated_by", sa.String(64), nullable=False),
        sa.Column("generated_us", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("wallet_id", "month", name="uq_report_monthly"),
    )


def downgrade() -> None:
    op.drop_table("report_monthly")
    op.drop_table("bank_upload")
    op.drop_table("bank_csv_mapping")
    op.drop_table("bank_line")
    op.drop_table("bank_statement")
    op.drop_table("bank_account")

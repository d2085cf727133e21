"""Evidence attached to ledger entries, and provider invoices.

* ``wallet_provider_rate``: the rate and hours agreed with an agency or supplier for one support-plan line
  (what an invoice is checked against).
* ``wallet_invoice``: a provider's invoice against a payee and a plan line, paid through a payment request
  (so it is approved under the same two-person rules); the same payee, number and amount only once.
* ``wallet_evidence``: receipts, invoices, timesheets and payslips (files stored by their SHA-256), each row
  naming the ledger entry (or invoice) it supports and chained to the wallet's previous row by a hash.
  Append-only: the database refuses to change or remove a row.

Revision ID: 0008_evidence
Revises: 0007_stripe
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_evidence"
down_revision = "0007_stripe"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS = ("receipt", "invoice", "timesheet", "payslip", "other")
MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")


def _id() -> sa.Column:
    return sa.Column("id", BigId, primary_key=True)


def _uuid() -> sa.Column:
    return sa.Column("uuid", sa.String(36), nullable=False, unique=True)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _listed(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "wallet_provider_rate",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        _fk("payee_id", "wallet_payee.id"),
        _fk("budget_line_id", "wallet_budget_line.id"),
        _money("hourly_rate"),
        sa.Column("hours_per_period", sa.String(20), nullable=False),   # decimal text, as payroll keeps hours
        sa.Column("set_by", sa.String(64), nullable=False),
        _money("set_us"),
        sa.UniqueConstraint("payee_id", "budget_line_id", name="uq_wallet_provider_rate"),
        sa.CheckConstraint("hourly_rate > 0", name="ck_wallet_provider_rate_positive"),
    )
    op.create_table(
        "wallet_invoice",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        _fk("payee_id", "wallet_payee.id"),
        _fk("budget_line_id", "wallet_budget_line.id"),
        _fk("payment_request_id", "wallet_payment_request.id"),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("number_key", sa.String(100), nullable=False),       # upper case, no spaces: for duplicates
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),            # the last day invoiced, included
        sa.Column("hours", sa.String(20), nullable=False),
        _money("hourly_rate"),
        _money("amount"),
        _money("agreed_rate", nullable=True),
        sa.Column("allowed_hours", sa.String(20), nullable=True),     # the plan's hours for the period invoiced
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        _money("recorded_us"),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_reference", sa.String(100), nullable=True),
        sa.Column("paid_by", sa.String(64), nullable=True),
        _money("paid_us", nullable=True),
        sa.UniqueConstraint("payee_id", "number_key", "amount", name="uq_wallet_invoice_duplicate"),
        sa.UniqueConstraint("payment_request_id", name="uq_wallet_invoice_payment"),
        sa.CheckConstraint("amount > 0 AND hourly_rate > 0", name="ck_wallet_invoice_positive"),
        sa.CheckConstraint("period_end >= period_start", name="ck_wallet_invoice_period"),
    )
    op.create_index("ix_wallet_invoice_wallet", "wallet_invoice", ["wallet_id", "id"])
    op.create_table(
        "wallet_evidence",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=True),           # the ledger entry it supports
        _fk("invoice_id", "wallet_invoice.id", nullable=True),          # or the invoice (paid by an entry)
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("attached_by", sa.String(64), nullable=False),
        _money("attached_us"),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("wallet_id", "sequence", name="uq_wallet_evidence_sequence"),
        sa.CheckConstraint(_listed("kind", KINDS), name="ck_wallet_evidence_kind"),
        sa.CheckConstraint(_listed("media_type", MEDIA_TYPES), name="ck_wallet_evidence_media_type"),
        sa.CheckConstraint("entry_id IS NOT NULL OR invoice_id IS NOT NULL", name="ck_wallet_evidence_subject"),
        sa.CheckConstraint("size_bytes > 0 AND sequence > 0", name="ck_wallet_evidence_positive"),
    )
    op.create_index("ix_wallet_evidence_entry", "wallet_evidence", ["entry_id"])
    op.create_index("ix_wallet_evidence_invoice", "wallet_evidence", ["invoice_id"])
    for statement in (POSTGRES_GUARDS if op.get_bind().dialect.name == "postgresql" else SQLITE_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS wallet_evidence_refuse_change() CASCADE")
    op.drop_table("wallet_evidence")
    op.drop_table("wallet_invoice")
    op.drop_table("wallet_provider_rate")


# Evidence is a record: rows are added, never changed or removed (a later row can only add to it).
APPEND_ONLY = "evidence records are append-only"

SQLITE_GUARDS = [
    f"""CREATE TRIGGER wallet_evidence_no_{verb} BEFORE {verb.upper()} ON wallet_evidence
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"""
    for verb in ("update", "delete")
]

POSTGRES_GUARDS = [
    f"""CREATE FUNCTION wallet_evidence_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$""",
    """CREATE TRIGGER wallet_evidence_append_only BEFORE UPDATE OR DELETE ON wallet_evidence
       FOR EACH ROW EXECUTE FUNCTION wallet_evidence_refuse_change()""",
    """CREATE TRIGGER wallet_evidence_no_truncate BEFORE TRUNCATE ON wallet_evidence
       FOR EACH STATEMENT EXECUTE FUNCTION wallet_evidence_refuse_change()""",
]

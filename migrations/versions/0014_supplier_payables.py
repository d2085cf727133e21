"""Supplier payments paid by bank: payables that payment batches settle, and batches that can be cancelled.

* ``wallet_payee_bank_account``: a payee (agency, supplier) paid by bank transfer: the account sealed, a masked
  form to show, and the reference the payee asked for (at most 18 Bacs characters). One per payee.
* ``wallet_supplier_payable``: an approved payment to such a payee, owed until a payment batch line pays it. It
  names the ledger entry that recognised the spending into the payee's payable account, the ledger hold that keeps
  the funder's cash for it, and (once paid) the entry that paid it.
* ``wallet_payment_batch_cancellation``: a batch cancelled before it was paid: who, when, why, and for a batch
  already written to a bank file, the confirmation that the file was not sent. One per batch.
* ``wallet_payment_batch_line``: ``supplier_payable_id`` (the supplier payable a line pays) and ``released_us``
  (its batch was cancelled). ``payable_key`` stays unique among lines that are not released, so one debt is in
  at most one live batch, and a cancelled batch's debts can go into a new one.

Cancellation is a record of its own rather than a new ``status`` value: SQLite can change a CHECK constraint
only by rebuilding the table, and ``wallet_payment_batch`` is referenced by its lines (a rebuild would break
those references on a database that has batches). The line table is referenced by nothing, so it is rebuilt.

Revision ID: 0014_supplier_payables
Revises: 0013_stripe_mandates
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_supplier_payables"
down_revision = "0013_stripe_mandates"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LINE = "wallet_payment_batch_line"
OPEN_PAYABLE = "uq_wallet_payment_batch_line_open_payable"


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target), nullable=nullable)


def _line_columns(with_new_columns: bool) -> list:
    """The line table as 0012 made it (or with this migration's columns). SQLite rebuilds the table from this,
    so every CHECK constraint is carried over exactly."""
    columns = [
        sa.Column("id", BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        _fk("batch_id", "wallet_payment_batch.id"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("payee_name", sa.String(200), nullable=False),
        sa.Column("account_masked", sa.String(40), nullable=False),
        sa.Column("account_sealed", sa.String(500), nullable=False),
        _money("amount"),
        sa.Column("reference", sa.String(18), nullable=False),
        _fk("posting_id", "wallet_pay_run_posting.id", nullable=True),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("payable_entry_id", sa.String(36), nullable=False),
        sa.Column("payable_key", sa.String(200), nullable=False),
        sa.Column("settlement_entry_id", sa.String(36), nullable=True),
        sa.Column("paid_by", sa.String(64), nullable=True),
        _money("paid_us", nullable=True),
        sa.CheckConstraint("kind IN ('net_pay','hmrc','pension','supplier')",
                           name="ck_wallet_payment_batch_line_kind"),
        sa.CheckConstraint("amount > 0", name="ck_wallet_payment_batch_line_amount"),
        sa.CheckConstraint("(paid_us IS NULL) = (settlement_entry_id IS NULL)",
                           name="ck_wallet_payment_batch_line_paid"),
    ]
    if with_new_columns:
        columns += [
            _fk("supplier_payable_id", "wallet_supplier_payable.id", nullable=True),
            _money("released_us", nullable=True),
            *_new_checks(),
        ]
    else:
        columns.append(sa.UniqueConstraint("payable_key", name="uq_wallet_payment_batch_line_payable"))
    return columns


def _new_checks() -> list:
    return [
        # a paid line is never released (the money went), and a supplier line always names its payable
        sa.CheckConstraint("released_us IS NULL OR paid_us IS NULL", name="ck_wallet_payment_batch_line_released"),
        sa.CheckConstraint("(kind = 'supplier') = (supplier_payable_id IS NOT NULL)",
                           name="ck_wallet_payment_batch_line_supplier"),
    ]


OLD_COLUMNS = ("id, uuid, batch_id, kind, payee_name, account_masked, account_sealed, amount, reference, posting_id, "
               "employee_id, payable_entry_id, payable_key, settlement_entry_id, paid_by, paid_us")


def _rebuild_sqlite_lines(with_new_columns: bool) -> None:
    """SQLite cannot drop a constraint in place: make the table anew, copy the rows, swap it in. Nothing
    references the line table, so dropping the old one breaks no foreign key."""
    tmp = f"_new_{LINE}"
    op.create_table(tmp, *_line_columns(with_new_columns))
    op.execute(f"INSERT INTO {tmp} ({OLD_COLUMNS}) SELECT {OLD_COLUMNS} FROM {LINE}")
    op.drop_table(LINE)
    op.rename_table(tmp, LINE)
    op.create_index("ix_wallet_payment_batch_line_batch", LINE, ["batch_id", "id"])


def _open_payable_index() -> None:
    op.create_index(OPEN_PAYABLE, LINE, ["payable_key"], unique=True,
                    sqlite_where=sa.text("released_us IS NULL"), postgresql_where=sa.text("released_us IS NULL"))


def upgrade() -> None:
    op.create_table(
        "wallet_payee_bank_account",
        sa.Column("id", BigId, primary_key=True),
        _fk("payee_id", "wallet_payee.id"),
        sa.Column("account_name", sa.String(200), nullable=False),
        sa.Column("account_masked", sa.String(40), nullable=False),
        sa.Column("account_sealed", sa.String(500), nullable=False),
        sa.Column("reference", sa.String(18), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        _money("set_us"),
        sa.UniqueConstraint("payee_id", name="uq_wallet_payee_bank_account_payee"),
    )
    op.create_table(
        "wallet_supplier_payable",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        _fk("wallet_id", "wallet_wallet.id"),
        _fk("request_id", "wallet_payment_request.id"),
        _fk("payee_id", "wallet_payee.id"),
        _fk("stream_id", "wallet_funding_stream.id"),
        _money("amount"),
        sa.Column("payable_entry_id", sa.String(36), nullable=False),
        sa.Column("hold_id", sa.String(36), nullable=False),
        sa.Column("settlement_entry_id", sa.String(36), nullable=True),
        sa.Column("paid_by", sa.String(64), nullable=True),
        _money("created_us"),
        _money("paid_us", nullable=True),
        sa.UniqueConstraint("request_id", name="uq_wallet_supplier_payable_request"),
        sa.CheckConstraint("amount > 0", name="ck_wallet_supplier_payable_amount"),
        sa.CheckConstraint("(paid_us IS NULL) = (settlement_entry_id IS NULL)",
                           name="ck_wallet_supplier_payable_paid"),
        sa.Index("ix_wallet_supplier_payable_wallet", "wallet_id", "paid_us"),
    )
    op.create_table(
        "wallet_payment_batch_cancellation",
        sa.Column("id", BigId, primary_key=True),
        _fk("batch_id", "wallet_payment_batch.id"),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("bank_file_not_sent", sa.Boolean(), nullable=False),
        sa.Column("cancelled_by", sa.String(64), nullable=False),
        _money("cancelled_us"),
        sa.UniqueConstraint("batch_id", name="uq_wallet_payment_batch_cancellation_batch"),
        sa.CheckConstraint("reason <> ''", name="ck_wallet_payment_batch_cancellation_reason"),
    )
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_lines(with_new_columns=True)
    else:
        op.drop_constraint("uq_wallet_payment_batch_line_payable", LINE, type_="unique")
        op.add_column(LINE, _fk("supplier_payable_id", "wallet_supplier_payable.id", nullable=True))
        op.add_column(LINE, _money("released_us", nullable=True))
        for check in _new_checks():
            op.create_check_constraint(check.name, LINE, str(check.sqltext))
    _open_payable_index()


def downgrade() -> None:
    # Lines of cancelled batches and lines paying supplier payables have no place in the old table.
    op.execute(f"DELETE FROM {LINE} WHERE released_us IS NOT NULL OR supplier_payable_id IS NOT NULL")
    op.drop_index(OPEN_PAYABLE, table_name=LINE)
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_lines(with_new_columns=False)
    else:
        op.drop_constraint("ck_wallet_payment_batch_line_released", LINE, type_="check")
        op.drop_constraint("ck_wallet_payment_batch_line_supplier", LINE, type_="check")
        op.drop_column(LINE, "released_us")
        op.drop_column(LINE, "supplier_payable_id")
        op.create_unique_constraint("uq_wallet_payment_batch_line_payable", LINE, ["payable_key"])
    op.drop_table("wallet_payment_batch_cancellation")
    op.drop_table("wallet_supplier_payable")
    op.drop_table("wallet_payee_bank_account")

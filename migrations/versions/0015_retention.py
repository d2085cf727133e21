"""Data retention: access-log rows past their six-year keeping period may be removed, by the retention job only.

The access log stays append-only: an UPDATE is always refused, and so is a DELETE, unless both
* the row is more than six years old by the database's own clock (so a wrong application clock, or a
  ``--today`` in the future, cannot remove a recent row), and
* the deleting transaction has opened the retention gate: a row in ``wallet_retention_gate`` that the
  retention job inserts and removes again inside the same transaction (``wallet/retention.py``). It is never
  committed, so no other transaction ever sees the gate open, and a crash rolls it away with the work.
A stray ``DELETE FROM wallet_access_log`` therefore still fails, even for old rows. TRUNCATE stays refused.

Revision ID: 0015_retention
Revises: 0014_supplier_payables
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0015_retention"
down_revision = "0014_supplier_payables"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

APPEND_ONLY = "the access log is append-only"
GUARDED = ("the access log is append-only: only rows over six years old are removed, and only by the retention "
           "job")


def upgrade() -> None:
    op.create_table(
        "wallet_retention_gate",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("opened_us", sa.BigInteger(), nullable=False),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in (POSTGRES_UP if postgres else SQLITE_UP):
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in (POSTGRES_DOWN if postgres else SQLITE_DOWN):
        op.execute(statement)
    op.drop_table("wallet_retention_gate")


# Six years before now, in microseconds since the epoch, computed by the database.
_SQLITE_CUTOFF_US = "(CAST(strftime('%s', 'now', '-6 years') AS INTEGER) * 1000000)"
_POSTGRES_CUTOFF_US = "(extract(epoch FROM now() - interval '6 years') * 1000000)::bigint"

SQLITE_UP = [
    "DROP TRIGGER wallet_access_log_no_delete",
    f"""CREATE TRIGGER wallet_access_log_no_delete BEFORE DELETE ON wallet_access_log
        WHEN OLD.at_us >= {_SQLITE_CUTOFF_US} OR NOT EXISTS (SELECT 1 FROM wallet_retention_gate)
        BEGIN SELECT RAISE(ABORT, '{GUARDED}'); END""",
]

SQLITE_DOWN = [
    "DROP TRIGGER wallet_access_log_no_delete",
    f"""CREATE TRIGGER wallet_access_log_no_delete BEFORE DELETE ON wallet_access_log
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
]

POSTGRES_UP = [
    f"""CREATE FUNCTION wallet_access_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' AND OLD.at_us < {_POSTGRES_CUTOFF_US}
             AND EXISTS (SELECT 1 FROM wallet_retention_gate) THEN
            RETURN OLD;
          END IF;
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION '{GUARDED}';
          END IF;
          RAISE EXCEPTION '{APPEND_ONLY}';
        END $$""",
    "DROP TRIGGER wallet_access_log_append_only ON wallet_access_log",
    """CREATE TRIGGER wallet_access_log_append_only BEFORE UPDATE OR DELETE ON wallet_access_log
       FOR EACH ROW EXECUTE FUNCTION wallet_access_log_guard()""",
]

POSTGRES_DOWN = [
    "DROP TRIGGER wallet_access_log_append_only ON wallet_access_log",
    "DROP FUNCTION wallet_access_log_guard()",
    """CREATE TRIGGER wallet_access_log_append_only BEFORE UPDATE OR DELETE ON wallet_access_log
       FOR EACH ROW EXECUTE FUNCTION wallet_access_log_refuse_change()""",
]

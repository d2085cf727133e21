"""The scheduler: one leader's lease, a record of every job run (so nothing is done twice), each job's
watermark (so missed runs are caught up once after downtime), and the notices the jobs leave for people.

Revision ID: 0006_scheduler
Revises: 0005_live
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_scheduler"
down_revision = "0005_live"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    lease = op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("holder", sa.String(120), nullable=True),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),   # +1 at each change of holder (a fencing token)
        sa.Column("acquired_us", sa.BigInteger(), nullable=True),
        sa.Column("renewed_us", sa.BigInteger(), nullable=True),
    )
    op.bulk_insert(lease, [dict(name="scheduler", holder=None, expires_us=0, generation=0)])
    op.create_table(
        "scheduler_run",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("run_key", sa.String(200), nullable=False, unique=True),
        sa.Column("job", sa.String(60), nullable=False),
        sa.Column("due_us", sa.BigInteger(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),   # the lease generation it was started under
        sa.Column("started_us", sa.BigInteger(), nullable=False),
        sa.Column("finished_us", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('started', 'done', 'failed')", name="ck_scheduler_run_state"),
        sa.CheckConstraint("attempts >= 1", name="ck_scheduler_run_attempts"),
    )
    op.create_index("ix_scheduler_run_job_state", "scheduler_run", ["job", "state"])
    op.create_index("ix_scheduler_run_started", "scheduler_run", ["started_us"])
    op.create_table(
        "scheduler_job",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("checked_through_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "scheduler_notice",
        sa.Column("id", _BigId, primary_key=True),
        sa.Column("notice_key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(120), nullable=True),     # a wallet's uuid or a payroll employer's id
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_scheduler_notice_subject", "scheduler_notice", ["subject", "created_us"])


def downgrade() -> None:
    op.drop_table("scheduler_notice")
    op.drop_table("scheduler_job")
    op.drop_table("scheduler_run")
    op.drop_table("scheduler_lease")

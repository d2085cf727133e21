"""Scheduled payroll: HMRC submissions the scheduler sends, recorded durably in the database.

One row per message sent to HMRC's Transaction Engine (``hmrc_export.gateway.Submission``), recorded before it
is sent and updated as HMRC answers. ``purpose_key`` (the FPS of one pay run, the EPS of one tax month) is
unique: a second submission for the same purpose can never be recorded, so it can never be sent. The stored
message has its credentials redacted.

Revision ID: 0016_scheduled_payroll
Revises: 0015_retention
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0016_scheduled_payroll"
down_revision = "0015_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hmrc_submission",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("purpose_key", sa.String(200), nullable=True, unique=True),
        sa.Column("employer_id", sa.String(64), nullable=True),
        sa.Column("message_class", sa.String(60), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("irmark", sa.String(64), nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("response_endpoint", sa.String(500), nullable=True),
        sa.Column("poll_interval", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_hmrc_submission_state", "hmrc_submission", ["state"])


def downgrade() -> None:
    op.drop_index("ix_hmrc_submission_state", table_name="hmrc_submission")
    op.drop_table("hmrc_submission")

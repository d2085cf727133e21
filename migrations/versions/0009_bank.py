"""Reserved for bank statements and monthly reports.

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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

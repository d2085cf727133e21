"""Reserved for evidence on entries and provider invoices.

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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Reserved for Stripe's tables (cards, processed events, decisions, payments in).

Revision ID: 0007_stripe
Revises: 0006_scheduler
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_stripe"
down_revision = "0006_scheduler"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

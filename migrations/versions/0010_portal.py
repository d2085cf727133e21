"""Reserved for the portal's PA links and alert dismissals.

Revision ID: 0010_portal
Revises: 0009_bank
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_portal"
down_revision = "0009_bank"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

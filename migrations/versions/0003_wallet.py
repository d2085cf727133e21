"""The wallet service: wallets, funding streams, plans, payees, payment requests and approvals.

Revision ID: 0003_wallet
Revises: 0002_payroll
Create Date: 2026-11-23
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0003_wallet"
down_revision = "0002_payroll"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

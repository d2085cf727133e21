"""Portal: people linked to the PAs they are, dismissed alerts.

* ``wallet_relationship.role`` may now be ``personal_assistant``: a PA is related to the wallet that employs them.
* ``wallet_pa_link``: which payroll employee (``payroll_employee.uuid``) a PA's sign-in is, for one wallet.
* ``wallet_alert_dismissal``: who dismissed which alert, and when (each person dismisses for themselves).

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

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

OLD_ROLES = "role IN ('holder','appointee','family_overseer','support_manager','auditor')"
NEW_ROLES = "role IN ('holder','appointee','family_overseer','support_manager','auditor','personal_assistant')"


def _roles(check: str) -> None:
    """Replace the relationship role check (SQLite rebuilds the table: it cannot alter a constraint)."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("wallet_relationship", recreate="always") as batch:
            batch.drop_constraint("ck_wallet_relationship_role", type_="check")
            batch.create_check_constraint("ck_wallet_relationship_role", check)
    else:
        op.drop_constraint("ck_wallet_relationship_role", "wallet_relationship", type_="check")
        op.create_check_constraint("ck_wallet_relationship_role", "wallet_relationship", check)


def upgrade() -> None:
    _roles(NEW_ROLES)
    op.create_table(
        "wallet_pa_link",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("wallet_id", sa.BigInteger(), sa.ForeignKey("wallet_wallet.id"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("wallet_user.id"), nullable=False),
        sa.Column("employee_id", sa.String(64), nullable=False),
        sa.Column("linked_by", sa.String(64), nullable=False),
        sa.Column("linked_us", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("wallet_id", "employee_id", name="uq_wallet_pa_link_employee"),
    )
    op.create_index("ix_wallet_pa_link_user", "wallet_pa_link", ["user_id", "wallet_id"])
    op.create_table(
        "wallet_alert_dismissal",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("alert_id", sa.BigInteger(), sa.ForeignKey("wallet_alert.id"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("wallet_user.id"), nullable=False),
        sa.Column("dismissed_us", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("alert_id", "user_id", name="uq_wallet_alert_dismissal"),
    )


def downgrade() -> None:
    op.drop_table("wallet_alert_dismissal")
    op.drop_index("ix_wallet_pa_link_user", table_name="wallet_pa_link")
    op.drop_table("wallet_pa_link")
    # A PA's relationship has no place under the old check: it goes with the link that gave it meaning.
    op.execute("DELETE FROM wallet_relationship WHERE role = 'personal_assistant'")
    _roles(OLD_ROLES)

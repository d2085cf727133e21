"""The portal's sign-in: credentials (password hash, sealed two-factor secret) and sign-in attempts.

Revision ID: 0004_web
Revises: 0003_wallet
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_web"
down_revision = "0003_wallet"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_credential",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("login", sa.String(254), nullable=False, unique=True),   # e-mail address, lower case
        sa.Column("password_hash", sa.String(200), nullable=False),        # argon2id, salted
        sa.Column("totp_secret_sealed", sa.Text(), nullable=True),         # Fernet token, never in clear
        sa.Column("two_factor_required", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until_us", sa.BigInteger(), nullable=True),
        sa.Column("last_totp_step", sa.BigInteger(), nullable=True),      # refuses a replayed code
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("last_sign_in_us", sa.BigInteger(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("web_credential")

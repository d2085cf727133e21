"""The wallet service: wallets, funding streams, plans, payees, payment requests and approvals.

Also people and their relationships to wallets, the access log, alerts, and the record of which pay runs were
posted to which wallet and how they were settled. Balances are never stored here: they live in the ledger.

Revision ID: 0003_wallet
Revises: 0002_payroll
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_wallet"
down_revision = "0002_payroll"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", BigId, primary_key=True)


def _uuid() -> sa.Column:
    return sa.Column("uuid", sa.String(36), nullable=False, unique=True)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey(target), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


TABLES = ("wallet_access_log", "wallet_alert", "wallet_settlement", "wallet_pay_run_line", "wallet_pay_run_posting",
          "wallet_payment_decision", "wallet_payment_request", "wallet_payee", "wallet_relationship",
          "wallet_budget_line", "wallet_funding_stream", "wallet_wallet", "wallet_user")


def upgrade() -> None:
    op.create_table(
        "wallet_user",
        _id(), _uuid(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("staff_role", sa.String(32), nullable=True),
        sa.Column("organisation_ref", sa.String(200), nullable=True),
        _money("created_us"),
        sa.CheckConstraint("staff_role IS NULL OR staff_role IN ('payroll_admin','council_officer')",
                           name="ck_wallet_user_staff_role"),
    )
    op.create_table(
        "wallet_wallet",
        _id(), _uuid(),
        sa.Column("reference", sa.String(200), nullable=True, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        _fk("holder_user_id", "wallet_user.id"),
        sa.Column("budget_kind", sa.String(40), nullable=False),
        sa.Column("book", sa.String(200), nullable=False, unique=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("plan_period", sa.String(20), nullable=False),
        sa.Column("plan_start", sa.Date(), nullable=False),
        _money("approval_threshold"),
        sa.Column("surplus_weeks", sa.Integer(), nullable=False),
        _money("contingency_reserve"),
        sa.Column("insurance_renews_on", sa.Date(), nullable=True),
        sa.Column("payroll_employer_id", sa.String(64), nullable=True),
        sa.Column("next_stream_number", sa.Integer(), nullable=False),
        _money("created_us"),
        sa.CheckConstraint("budget_kind IN ('direct_payment','managed_account','individual_service_fund',"
                           "'personal_health_budget','council_managed')", name="ck_wallet_wallet_kind"),
        sa.CheckConstraint("plan_period IN ('four_weekly','monthly')", name="ck_wallet_wallet_period"),
        sa.CheckConstraint("approval_threshold >= 0 AND contingency_reserve >= 0 AND surplus_weeks > 0",
                           name="ck_wallet_wallet_limits"),
    )
    op.create_table(
        "wallet_funding_stream",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("funder_ref", sa.String(200), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("schedule", sa.String(20), nullable=False),
        _money("amount"),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=True),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        _money("created_us"),
        sa.UniqueConstraint("wallet_id", "code", name="uq_wallet_funding_stream_code"),
        sa.UniqueConstraint("wallet_id", "kind", "funder_ref", name="uq_wallet_funding_stream_funder"),
        sa.CheckConstraint("kind IN ('council_adult_services','council_childrens_services','nhs',"
                           "'independent_living_fund','client_contribution','other')",
                           name="ck_wallet_funding_stream_kind"),
        sa.CheckConstraint("schedule IN ('four_weekly','monthly','one_off')", name="ck_wallet_funding_stream_schedule"),
        sa.CheckConstraint("amount >= 0 AND grace_days >= 0", name="ck_wallet_funding_stream_amount"),
    )
    op.create_table(
        "wallet_budget_line",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        sa.Column("category", sa.String(40), nullable=False),
        _fk("stream_id", "wallet_funding_stream.id"),
        _money("planned_per_period"),
        sa.Column("label", sa.String(200), nullable=False),
        _money("created_us"),
        _money("updated_us"),
        sa.UniqueConstraint("wallet_id", "category", "stream_id", name="uq_wallet_budget_line"),
        sa.CheckConstraint("planned_per_period >= 0", name="ck_wallet_budget_line_amount"),
    )
    op.create_table(
        "wallet_relationship",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        _fk("user_id", "wallet_user.id"),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=False),
        _money("granted_us"),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        _money("revoked_us", nullable=True),
        sa.CheckConstraint("role IN ('holder','appointee','family_overseer','support_manager','auditor')",
                           name="ck_wallet_relationship_role"),
    )
    op.create_index("ix_wallet_relationship_user", "wallet_relationship", ["user_id", "wallet_id"])
    op.create_index("ix_wallet_relationship_wallet", "wallet_relationship", ["wallet_id"])
    op.create_table(
        "wallet_payee",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("employee_id", sa.String(64), nullable=True),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _money("created_us"),
        sa.UniqueConstraint("wallet_id", "kind", "name", name="uq_wallet_payee_name"),
        sa.CheckConstraint("kind IN ('pa','agency','supplier')", name="ck_wallet_payee_kind"),
    )
    op.create_table(
        "wallet_payment_request",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        sa.Column("client_key", sa.String(200), nullable=True),
        _fk("payee_id", "wallet_payee.id"),
        _fk("stream_id", "wallet_funding_stream.id"),
        _fk("budget_line_id", "wallet_budget_line.id", nullable=True),
        sa.Column("category", sa.String(40), nullable=False),
        _money("amount"),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        sa.Column("approval_reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hold_id", sa.String(36), nullable=True),
        sa.Column("entry_id", sa.String(36), nullable=True),
        _money("requested_us"),
        _money("decided_us", nullable=True),
        sa.UniqueConstraint("wallet_id", "client_key", name="uq_wallet_payment_request_key"),
        sa.CheckConstraint("amount > 0", name="ck_wallet_payment_request_amount"),
        sa.CheckConstraint("status IN ('awaiting_approval','paid','rejected','withdrawn')",
                           name="ck_wallet_payment_request_status"),
        # Money waiting for approval is always held in the ledger; money paid always has its entry.
        sa.CheckConstraint("status <> 'awaiting_approval' OR hold_id IS NOT NULL",
                           name="ck_wallet_payment_request_held"),
        sa.CheckConstraint("status <> 'paid' OR entry_id IS NOT NULL", name="ck_wallet_payment_request_paid"),
    )
    op.create_index("ix_wallet_payment_request_wallet_status", "wallet_payment_request", ["wallet_id", "status"])
    op.create_index("ix_wallet_payment_request_payee", "wallet_payment_request", ["payee_id", "status"])
    op.create_table(
        "wallet_payment_decision",
        _id(),
        _fk("request_id", "wallet_payment_request.id"),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=True),
        _money("decided_us"),
        sa.CheckConstraint("decision IN ('approved','rejected','withdrawn')", name="ck_wallet_payment_decision"),
        sa.CheckConstraint("decision <> 'rejected' OR (reason IS NOT NULL AND reason <> '')",
                           name="ck_wallet_payment_decision_reason"),
    )
    op.create_index("ix_wallet_payment_decision_request", "wallet_payment_decision", ["request_id"])
    op.create_table(
        "wallet_pay_run_posting",
        _id(),
        _fk("wallet_id", "wallet_wallet.id"),
        sa.Column("run_id", sa.String(64), nullable=False, unique=True),
        sa.Column("corrects", sa.String(64), nullable=True),
        _fk("stream_id", "wallet_funding_stream.id"),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=True),
        _money("wages_expense"),
        _money("net_pay"),
        _money("hmrc"),
        _money("pension"),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        _money("posted_us"),
        sa.CheckConstraint("wages_expense = net_pay + hmrc + pension", name="ck_wallet_pay_run_posting_balanced"),
    )
    op.create_table(
        "wallet_pay_run_line",
        _id(),
        _fk("posting_id", "wallet_pay_run_posting.id"),
        sa.Column("employee_id", sa.String(64), nullable=False),
        _money("net_pay"),
        sa.UniqueConstraint("posting_id", "employee_id", name="uq_wallet_pay_run_line"),
    )
    op.create_table(
        "wallet_settlement",
        _id(), _uuid(),
        _fk("posting_id", "wallet_pay_run_posting.id"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("employee_id", sa.String(64), nullable=False),
        _money("amount"),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("settled_by", sa.String(64), nullable=False),
        _money("settled_us"),
        sa.UniqueConstraint("posting_id", "kind", "employee_id", name="uq_wallet_settlement"),
        sa.CheckConstraint("kind IN ('net_pay','hmrc','pension')", name="ck_wallet_settlement_kind"),
        sa.CheckConstraint("amount > 0", name="ck_wallet_settlement_amount"),
    )
    op.create_table(
        "wallet_alert",
        _id(), _uuid(),
        _fk("wallet_id", "wallet_wallet.id"),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("cause", sa.String(200), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _money("raised_us"),
        sa.Column("dismissed_by", sa.String(64), nullable=True),
        _money("dismissed_us", nullable=True),
        sa.UniqueConstraint("wallet_id", "cause", name="uq_wallet_alert_cause"),
    )
    op.create_table(
        "wallet_access_log",
        _id(),
        _fk("wallet_id", "wallet_wallet.id", nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        _money("at_us"),
        sa.CheckConstraint("outcome IN ('done','denied','refused')", name="ck_wallet_access_log_outcome"),
    )
    op.create_index("ix_wallet_access_log_wallet_at", "wallet_access_log", ["wallet_id", "at_us"])
    dialect = op.get_bind().dialect.name
    for statement in (POSTGRES_GUARDS if dialect == "postgresql" else SQLITE_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS wallet_access_log_refuse_change() CASCADE")
    for table in TABLES:
        op.drop_table(table)


# The access log is evidence: rows are added, never changed or removed.
APPEND_ONLY = "the access log is append-only"

SQLITE_GUARDS = [
    f"""CREATE TRIGGER wallet_access_log_no_{verb} BEFORE {verb.upper()} ON wallet_access_log
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"""
    for verb in ("update", "delete")
]

POSTGRES_GUARDS = [
    f"""CREATE FUNCTION wallet_access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$""",
    """CREATE TRIGGER wallet_access_log_append_only BEFORE UPDATE OR DELETE ON wallet_access_log
       FOR EACH ROW EXECUTE FUNCTION wallet_access_log_refuse_change()""",
    """CREATE TRIGGER wallet_access_log_no_truncate BEFORE TRUNCATE ON wallet_access_log
       FOR EACH STATEMENT EXECUTE FUNCTION wallet_access_log_refuse_change()""",
]

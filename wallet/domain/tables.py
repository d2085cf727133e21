"""The wallet's own tables (prefix ``wallet_``). Migration ``0003_wallet`` creates them; these describe the same
columns for queries, and ``tests/integration/wallet/test_schema.py`` checks the two agree.

Money is BIGINT pence; times are integer microseconds since the Unix epoch (UTC), as in the ledger; calendar
days (plan starts, funding dates, renewal dates) are DATE. Public ids are UUID strings (``uuid``); integer keys
stay inside. Nothing here duplicates a ledger figure: balances and spending are always read from the ledger.
"""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer, MetaData, String,
                        Table, UniqueConstraint, text)

BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()


def _id() -> Column:
    return Column("id", BigId, primary_key=True)


def _uuid() -> Column:
    return Column("uuid", String(36), nullable=False, unique=True)


def _fk(name: str, target: str, nullable: bool = False) -> Column:
    return Column(name, BigInteger, ForeignKey(target), nullable=nullable)


def _money(name: str, nullable: bool = False) -> Column:
    return Column(name, BigInteger, nullable=nullable)


user_t = Table(
    "wallet_user", metadata,
    _id(), _uuid(),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("staff_role", String(32), nullable=True),          # payroll_admin, council_officer, or none
    Column("organisation_ref", String(200), nullable=True),   # a council officer's council (a funder_ref)
    _money("created_us"),
)

wallet_t = Table(
    "wallet_wallet", metadata,
    _id(), _uuid(),
    Column("reference", String(200), nullable=True, unique=True),   # an outside reference, e.g. a case number
    Column("name", String(200), nullable=False),
    _fk("holder_user_id", "wallet_user.id"),
    Column("budget_kind", String(40), nullable=False),
    Column("book", String(200), nullable=False, unique=True),       # the ledger book of this wallet
    Column("currency", String(3), nullable=False),
    Column("plan_period", String(20), nullable=False),
    Column("plan_start", Date, nullable=False),
    _money("approval_threshold"),
    Column("surplus_weeks", Integer, nullable=False),
    _money("contingency_reserve"),
    Column("insurance_renews_on", Date, nullable=True),
    Column("payroll_employer_id", String(64), nullable=True),
    Column("next_stream_number", Integer, nullable=False),
    _money("created_us"),
)

funding_stream_t = Table(
    "wallet_funding_stream", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    Column("code", String(20), nullable=False),                     # s1, s2...: names its ledger accounts
    Column("kind", String(40), nullable=False),
    Column("funder_ref", String(200), nullable=False),
    Column("label", String(200), nullable=False),
    Column("schedule", String(20), nullable=False),
    _money("amount"),
    Column("starts", Date, nullable=False),
    Column("ends", Date, nullable=True),
    Column("grace_days", Integer, nullable=False),
    _money("created_us"),
    UniqueConstraint("wallet_id", "code", name="uq_wallet_funding_stream_code"),
    UniqueConstraint("wallet_id", "kind", "funder_ref", name="uq_wallet_funding_stream_funder"),
)

budget_line_t = Table(
    "wallet_budget_line", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    Column("category", String(40), nullable=False),
    _fk("stream_id", "wallet_funding_stream.id"),
    _money("planned_per_period"),
    Column("label", String(200), nullable=False),
    _money("created_us"),
    _money("updated_us"),
    UniqueConstraint("wallet_id", "category", "stream_id", name="uq_wallet_budget_line"),
)

relationship_t = Table(
    "wallet_relationship", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    _fk("user_id", "wallet_user.id"),
    Column("role", String(32), nullable=False),
    Column("shares", JSON, nullable=False),                         # what a family overseer may see
    Column("granted_by", String(64), nullable=False),
    _money("granted_us"),
    Column("revoked_by", String(64), nullable=True),
    _money("revoked_us", nullable=True),
    Index("ix_wallet_relationship_user", "user_id", "wallet_id"),
    Index("ix_wallet_relationship_wallet", "wallet_id"),
)

payee_t = Table(
    "wallet_payee", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("employee_id", String(64), nullable=True),               # a PA's payroll employee id
    Column("reference", String(200), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    _money("created_us"),
    UniqueConstraint("wallet_id", "kind", "name", name="uq_wallet_payee_name"),
)

payment_request_t = Table(
    "wallet_payment_request", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    Column("client_key", String(200), nullable=True),
    _fk("payee_id", "wallet_payee.id"),
    _fk("stream_id", "wallet_funding_stream.id"),
    _fk("budget_line_id", "wallet_budget_line.id", nullable=True),
    Column("category", String(40), nullable=False),
    _money("amount"),
    Column("description", String(500), nullable=False),
    Column("reference", String(200), nullable=True),
    Column("requested_by", String(64), nullable=False),
    Column("on_behalf", Boolean, nullable=False),
    Column("approval_reasons", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("hold_id", String(36), nullable=True),
    Column("entry_id", String(36), nullable=True),
    _money("requested_us"),
    _money("decided_us", nullable=True),
    UniqueConstraint("wallet_id", "client_key", name="uq_wallet_payment_request_key"),
    Index("ix_wallet_payment_request_wallet_status", "wallet_id", "status"),
    Index("ix_wallet_payment_request_payee", "payee_id", "status"),
)

payment_decision_t = Table(
    "wallet_payment_decision", metadata,
    _id(),
    _fk("request_id", "wallet_payment_request.id"),
    Column("decision", String(20), nullable=False),                 # approved, rejected, withdrawn
    Column("decided_by", String(64), nullable=False),
    Column("reason", String(1000), nullable=True),
    _money("decided_us"),
    Index("ix_wallet_payment_decision_request", "request_id"),
)

pay_run_posting_t = Table(
    "wallet_pay_run_posting", metadata,
    _id(),
    _fk("wallet_id", "wallet_wallet.id"),
    Column("run_id", String(64), nullable=False, unique=True),
    Column("corrects", String(64), nullable=True),
    _fk("stream_id", "wallet_funding_stream.id"),
    Column("payment_date", Date, nullable=False),
    Column("entry_id", String(36), nullable=True),                  # none when every figure is zero
    _money("wages_expense"),
    _money("net_pay"),
    _money("hmrc"),
    _money("pension"),
    Column("fingerprint", String(64), nullable=False),
    _money("posted_us"),
)

pay_run_line_t = Table(
    "wallet_pay_run_line", metadata,
    _id(),
    _fk("posting_id", "wallet_pay_run_posting.id"),
    Column("employee_id", String(64), nullable=False),
    _money("net_pay"),
    UniqueConstraint("posting_id", "employee_id", name="uq_wallet_pay_run_line"),
)

settlement_t = Table(
    "wallet_settlement", metadata,
    _id(), _uuid(),
    _fk("posting_id", "wallet_pay_run_posting.id"),
    Column("kind", String(20), nullable=False),                     # net_pay, hmrc, pension
    Column("employee_id", String(64), nullable=False),              # '' for HMRC and pension
    _money("amount"),
    Column("entry_id", String(36), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("settled_by", String(64), nullable=False),
    _money("settled_us"),
    UniqueConstraint("posting_id", "kind", "employee_id", name="uq_wallet_settlement"),
)

alert_t = Table(
    "wallet_alert", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    Column("kind", String(30), nullable=False),
    Column("cause", String(200), nullable=False),
    Column("message", String(500), nullable=False),
    Column("details", JSON, nullable=False),
    _money("raised_us"),
    Column("dismissed_by", String(64), nullable=True),
    _money("dismissed_us", nullable=True),
    UniqueConstraint("wallet_id", "cause", name="uq_wallet_alert_cause"),
)

access_log_t = Table(
    "wallet_access_log", metadata,
    _id(),
    _fk("wallet_id", "wallet_wallet.id", nullable=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("outcome", String(10), nullable=False),                  # done, denied, refused
    Column("detail", String(500), nullable=False),
    _money("at_us"),
    Index("ix_wallet_access_log_wallet_at", "wallet_id", "at_us"),
)

# Migration 0010_portal: which payroll employee a PA's sign-in is, and who has dismissed which alert.
pa_link_t = Table(
    "wallet_pa_link", metadata,
    _id(),
    _fk("wallet_id", "wallet_wallet.id"),
    _fk("user_id", "wallet_user.id"),
    Column("employee_id", String(64), nullable=False),              # the payroll employee's id
    Column("linked_by", String(64), nullable=False),
    _money("linked_us"),
    UniqueConstraint("wallet_id", "employee_id", name="uq_wallet_pa_link_employee"),
    Index("ix_wallet_pa_link_user", "user_id", "wallet_id"),
)

alert_dismissal_t = Table(
    "wallet_alert_dismissal", metadata,
    _id(),
    _fk("alert_id", "wallet_alert.id"),
    _fk("user_id", "wallet_user.id"),
    _money("dismissed_us"),
    UniqueConstraint("alert_id", "user_id", name="uq_wallet_alert_dismissal"),
)

# Migration 0008_evidence: provider rates and invoices, and evidence attached to entries (append-only).
provider_rate_t = Table(
    "wallet_provider_rate", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    _fk("payee_id", "wallet_payee.id"),
    _fk("budget_line_id", "wallet_budget_line.id"),
    _money("hourly_rate"),
    Column("hours_per_period", String(20), nullable=False),         # decimal text, as payroll keeps hours
    Column("set_by", String(64), nullable=False),
    _money("set_us"),
    UniqueConstraint("payee_id", "budget_line_id", name="uq_wallet_provider_rate"),
)

invoice_t = Table(
    "wallet_invoice", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    _fk("payee_id", "wallet_payee.id"),
    _fk("budget_line_id", "wallet_budget_line.id"),
    _fk("payment_request_id", "wallet_payment_request.id"),
    Column("number", String(100), nullable=False),
    Column("number_key", String(100), nullable=False),
    Column("invoice_date", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("hours", String(20), nullable=False),
    _money("hourly_rate"),
    _money("amount"),
    _money("agreed_rate", nullable=True),
    Column("allowed_hours", String(20), nullable=True),
    Column("flags", JSON, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    _money("recorded_us"),
    Column("paid_on", Date, nullable=True),
    Column("paid_reference", String(100), nullable=True),
    Column("paid_by", String(64), nullable=True),
    _money("paid_us", nullable=True),
    UniqueConstraint("payee_id", "number_key", "amount", name="uq_wallet_invoice_duplicate"),
    UniqueConstraint("payment_request_id", name="uq_wallet_invoice_payment"),
    Index("ix_wallet_invoice_wallet", "wallet_id", "id"),
)

evidence_t = Table(
    "wallet_evidence", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    Column("sequence", Integer, nullable=False),
    Column("entry_id", String(36), nullable=True),
    _fk("invoice_id", "wallet_invoice.id", nullable=True),
    Column("kind", String(20), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("media_type", String(40), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("note", String(500), nullable=True),
    Column("attached_by", String(64), nullable=False),
    _money("attached_us"),
    Column("previous_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False),
    UniqueConstraint("wallet_id", "sequence", name="uq_wallet_evidence_sequence"),
    Index("ix_wallet_evidence_entry", "entry_id"),
    Index("ix_wallet_evidence_invoice", "invoice_id"),
)

# Migration 0012_payment_batches: bank payments out, each line tied to the payable it settles.
payment_batch_t = Table(
    "wallet_payment_batch", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    Column("status", String(20), nullable=False),                   # created, exported, part_paid, paid
    Column("created_by", String(64), nullable=False),
    _money("created_us"),
    Column("export_format", String(20), nullable=True),
    Column("export_digest", String(64), nullable=True),             # SHA-256 of the file sent to the bank
    Column("exported_by", String(64), nullable=True),
    _money("exported_us", nullable=True),
    _money("paid_us", nullable=True),
    Index("ix_wallet_payment_batch_wallet", "wallet_id", "id"),
)

payment_batch_line_t = Table(
    "wallet_payment_batch_line", metadata,
    _id(), _uuid(),
    _fk("batch_id", "wallet_payment_batch.id"),
    Column("kind", String(20), nullable=False),                     # net_pay, hmrc, pension, supplier
    Column("payee_name", String(200), nullable=False),
    Column("account_masked", String(40), nullable=False),
    Column("account_sealed", String(500), nullable=False),          # never in clear
    _money("amount"),
    Column("reference", String(18), nullable=False),
    _fk("posting_id", "wallet_pay_run_posting.id", nullable=True),
    Column("employee_id", String(64), nullable=False),
    Column("payable_entry_id", String(36), nullable=False),
    Column("payable_key", String(200), nullable=False),
    Column("settlement_entry_id", String(36), nullable=True),
    Column("paid_by", String(64), nullable=True),
    _money("paid_us", nullable=True),
    _fk("supplier_payable_id", "wallet_supplier_payable.id", nullable=True),    # 0014: a supplier's payable
    _money("released_us", nullable=True),                           # 0014: its batch was cancelled
    # one debt in at most one live batch (0014: a cancelled batch's lines are released)
    Index("uq_wallet_payment_batch_line_open_payable", "payable_key", unique=True,
          sqlite_where=text("released_us IS NULL"), postgresql_where=text("released_us IS NULL")),
    Index("ix_wallet_payment_batch_line_batch", "batch_id", "id"),
)

# Migration 0014_supplier_payables: suppliers paid by bank, their payables, cancelled payment batches.
payee_bank_account_t = Table(
    "wallet_payee_bank_account", metadata,
    _id(),
    _fk("payee_id", "wallet_payee.id"),
    Column("account_name", String(200), nullable=False),
    Column("account_masked", String(40), nullable=False),
    Column("account_sealed", String(500), nullable=False),          # never in clear
    Column("reference", String(18), nullable=False),                # what the payee sees on their statement
    Column("set_by", String(64), nullable=False),
    _money("set_us"),
    UniqueConstraint("payee_id", name="uq_wallet_payee_bank_account_payee"),
)

supplier_payable_t = Table(
    "wallet_supplier_payable", metadata,
    _id(), _uuid(),
    _fk("wallet_id", "wallet_wallet.id"),
    _fk("request_id", "wallet_payment_request.id"),
    _fk("payee_id", "wallet_payee.id"),
    _fk("stream_id", "wallet_funding_stream.id"),
    _money("amount"),
    Column("payable_entry_id", String(36), nullable=False),         # spending recognised into the payable
    Column("hold_id", String(36), nullable=False),                  # the funder's cash kept for it
    Column("settlement_entry_id", String(36), nullable=True),       # payable -> cash, once the bank paid
    Column("paid_by", String(64), nullable=True),
    _money("created_us"),
    _money("paid_us", nullable=True),
    UniqueConstraint("request_id", name="uq_wallet_supplier_payable_request"),
    Index("ix_wallet_supplier_payable_wallet", "wallet_id", "paid_us"),
)

payment_batch_cancellation_t = Table(
    "wallet_payment_batch_cancellation", metadata,
    _id(),
    _fk("batch_id", "wallet_payment_batch.id"),
    Column("reason", String(1000), nullable=False),
    Column("bank_file_not_sent", Boolean, nullable=False),
    Column("cancelled_by", String(64), nullable=False),
    _money("cancelled_us"),
    UniqueConstraint("batch_id", name="uq_wallet_payment_batch_cancellation_batch"),
)

# The retention job's gate (migration 0015_retention): a row inserted and removed inside the deleting transaction,
# which the access log's delete guard requires; never committed (wallet/retention.py).
retention_gate_t = Table(
    "wallet_retention_gate", metadata,
    Column("id", BigId, primary_key=True),
    Column("opened_us", BigInteger, nullable=False),
)

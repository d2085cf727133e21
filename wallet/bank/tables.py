"""The bank statement and monthly report tables (prefixes ``bank_`` and ``report_``), as migration ``0009_bank``
creates them; ``tests/integration/bank/test_schema.py`` checks the two agree.

Money is BIGINT pence (signed on bank lines: positive into the account); times are integer microseconds since
the Unix epoch (UTC); calendar days are DATE. No account number is stored: an account is known by a keyed hash
and shown by its last four digits.
"""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, CheckConstraint, Column, Date, ForeignKey, Index, Integer, LargeBinary,
                        MetaData, String, Table, UniqueConstraint)

BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

LINE_STATUSES = ("matched", "suggested", "unmatched", "explained")

bank_account_t = Table(
    "bank_account", metadata,
    Column("id", BigId, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=False),
    Column("account_key", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("last4", String(4), nullable=True),
    Column("stream_id", BigInteger, ForeignKey("wallet_funding_stream.id"), nullable=True),   # none: every funder
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("wallet_id", "account_key", name="uq_bank_account_key"),
)

bank_statement_t = Table(
    "bank_statement", metadata,
    Column("id", BigId, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=False),
    Column("account_id", BigInteger, ForeignKey("bank_account.id"), nullable=False),
    Column("format", String(10), nullable=False),
    Column("bank", String(100), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("opening_balance", BigInteger, nullable=True),
    Column("closing_balance", BigInteger, nullable=True),
    Column("closing_on", Date, nullable=True),
    Column("lines_in_file", Integer, nullable=False),
    Column("lines_new", Integer, nullable=False),
    Column("lines_duplicate", Integer, nullable=False),
    Column("lines_matched", Integer, nullable=False),
    Column("lines_suggested", Integer, nullable=False),
    Column("imported_by", String(64), nullable=False),
    Column("imported_us", BigInteger, nullable=False),
    Index("ix_bank_statement_wallet", "wallet_id", "imported_us"),
)

bank_line_t = Table(
    "bank_line", metadata,
    Column("id", BigId, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=False),
    Column("account_id", BigInteger, ForeignKey("bank_account.id"), nullable=False),
    Column("statement_id", BigInteger, ForeignKey("bank_statement.id"), nullable=False),   # the import that added it
    Column("fingerprint", String(64), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("description", String(500), nullable=False),
    Column("reference", String(200), nullable=True),
    Column("payee", String(200), nullable=True),
    Column("bank_ref", String(100), nullable=True),
    Column("balance", BigInteger, nullable=True),
    Column("status", String(12), nullable=False),
    Column("entry_id", String(36), nullable=True),             # the ledger entry it is matched to
    Column("suggested_entry_id", String(36), nullable=True),
    Column("entry_on", Date, nullable=True),                   # the matched or suggested entry's date
    Column("similarity", Integer, nullable=True),
    Column("match_kind", String(10), nullable=True),           # auto or manual
    Column("note", String(500), nullable=True),                # a person's explanation
    Column("decided_by", String(64), nullable=True),
    Column("decided_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("account_id", "fingerprint", name="uq_bank_line_fingerprint"),
    UniqueConstraint("account_id", "entry_id", name="uq_bank_line_entry"),
    CheckConstraint("status IN ('matched', 'suggested', 'unmatched', 'explained')", name="ck_bank_line_status"),
    CheckConstraint("(status = 'matched') = (entry_id IS NOT NULL)", name="ck_bank_line_matched"),
    CheckConstraint("status <> 'explained' OR note IS NOT NULL", name="ck_bank_line_explained"),
    CheckConstraint("amount <> 0", name="ck_bank_line_amount"),
    Index("ix_bank_line_wallet_status", "wallet_id", "status"),
    Index("ix_bank_line_account_booked", "account_id", "booked_on"),
)

bank_csv_mapping_t = Table(
    "bank_csv_mapping", metadata,
    Column("id", BigId, primary_key=True),
    Column("signature", String(64), nullable=False, unique=True),   # sha256 of the normalised heading row
    Column("bank", String(100), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("mapping", JSON, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_bank_csv_mapping_bank", "bank"),
)

bank_upload_t = Table(
    "bank_upload", metadata,
    Column("id", BigId, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

report_monthly_t = Table(
    "report_monthly", metadata,
    Column("id", BigId, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("wallet_id", BigInteger, ForeignKey("wallet_wallet.id"), nullable=False),
    Column("month", Date, nullable=False),
    Column("figures", JSON, nullable=False),
    Column("generated_by", String(64), nullable=False),
    Column("generated_us", BigInteger, nullable=False),
    UniqueConstraint("wallet_id", "month", name="uq_report_monthly"),
)

"""The ledger's tables. The migration in ``migrations/versions`` creates them with the database's own guards
(append-only triggers, zero-sum check, floor check); these classes describe the same columns for queries.

Times are integer microseconds since the Unix epoch (UTC): exact, portable and cheap to index.
"""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _money(**kw: Any) -> Any:
    return Field(sa_column=Column(BigInteger, nullable=kw.pop("nullable", False), **kw))


class BookRow(SQLModel, table=True):
    """A book is one hash chain of entries (one per wallet, say), so writers of different books never wait
    on each other."""

    __tablename__ = "ledger_book"
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    code: str = Field(max_length=200, unique=True)
    head_hash: str = Field(max_length=64)
    entry_count: int = _money(default=0)
    created_us: int = _money()


class AccountRow(SQLModel, table=True):
    __tablename__ = "ledger_account"
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    uuid: str = Field(max_length=36, unique=True)
    code: str = Field(max_length=200, unique=True)
    book_id: int = Field(sa_column=Column(BigInteger, ForeignKey("ledger_book.id"), nullable=False))
    type: str = Field(max_length=16)
    normal_side: str = Field(max_length=6)
    currency: str = Field(max_length=3)
    floor: Optional[int] = _money(nullable=True)
    owner_ref: Optional[str] = Field(default=None, max_length=200, index=True)
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=6)
    balance: int = _money(default=0)
    held: int = _money(default=0)
    posting_count: int = _money(default=0)
    last_day: Optional[int] = Field(default=None, sa_column=Column(Integer, nullable=True))
    created_us: int = _money()
    closed_us: Optional[int] = _money(nullable=True)


class EntryRow(SQLModel, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (UniqueConstraint("book_id", "book_seq"),)
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    uuid: str = Field(max_length=36, unique=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    request_hash: str = Field(max_length=64)
    book_id: int = Field(sa_column=Column(BigInteger, ForeignKey("ledger_book.id"), nullable=False))
    book_seq: int = _money()
    effective_us: int = _money()
    recorded_us: int = _money()
    description: str = Field(max_length=500)
    reference: Optional[str] = Field(default=None, max_length=200, index=True)
    actor: Optional[str] = Field(default=None, max_length=200)
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reverses_entry_id: Optional[int] = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("ledger_entry.id"), unique=True))
    hold_id: Optional[int] = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("ledger_hold.id"), unique=True))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class PostingRow(SQLModel, table=True):
    __tablename__ = "ledger_posting"
    __table_args__ = (
        UniqueConstraint("account_id", "account_seq"),
        Index("ix_ledger_posting_account_effective", "account_id", "effective_us"),
    )
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    entry_id: int = Field(sa_column=Column(
        BigInteger, ForeignKey("ledger_entry.id", deferrable=True, initially="DEFERRED"),
        nullable=False, index=True))
    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("ledger_account.id"), nullable=False))
    amount: int = _money()
    currency: str = Field(max_length=3)
    account_seq: int = _money()
    balance_after: int = _money()
    effective_us: int = _money()


class HoldRow(SQLModel, table=True):
    __tablename__ = "ledger_hold"
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    uuid: str = Field(max_length=36, unique=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    request_hash: str = Field(max_length=64)
    debit_account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("ledger_account.id"), nullable=False))
    credit_account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("ledger_account.id"), nullable=False))
    reserves_debit: bool
    reserves_credit: bool
    amount: int = _money()
    currency: str = Field(max_length=3)
    status: str = Field(max_length=10)
    expires_us: Optional[int] = _money(nullable=True)
    created_us: int = _money()
    description: str = Field(max_length=500)
    reference: Optional[str] = Field(default=None, max_length=200)
    actor: Optional[str] = Field(default=None, max_length=200)
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    resolved_us: Optional[int] = _money(nullable=True)
    resolved_key: Optional[str] = Field(default=None, max_length=200, unique=True)
    committed_amount: Optional[int] = _money(nullable=True)


class AccountDayRow(SQLModel, table=True):
    """Closing balance of an account at the end of each UTC day it had postings effective on: the
    checkpoints that make a balance as of any moment a lookup rather than a sum over history."""

    __tablename__ = "ledger_account_day"
    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("ledger_account.id"), primary_key=True))
    day: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    closing: int = _money()


book_t = BookRow.__table__
account_t = AccountRow.__table__
entry_t = EntryRow.__table__
posting_t = PostingRow.__table__
hold_t = HoldRow.__table__
account_day_t = AccountDayRow.__table__

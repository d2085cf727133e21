"""The ledger's value types: small, immutable, named for what they hold.

Amounts are integers of the currency's minor unit (pence). A posting's amount is signed: positive is a
debit, negative a credit, and the postings of an entry sum to zero in each currency. Balances are shown on
the account's normal side, so an asset with money in it and a liability that is owed both read positive.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from ledger.errors import ValidationError


class AccountType(str, enum.Enum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def default_side(self) -> "Side":
        return Side.DEBIT if self in (AccountType.ASSET, AccountType.EXPENSE) else Side.CREDIT


class Side(str, enum.Enum):
    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def sign(self) -> int:
        """Multiply a signed posting amount (debit positive) by this to get its effect on the balance."""
        return 1 if self is Side.DEBIT else -1


class HoldStatus(str, enum.Enum):
    PENDING = "pending"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,199}$")


def check_amount(value: Any, what: str) -> int:
    # bool is an int in Python; neither it nor a float may stand for money.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be a whole number of pence, not {type(value).__name__}")
    return value


def check_currency(value: str) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise ValidationError(f"currency must be a three-letter ISO code, not {value!r}")
    return value


def check_code(value: str, what: str = "account code") -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise ValidationError(
            f"{what} must be 1-200 characters of letters, digits and _ . : / @ -, not {value!r}"
        )
    return value


def check_metadata(value: Any, path: str = "metadata") -> Any:
    """Metadata is JSON without floats, so it hashes the same everywhere and never carries inexact money."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        raise ValidationError(f"{path} holds a float; use integer pence or a string")
    if isinstance(value, (list, tuple)):
        return [check_metadata(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError(f"{path} keys must be strings")
            out[k] = check_metadata(v, f"{path}.{k}")
        return out
    raise ValidationError(f"{path} holds a {type(value).__name__}, which is not JSON")


@dataclass(frozen=True)
class AccountSpec:
    """What to open: the code is the account's idempotency key."""

    code: str
    type: AccountType
    currency: str = "GBP"
    normal_side: Side | None = None
    floor: int | None = None
    book: str = "main"
    owner_ref: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def side(self) -> Side:
        return self.normal_side or AccountType(self.type).default_side


@dataclass(frozen=True)
class Account:
    id: str
    code: str
    type: AccountType
    normal_side: Side
    currency: str
    floor: int | None
    book: str
    owner_ref: str | None
    metadata: Mapping[str, Any]
    is_open: bool
    created_at: datetime


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int
    currency: str = "GBP"

    @staticmethod
    def debit(account: str, amount: int, currency: str = "GBP") -> "Posting":
        return Posting(account, amount, currency)

    @staticmethod
    def credit(account: str, amount: int, currency: str = "GBP") -> "Posting":
        return Posting(account, -amount, currency)


@dataclass(frozen=True)
class EntryRequest:
    key: str
    postings: tuple[Posting, ...]
    description: str = ""
    effective_at: datetime | None = None
    reference: str | None = None
    actor: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    book: str | None = None


@dataclass(frozen=True)
class Entry:
    id: str
    key: str
    book: str
    sequence: int
    effective_at: datetime
    recorded_at: datetime
    description: str
    reference: str | None
    actor: str | None
    metadata: Mapping[str, Any]
    postings: tuple[Posting, ...]
    reverses: str | None
    hold: str | None
    hash: str
    previous_hash: str


@dataclass(frozen=True)
class HoldRequest:
    key: str
    debit: str
    credit: str
    amount: int
    currency: str = "GBP"
    expires_at: datetime | None = None
    description: str = ""
    reference: str | None = None
    actor: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hold:
    id: str
    key: str
    debit: str
    credit: str
    amount: int
    currency: str
    status: HoldStatus
    expires_at: datetime | None
    created_at: datetime
    description: str
    reference: str | None
    actor: str | None
    metadata: Mapping[str, Any]
    committed_amount: int | None
    commit_entry: str | None


@dataclass(frozen=True)
class Balance:
    account: str
    currency: str
    posted: int
    held: int
    as_of: datetime

    @property
    def available(self) -> int:
        return self.posted - self.held


@dataclass(frozen=True)
class StatementLine:
    entry: str
    effective_at: datetime
    description: str
    reference: str | None
    amount: int
    """Effect on the balance on the account's normal side (positive: the balance grew)."""
    balance: int
    """Running balance after this line."""


@dataclass(frozen=True)
class StatementPage:
    account: str
    currency: str
    start: datetime
    end: datetime
    opening_balance: int
    lines: tuple[StatementLine, ...]
    next_cursor: str | None

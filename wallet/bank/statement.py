"""What every bank statement parser produces, and the small careful readers they share (amounts, dates, text).

A parser turns a file into a :class:`ParsedStatement` or refuses it with a :class:`StatementError` that names
the line: it never guesses. Amounts become integer pence through ``Decimal`` (never a float); a figure with
more than two decimal places is refused rather than rounded. Dates are read day first, as UK banks write them.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from wallet.domain.errors import InvalidRequest

MAX_FILE_BYTES = 10 * 1024 * 1024
"""A year of a busy account is well under a megabyte; anything near this is not a statement."""
MAX_LINES = 100_000
MAX_AMOUNT_PENCE = 10**13
"""£100 billion: no personal account's line or balance comes near it, and every sum of lines stays far inside
the database's 64-bit columns."""


class StatementError(InvalidRequest):
    """The file cannot be read as a bank statement; the message says where and why, in plain words."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class BankLine:
    """One transaction on the statement. ``amount`` is pence: positive into the account, negative out."""

    line: int
    """Where it is in the file (for messages), counted from 1."""
    booked_on: date
    amount: int
    description: str
    reference: str | None = None
    payee: str | None = None
    bank_ref: str | None = None
    """The bank's own id for the transaction (OFX FITID, CAMT.053 AcctSvcrRef, Monzo's transaction id)."""
    balance: int | None = None
    """The account's running balance after this line, when the statement gives it."""

    @property
    def text(self) -> str:
        """Everything said about the line, for matching against the books."""
        return " ".join(t for t in (self.payee, self.description, self.reference) if t)


@dataclass(frozen=True)
class ParsedStatement:
    format: str
    """csv, ofx or camt053."""
    bank: str
    """The layout or bank it was read as (e.g. "Lloyds", "OFX")."""
    lines: tuple[BankLine, ...]
    account_number: str | None = None
    """As the file gives it (sort code and number, IBAN...). Never stored or logged: only a keyed hash and the
    last four digits are kept."""
    currency: str = "GBP"
    opening_balance: int | None = None
    closing_balance: int | None = None
    closing_on: date | None = None
    period_start: date | None = None
    period_end: date | None = None
    ignored: int = 0
    """Lines with no money moved (a zero amount), left out."""
    warnings: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------- amounts
_AMOUNT_JUNK = re.compile(r"[£,\s\u00a0]|GBP", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
"""Digits with an optional point: no exponent ('1e9'), no 'NaN', nothing Decimal would read that a bank never
writes."""


def parse_amount(text: str, what: str = "amount", line: int | None = None) -> int:
    """'1,234.56', '-12.50', '(12.50)', '£12.50', '12.50 DR', '+3' -> pence. Refuses anything else."""
    raw = (text or "").strip()
    cleaned = _AMOUNT_JUNK.sub("", raw)
    sign = 1
    upper = cleaned.upper()
    if upper.endswith("CR"):
        cleaned = cleaned[:-2]
    elif upper.endswith("DR"):
        cleaned, sign = cleaned[:-2], -1
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned, sign = cleaned[1:-1], -sign
    if not cleaned:
        raise StatementError(f"the {what} is empty", line)
    if len(cleaned) > 40 or not _PLAIN_NUMBER.fullmatch(cleaned):
        raise StatementError(f"the {what} {raw[:40]!r} is not an amount of money", line)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise StatementError(f"the {what} {raw!r} is not an amount of money", line) from None
    pence = value * 100
    if pence != pence.to_integral_value():
        raise StatementError(f"the {what} {raw!r} has more than two decimal places", line)
    if abs(pence) >= MAX_AMOUNT_PENCE:
        raise StatementError(f"the {what} {raw!r} is too large to be on a bank statement", line)
    return sign * int(pence)


# ---------------------------------------------------------------------- dates
DAY_FIRST_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d-%m-%y", "%d.%m.%Y", "%Y-%m-%d", "%d %b %Y",
                     "%d %B %Y", "%d-%b-%Y", "%d %b %y", "%d-%b-%y", "%Y/%m/%d")
"""Every way of writing a date UK banks use in their files; never month first."""


def parse_date(text: str, what: str = "date", line: int | None = None, formats: tuple[str, ...] | None = None) -> date:
    raw = (text or "").strip()
    if not raw:
        raise StatementError(f"the {what} is empty", line)
    found = _read_date(raw, formats or DAY_FIRST_FORMATS)
    if found is None:
        raise StatementError(f"the {what} {raw!r} is not a date (expected day first, like 06/04/2026)", line)
    return found


@lru_cache(maxsize=4096)
def _read_date(raw: str, formats: tuple[str, ...]) -> date | None:
    """A statement repeats each day's date on every line of the day: each text is read once."""
    head = raw.split("T")[0] if re.match(r"^\d{4}-\d{2}-\d{2}T", raw) else raw
    for fmt in formats:
        try:
            return datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------------- text
def clean_text(text: str | None, limit: int = 500) -> str:
    """Runs of spaces, tabs and line breaks as one space; no NUL characters; at most ``limit`` characters."""
    if not text:
        return ""
    return " ".join(text.replace("\x00", "").split())[:limit]


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252, which UK banks still use for '£'."""
    if len(data) > MAX_FILE_BYTES:
        raise StatementError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; a bank statement "
                             "is much smaller, so this is probably not one")
    if not data.strip():
        raise StatementError("the file is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# ---------------------------------------------------------------------- fingerprints
def fingerprints(lines: tuple[BankLine, ...] | list[BankLine]) -> list[str]:
    """A stable fingerprint for each line, the same whenever the same transaction is read again.

    With the bank's own transaction id it is that id (and the amount); otherwise the date, amount, description,
    reference and running balance. Identical lines within one statement (two coffees, same price, same day, no
    balance column) are told apart by their occurrence: the first, the second... so a re-import of an overlapping
    statement finds exactly the lines it already has."""
    seen: dict[tuple, int] = {}
    out = []
    for ln in lines:
        if ln.bank_ref:
            base: tuple = ("ref", ln.bank_ref.strip(), ln.amount)
        else:
            # The parsers hand over descriptions already cleaned (``clean_text``).
            base = ("line", ln.booked_on.isoformat(), ln.amount, ln.description.upper(),
                    (ln.reference or "").upper(), "" if ln.balance is None else ln.balance)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(hashlib.sha256(repr((base, n)).encode()).hexdigest())
    return out


def account_key(wallet_id: str, account_number: str | None) -> str:
    """Names the bank account within the wallet without keeping its number: a hash of the digits and letters."""
    if not account_number:
        return "unnamed"
    plain = re.sub(r"[^0-9A-Za-z]", "", account_number).upper()
    return hashlib.sha256(f"{wallet_id}:{plain}".encode()).hexdigest()[:40]


def last_four(account_number: str | None) -> str | None:
    digits = re.sub(r"[^0-9]", "", account_number or "")
    return digits[-4:] if len(digits) >= 4 else None

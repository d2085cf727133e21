"""UK bank details and the text Bacs will carry.

A ``BankAccount`` never shows its sort code or account number in ``repr``, ``str`` or an f-string, so it can be
logged, put in an exception or printed in a debugger without leaking. Code that really needs the digits (the
file writers) reads the attributes by name. Error messages about bank details say what is wrong, never what was
typed.

Bacs text fields accept only A-Z, 0-9, full stop, ampersand, slash, hyphen and space, in upper case.
"""
from __future__ import annotations

import re
import unicodedata
from wallet.money_out.errors import PaymentLineError

BACS_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.&/- ")
BACS_NAME_LENGTH = 18
BACS_REFERENCE_LENGTH = 18
_SEPARATORS = re.compile(r"[\s-]")


def parse_sort_code(value: object) -> str:
    """'12-34-56', '12 34 56' or '123456' -> '123456'."""
    if not isinstance(value, str):
        raise PaymentLineError("sort_code", "sort code must be text of 6 digits, like 12-34-56")
    digits = _SEPARATORS.sub("", value)
    if not (len(digits) == 6 and digits.isascii() and digits.isdigit()):
        found = sum(c.isdigit() for c in digits)
        raise PaymentLineError(
            "sort_code", f"sort code must be 6 digits, like 12-34-56 (it has {found} digit{'s' if found != 1 else ''}"
            f"{' and other characters' if found != len(digits) else ''})")
    return digits


def parse_account_number(value: object) -> str:
    """'12345678' or '1234 5678' -> '12345678'. Exactly 8 digits: a bank will say how to write any other length."""
    if not isinstance(value, str):
        raise PaymentLineError("account_number", "account number must be text of 8 digits")
    digits = re.sub(r"\s", "", value)
    if not (len(digits) == 8 and digits.isascii() and digits.isdigit()):
        found = sum(c.isdigit() for c in digits)
        raise PaymentLineError(
            "account_number",
            f"account number must be 8 digits (it has {found} digit{'s' if found != 1 else ''}"
            f"{' and other characters' if found != len(digits) else ''}); a 7-digit number usually starts with 0, "
            "a 10-digit one needs the bank's advice")
    return digits


class BankAccount:
    """A UK sort code and account number. Shown as ``BankAccount(hidden)`` everywhere.

    Deliberately not a dataclass, so ``dataclasses.asdict`` of a payment line keeps it whole (and hidden) rather
    than spelling out the digits."""

    __slots__ = ("sort_code", "account_number")
    sort_code: str
    account_number: str

    def __init__(self, sort_code: str, account_number: str):
        object.__setattr__(self, "sort_code", parse_sort_code(sort_code))
        object.__setattr__(self, "account_number", parse_account_number(account_number))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("BankAccount cannot be changed; make a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("BankAccount cannot be changed")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BankAccount):
            return NotImplemented
        return (self.sort_code, self.account_number) == (other.sort_code, other.account_number)

    def __hash__(self) -> int:
        return hash((self.sort_code, self.account_number))

    def __repr__(self) -> str:
        return "BankAccount(hidden)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def __reduce__(self):  # copying and pickling keep the digits; only the text forms hide them
        return (BankAccount, (self.sort_code, self.account_number))


def bacs_text(value: str, length: int) -> str:
    """Fold free text (a name) into Bacs characters: accents dropped, upper case, anything else a space,
    runs of spaces squeezed, then cut to ``length``. O'Brien -> O BRIEN; Zoë Łukasz -> ZOE UKASZ."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").upper()
    cleaned = "".join(c if c in BACS_ALLOWED else " " for c in folded)
    return " ".join(cleaned.split())[:length].rstrip()


def bacs_name(value: object, length: int = BACS_NAME_LENGTH) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PaymentLineError("payee_name", "payee name is empty")
    name = bacs_text(value, length)
    if not any(c.isalnum() for c in name):
        raise PaymentLineError("payee_name", "payee name has no letters or digits that Bacs can carry")
    return name


def bacs_reference(value: object) -> str:
    """Check a payment reference against the Bacs rules: at most 18 characters of A-Z 0-9 . & / - and space.

    Lower case is accepted and upper-cased; anything else is refused rather than changed, because a reference is
    how the payee (HMRC above all) matches the money to what it is for."""
    if not isinstance(value, str):
        raise PaymentLineError("reference", "reference must be text")
    ref = value.strip().upper()
    if not ref:
        raise PaymentLineError("reference", "reference is empty")
    bad = sorted({c for c in ref if c not in BACS_ALLOWED})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise PaymentLineError(
            "reference", f"reference may only use A-Z, 0-9, full stop, &, /, - and space (not {shown})")
    if len(ref) > BACS_REFERENCE_LENGTH:
        raise PaymentLineError(
            "reference", f"reference is {len(ref)} characters; Bacs allows at most {BACS_REFERENCE_LENGTH}")
    if not any(c.isalnum() for c in ref):
        raise PaymentLineError("reference", "reference needs at least one letter or digit")
    if len(set(ref)) == 1 and len(ref) > 1:
        raise PaymentLineError("reference", "reference cannot be one character repeated")
    return ref

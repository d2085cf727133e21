from __future__ import annotations

from ledger.model import AccountSpec, AccountType


def open_wallet(ledger, book: str = "w1", floor: int | None = 0):
    """A small wallet: cash (never below the floor), a funder and two spending accounts."""
    return ledger.open_accounts([
        AccountSpec(f"{book}:cash", AccountType.ASSET, floor=floor, book=book),
        AccountSpec(f"{book}:council", AccountType.INCOME, book=book),
        AccountSpec(f"{book}:wages", AccountType.EXPENSE, book=book),
        AccountSpec(f"{book}:hmrc", AccountType.LIABILITY, book=book),
    ])


def fund(ledger, amount: int, key: str = "fund-1", book: str = "w1"):
    return ledger.transfer(key, f"{book}:cash", f"{book}:council", amount, description="Council funding")

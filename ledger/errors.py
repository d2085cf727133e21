"""Every refusal the ledger can make has its own exception type, so callers can answer people clearly."""
from __future__ import annotations


class LedgerError(Exception):
    """Base of all ledger refusals."""


class ValidationError(LedgerError):
    """A request is malformed (missing key, zero amount, bad currency, float money...)."""


class UnbalancedEntry(LedgerError):
    """The postings of an entry do not sum to zero in each currency."""


class UnknownAccount(LedgerError):
    def __init__(self, code: str):
        super().__init__(f"no account with code {code!r}")
        self.code = code


class UnknownEntry(LedgerError):
    pass


class UnknownHold(LedgerError):
    pass


class AccountClosed(LedgerError):
    def __init__(self, code: str):
        super().__init__(f"account {code!r} is closed")
        self.code = code


class CurrencyMismatch(LedgerError):
    pass


class InsufficientFunds(LedgerError):
    """A posting or hold would take an account's available balance below its floor."""

    def __init__(self, code: str, available: int, floor: int, needed: int):
        super().__init__(
            f"account {code!r} has {available} available (floor {floor}); {needed} more is needed"
        )
        self.code = code
        self.available = available
        self.floor = floor
        self.needed = needed


class IdempotencyConflict(LedgerError):
    """The same idempotency key was used before with different content."""

    def __init__(self, key: str):
        super().__init__(f"idempotency key {key!r} was already used for a different request")
        self.key = key


class AccountConflict(LedgerError):
    """An account with this code exists with different attributes."""


class AlreadyReversed(LedgerError):
    pass


class HoldNotPending(LedgerError):
    def __init__(self, hold_id: str, status: str):
        super().__init__(f"hold {hold_id} is {status}, not pending")
        self.hold_id = hold_id
        self.status = status


class HoldExpired(HoldNotPending):
    def __init__(self, hold_id: str):
        super().__init__(hold_id, "expired")


class ExceedsHold(LedgerError):
    def __init__(self, hold_id: str, held: int, asked: int):
        super().__init__(f"hold {hold_id} reserves {held}; committing {asked} is more than was held")
        self.hold_id = hold_id
        self.held = held
        self.asked = asked


class AccountNotEmpty(LedgerError):
    pass


class IntegrityFault(LedgerError):
    """The database refused a write that would have broken a ledger invariant (a bug above the ledger)."""

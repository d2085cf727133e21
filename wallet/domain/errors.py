"""Every refusal the wallet services can make, each with its own type and a message a person can read.

Ledger refusals (``ledger.errors``) that a person can cause are translated at the edge of each service:
not enough money becomes :class:`NotEnoughMoney`, naming whose money it was.
"""
from __future__ import annotations

from wallet.money import format_pence


class WalletError(Exception):
    """Base of all wallet refusals."""


class NotFound(WalletError):
    """Something asked for by id does not exist (or is not in this wallet)."""


class UnknownWallet(NotFound):
    def __init__(self, wallet_id: str):
        super().__init__(f"there is no wallet {wallet_id}")
        self.wallet_id = wallet_id


class UnknownUser(NotFound):
    def __init__(self, user_id: str):
        super().__init__(f"there is no user {user_id}")
        self.user_id = user_id


class UnknownFundingStream(NotFound):
    pass


class UnknownPayee(NotFound):
    pass


class UnknownPaymentRequest(NotFound):
    pass


class UnknownPayRun(NotFound):
    pass


class UnknownAlert(NotFound):
    pass


class InvalidRequest(WalletError):
    """A request is malformed: a missing reason, an amount that is not whole pence, an unknown category..."""


class Conflict(WalletError):
    """The same key or reference was used before for something different."""


class PermissionDenied(WalletError):
    """The person may not do this to this wallet. Every refusal is written to the wallet's access log."""

    def __init__(self, actor: str, action: str, wallet_id: str | None, message: str | None = None):
        super().__init__(message or f"{actor} may not {action.replace('_', ' ')} on this wallet")
        self.actor = actor
        self.action = action
        self.wallet_id = wallet_id


class SelfApprovalRefused(PermissionDenied):
    """Nobody approves (or rejects) their own payment request: a second person must."""

    def __init__(self, actor: str, wallet_id: str):
        super().__init__(actor, "approve_payment", wallet_id,
                         "you asked for this payment, so someone else must approve or reject it")


class RequestNotPending(WalletError):
    def __init__(self, request_id: str, status: str):
        super().__init__(f"payment request {request_id} is {status.replace('_', ' ')}, not awaiting approval")
        self.request_id = request_id
        self.status = status


class NotEnoughMoney(WalletError):
    """There is not enough of one funder's money left (available, after money held for approvals)."""

    def __init__(self, funder: str, available: int, needed: int):
        super().__init__(f"there is not enough money from {funder}: {format_pence(available)} available, "
                         f"{format_pence(needed)} needed")
        self.funder = funder
        self.available = available
        self.needed = needed


class FundingStreamNeeded(InvalidRequest):
    """The wallet has several funders and nothing says which one pays for this."""


class PayRunNotFinalised(WalletError):
    pass


class PayRunDoesNotBalance(WalletError):
    """A payslip's figures do not add up (gross + expenses - deductions must equal net pay)."""


class PayRunChanged(Conflict):
    """A pay run with this id was posted before with different figures."""


class CorrectedRunNotPosted(WalletError):
    """An adjustment run corrects a run that was never posted to this wallet."""


class WrongEmployer(WalletError):
    """The pay run belongs to a different payroll employer than the wallet's."""

"""The small interfaces the Stripe adapter needs from the rest of the wallet; the wallet domain implements them.

- ``WalletFunds``: a wallet's available money and holds on it (the ledger's two-phase transfers underneath).
- ``CardDirectory``: which wallet a card spends from, its controls, and what it has spent this period.
- ``ProcessedEvents``: webhook event ids already handled, with the answer given, so a repeat gets the same answer.
- ``DecisionLog`` (optional): every card decision with its reason, for the people the wallet belongs to.

``wallet`` here is whatever ``CardDirectory`` names as the card's wallet and ``WalletFunds`` understands: a plain
wallet id in memory, or the database store's purse (wallet, funding stream and plan category) of the card.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Mapping, Protocol, runtime_checkable

from wallet.stripe_gateway.controls import CardControls

if TYPE_CHECKING:
    from wallet.stripe_gateway.authorization import AuthorizationRequest, Decision


class FundsUnavailable(Exception):
    """Raised by ``WalletFunds.hold`` when the wallet cannot cover the hold (for example a race with a payment)."""


@runtime_checkable
class WalletFunds(Protocol):
    def available(self, wallet: str) -> int:
        """Pence the wallet can spend now: posted balance less holds."""

    def hold(self, wallet: str, key: str, amount: int, reason: str) -> str:
        """Reserve ``amount`` pence; return the hold id. Idempotent on ``key``: the same key returns the same
        hold. Raise FundsUnavailable if the wallet cannot cover it."""

    def find_hold(self, key: str) -> str | None:
        """The id of the hold made with ``key``, or None."""

    def commit(self, hold_id: str, amount: int) -> None:
        """Spend ``amount`` pence of the hold (the card payment was captured); any rest of the hold is freed."""

    def release(self, hold_id: str) -> None:
        """Free the whole hold (the payment was declined, cancelled or expired)."""


@dataclass(frozen=True)
class CardAccount:
    wallet: str
    controls: CardControls


@runtime_checkable
class CardDirectory(Protocol):
    def card(self, card_id: str) -> CardAccount | None:
        """The wallet and controls of a card we issued, or None for a card we do not know."""

    def spent(self, card_id: str, at: datetime) -> Mapping[str, int]:
        """Pence spent by the card in the period around ``at``, by interval (daily, weekly, monthly, ...)."""


@runtime_checkable
class ProcessedEvents(Protocol):
    def reply_for(self, event_id: str) -> bytes | None:
        """The body answered when ``event_id`` was first processed, or None if it never was."""

    def record(self, event_id: str, event_type: str, reply: bytes) -> bool:
        """Remember that ``event_id`` was processed and what was answered. Return False, changing nothing, if it
        was recorded already (another delivery got there first)."""


@runtime_checkable
class DecisionLog(Protocol):
    def record(self, request: "AuthorizationRequest", decision: "Decision", account: CardAccount | None,
               event_id: str | None) -> None:
        """Keep the decision and its reason (``account`` is None for a card we do not know)."""

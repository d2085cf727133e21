"""The chart of accounts of one wallet: one ledger book per wallet, no account shared between wallets.

Every wallet's accounts live in its own book (``wallet-<uuid>``) and their codes start with the book, so writes
to different wallets never wait on each other and the books could later be split by wallet.

Funding streams are sub-ledgers. Each stream (one funder's money: the council's adult services budget, the
NHS's health budget, the person's own contribution...) has its own accounts, named by the stream's code
``s1``, ``s2``...::

    <book>:cash:<s>            asset, floor 0   the funder's money held now. Available = posted - held for
                                                payments awaiting approval. The floor means no payment can
                                                spend more of a funder's money than that funder paid in.
    <book>:funding:<s>         income           everything received from the funder (net of money reclaimed)
    <book>:owed:<s>            liability        owed back to the funder: a surplus reclaimed, not yet repaid
    <book>:spend:<cat>:<s>     expense          spent on one support-plan category from this funder's money

and three wallet-wide clearing accounts for payroll (the wallet is the PAs' employer, or pays for them)::

    <book>:wages-payable       liability        net pay owed to PAs
    <book>:hmrc-payable        liability        PAYE tax, NI (both shares, after Employment Allowance), loans
    <book>:pension-payable     liability        pension contributions (both shares) owed to the provider

Money moves like this (Dr / Cr)::

    funding received           cash:s          / funding:s
    a payment (on approval)    spend:cat:s     / cash:s         (held first: a ledger hold on cash:s)
    a pay run posted           spend:pa_wages:s / wages-payable, hmrc-payable, pension-payable
    pay, HMRC, pension paid    the payable     / cash:s
    surplus reclaimed          funding:s       / owed:s ;  repaid: owed:s / cash:s

So "how much of funder X's money is left" is the balance of ``cash:<s>``; "where did it go" is the statement of
``cash:<s>`` (every line, dated, described) and, by category, the balances of ``spend:<cat>:<s>``; "how much did
X give" is ``funding:<s>``. For each stream, cash + spending = funding + owed + that stream's share of the
payroll payables (a pay run is charged to one stream, and settled from the same stream).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable

from ledger.model import AccountSpec, AccountType


class Category(str, enum.Enum):
    """Support-plan budget lines, and what spending is counted against."""
    PA_WAGES = "pa_wages"
    AGENCY = "agency"
    ACTIVITIES = "activities"
    TRANSPORT = "transport"
    EQUIPMENT = "equipment"
    SHORT_BREAKS = "short_breaks"
    INSURANCE = "insurance"
    CONTINGENCY = "contingency"
    TRAINING = "training"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    Category.PA_WAGES: "Personal assistant wages", Category.AGENCY: "Care agency",
    Category.ACTIVITIES: "Activities", Category.TRANSPORT: "Transport", Category.EQUIPMENT: "Equipment",
    Category.SHORT_BREAKS: "Short breaks", Category.INSURANCE: "Insurance", Category.CONTINGENCY: "Contingency",
    Category.TRAINING: "Training", Category.OTHER: "Other spending",
}


@dataclass(frozen=True)
class WalletChart:
    """Account codes of one wallet's book."""

    book: str
    currency: str = "GBP"

    @staticmethod
    def book_for(wallet_id: str) -> str:
        return f"wallet-{wallet_id}"

    def cash(self, stream: str) -> str:
        return f"{self.book}:cash:{stream}"

    def funding(self, stream: str) -> str:
        return f"{self.book}:funding:{stream}"

    def owed(self, stream: str) -> str:
        return f"{self.book}:owed:{stream}"

    def spend(self, category: Category, stream: str) -> str:
        return f"{self.book}:spend:{Category(category).value}:{stream}"

    @property
    def wages_payable(self) -> str:
        return f"{self.book}:wages-payable"

    @property
    def hmrc_payable(self) -> str:
        return f"{self.book}:hmrc-payable"

    @property
    def pension_payable(self) -> str:
        return f"{self.book}:pension-payable"

    def payables(self) -> tuple[str, str, str]:
        return (self.wages_payable, self.hmrc_payable, self.pension_payable)

    def stream_accounts(self, stream: str) -> list[str]:
        return [self.cash(stream), self.funding(stream), self.owed(stream),
                *(self.spend(c, stream) for c in Category)]

    def specs(self, wallet_id: str, streams: Iterable[tuple[str, str]]) -> list[AccountSpec]:
        """Every account of the wallet, for ``Ledger.open_accounts`` (idempotent: the code is the key).
        ``streams`` are (code, label) pairs."""

        def spec(code: str, type_: AccountType, label: str, floor: int | None = None, **meta: str) -> AccountSpec:
            return AccountSpec(code, type_, currency=self.currency, floor=floor, book=self.book,
                               owner_ref=wallet_id, metadata={"label": label, **meta})

        out = [
            spec(self.wages_payable, AccountType.LIABILITY, "Wages owed to personal assistants"),
            spec(self.hmrc_payable, AccountType.LIABILITY, "Tax and National Insurance owed to HMRC"),
            spec(self.pension_payable, AccountType.LIABILITY, "Pension contributions owed"),
        ]
        for code, label in streams:
            out += [
                spec(self.cash(code), AccountType.ASSET, f"Money held from {label}", floor=0, stream=code),
                spec(self.funding(code), AccountType.INCOME, f"Received from {label}", stream=code),
                spec(self.owed(code), AccountType.LIABILITY, f"Owed back to {label}", stream=code),
                *(spec(self.spend(c, code), AccountType.EXPENSE, f"{c.label} (paid from {label})",
                       stream=code, category=c.value) for c in Category),
            ]
        return out

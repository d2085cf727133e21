"""Demo data a newcomer can look at: one budget holder's year of funding and spending.

Every write carries a fixed idempotency key, so loading the demo twice changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ledger.model import AccountSpec, AccountType, EntryRequest, Posting
from ledger.service import Ledger

START = datetime(2025, 4, 7, 9, 0, tzinfo=timezone.utc)
HOLDER = "demo-asha"


def demo_accounts(book: str = HOLDER) -> list[AccountSpec]:
    return [
        AccountSpec(f"{book}:cash", AccountType.ASSET, floor=0, book=book, owner_ref=book,
                    metadata={"label": "Money in the budget"}),
        AccountSpec(f"{book}:council", AccountType.INCOME, book=book, owner_ref=book,
                    metadata={"label": "Council adult social care"}),
        AccountSpec(f"{book}:contribution", AccountType.INCOME, book=book, owner_ref=book,
                    metadata={"label": "Asha's own contribution"}),
        AccountSpec(f"{book}:pa-wages", AccountType.EXPENSE, book=book, owner_ref=book,
                    metadata={"label": "Personal assistant wages"}),
        AccountSpec(f"{book}:activities", AccountType.EXPENSE, book=book, owner_ref=book,
                    metadata={"label": "Activities"}),
    ]


def load_demo(ledger: Ledger) -> int:
    """Open the demo accounts and post a year of history; returns how many entries were new."""
    ledger.open_accounts(demo_accounts())
    b = HOLDER
    requests = []
    for n in range(13):  # council pays every four weeks in advance
        when = START + timedelta(weeks=4 * n)
        requests.append(EntryRequest(f"{b}:council:{n}", (Posting.debit(f"{b}:cash", 186_000),
                                                          Posting.credit(f"{b}:council", 186_000)),
                                     description="Council direct payment", effective_at=when))
        requests.append(EntryRequest(f"{b}:contribution:{n}", (Posting.debit(f"{b}:cash", 12_000),
                                                               Posting.credit(f"{b}:contribution", 12_000)),
                                     description="Client contribution", effective_at=when + timedelta(days=1)))
        requests.append(EntryRequest(f"{b}:wages:{n}", (Posting.debit(f"{b}:pa-wages", 171_250),
                                                        Posting.credit(f"{b}:cash", 171_250)),
                                     description="Wages for Sam (PA)", effective_at=when + timedelta(days=25)))
        requests.append(EntryRequest(f"{b}:activity:{n}", (Posting.debit(f"{b}:activities", 2_400 + 150 * n),
                                                           Posting.credit(f"{b}:cash", 2_400 + 150 * n)),
                                     description="Swimming and day trips", effective_at=when + timedelta(days=12)))
    return ledger.post_batch_fast(requests)

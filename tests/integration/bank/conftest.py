"""The standard test wallet (tests/integration/wallet/conftest.py) with a fortnight of spending in its books, and
the bank statement that shows the same money.

Books: Leeds pays £1,860 and the holder £120 on Monday 6 April 2026; then Jo Smith's wages (£450, 8 April),
Bright Care's invoice (£300, 10 April) and swimming at Leeds Leisure (£25 of the holder's own money, 13 April).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from tests.integration.wallet.conftest import TODAY, World, uow, world  # noqa: F401  (fixtures)
from wallet.domain import payments
from wallet.domain.chart import Category


@dataclass
class Books:
    world: World
    entries: dict[str, str]
    """Entry ids by name: wages, agency, swimming, council, own."""


def pay(world: World, payee, amount: int, category: Category, description: str, on: date, stream) -> str:
    world.clock.set(datetime(on.year, on.month, on.day, 10, 0, tzinfo=timezone.utc))
    made = payments.request_payment(world.uow, world.wallet.id, actor=world.users["holder"], payee_id=payee.id,
                                    amount=amount, category=category, description=description, stream_id=stream.id)
    if made.status.value == "awaiting_approval":
        made = payments.approve_payment(world.uow, made.id, actor=world.users["appointee"])
    assert made.entry_id is not None
    return made.entry_id


def statement_rows() -> list[tuple[date, str, int]]:
    """What the bank shows for the fortnight: two lines agree exactly, three nearly, one not at all."""
    return [
        (date(2026, 4, 6), "LEEDS CITY COUNCIL DP", 186_000),
        (date(2026, 4, 6), "A KHAN TFR", 12_000),
        (date(2026, 4, 9), "JO SMITH WAGES", -45_000),
        (date(2026, 4, 10), "BRIGHT CARE LTD INV 1043", -30_000),
        (date(2026, 4, 15), "MONTHLY ACCOUNT FEE", -500),
        (date(2026, 4, 17), "LEEDS LEISURE CENTRE", -2_500),
    ]


@pytest.fixture
def books(world) -> Books:  # noqa: F811
    w = world
    entries = {
        "wages": pay(w, w.pa, 45_000, Category.PA_WAGES, "Wages, first week", date(2026, 4, 8), w.council),
        "agency": pay(w, w.agency, 30_000, Category.AGENCY, "Agency visits", date(2026, 4, 10), w.council),
        "swimming": pay(w, w.shop, 2_500, Category.ACTIVITIES, "Swimming", date(2026, 4, 13), w.own),
    }
    for name, stream in (("council", w.council), ("own", w.own)):
        page = w.ledger.statement(w.wallet.chart.cash(stream.code), datetime(2026, 4, 1, tzinfo=timezone.utc),
                                  datetime(2026, 4, 7, tzinfo=timezone.utc))
        entries[name] = page.lines[0].entry
    w.clock.set(datetime(2026, 4, 20, 9, 0, tzinfo=timezone.utc))
    return Books(w, entries)

"""The standard test wallet with an agency line in the plan and a rate agreed with the agency: £20.00 an hour,
15 hours a four-weekly plan period, from the council's money."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from tests.integration.wallet.conftest import World, uow, world  # noqa: F401  (fixtures)
from wallet.domain import invoices, plans
from wallet.domain.chart import Category
from wallet.domain.unit_of_work import SYSTEM
from wallet.evidence.storage import EvidenceStore


@dataclass
class Agency:
    world: World
    line_id: str
    store: EvidenceStore

    def record(self, who: str = "manager", *, number: str = "INV-001", hours: str = "10", rate: int = 2_000,
               amount: int | None = None, first: date = date(2026, 4, 6), last: date = date(2026, 5, 3),
               **more):
        w = self.world
        return invoices.record_invoice(
            w.uow, w.wallet.id, actor=w.users[who], payee_id=w.agency.id, budget_line_id=self.line_id,
            number=number, invoice_date=date(2026, 4, 6), period_start=first, period_end=last, hours=hours,
            hourly_rate=rate, amount=amount if amount is not None else int(Decimal(hours) * rate), **more)


@pytest.fixture
def agency(world, tmp_path) -> Agency:
    w = world
    line = plans.set_budget_line(w.uow, w.wallet.id, category=Category.AGENCY, stream_id=w.council.id,
                                 planned_per_period=200_000, actor=SYSTEM)
    invoices.set_agreed_rate(w.uow, w.wallet.id, payee_id=w.agency.id, budget_line_id=line.id, hourly_rate=2_000,
                             hours_per_period="15", actor=w.users["holder"])
    return Agency(w, line.id, EvidenceStore(tmp_path / "evidence"))

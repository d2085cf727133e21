"""A standard wallet to test with, on SQLite and on PostgreSQL (through the suite's ``db`` and ``clock``).

The clock stands at Monday 6 April 2026, 09:00 UTC, the first day of the wallet's first four-weekly plan
period (6 April to 3 May). Leeds pays £1,860 every four weeks; the holder pays in £120 of her own.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from ledger.clock import ManualClock, seeded_ids
from wallet.domain import payees, people, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.payees import Payee
from wallet.domain.permissions import Action, Role
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork
from wallet.domain.wallets import FundingStream, Wallet

TODAY = date(2026, 4, 6)
LEEDS = "council:leeds"


@dataclass
class World:
    uow: UnitOfWork
    clock: ManualClock
    wallet: Wallet
    council: FundingStream
    own: FundingStream
    users: dict[str, str]
    pa: Payee
    agency: Payee
    shop: Payee

    @property
    def ledger(self):
        return self.uow.ledger

    def cash(self, stream: FundingStream):
        return self.ledger.balance(self.wallet.chart.cash(stream.code))

    def spent(self, category: Category, stream: FundingStream) -> int:
        return self.ledger.balance(self.wallet.chart.spend(category, stream.code)).posted


@pytest.fixture
def uow(db, clock):
    return UnitOfWork(db, clock=clock, ids=seeded_ids(11))


def make_users(uow: UnitOfWork) -> dict[str, str]:
    def user(key: str, role: Role | None = None, org: str | None = None) -> str:
        return people.create_user(uow, name=key.replace("_", " ").title(), email=f"{key}@example.org",
                                  staff_role=role, organisation_ref=org).id

    return {
        "holder": user("holder"), "appointee": user("appointee"), "appointee2": user("appointee2"),
        "overseer": user("overseer"), "manager": user("manager"), "auditor": user("auditor"),
        "payroll_admin": user("payroll_admin", Role.PAYROLL_ADMIN),
        "council_officer": user("council_officer", Role.COUNCIL_OFFICER, LEEDS),
        "other_council_officer": user("other_council_officer", Role.COUNCIL_OFFICER, "council:york"),
        "stranger": user("stranger"),
    }


@pytest.fixture
def world(uow, clock) -> World:
    users = make_users(uow)
    w = wallets.open_wallet(uow, holder=users["holder"], name="Asha's budget", budget_kind="direct_payment",
                            plan_start=TODAY, reference="case-1", approval_threshold=25_000,
                            payroll_employer_id="employer-1")
    council = wallets.set_funding_stream(uow, w.id, kind="council_adult_services", funder_ref=LEEDS,
                                         label="Leeds adult social care", schedule="four_weekly", amount=186_000,
                                         starts=TODAY, actor=SYSTEM)
    own = wallets.set_funding_stream(uow, w.id, kind="client_contribution", funder_ref="holder",
                                     label="Own contribution", schedule="four_weekly", amount=12_000, starts=TODAY,
                                     actor=SYSTEM)
    for cat, stream, amount in ((Category.PA_WAGES, council, 150_000), (Category.TRANSPORT, council, 8_000),
                                (Category.CONTINGENCY, council, 5_000), (Category.ACTIVITIES, own, 10_000)):
        plans.set_budget_line(uow, w.id, category=cat, stream_id=stream.id, planned_per_period=amount, actor=SYSTEM)
    for who, role in (("appointee", Role.APPOINTEE), ("appointee2", Role.APPOINTEE),
                      ("manager", Role.SUPPORT_MANAGER), ("auditor", Role.AUDITOR)):
        people.grant_role(uow, w.id, users[who], role, actor=SYSTEM)
    people.grant_role(uow, w.id, users["overseer"], Role.FAMILY_OVERSEER, actor=users["holder"],
                      shares=[Action.VIEW_BALANCE, Action.VIEW_TRANSACTIONS])
    wallets.record_funding(uow, w.id, council.id, 186_000, TODAY, actor=SYSTEM, key="council-1")
    wallets.record_funding(uow, w.id, own.id, 12_000, TODAY, actor=SYSTEM, key="own-1")
    pa = payees.add_payee(uow, w.id, kind="pa", name="Jo Smith", employee_id="pa-jo", actor=users["holder"])
    agency = payees.add_payee(uow, w.id, kind="agency", name="Bright Care", actor=users["holder"])
    shop = payees.add_payee(uow, w.id, kind="supplier", name="Leeds Leisure", actor=users["holder"])
    return World(uow, clock, wallets.get_wallet(uow, w.id, actor=SYSTEM), council, own, users, pa, agency, shop)

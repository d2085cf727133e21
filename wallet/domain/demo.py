"""Demo wallets a newcomer can look at: three budget holders, a year of history each, and one person per role.

The history is made by calling the real services at the moments things happened (a clock of the demo's own
walks through the year), so the demo exercises the same paths as the portal will: funding arrives, a support
manager asks for payments and the holder approves them, pay runs are posted and settled. Every write carries a
fixed key or reference, so loading the demo again changes nothing. No passwords: authentication comes later.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import partial
from typing import Callable

from ledger.clock import ManualClock
from payroll.service import PayrollService
from wallet.domain import alerts, payees, payments, payroll_posting, people, personal_assistants, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.demo_payroll import demo_payroll, finalised_run
from wallet.domain.payments import PaymentStatus
from wallet.domain.permissions import Action, Role
from wallet.domain.schedules import PlanPeriod, Schedule, plan_period
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork
from wallet.domain.wallets import BudgetKind, FunderKind

START = date(2025, 4, 7)
PERIODS = 13                       # a year of four-weekly periods
LEEDS = "council:leeds"


@dataclass(frozen=True)
class DemoSummary:
    users: dict[str, str]
    """Role (or holder name) to user id."""
    wallets: dict[str, str]
    """Holder's first name to wallet id."""
    pending_request: str
    """A payment request awaiting approval (Ben's new equipment)."""


def _user(uow: UnitOfWork, name: str, role: Role | None = None, org: str | None = None) -> str:
    email = name.lower().replace(" ", ".") + "@demo.care-wallet.example"
    return people.create_user(uow, name=name, email=email, staff_role=role, organisation_ref=org).id


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def _pay(uow: UnitOfWork, wallet_id: str, key: str, requester: str, approver: str | None, payee_id: str,
         amount: int, category: Category, description: str, stream_id: str | None = None) -> None:
    req = payments.request_payment(uow, wallet_id, actor=requester, payee_id=payee_id, amount=amount,
                                   category=category, description=description, stream_id=stream_id, key=key)
    if req.status is PaymentStatus.AWAITING_APPROVAL and approver is not None:
        payments.approve_payment(uow, req.id, actor=approver)


def load_demo_wallets(uow: UnitOfWork, payroll: PayrollService) -> DemoSummary:
    """Create (or find again) the demo people and wallets, with a year of history from April 2025; Asha's PA is
    paid by real pay runs through ``payroll`` (see ``demo_payroll``)."""
    users = {
        "asha": _user(uow, "Asha Patel"),
        "ben": _user(uow, "Ben Okafor"),
        "cara": _user(uow, "Cara Jones"),
        Role.APPOINTEE.value: _user(uow, "Dev Okafor"),
        Role.FAMILY_OVERSEER.value: _user(uow, "Maya Patel"),
        Role.SUPPORT_MANAGER.value: _user(uow, "Sam Reid"),
        Role.AUDITOR.value: _user(uow, "Ada Lovelace"),
        Role.PAYROLL_ADMIN.value: _user(uow, "Priya Shah", Role.PAYROLL_ADMIN),
        Role.COUNCIL_OFFICER.value: _user(uow, "Tom Hughes", Role.COUNCIL_OFFICER, LEEDS),
        Role.PERSONAL_ASSISTANT.value: _user(uow, "Jo Smith"),   # Asha's PA, signing in to her own pay
    }
    manager = users[Role.SUPPORT_MANAGER.value]
    appointee = users[Role.APPOINTEE.value]
    clock = ManualClock(_at(START, 9))
    history = UnitOfWork(uow.db, clock=clock, ids=uow.ids)
    payroll = PayrollService(payroll.engine, payroll.cipher, clock=clock)
    asha_payroll = demo_payroll(payroll, admin=users[Role.PAYROLL_ADMIN.value], start=START)

    # --- Asha: a direct payment from Leeds, her own contribution, one PA she employs.
    asha = wallets.open_wallet(history, holder=users["asha"], name="Asha's personal budget", reference="demo-asha",
                               budget_kind=BudgetKind.DIRECT_PAYMENT, plan_start=START, approval_threshold=25_000,
                               contingency_reserve=20_000, insurance_renews_on=date(2026, 4, 30),
                               payroll_employer_id=asha_payroll.employer_id)
    a_council = wallets.set_funding_stream(
        history, asha.id, kind=FunderKind.COUNCIL_ADULT_SERVICES, funder_ref=LEEDS,
        label="Leeds City Council adult social care", schedule=Schedule.FOUR_WEEKLY, amount=186_000, starts=START,
        actor=SYSTEM)
    a_own = wallets.set_funding_stream(
        history, asha.id, kind=FunderKind.CLIENT_CONTRIBUTION, funder_ref="holder", label="Asha's contribution",
        schedule=Schedule.FOUR_WEEKLY, amount=12_000, starts=START + timedelta(days=1), actor=SYSTEM)
    for cat, stream, amount in ((Category.PA_WAGES, a_council, 155_000), (Category.TRANSPORT, a_council, 8_000),
                                (Category.INSURANCE, a_council, 1_000), (Category.ACTIVITIES, a_own, 9_000)):
        plans.set_budget_line(history, asha.id, category=cat, stream_id=stream.id, planned_per_period=amount,
                              actor=SYSTEM)
    people.grant_role(history, asha.id, manager, Role.SUPPORT_MANAGER, actor=SYSTEM)
    people.grant_role(history, asha.id, users[Role.AUDITOR.value], Role.AUDITOR, actor=SYSTEM)
    people.grant_role(history, asha.id, users[Role.FAMILY_OVERSEER.value], Role.FAMILY_OVERSEER,
                      actor=users["asha"], shares=[Action.VIEW_BALANCE, Action.VIEW_TRANSACTIONS])
    payees.add_payee(history, asha.id, kind="pa", name="Jo Smith", employee_id=asha_payroll.pa_id, actor=manager)
    personal_assistants.link_personal_assistant(history, payroll, asha.id, users[Role.PERSONAL_ASSISTANT.value],
                                                asha_payroll.pa_id, actor=SYSTEM)
    leisure = payees.add_payee(history, asha.id, kind="supplier", name="Leeds Leisure", actor=manager)
    taxis = payees.add_payee(history, asha.id, kind="supplier", name="City Cabs", actor=manager)

    # --- Ben: an NHS personal health budget, paid monthly; his brother Dev is his appointee.
    ben = wallets.open_wallet(history, holder=users["ben"], name="Ben's personal health budget",
                              reference="demo-ben", budget_kind=BudgetKind.PERSONAL_HEALTH_BUDGET, plan_start=START,
                              plan_period=PlanPeriod.MONTHLY, approval_threshold=30_000)
    b_nhs = wallets.set_funding_stream(
        history, ben.id, kind=FunderKind.NHS, funder_ref="nhs:west-yorkshire-icb",
        label="NHS West Yorkshire personal health budget", schedule=Schedule.MONTHLY, amount=240_000, starts=START,
        actor=SYSTEM)
    for cat, amount in ((Category.AGENCY, 210_000), (Category.EQUIPMENT, 15_000), (Category.CONTINGENCY, 10_000)):
        plans.set_budget_line(history, ben.id, category=cat, stream_id=b_nhs.id, planned_per_period=amount,
                              actor=SYSTEM)
    people.grant_role(history, ben.id, appointee, Role.APPOINTEE, actor=SYSTEM)
    people.grant_role(history, ben.id, manager, Role.SUPPORT_MANAGER, actor=SYSTEM)
    agency = payees.add_payee(history, ben.id, kind="agency", name="Bright Care Agency", actor=appointee)
    mobility = payees.add_payee(history, ben.id, kind="supplier", name="Mobility Plus", actor=appointee)

    # --- Cara: an Individual Service Fund from children's services, and a one-off Independent Living Fund grant.
    cara = wallets.open_wallet(history, holder=users["cara"], name="Cara's Individual Service Fund",
                               reference="demo-cara", budget_kind=BudgetKind.INDIVIDUAL_SERVICE_FUND,
                               plan_start=START, surplus_weeks=6)
    c_council = wallets.set_funding_stream(
        history, cara.id, kind=FunderKind.COUNCIL_CHILDRENS_SERVICES, funder_ref=LEEDS,
        label="Leeds City Council children's services", schedule=Schedule.FOUR_WEEKLY, amount=90_000,
        starts=START, actor=SYSTEM)
    c_ilf = wallets.set_funding_stream(
        history, cara.id, kind=FunderKind.INDEPENDENT_LIVING_FUND, funder_ref="ilf:grant-2025",
        label="Independent Living Fund grant", schedule=Schedule.ONE_OFF, amount=50_000,
        starts=START + timedelta(days=14), actor=SYSTEM)
    for cat, stream, amount in ((Category.SHORT_BREAKS, c_council, 60_000), (Category.ACTIVITIES, c_council, 20_000),
                                (Category.EQUIPMENT, c_ilf, 4_000)):
        plans.set_budget_line(history, cara.id, category=cat, stream_id=stream.id, planned_per_period=amount,
                              actor=SYSTEM)
    people.grant_role(history, cara.id, manager, Role.SUPPORT_MANAGER, actor=SYSTEM)
    breaks = payees.add_payee(history, cara.id, kind="agency", name="Seaside Short Breaks", actor=manager)
    club = payees.add_payee(history, cara.id, kind="supplier", name="Saturday Club", actor=manager)

    # --- A year of events, run in the order they happened, each at its own moment.
    admin = users[Role.PAYROLL_ADMIN.value]
    events: list[tuple[datetime, Callable[[], object]]] = []

    def at(moment: datetime, fn: Callable[[], object]) -> None:
        events.append((moment, fn))

    def pay_run(n: int, first: date, payday: date) -> None:
        run = finalised_run(asha_payroll, n, first, payday, admin=admin, reviewer=manager, holder=users["asha"],
                            pa=users[Role.PERSONAL_ASSISTANT.value])
        payroll_posting.post_pay_run(history, asha.id, run, actor=admin)
        payroll_posting.settle_pay_run(history, asha.id, run.id, actor=admin, paid_on=payday)

    for n in range(PERIODS):
        d0 = START + timedelta(days=28 * n)
        at(_at(d0, 9), partial(wallets.record_funding, history, asha.id, a_council.id, 186_000, d0, actor=SYSTEM,
                               key=f"demo-council-{n}"))
        at(_at(d0, 9), partial(wallets.record_funding, history, cara.id, c_council.id, 90_000, d0, actor=SYSTEM,
                               key=f"demo-council-{n}"))
        d1 = d0 + timedelta(days=1)
        at(_at(d1), partial(wallets.record_funding, history, asha.id, a_own.id, 12_000, d1, actor=SYSTEM,
                            key=f"demo-own-{n}"))
        # The support manager asks on the holder's behalf; the holder (for Cara, a child, her parent signs in
        # as the holder) approves.
        when = _at(d0 + timedelta(days=12))
        at(when, partial(_pay, history, asha.id, f"demo-swim-{n}", manager, users["asha"], leisure.id,
                         2_400 + 150 * (n % 4), Category.ACTIVITIES, "Swimming and gym", a_own.id))
        at(when, partial(_pay, history, asha.id, f"demo-taxi-{n}", manager, users["asha"], taxis.id, 5_500,
                         Category.TRANSPORT, "Taxis to the day centre"))
        at(when, partial(_pay, history, cara.id, f"demo-break-{n}", manager, users["cara"], breaks.id, 58_000,
                         Category.SHORT_BREAKS, "Weekend short break"))
        if n % 2 == 0:
            at(when, partial(_pay, history, cara.id, f"demo-club-{n}", manager, users["cara"], club.id, 6_500,
                             Category.ACTIVITIES, "Saturday club"))
        payday = d0 + timedelta(days=25)
        at(_at(payday, 8), partial(pay_run, n, d0, payday))
    for m in range(12):
        month = plan_period(PlanPeriod.MONTHLY, START, m).start
        at(_at(month, 9), partial(wallets.record_funding, history, ben.id, b_nhs.id, 240_000, month, actor=SYSTEM,
                                  key=f"demo-nhs-{m}"))
        # Dev, Ben's appointee, asks; Ben approves.
        at(_at(month + timedelta(days=20)), partial(
            _pay, history, ben.id, f"demo-agency-{m}", appointee, users["ben"], agency.id, 205_000 + 500 * (m % 3),
            Category.AGENCY, f"Care hours, month {m + 1}"))
    ilf_day = START + timedelta(days=15)
    at(_at(ilf_day), partial(wallets.record_funding, history, cara.id, c_ilf.id, 50_000, ilf_day, actor=SYSTEM,
                             key="demo-ilf"))
    for moment, fn in sorted(events, key=lambda e: e[0]):
        clock.set(moment)
        fn()
    clock.set(_at(START + timedelta(days=28 * PERIODS), 7))
    for wallet in (asha, ben, cara):
        alerts.check_alerts(history, wallet.id, actor=SYSTEM)

    # --- Now: a new wheelchair cushion for Ben, asked for by the support manager, waiting for Ben or Dev.
    pending = payments.request_payment(uow, ben.id, actor=manager, payee_id=mobility.id, amount=35_000,
                                       category=Category.EQUIPMENT, description="Pressure-relief wheelchair cushion",
                                       key="demo-cushion")
    return DemoSummary(users=users, wallets={"asha": asha.id, "ben": ben.id, "cara": cara.id},
                       pending_request=pending.id)

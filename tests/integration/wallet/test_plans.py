"""The support plan: planned against actual, per line and per funder, with actual figures from the ledger."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from wallet.domain import payments, payroll_posting, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.errors import PermissionDenied
from wallet.domain.schedules import Period
from wallet.domain.unit_of_work import SYSTEM

from .conftest import TODAY
from .helpers import pay_run, payslip


def pay(world, amount, category, payee=None, stream=None, who="holder"):
    req = payments.request_payment(world.uow, world.wallet.id, actor=world.users[who],
                                   payee_id=(payee or world.shop).id, amount=amount, category=category,
                                   description=f"{category} spending", stream_id=stream.id if stream else None)
    if req.status is payments.PaymentStatus.AWAITING_APPROVAL:
        approver = "appointee2" if who == "appointee" else "appointee"
        payments.approve_payment(world.uow, req.id, actor=world.users[approver])
    return req


def test_planned_against_actual_per_line_and_per_funder(world):
    pay(world, 6_000, "transport")
    pay(world, 3_500, "transport")                       # 9,500 against 8,000 planned: overspent
    pay(world, 2_000, "activities")
    pay(world, 4_000, "equipment", stream=world.council)  # no line: outside the plan
    waiting = payments.request_payment(world.uow, world.wallet.id, actor=world.users["manager"],
                                       payee_id=world.shop.id, amount=1_000, category="activities",
                                       description="Gym")
    slip = payslip("run-1", "pa-jo", gross=120_000, tax=5_000, ee_ni=2_000, er_ni=9_000, ee_pension=3_000,
                   er_pension=1_800)
    payroll_posting.post_pay_run(world.uow, world.wallet.id, pay_run("run-1", slip, allowance=9_000),
                                 actor=SYSTEM)

    report = plans.planned_vs_actual(world.uow, world.wallet.id, actor=world.users["holder"])
    assert report.period == Period(TODAY, date(2026, 5, 4))
    got = {(f.category, f.stream_id): (f.line_id is not None, f.planned, f.actual, f.awaiting_approval)
           for f in report.lines}
    c, o = world.council.id, world.own.id
    assert got == {
        (Category.PA_WAGES, c): (True, 150_000, 121_800, 0),
        (Category.TRANSPORT, c): (True, 8_000, 9_500, 0),
        (Category.EQUIPMENT, c): (False, 0, 4_000, 0),
        (Category.CONTINGENCY, c): (True, 5_000, 0, 0),
        (Category.ACTIVITIES, o): (True, 10_000, 2_000, 1_000),
    }
    transport = report.line("transport")
    assert transport.overspent and transport.remaining == -1_500
    assert report.line("activities").remaining == 7_000 and waiting.status.value == "awaiting_approval"
    assert [(f.stream_id, f.planned, f.actual) for f in report.funders] == [
        (c, 163_000, 121_800 + 9_500 + 4_000), (o, 10_000, 2_000)]
    assert (report.planned, report.actual) == (173_000, 137_300)


def test_actual_counts_only_spending_dated_inside_the_period(world):
    pay(world, 2_000, "activities")
    world.clock.set(datetime(2026, 5, 5, 10, tzinfo=timezone.utc))  # the second plan period
    wallets.record_funding(world.uow, world.wallet.id, world.own.id, 12_000, date(2026, 5, 4), actor=SYSTEM,
                           key="own-2")
    pay(world, 3_000, "activities")
    first = plans.planned_vs_actual(world.uow, world.wallet.id, Period(TODAY, date(2026, 5, 4)), actor=SYSTEM)
    second = plans.planned_vs_actual(world.uow, world.wallet.id, actor=SYSTEM)
    assert second.period == Period(date(2026, 5, 4), date(2026, 6, 1))
    assert first.line("activities").actual == 2_000 and second.line("activities").actual == 3_000
    # Over both periods: planned twice over, both payments.
    both = plans.planned_vs_actual(world.uow, world.wallet.id, Period(TODAY, date(2026, 6, 1)), actor=SYSTEM)
    assert (both.line("activities").planned, both.line("activities").actual) == (20_000, 5_000)


def test_planned_amounts_are_pro_rated_by_day(world):
    half = plans.planned_vs_actual(world.uow, world.wallet.id, Period(TODAY, date(2026, 4, 20)), actor=SYSTEM)
    assert half.line("pa_wages").planned == 75_000
    # One day of 28: 8,000 / 28 = 285.71... rounds half up to 286 pence.
    day = plans.planned_vs_actual(world.uow, world.wallet.id, Period(TODAY, date(2026, 4, 7)), actor=SYSTEM)
    assert day.line("transport").planned == 286
    # Nothing is planned before the plan starts.
    before = plans.planned_vs_actual(world.uow, world.wallet.id, Period(date(2026, 3, 23), TODAY), actor=SYSTEM)
    assert before.planned == 0


def test_a_monthly_plan_counts_calendar_months(world):
    w = wallets.open_wallet(world.uow, holder=world.users["stranger"], name="Monthly", budget_kind="direct_payment",
                            plan_start=date(2026, 1, 31), plan_period="monthly")
    s = wallets.set_funding_stream(world.uow, w.id, kind="nhs", funder_ref="nhs:icb", label="NHS",
                                   schedule="monthly", amount=0, starts=date(2026, 1, 31), actor=SYSTEM)
    plans.set_budget_line(world.uow, w.id, category="agency", stream_id=s.id, planned_per_period=28_000, actor=SYSTEM)
    feb = plans.planned_vs_actual(world.uow, w.id, Period(date(2026, 2, 28), date(2026, 3, 31)), actor=SYSTEM)
    assert feb.line("agency").planned == 28_000      # 31 Jan + 1 month is 28 Feb; + 2 months is 31 Mar
    assert plans.planned_vs_actual(world.uow, w.id, actor=SYSTEM).period == Period(date(2026, 3, 31),
                                                                                    date(2026, 4, 30))


def test_changing_a_line_keeps_one_line_and_only_planners_may(world):
    line = plans.set_budget_line(world.uow, world.wallet.id, category="transport", stream_id=world.council.id,
                                 planned_per_period=9_000, actor=world.users["appointee"], label="Taxis and buses")
    lines = plans.budget_lines(world.uow, world.wallet.id, actor=world.users["holder"])
    assert [ln.id for ln in lines if ln.category is Category.TRANSPORT] == [line.id]
    assert (line.planned_per_period, line.label) == (9_000, "Taxis and buses")
    with pytest.raises(PermissionDenied):
        plans.set_budget_line(world.uow, world.wallet.id, category="transport", stream_id=world.council.id,
                              planned_per_period=1, actor=world.users["overseer"])
    with pytest.raises(PermissionDenied):
        plans.planned_vs_actual(world.uow, world.wallet.id, actor=world.users["auditor"])

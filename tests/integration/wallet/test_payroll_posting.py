"""Finalised pay runs into the wallet's books; adjustment runs; paying PAs, HMRC and the pension provider."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.tables import entry_t
from payroll.model import PayRunStatus
from wallet.domain import payroll_posting as pp
from wallet.domain import plans, wallets
from wallet.domain.chart import Category
from wallet.domain.errors import (CorrectedRunNotPosted, NotEnoughMoney, PayRunChanged, PayRunDoesNotBalance,
                                  PayRunNotFinalised, PermissionDenied, WrongEmployer)
from wallet.domain.payroll_posting import SettlementKind
from wallet.domain.unit_of_work import SYSTEM

from .conftest import TODAY
from .helpers import pay_run, payslip, slips_for

# Jo: 180,000 gross + 1,250 expenses - 10,780 tax - 4,312 NI - 500 loan - 6,600 pension = 159,058 net.
# Kim: 90,000 gross - 1,600 pension = 88,400 net. Employer NI 19,731 + 6,231 = 25,962; pension 3,960 + 960.
NET = 159_058 + 88_400
EMPLOYEE_HMRC = 10_780 + 4_312 + 500
EMPLOYER_NI = 25_962
PENSION = 6_600 + 3_960 + 1_600 + 960
GROSS_AND_EXPENSES = 270_000 + 1_250
EMPLOYER_PENSION = 3_960 + 960


@pytest.fixture
def funded(world):
    """Enough council money for a pay run: £1,860 more than the fixture's first payment."""
    wallets.record_funding(world.uow, world.wallet.id, world.council.id, 186_000, TODAY, actor=SYSTEM, key="council-2")
    return world


def balances(world):
    chart, ledger = world.wallet.chart, world.ledger
    return {
        "wages": ledger.balance(chart.spend(Category.PA_WAGES, world.council.code)).posted,
        "wages_payable": ledger.balance(chart.wages_payable).posted,
        "hmrc": ledger.balance(chart.hmrc_payable).posted,
        "pension": ledger.balance(chart.pension_payable).posted,
        "cash": ledger.balance(chart.cash(world.council.code)).posted,
    }


def entry_count(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(entry_t)).scalar_one()


def test_a_pay_run_posts_wages_against_the_three_payables(funded):
    run = pay_run("run-1", *slips_for("run-1"), allowance=10_000)
    posted = pp.post_pay_run(funded.uow, funded.wallet.id, run, actor=funded.users["payroll_admin"])
    f = posted.figures
    assert f.net_pay == NET
    assert f.hmrc == EMPLOYEE_HMRC + EMPLOYER_NI - 10_000
    assert f.pension == PENSION
    assert f.wages_expense == GROSS_AND_EXPENSES + EMPLOYER_NI - 10_000 + EMPLOYER_PENSION
    assert f.wages_expense == f.net_pay + f.hmrc + f.pension
    assert f.net_pay_by_employee == {"pa-jo": 159_058, "pa-kim": 88_400}
    assert posted.stream_id == funded.council.id      # the PA wages line's funder
    entry = funded.ledger.entry(posted.entry_id)
    chart = funded.wallet.chart
    assert sorted((p.account, p.amount) for p in entry.postings) == sorted([
        (chart.spend(Category.PA_WAGES, funded.council.code), f.wages_expense),
        (chart.wages_payable, -f.net_pay), (chart.hmrc_payable, -f.hmrc), (chart.pension_payable, -f.pension)])
    assert entry.effective_at.date() == date(2026, 4, 30) and entry.reference == "run-1"
    assert balances(funded) == {"wages": f.wages_expense, "wages_payable": NET, "hmrc": f.hmrc, "pension": PENSION,
                                "cash": 372_000}


def test_posting_the_same_run_twice_changes_nothing(funded, db):
    run = pay_run("run-1", *slips_for("run-1"), allowance=10_000)
    first = pp.post_pay_run(funded.uow, funded.wallet.id, run, actor=SYSTEM)
    before, entries = balances(funded), entry_count(db)
    again = pp.post_pay_run(funded.uow, funded.wallet.id, run, actor=funded.users["payroll_admin"])
    assert again == first and balances(funded) == before and entry_count(db) == entries
    changed = replace(run, payslips=(run.payslips[0],), summary=None)
    with pytest.raises(PayRunChanged):
        pp.post_pay_run(funded.uow, funded.wallet.id, changed, actor=SYSTEM)
    assert len(pp.pay_run_postings(funded.uow, funded.wallet.id, actor=funded.users["holder"])) == 1


def test_an_adjustment_run_posts_its_differences(funded):
    pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-1", *slips_for("run-1")), actor=SYSTEM)
    before = balances(funded)
    # Jo was underpaid £50: the correction pays £50 more gross, with its tax and NI.
    more = payslip("run-1a", "pa-jo", gross=5_000, tax=1_000, ee_ni=400, er_ni=750)
    up = pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-1a", more, corrects="run-1"), actor=SYSTEM)
    assert up.corrects == "run-1" and up.figures.net_pay == 3_600
    after = balances(funded)
    assert after["wages"] - before["wages"] == 5_750
    assert after["wages_payable"] - before["wages_payable"] == 3_600
    assert after["hmrc"] - before["hmrc"] == 2_150
    # Kim was overpaid £20: a negative difference posts the other way round.
    less = payslip("run-1b", "pa-kim", gross=-2_000, tax=0, ee_ni=0, er_ni=-300)
    down = pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-1b", less, corrects="run-1"), actor=SYSTEM)
    assert down.figures.net_pay == -2_000 and down.figures.wages_expense == -2_300
    final = balances(funded)
    assert final["wages"] - after["wages"] == -2_300
    assert final["wages_payable"] - after["wages_payable"] == -2_000
    assert final["hmrc"] - after["hmrc"] == -300
    with pytest.raises(CorrectedRunNotPosted):
        pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-9a", more, corrects="run-9"), actor=SYSTEM)


def test_an_adjustment_is_charged_to_the_funder_of_the_run_it_corrects(funded):
    pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-1", *slips_for("run-1")), actor=SYSTEM,
                    stream_id=funded.own.id)
    more = payslip("run-1a", "pa-jo", gross=1_000, tax=200, ee_ni=80, er_ni=150)
    up = pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-1a", more, corrects="run-1"), actor=SYSTEM)
    assert up.stream_id == funded.own.id


def test_settling_pays_each_pa_hmrc_and_the_pension_and_clears_the_payables(funded):
    uow, w, admin = funded.uow, funded.wallet, funded.users["payroll_admin"]
    run = pay_run("run-1", *slips_for("run-1"), allowance=EMPLOYER_NI)
    posted = pp.post_pay_run(uow, w.id, run, actor=admin)
    jo_paid = pp.settle_net_pay(uow, w.id, "run-1", actor=admin, paid_on=date(2026, 4, 30), employee_id="pa-jo")
    assert [(s.kind, s.employee_id, s.amount) for s in jo_paid.settlements] == [
        (SettlementKind.NET_PAY, "pa-jo", 159_058)]
    assert balances(funded)["wages_payable"] == 88_400
    pp.settle_net_pay(uow, w.id, "run-1", actor=admin, paid_on=date(2026, 4, 30))
    pp.settle_hmrc(uow, w.id, "run-1", actor=admin, paid_on=date(2026, 5, 22))
    done = pp.settle_pension(uow, w.id, "run-1", actor=admin, paid_on=date(2026, 5, 19))
    assert [(s.kind, s.employee_id, s.amount) for s in done.settlements] == [
        (SettlementKind.NET_PAY, "pa-jo", 159_058), (SettlementKind.NET_PAY, "pa-kim", 88_400),
        (SettlementKind.HMRC, None, EMPLOYEE_HMRC), (SettlementKind.PENSION, None, PENSION)]
    assert balances(funded) == {"wages": posted.figures.wages_expense, "wages_payable": 0, "hmrc": 0, "pension": 0,
                                "cash": 372_000 - posted.figures.wages_expense}
    hmrc_entry = funded.ledger.entry(done.settlements[2].entry_id)
    assert hmrc_entry.effective_at.date() == date(2026, 5, 22)
    # Settling again pays nobody twice.
    again = pp.settle_pay_run(uow, w.id, "run-1", actor=admin, paid_on=date(2026, 5, 30))
    assert again.settlements == done.settlements
    assert balances(funded)["cash"] == 372_000 - posted.figures.wages_expense


def test_settling_a_whole_run_is_all_or_nothing(world):
    run = pay_run("run-1", *slips_for("run-1"))
    pp.post_pay_run(world.uow, world.wallet.id, run, actor=SYSTEM)
    # Only £1,860 of council money: net pay alone is £2,474.58.
    with pytest.raises(NotEnoughMoney):
        pp.settle_pay_run(world.uow, world.wallet.id, "run-1", actor=SYSTEM, paid_on=date(2026, 4, 30))
    assert pp.pay_run_postings(world.uow, world.wallet.id, actor=SYSTEM)[0].settlements == ()
    assert world.cash(world.council).posted == 186_000


def test_an_adjustment_that_recovers_money_has_nothing_to_pay(funded):
    pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-1", *slips_for("run-1")), actor=SYSTEM)
    less = payslip("run-1b", "pa-kim", gross=-2_000, tax=0, ee_ni=0, er_ni=-300)
    pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-1b", less, corrects="run-1"), actor=SYSTEM)
    settled = pp.settle_pay_run(funded.uow, funded.wallet.id, "run-1b", actor=SYSTEM, paid_on=date(2026, 4, 30))
    assert settled.settlements == ()


def test_refusals(funded):
    uow, w = funded.uow, funded.wallet
    slips = slips_for("run-1")
    with pytest.raises(PayRunNotFinalised):
        pp.post_pay_run(uow, w.id, pay_run("run-1", *slips, status=PayRunStatus.APPROVED), actor=SYSTEM)
    broken = replace(slips[0], net_pay=slips[0].net_pay + 1)
    with pytest.raises(PayRunDoesNotBalance, match="payslip run-1:pa-jo"):
        pp.post_pay_run(uow, w.id, pay_run("run-1", broken, with_summary=False), actor=SYSTEM)
    run = pay_run("run-1", *slips)
    with pytest.raises(PayRunDoesNotBalance, match="summary"):
        pp.post_pay_run(uow, w.id, replace(run, summary=replace(run.summary, tax=1)), actor=SYSTEM)
    with pytest.raises(PayRunDoesNotBalance, match="Employment Allowance"):
        pp.post_pay_run(uow, w.id, pay_run("run-1", *slips, allowance=EMPLOYER_NI + 1), actor=SYSTEM)
    with pytest.raises(WrongEmployer):
        pp.post_pay_run(uow, w.id, pay_run("run-1", *slips, employer_id="employer-2"), actor=SYSTEM)
    for who in ("holder", "appointee", "manager", "overseer", "council_officer", "auditor"):
        with pytest.raises(PermissionDenied):
            pp.post_pay_run(uow, w.id, run, actor=funded.users[who])
    assert pp.pay_run_postings(uow, w.id, actor=SYSTEM) == []


def test_the_wages_count_against_the_plan(funded):
    pp.post_pay_run(funded.uow, funded.wallet.id, pay_run("run-1", *slips_for("run-1"), allowance=EMPLOYER_NI),
                    actor=SYSTEM)
    line = plans.planned_vs_actual(funded.uow, funded.wallet.id, actor=SYSTEM).line("pa_wages")
    assert (line.planned, line.actual) == (150_000, GROSS_AND_EXPENSES + EMPLOYER_PENSION)

"""Wallets, their chart of accounts, and each funder's own sub-ledger."""
from __future__ import annotations

from datetime import date

import pytest

from ledger.model import AccountType
from wallet.domain import payments, payroll_posting, people, wallets
from wallet.domain.chart import Category
from wallet.domain.errors import Conflict, NotEnoughMoney, PermissionDenied, UnknownFundingStream
from wallet.domain.schedules import Period
from wallet.domain.unit_of_work import SYSTEM

from .conftest import TODAY
from .helpers import pay_run, slips_for


def test_open_wallet_opens_the_whole_chart_in_the_wallets_own_book_and_is_idempotent(world):
    w, ledger = world.wallet, world.ledger
    accounts = {a.code: a for a in ledger.accounts(book=w.book)}
    per_stream = 3 + len(Category)
    assert len(accounts) == 3 + 2 * per_stream
    assert {a.owner_ref for a in accounts.values()} == {w.id}
    chart = w.chart
    for s in (world.council, world.own):
        cash = accounts[chart.cash(s.code)]
        assert (cash.type, cash.floor) == (AccountType.ASSET, 0)
        assert accounts[chart.funding(s.code)].type is AccountType.INCOME
        assert accounts[chart.owed(s.code)].type is AccountType.LIABILITY
        assert all(accounts[chart.spend(c, s.code)].type is AccountType.EXPENSE for c in Category)
    for code in chart.payables():
        assert accounts[code].type is AccountType.LIABILITY

    again = wallets.open_wallet(world.uow, holder=world.users["holder"], name="Asha's budget",
                                budget_kind="direct_payment", plan_start=TODAY, reference="case-1")
    assert again.id == w.id and len(ledger.accounts(book=w.book)) == len(accounts)
    with pytest.raises(Conflict):
        wallets.open_wallet(world.uow, holder=world.users["appointee"], name="Someone else",
                            budget_kind="direct_payment", plan_start=TODAY, reference="case-1")


def test_two_wallets_share_no_account(world):
    other = wallets.open_wallet(world.uow, holder=world.users["stranger"], name="Ben", budget_kind="council_managed",
                                plan_start=TODAY, actor=world.users["stranger"])
    stream = wallets.set_funding_stream(world.uow, other.id, kind="council_adult_services", funder_ref="council:leeds",
                                        label="Leeds", schedule="monthly", amount=1_000, starts=TODAY, actor=SYSTEM)
    assert stream.code == "s1" and other.book != world.wallet.book
    mine = {a.code for a in world.ledger.accounts(owner_ref=world.wallet.id)}
    theirs = {a.code for a in world.ledger.accounts(owner_ref=other.id)}
    assert mine and theirs and not (mine & theirs)


def test_only_the_service_or_the_holder_opens_a_wallet(world):
    with pytest.raises(PermissionDenied):
        wallets.open_wallet(world.uow, holder=world.users["stranger"], name="X", budget_kind="direct_payment",
                            plan_start=TODAY, actor=world.users["manager"])


def test_a_funding_stream_is_one_per_funder_and_its_schedule_can_change(world):
    changed = wallets.set_funding_stream(world.uow, world.wallet.id, kind="council_adult_services",
                                         funder_ref="council:leeds", label="Leeds adult social care",
                                         schedule="monthly", amount=200_000, starts=TODAY, actor=world.users["manager"])
    assert changed.id == world.council.id and changed.code == world.council.code
    assert (changed.schedule.value, changed.amount) == ("monthly", 200_000)
    assert len(wallets.get_wallet(world.uow, world.wallet.id, actor=SYSTEM).streams) == 2
    with pytest.raises(PermissionDenied):
        wallets.set_funding_stream(world.uow, world.wallet.id, kind="nhs", funder_ref="nhs:x", label="NHS",
                                   schedule="monthly", amount=1, starts=TODAY, actor=world.users["overseer"])


def test_funding_is_idempotent_by_key(world):
    first = wallets.record_funding(world.uow, world.wallet.id, world.council.id, 5_000, TODAY, actor=SYSTEM,
                                   key="bank-tx-9")
    again = wallets.record_funding(world.uow, world.wallet.id, world.council.id, 5_000, TODAY, actor=SYSTEM,
                                   key="bank-tx-9")
    assert again.id == first.id
    assert world.cash(world.council).posted == 186_000 + 5_000
    with pytest.raises(UnknownFundingStream):
        wallets.record_funding(world.uow, world.wallet.id, "no-such-stream", 1, TODAY, actor=SYSTEM, key="k")


def test_each_funder_sees_exactly_its_own_money(world):
    """Council money pays transport and a pay run; the holder's own money pays activities."""
    uow, w, users = world.uow, world.wallet, world.users
    wallets.record_funding(uow, w.id, world.council.id, 186_000, TODAY, actor=SYSTEM, key="council-extra")
    transport = payments.request_payment(uow, w.id, actor=users["holder"], payee_id=world.agency.id, amount=4_500,
                                         category="transport", description="Taxis")
    payments.approve_payment(uow, transport.id, actor=users["appointee"])
    swim = payments.request_payment(uow, w.id, actor=users["holder"], payee_id=world.shop.id, amount=2_400,
                                    category="activities", description="Swimming")
    payments.approve_payment(uow, swim.id, actor=users["appointee"])
    waiting = payments.request_payment(uow, w.id, actor=users["manager"], payee_id=world.shop.id, amount=1_000,
                                       category="activities", description="Gym")
    run = pay_run("run-1", *slips_for("run-1"), allowance=25_962)
    posted = payroll_posting.post_pay_run(uow, w.id, run, actor=users["payroll_admin"])
    payroll_posting.settle_net_pay(uow, w.id, "run-1", actor=users["payroll_admin"], paid_on=date(2026, 4, 30))
    wallets.reclaim_surplus(uow, w.id, world.council.id, 3_000, date(2026, 4, 30), actor=SYSTEM, key="claim-1",
                            repaid=False)

    council = wallets.funder_summary(uow, w.id, world.council.id, actor=users["council_officer"])
    assert council.received == 372_000 - 3_000
    assert council.spent == {Category.TRANSPORT: 4_500, Category.PA_WAGES: 276_170}
    assert council.owed_back == 3_000
    assert council.cash == 372_000 - 4_500 - 159_058 - 88_400
    assert council.held == 0 and council.available == council.cash
    # Where it went: every movement of the council's cash, in order, with the running balance.
    assert [line.amount for line in council.lines] == [186_000, 186_000, -4_500, -159_058, -88_400]
    assert council.lines[-1].balance == council.cash
    # The books balance for the funder: cash + spending = funding + owed back + payroll still owed.
    payroll_owed = posted.figures.hmrc + posted.figures.pension
    assert council.cash + council.spent_total == council.received + council.owed_back + payroll_owed

    own = wallets.funder_summary(uow, w.id, world.own.id, actor=users["holder"])
    assert (own.received, own.spent, own.owed_back) == (12_000, {Category.ACTIVITIES: 2_400}, 0)
    assert (own.cash, own.held, own.available) == (9_600, 1_000, 8_600)
    assert [line.description for line in own.lines] == ["Money received from Own contribution",
                                                        "Swimming (Leeds Leisure)"]
    assert waiting.stream_id == world.own.id

    balance = wallets.wallet_balance(uow, w.id, actor=users["overseer"])
    assert (balance.posted, balance.held) == (council.cash + own.cash, 1_000)
    assert [s.stream_id for s in balance.streams] == [world.council.id, world.own.id]


def test_a_funder_summary_for_a_period_counts_only_that_period(world):
    uow, w = world.uow, world.wallet
    world.clock.set(world.clock.now().replace(month=5, day=10))
    wallets.record_funding(uow, w.id, world.council.id, 186_000, date(2026, 5, 4), actor=SYSTEM, key="council-2")
    req = payments.request_payment(uow, w.id, actor=world.users["appointee"], payee_id=world.agency.id,
                                   amount=7_000, category="transport", description="Taxis in May")
    payments.approve_payment(uow, req.id, actor=world.users["holder"])
    may = wallets.funder_summary(uow, w.id, world.council.id, actor=SYSTEM,
                                 period=Period(date(2026, 5, 4), date(2026, 6, 1)))
    assert (may.received, may.spent, may.cash) == (186_000, {Category.TRANSPORT: 7_000}, 365_000)
    assert [line.amount for line in may.lines] == [186_000, -7_000]
    april = wallets.funder_summary(uow, w.id, world.council.id, actor=SYSTEM,
                                   period=Period(date(2026, 4, 6), date(2026, 5, 4)))
    assert (april.received, april.spent, april.cash) == (186_000, {}, 186_000)


def test_a_reclaimed_surplus_repaid_leaves_the_funders_cash(world):
    entries = wallets.reclaim_surplus(world.uow, world.wallet.id, world.council.id, 50_000, TODAY,
                                      actor=world.users["manager"], key="claim-7")
    assert len(entries) == 2
    summary = wallets.funder_summary(world.uow, world.wallet.id, world.council.id, actor=SYSTEM)
    assert (summary.received, summary.owed_back, summary.cash) == (136_000, 0, 136_000)
    with pytest.raises(NotEnoughMoney):
        wallets.reclaim_surplus(world.uow, world.wallet.id, world.own.id, 12_001, TODAY, actor=SYSTEM, key="c8")
    assert wallets.funder_summary(world.uow, world.wallet.id, world.own.id, actor=SYSTEM).received == 12_000


def test_transactions_merge_every_funders_movements_in_date_order(world):
    uow, w = world.uow, world.wallet
    world.clock.set(world.clock.now().replace(day=9))
    req = payments.request_payment(uow, w.id, actor=world.users["holder"], payee_id=world.shop.id, amount=1_500,
                                   category="activities", description="Cinema")
    payments.approve_payment(uow, req.id, actor=world.users["appointee2"])
    lines = wallets.transactions(uow, w.id, actor=world.users["overseer"], start=TODAY, end=date(2026, 5, 4))
    assert [(t.stream_id, t.amount) for t in lines] == [
        (world.council.id, 186_000), (world.own.id, 12_000), (world.own.id, -1_500)]
    assert lines[-1].balance == 10_500 and lines[-1].description == "Cinema (Leeds Leisure)"


def test_an_overseer_who_was_shared_nothing_sees_nothing(world):
    people.share_with_overseer(world.uow, world.wallet.id, world.users["overseer"], [], actor=world.users["holder"])
    with pytest.raises(PermissionDenied):
        wallets.wallet_balance(world.uow, world.wallet.id, actor=world.users["overseer"])
    with pytest.raises(PermissionDenied):
        wallets.transactions(world.uow, world.wallet.id, actor=world.users["overseer"], start=TODAY,
                             end=date(2026, 5, 1))

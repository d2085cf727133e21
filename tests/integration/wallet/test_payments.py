"""Payment requests: every approval rule, the money held while waiting, and what approval and rejection do."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger.model import HoldStatus
from wallet.domain import access_log, payments, wallets
from wallet.domain.chart import Category
from wallet.domain.errors import (Conflict, FundingStreamNeeded, InvalidRequest, NotEnoughMoney, PermissionDenied,
                                  RequestNotPending, SelfApprovalRefused)
from wallet.domain.payments import ApprovalReason as R
from wallet.domain.payments import PaymentStatus
from wallet.domain.tables import payment_decision_t, payment_request_t
from wallet.domain.unit_of_work import SYSTEM

COUNCIL_CASH = 186_000


def ask(world, who="holder", payee=None, amount=3_000, category=Category.TRANSPORT, **kw):
    return payments.request_payment(world.uow, world.wallet.id, actor=world.users[who],
                                    payee_id=(payee or world.agency).id, amount=amount, category=category,
                                    description=kw.pop("description", "Taxi to the day centre"), **kw)


def paid_before(world, payee):
    """Make ``payee`` a payee who has been paid: a first payment, approved by an appointee."""
    first = ask(world, payee=payee, amount=100)
    payments.approve_payment(world.uow, first.id, actor=world.users["appointee"])
    return payee


def test_holder_paying_a_known_payee_within_the_plan_is_paid_at_once(world):
    paid_before(world, world.agency)
    req = ask(world, amount=3_000)
    assert req.status is PaymentStatus.PAID and req.approval_reasons == () and not req.on_behalf
    assert req.hold_id is None and req.entry_id is not None and req.decisions == ()
    entry = world.ledger.entry(req.entry_id)
    chart, s = world.wallet.chart, world.council.code
    assert sorted((p.account, p.amount) for p in entry.postings) == sorted(
        [(chart.spend(Category.TRANSPORT, s), 3_000), (chart.cash(s), -3_000)])
    assert world.cash(world.council).posted == COUNCIL_CASH - 100 - 3_000
    assert world.spent(Category.TRANSPORT, world.council) == 3_100


def test_first_payment_to_a_new_payee_always_waits_and_the_money_is_held(world):
    req = ask(world, amount=3_000)
    assert req.status is PaymentStatus.AWAITING_APPROVAL and req.approval_reasons == (R.NEW_PAYEE,)
    cash = world.cash(world.council)
    assert (cash.posted, cash.held, cash.available) == (COUNCIL_CASH, 3_000, COUNCIL_CASH - 3_000)
    hold = world.ledger.get_hold(req.hold_id)
    assert hold.status is HoldStatus.PENDING and hold.reference == req.id and hold.amount == 3_000
    assert hold.debit == world.wallet.chart.spend(Category.TRANSPORT, world.council.code)
    assert hold.credit == world.wallet.chart.cash(world.council.code)
    assert world.spent(Category.TRANSPORT, world.council) == 0


def test_nobody_approves_their_own_request_and_an_appointee_can(world):
    req = ask(world)
    with pytest.raises(SelfApprovalRefused):
        payments.approve_payment(world.uow, req.id, actor=world.users["holder"])
    with pytest.raises(SelfApprovalRefused):
        payments.reject_payment(world.uow, req.id, actor=world.users["holder"], reason="changed my mind")
    assert payments.get_payment_request(world.uow, req.id, actor=SYSTEM).status is PaymentStatus.AWAITING_APPROVAL

    done = payments.approve_payment(world.uow, req.id, actor=world.users["appointee"], note="Invoice checked")
    assert done.status is PaymentStatus.PAID and done.entry_id is not None
    [decision] = done.decisions
    assert (decision.decision, decision.decided_by, decision.reason) == ("approved", world.users["appointee"],
                                                                         "Invoice checked")
    assert world.ledger.get_hold(req.hold_id).status is HoldStatus.COMMITTED
    cash = world.cash(world.council)
    assert (cash.posted, cash.held) == (COUNCIL_CASH - 3_000, 0)
    assert world.spent(Category.TRANSPORT, world.council) == 3_000
    assert world.ledger.entry(done.entry_id).hold == req.hold_id
    with pytest.raises(RequestNotPending):
        payments.approve_payment(world.uow, req.id, actor=world.users["appointee2"])


def test_a_payment_asked_for_on_the_holders_behalf_needs_a_second_person(world):
    paid_before(world, world.agency)
    req = ask(world, who="appointee", amount=2_000)
    assert req.on_behalf and req.approval_reasons == (R.ON_BEHALF,)
    with pytest.raises(SelfApprovalRefused):
        payments.approve_payment(world.uow, req.id, actor=world.users["appointee"])
    # Another appointee may approve, as may the holder.
    assert payments.approve_payment(world.uow, req.id, actor=world.users["appointee2"]).status is PaymentStatus.PAID
    second = ask(world, who="appointee", amount=2_000)
    assert payments.approve_payment(world.uow, second.id, actor=world.users["holder"]).status is PaymentStatus.PAID


def test_staff_may_ask_but_only_the_holder_or_an_appointee_may_approve(world):
    paid_before(world, world.agency)
    req = ask(world, who="manager", amount=2_000)
    assert req.approval_reasons == (R.ON_BEHALF,)
    for who in ("manager", "overseer", "payroll_admin", "council_officer", "auditor", "stranger"):
        with pytest.raises(PermissionDenied):
            payments.approve_payment(world.uow, req.id, actor=world.users[who])
    with pytest.raises(PermissionDenied):
        payments.approve_payment(world.uow, req.id, actor=SYSTEM)
    assert payments.approve_payment(world.uow, req.id, actor=world.users["holder"]).status is PaymentStatus.PAID


def test_a_family_overseer_can_never_ask_for_money(world):
    with pytest.raises(PermissionDenied):
        ask(world, who="overseer")
    with pytest.raises(PermissionDenied):
        ask(world, who="auditor")
    with pytest.raises(PermissionDenied):
        payments.request_payment(world.uow, world.wallet.id, actor=SYSTEM, payee_id=world.agency.id, amount=1,
                                 category="transport", description="x")
    assert world.cash(world.council).held == 0


def test_a_payment_outside_the_plan_waits(world):
    paid_before(world, world.shop)
    # No equipment line at all.
    req = ask(world, payee=world.shop, amount=1_000, category=Category.EQUIPMENT, stream_id=world.council.id)
    assert req.approval_reasons == (R.NO_BUDGET_LINE,) and req.budget_line_id is None
    # Activities: £100 a period from her own money; £80 goes straight through, £30 more would exhaust it.
    ok = ask(world, payee=world.shop, amount=8_000, category=Category.ACTIVITIES)
    assert ok.status is PaymentStatus.PAID and ok.stream_id == world.own.id
    over = ask(world, payee=world.shop, amount=3_000, category=Category.ACTIVITIES)
    assert over.approval_reasons == (R.LINE_EXHAUSTED,) and over.budget_line_id is not None


def test_money_awaiting_approval_counts_against_the_line(world):
    paid_before(world, world.shop)
    wallets.record_funding(world.uow, world.wallet.id, world.own.id, 20_000, world.clock.now().date(),
                           actor=SYSTEM, key="own-extra")
    waiting = ask(world, who="appointee", payee=world.shop, amount=6_000, category=Category.ACTIVITIES)
    assert waiting.approval_reasons == (R.ON_BEHALF,)
    # 10,000 planned - 6,000 waiting leaves 4,000: 5,000 is outside the plan, 4,000 is not.
    assert ask(world, payee=world.shop, amount=5_000, category="activities").approval_reasons == (R.LINE_EXHAUSTED,)
    assert ask(world, payee=world.shop, amount=4_000, category="activities").status is PaymentStatus.AWAITING_APPROVAL


def test_above_the_wallets_threshold_always_waits_and_the_threshold_is_per_wallet(world):
    paid_before(world, world.pa)
    at = ask(world, payee=world.pa, amount=25_000, category=Category.PA_WAGES)
    assert at.status is PaymentStatus.PAID
    above = ask(world, payee=world.pa, amount=25_001, category=Category.PA_WAGES)
    assert above.approval_reasons == (R.ABOVE_THRESHOLD,)
    wallets.update_wallet(world.uow, world.wallet.id, actor=world.users["holder"], approval_threshold=10_000)
    assert ask(world, payee=world.pa, amount=12_000, category="pa_wages").approval_reasons == (R.ABOVE_THRESHOLD,)
    assert ask(world, payee=world.pa, amount=10_000, category="pa_wages").status is PaymentStatus.PAID


def test_every_reason_that_applies_is_recorded(world):
    req = ask(world, who="manager", payee=world.shop, amount=30_000, category=Category.EQUIPMENT,
              stream_id=world.council.id)
    assert req.approval_reasons == (R.ON_BEHALF, R.NEW_PAYEE, R.NO_BUDGET_LINE, R.ABOVE_THRESHOLD)


def test_rejection_needs_a_reason_releases_the_hold_and_is_stored(world, db):
    req = ask(world, who="appointee", amount=4_000)
    with pytest.raises(InvalidRequest):
        payments.reject_payment(world.uow, req.id, actor=world.users["holder"], reason="  ")
    assert world.cash(world.council).held == 4_000
    done = payments.reject_payment(world.uow, req.id, actor=world.users["holder"], reason="We used the bus instead")
    assert done.status is PaymentStatus.REJECTED and done.entry_id is None
    [decision] = done.decisions
    assert (decision.decision, decision.decided_by, decision.reason) == (
        "rejected", world.users["holder"], "We used the bus instead")
    assert world.ledger.get_hold(req.hold_id).status is HoldStatus.RELEASED
    cash = world.cash(world.council)
    assert (cash.posted, cash.held, cash.available) == (COUNCIL_CASH, 0, COUNCIL_CASH)
    assert world.spent(Category.TRANSPORT, world.council) == 0
    with pytest.raises(RequestNotPending):
        payments.approve_payment(world.uow, req.id, actor=world.users["appointee2"])
    with db.read() as conn:
        stored = conn.execute(select(payment_decision_t.c.reason)).scalars().all()
    assert stored == ["We used the bus instead"]


def test_the_requester_may_withdraw_and_nobody_else(world):
    req = ask(world, who="manager", amount=4_000)
    with pytest.raises(PermissionDenied):
        payments.withdraw_payment(world.uow, req.id, actor=world.users["holder"])
    done = payments.withdraw_payment(world.uow, req.id, actor=world.users["manager"], reason="Wrong invoice")
    assert done.status is PaymentStatus.WITHDRAWN and world.cash(world.council).held == 0
    assert world.ledger.get_hold(req.hold_id).status is HoldStatus.RELEASED


def test_not_enough_of_a_funders_money_leaves_nothing_behind(world, db):
    with pytest.raises(NotEnoughMoney) as caught:
        ask(world, payee=world.shop, amount=12_001, category=Category.ACTIVITIES)
    assert caught.value.funder == "Own contribution" and caught.value.available == 12_000
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(payment_request_t)).scalar_one() == 0
    assert world.cash(world.own).held == 0
    # Held money is not available either.
    ask(world, payee=world.shop, amount=10_000, category=Category.ACTIVITIES)
    with pytest.raises(NotEnoughMoney):
        ask(world, payee=world.shop, amount=2_001, category=Category.ACTIVITIES)
    log = access_log.access_log(world.uow, world.wallet.id, actor=world.users["holder"])
    refused = [r for r in log if r.outcome == "refused"]
    assert len(refused) == 2 and all("NotEnoughMoney" in r.detail for r in refused)


def test_a_repeated_key_returns_the_first_request_and_a_reused_key_is_refused(world):
    first = ask(world, amount=3_000, key="invoice-77")
    again = ask(world, amount=3_000, key="invoice-77")
    assert again == first and world.cash(world.council).held == 3_000
    with pytest.raises(Conflict):
        ask(world, amount=3_500, key="invoice-77")


def test_with_several_funders_and_no_line_someone_must_say_who_pays(world):
    with pytest.raises(FundingStreamNeeded):
        ask(world, payee=world.shop, amount=1_000, category=Category.EQUIPMENT)
    assert ask(world, payee=world.shop, amount=1_000, category=Category.EQUIPMENT,
               stream_id=world.own.id).stream_id == world.own.id


def test_requests_are_listed_by_status(world):
    a = ask(world, amount=1_000)
    b = ask(world, amount=2_000)
    payments.reject_payment(world.uow, b.id, actor=world.users["appointee"], reason="Duplicate")
    waiting = payments.payment_requests(world.uow, world.wallet.id, actor=world.users["holder"],
                                        status="awaiting_approval")
    assert [r.id for r in waiting] == [a.id]
    assert [r.id for r in payments.payment_requests(world.uow, world.wallet.id, actor=world.users["holder"])] == \
        [a.id, b.id]

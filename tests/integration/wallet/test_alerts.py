"""Alerts: each kind raised when its figures call for it, stored, and never raised twice for the same cause.

The fixture's plan: £1,680 a period of spending (PA wages 1,500, transport 80, activities 100) plus a £50
contingency line; Leeds pays £1,860 and the holder £120 every four weeks from 6 April 2026.
"""
from __future__ import annotations

from datetime import date

import pytest

from wallet.domain import alerts, payments, wallets
from wallet.domain.alerts import AlertKind
from wallet.domain.errors import PermissionDenied
from wallet.domain.unit_of_work import SYSTEM

from .conftest import TODAY


def check(world, today=TODAY):
    return alerts.check_alerts(world.uow, world.wallet.id, actor=SYSTEM, today=today)


def kinds(raised):
    return [(a.kind, a.cause) for a in raised]


def missed_only(raised):
    return [a.cause for a in raised if a.kind is AlertKind.MISSED_FUNDING]


def spend(world, amount, category, payee=None):
    req = payments.request_payment(world.uow, world.wallet.id, actor=world.users["holder"],
                                   payee_id=(payee or world.agency).id, amount=amount, category=category,
                                   description="Spending")
    if req.status is payments.PaymentStatus.AWAITING_APPROVAL:
        payments.approve_payment(world.uow, req.id, actor=world.users["appointee"])


def test_a_wallet_in_good_order_raises_nothing(world):
    assert check(world) == []
    assert alerts.alerts(world.uow, world.wallet.id, actor=world.users["holder"]) == []


def test_low_balance_against_the_next_periods_planned_spending(world):
    # Leeds will pay only £1,000 next time, and £1,500 of its money has been spent.
    wallets.set_funding_stream(world.uow, world.wallet.id, kind="council_adult_services", funder_ref="council:leeds",
                               label="Leeds adult social care", schedule="four_weekly", amount=100_000,
                               starts=TODAY, actor=SYSTEM)
    spend(world, 150_000, "pa_wages", payee=world.pa)
    [low] = check(world)
    assert (low.kind, low.cause) == (AlertKind.LOW_BALANCE, "low_balance:2026-05-04")
    assert low.details == {"available": 48_000, "coming_in": 112_000, "planned": 168_000,
                           "period_start": "2026-05-04"}
    assert "£480.00 available" in low.message and "£1,680.00 is planned" in low.message
    assert check(world) == []
    assert kinds(alerts.alerts(world.uow, world.wallet.id, actor=world.users["overseer"])) == [
        (AlertKind.LOW_BALANCE, "low_balance:2026-05-04")]


def test_surplus_above_the_councils_limit(world):
    wallets.record_funding(world.uow, world.wallet.id, world.council.id, 200_000, TODAY, actor=SYSTEM, key="extra")
    [surplus] = check(world)
    assert (surplus.kind, surplus.cause) == (AlertKind.SURPLUS, "surplus:2026-04-06")
    # 8 weeks of planned spending is two periods: 336,000; 398,000 is available.
    assert (surplus.details["available"], surplus.details["limit"], surplus.details["weeks"]) == (398_000, 336_000, 8)
    assert check(world) == []


@pytest.mark.parametrize("settings", [{"surplus_weeks": 12}, {"contingency_reserve": 70_000}])
def test_the_surplus_limit_is_set_per_wallet(world, settings):
    wallets.update_wallet(world.uow, world.wallet.id, actor=world.users["manager"], **settings)
    wallets.record_funding(world.uow, world.wallet.id, world.council.id, 200_000, TODAY, actor=SYSTEM, key="extra")
    assert check(world) == []


def test_missed_funding_after_the_grace_days(world):
    wallets.record_funding(world.uow, world.wallet.id, world.own.id, 12_000, date(2026, 5, 4), actor=SYSTEM,
                           key="own-2")
    # Leeds was due on 4 May; the grace is 7 days.
    assert check(world, date(2026, 5, 11)) == []
    [missed] = check(world, date(2026, 5, 12))
    assert (missed.kind, missed.cause) == (AlertKind.MISSED_FUNDING, "missed_funding:s1:2026-05-04")
    assert missed.details["stream"] == world.council.id and missed.details["amount"] == 186_000
    assert check(world, date(2026, 5, 12)) == []
    # It arrives late: nothing new. Then the next payment is missed too: a new cause. (With nothing spent,
    # the money piles up past the surplus limit meanwhile: that is another alert, not looked at here.)
    wallets.record_funding(world.uow, world.wallet.id, world.council.id, 186_000, date(2026, 5, 13), actor=SYSTEM,
                           key="council-2")
    assert missed_only(check(world, date(2026, 5, 14))) == []
    wallets.record_funding(world.uow, world.wallet.id, world.own.id, 12_000, date(2026, 6, 1), actor=SYSTEM,
                           key="own-3")
    assert missed_only(check(world, date(2026, 6, 9))) == ["missed_funding:s1:2026-06-01"]


def test_a_payment_in_advance_counts(world):
    for key, stream in (("council-2", world.council), ("own-2", world.own)):
        wallets.record_funding(world.uow, world.wallet.id, stream.id, stream.amount, date(2026, 4, 20), actor=SYSTEM,
                               key=key)
    assert missed_only(check(world, date(2026, 5, 20))) == []
    assert missed_only(check(world, date(2026, 6, 9))) == ["missed_funding:s1:2026-06-01",
                                                           "missed_funding:s2:2026-06-01"]


def test_overspend_on_a_plan_line(world):
    spend(world, 9_000, "transport")
    [over] = check(world)
    assert over.kind is AlertKind.OVERSPEND
    assert over.details["planned"] == 8_000 and over.details["actual"] == 9_000
    assert over.cause.startswith("overspend:") and over.cause.endswith(":2026-04-06")
    assert check(world) == []


def test_insurance_renewal_within_thirty_days(world):
    wallets.update_wallet(world.uow, world.wallet.id, actor=world.users["holder"], insurance_renews_on=date(2026, 6, 1))
    assert check(world) == []                      # 56 days away
    [due] = check(world, date(2026, 5, 2))         # 30 days away
    assert (due.kind, due.cause) == (AlertKind.INSURANCE_RENEWAL, "insurance_renewal:2026-06-01")
    assert check(world, date(2026, 5, 3)) == []
    wallets.update_wallet(world.uow, world.wallet.id, actor=world.users["holder"], insurance_renews_on=date(2027, 6, 1))
    assert check(world, date(2026, 5, 3)) == []
    a_year_on = check(world, date(2027, 5, 15))   # (a year without funding is missed funding too, many times)
    assert [a.cause for a in a_year_on if a.kind is AlertKind.INSURANCE_RENEWAL] == ["insurance_renewal:2027-06-01"]
    assert {a.kind for a in a_year_on} == {AlertKind.INSURANCE_RENEWAL, AlertKind.MISSED_FUNDING}


def test_a_dismissed_alert_is_not_raised_again(world):
    wallets.update_wallet(world.uow, world.wallet.id, actor=world.users["holder"], insurance_renews_on=date(2026, 4, 20))
    [due] = check(world)
    done = alerts.dismiss_alert(world.uow, due.id, actor=world.users["appointee"])
    assert done.dismissed_by == world.users["appointee"] and done.dismissed_at is not None
    assert check(world) == []
    assert alerts.alerts(world.uow, world.wallet.id, actor=world.users["holder"]) == []
    assert [a.id for a in alerts.alerts(world.uow, world.wallet.id, actor=world.users["holder"],
                                        include_dismissed=True)] == [due.id]
    with pytest.raises(PermissionDenied):
        alerts.dismiss_alert(world.uow, due.id, actor=world.users["overseer"])


def test_checking_alerts_needs_to_be_allowed_to_see_the_balance(world):
    assert alerts.check_alerts(world.uow, world.wallet.id, actor=world.users["overseer"]) == []
    with pytest.raises(PermissionDenied):
        alerts.check_alerts(world.uow, world.wallet.id, actor=world.users["auditor"])

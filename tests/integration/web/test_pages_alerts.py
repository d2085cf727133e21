"""Dismissing alerts on the home page: each person for themselves, recorded and logged; a dismissed alert stays
away for its period and a new one shows when the same thing happens in a later period. The home page reads the
same number of statements however many alerts were dismissed. SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from tests.integration.web.test_pages_perf import _statements
from wallet.domain import access_log, alerts, payments, wallets
from wallet.domain.chart import Category
from wallet.domain.directory import home_page
from wallet.domain.dismissals import dismiss_for_me
from wallet.domain.tables import alert_dismissal_t
from wallet.domain.unit_of_work import SYSTEM


def overspend_transport(w, key: str) -> None:
    """£100 of taxis against the £80 transport line, asked for by the holder and approved by an appointee."""
    asked = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id,
                                     amount=10_000, category=Category.TRANSPORT, description="Taxis", key=key)
    payments.approve_payment(w.uow, asked.id, actor=w.users["appointee"])


def shown_alerts(client, w) -> list[str]:
    html = client.get(f"/wallets/{w.wallet.id}").get_data(as_text=True)
    return re.findall(r'data-alert-id="([^"]+)"', html)


def test_a_dismissed_alert_goes_for_that_person_only_and_comes_back_in_a_later_period(portal):
    w = portal.world
    overspend_transport(w, "taxi-1")
    (first,) = alerts.check_alerts(w.uow, w.wallet.id, actor=SYSTEM)
    assert first.cause.startswith("overspend:") and first.cause.endswith(":2026-04-06")
    holder, appointee = portal.client("holder"), portal.client("appointee")
    home = holder.get(f"/wallets/{w.wallet.id}").get_data(as_text=True)
    assert f'action="/wallets/{w.wallet.id}/alerts/{first.id}/dismiss"' in home
    assert "Dismiss<span class=\"visually-hidden\"> this alert: Transport" in home

    done = holder.post(f"/wallets/{w.wallet.id}/alerts/{first.id}/dismiss",
                       data={"csrf_token": holder.csrf(f"/wallets/{w.wallet.id}")})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/wallets/{w.wallet.id}")
    assert "Dismissed: you will not see that alert again" in holder.get(done.headers["Location"]).get_data(
        as_text=True)
    assert shown_alerts(holder, w) == []
    assert shown_alerts(appointee, w) == [first.id]   # the appointee still sees it
    # Dismissing twice records it once; the alert itself stays raised for the wallet.
    holder.post(f"/wallets/{w.wallet.id}/alerts/{first.id}/dismiss",
                data={"csrf_token": holder.csrf(f"/wallets/{w.wallet.id}")})
    with w.uow.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(alert_dismissal_t)).scalar_one() == 1
    assert [a.id for a in alerts.alerts(w.uow, w.wallet.id, actor=SYSTEM)] == [first.id]
    log = access_log.access_log(w.uow, w.wallet.id, actor=w.users["holder"])
    dismissals = [r for r in log if r.action == "dismiss_alert"]
    assert [(r.actor, r.outcome) for r in dismissals] == [(w.users["holder"], "done")] * 2
    assert first.id in dismissals[0].detail and first.cause in dismissals[0].detail

    # Still overspent later in the same period: the same cause, not raised again, still dismissed.
    overspend_transport(w, "taxi-2")
    assert alerts.check_alerts(w.uow, w.wallet.id, actor=SYSTEM) == []
    assert shown_alerts(holder, w) == []

    # The next plan period overspends too: a new alert, shown to the holder again.
    w.clock.advance(days=28)
    wallets.record_funding(w.uow, w.wallet.id, w.council.id, 186_000, date(2026, 5, 4), actor=SYSTEM, key="c-2")
    overspend_transport(w, "taxi-3")
    raised = alerts.check_alerts(w.uow, w.wallet.id, actor=SYSTEM)
    again = [a for a in raised if a.cause.startswith("overspend:")]
    assert len(again) == 1 and again[0].cause.endswith(":2026-05-04")
    assert again[0].id in shown_alerts(holder, w) and first.id not in shown_alerts(holder, w)


def test_dismissing_needs_the_home_page_and_a_real_alert_of_this_wallet(portal):
    w = portal.world
    overspend_transport(w, "taxi-1")
    (alert,) = alerts.check_alerts(w.uow, w.wallet.id, actor=SYSTEM)
    for who in ("stranger", "auditor"):
        client = portal.client(who)
        token = client.csrf("/wallets")
        assert client.post(f"/wallets/{w.wallet.id}/alerts/{alert.id}/dismiss",
                           data={"csrf_token": token}).status_code == 403
    holder = portal.client("holder")
    token = holder.csrf(f"/wallets/{w.wallet.id}")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert holder.post(f"/wallets/{w.wallet.id}/alerts/{unknown}/dismiss", data={"csrf_token": token}
                       ).status_code == 404
    assert holder.post(f"/wallets/{w.wallet.id}/alerts/{alert.id}/dismiss", data={}).status_code == 400  # no CSRF
    assert shown_alerts(holder, w) == [alert.id]
    log = access_log.access_log(w.uow, w.wallet.id, actor=w.users["holder"])
    outcomes = [(r.actor, r.outcome) for r in log if r.action == "dismiss_alert"]
    assert (w.users["stranger"], "denied") in outcomes and (w.users["auditor"], "denied") in outcomes
    assert (w.users["holder"], "refused") in outcomes
    # A family overseer who sees the home page puts the alert away for themselves only.
    overseer = portal.client("overseer")
    assert overseer.post(f"/wallets/{w.wallet.id}/alerts/{alert.id}/dismiss",
                         data={"csrf_token": overseer.csrf(f"/wallets/{w.wallet.id}")}).status_code == 302
    assert shown_alerts(overseer, w) == [] and shown_alerts(holder, w) == [alert.id]


def test_the_home_page_reads_as_many_statements_however_many_alerts_were_dismissed(world):
    w = world
    actor = w.users["holder"]
    counts = []
    for n in range(3):
        w.clock.advance(days=28 * (n > 0))
        overspend_transport(w, f"taxi-{n}")
        for alert in alerts.check_alerts(w.uow, w.wallet.id, actor=SYSTEM):
            dismiss_for_me(w.uow, w.wallet.id, alert.id, actor=actor)
        with _statements(w.uow) as seen:
            page = home_page(w.uow, w.wallet.id, actor=actor)
        counts.append(len(seen))
        assert page.alerts == ()
    assert counts[0] == counts[1] == counts[2], counts
    # The appointee dismissed nothing: every alert still shows for them.
    assert len(home_page(w.uow, w.wallet.id, actor=w.users["appointee"]).alerts) == len(
        alerts.alerts(w.uow, w.wallet.id, actor=SYSTEM))

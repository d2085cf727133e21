"""Withdrawing a payment request: only the person who asked, only while it waits; the money kept back is
released in the ledger and the approvers' inbox no longer shows it. SQLite and PostgreSQL."""
from __future__ import annotations

import re

from wallet.domain import access_log, payments, wallets
from wallet.domain.chart import Category
from wallet.domain.payments import PaymentStatus
from wallet.domain.unit_of_work import SYSTEM


def waiting_ids(client, w) -> list[str]:
    html = client.get(f"/wallets/{w.wallet.id}/approvals").get_data(as_text=True)
    inbox = re.search(r'<ul class="approval-list" id="waiting">(.*?)</ul>', html, re.S).group(1)
    return re.findall(r'data-request-id="([^"]+)"', inbox)


def test_the_person_who_asked_withdraws_a_waiting_request_and_the_hold_is_released(portal):
    w = portal.world
    before = wallets.wallet_balance(w.uow, w.wallet.id, actor=SYSTEM)
    asked = payments.request_payment(w.uow, w.wallet.id, actor=w.users["manager"], payee_id=w.agency.id,
                                     amount=20_000, category=Category.AGENCY, description="Respite evening",
                                     stream_id=w.council.id)
    assert asked.status is PaymentStatus.AWAITING_APPROVAL
    assert wallets.wallet_balance(w.uow, w.wallet.id, actor=SYSTEM).held == before.held + 20_000
    holder, manager = portal.client("holder"), portal.client("manager")
    assert waiting_ids(holder, w) == [asked.id]

    page = f"/wallets/{w.wallet.id}/payments"
    # Only the person who asked is offered the button.
    assert f"/payments/{asked.id}/withdraw" not in holder.get(page).get_data(as_text=True)
    listing = manager.get(page).get_data(as_text=True)
    assert f'action="/wallets/{w.wallet.id}/payments/{asked.id}/withdraw"' in listing
    refused = holder.post(f"/wallets/{w.wallet.id}/payments/{asked.id}/withdraw",
                          data={"csrf_token": holder.csrf(page)})
    assert refused.status_code == 403
    assert payments.get_payment_request(w.uow, asked.id, actor=SYSTEM).status is PaymentStatus.AWAITING_APPROVAL

    done = manager.post(f"/wallets/{w.wallet.id}/payments/{asked.id}/withdraw",
                        data={"csrf_token": manager.csrf(page)})
    assert done.status_code == 302 and done.headers["Location"].endswith(page)
    shown = manager.get(done.headers["Location"]).get_data(as_text=True)
    assert "Withdrawn: your request to pay £200.00 will not be made" in shown
    after = payments.get_payment_request(w.uow, asked.id, actor=SYSTEM)
    assert after.status is PaymentStatus.WITHDRAWN
    assert [(d.decision, d.decided_by) for d in after.decisions] == [("withdrawn", w.users["manager"])]
    assert w.ledger.get_hold(after.hold_id).status.value == "released"
    balance = wallets.wallet_balance(w.uow, w.wallet.id, actor=SYSTEM)
    assert (balance.held, balance.available, balance.posted) == (before.held, before.available, before.posted)
    assert waiting_ids(holder, w) == []
    assert "Withdrawn" in holder.get(f"/wallets/{w.wallet.id}/approvals").get_data(as_text=True)
    assert f"/payments/{asked.id}/withdraw" not in shown

    # A second go is told plainly; it changes nothing.
    again = manager.post(f"/wallets/{w.wallet.id}/payments/{asked.id}/withdraw",
                         data={"csrf_token": manager.csrf(page)})
    assert "already dealt with: it is withdrawn" in manager.get(again.headers["Location"]).get_data(as_text=True)
    log = access_log.access_log(w.uow, w.wallet.id, actor=w.users["holder"])
    withdrawals = [(r.actor, r.outcome) for r in log if f"withdraw payment request {asked.id}" in r.detail]
    assert (w.users["manager"], "done") in withdrawals and (w.users["holder"], "denied") in withdrawals


def test_a_decided_request_cannot_be_withdrawn_and_lookers_cannot_try(portal):
    w = portal.world
    asked = payments.request_payment(w.uow, w.wallet.id, actor=w.users["appointee"], payee_id=w.shop.id,
                                     amount=3_000, category=Category.ACTIVITIES, description="Cinema")
    payments.approve_payment(w.uow, asked.id, actor=w.users["holder"])
    appointee = portal.client("appointee")
    page = f"/wallets/{w.wallet.id}/payments"
    tried = appointee.post(f"/wallets/{w.wallet.id}/payments/{asked.id}/withdraw",
                           data={"csrf_token": appointee.csrf(page)})
    assert "already dealt with: it is paid" in appointee.get(tried.headers["Location"]).get_data(as_text=True)
    assert payments.get_payment_request(w.uow, asked.id, actor=SYSTEM).status is PaymentStatus.PAID
    overseer = portal.client("overseer")
    assert overseer.post(f"/wallets/{w.wallet.id}/payments/{asked.id}/withdraw",
                         data={"csrf_token": overseer.csrf(page)}).status_code == 403
    assert appointee.post(f"/wallets/{w.wallet.id}/payments/{asked.id}/withdraw", data={}).status_code == 400

"""Asking for a payment, the approvals inbox, and what approval and rejection do to the money."""
from __future__ import annotations

import re

from wallet.domain import payments, wallets
from wallet.domain.chart import Category
from wallet.domain.payments import PaymentStatus
from wallet.domain.unit_of_work import SYSTEM
from wallet.money import format_pence


def balance(w):
    return wallets.wallet_balance(w.uow, w.wallet.id, actor=SYSTEM)


def requests_of(w):
    return payments.payment_requests(w.uow, w.wallet.id, actor=SYSTEM)


def test_request_then_approve_moves_the_money_and_shows_the_result(portal):
    w = portal.world
    appointee = portal.client("appointee")
    form_path = f"/wallets/{w.wallet.id}/payments/new"
    form = appointee.get(form_path)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    before = balance(w)
    made = appointee.post(form_path, data={
        "csrf_token": appointee.csrf(form_path), "key": key, "payee": w.pa.id, "amount": "450.00",
        "category": "pa_wages", "description": "April wages", "funder": ""})
    assert made.status_code == 302 and made.headers["Location"].endswith(f"/wallets/{w.wallet.id}/payments")
    listed = appointee.get(made.headers["Location"]).get_data(as_text=True)
    assert "waiting for approval, because it was asked for on the budget holder’s behalf; it is the first " \
           "payment to this payee; it is more than £250.00" in listed
    (asked,) = requests_of(w)
    assert asked.status is PaymentStatus.AWAITING_APPROVAL and asked.amount == 45_000
    assert balance(w).held == before.held + 45_000 and balance(w).posted == before.posted

    # The same form sent twice (a double click) makes one request.
    again = appointee.post(form_path, data={
        "csrf_token": appointee.csrf(form_path), "key": key, "payee": w.pa.id, "amount": "450.00",
        "category": "pa_wages", "description": "April wages", "funder": ""})
    assert again.status_code == 302 and len(requests_of(w)) == 1

    # The person who asked cannot approve it: no buttons for them, and a refusal if they try.
    inbox = appointee.get(f"/wallets/{w.wallet.id}/approvals").get_data(as_text=True)
    assert "You asked for this payment, so someone else must approve or reject it." in inbox
    assert f"/approvals/{asked.id}/approve" not in inbox
    self_approve = appointee.post(f"/wallets/{w.wallet.id}/approvals/{asked.id}/approve",
                                  data={"csrf_token": appointee.csrf(f"/wallets/{w.wallet.id}/approvals")})
    assert self_approve.status_code == 302
    assert "someone else must approve" in appointee.get(self_approve.headers["Location"]).get_data(as_text=True)
    assert requests_of(w)[0].status is PaymentStatus.AWAITING_APPROVAL

    holder = portal.client("holder")
    inbox_path = f"/wallets/{w.wallet.id}/approvals"
    inbox = holder.get(inbox_path).get_data(as_text=True)
    assert f"{format_pence(45_000)} to Jo Smith" in inbox and f"/approvals/{asked.id}/approve" in inbox
    done = holder.post(f"{inbox_path}/{asked.id}/approve", data={"csrf_token": holder.csrf(inbox_path)})
    assert done.status_code == 302
    result = holder.get(done.headers["Location"]).get_data(as_text=True)
    assert "Approved: £450.00 has been paid to Jo Smith." in result
    assert "There are no payments waiting for approval." in result
    after = balance(w)
    assert after.posted == before.posted - 45_000 and after.held == before.held
    assert w.spent(Category.PA_WAGES, w.council) == 45_000
    home = holder.get(f"/wallets/{w.wallet.id}").get_data(as_text=True)
    assert format_pence(after.available) in home

    # Deciding twice is explained, not an error page.
    twice = holder.post(f"{inbox_path}/{asked.id}/approve", data={"csrf_token": holder.csrf(inbox_path)})
    assert twice.status_code == 302
    assert "This payment was already dealt with: it is paid." in holder.get(twice.headers["Location"]).get_data(
        as_text=True)


def test_reject_needs_a_reason_and_releases_the_hold(portal):
    w = portal.world
    asked = payments.request_payment(w.uow, w.wallet.id, actor=w.users["manager"], payee_id=w.agency.id,
                                     amount=30_000, category=Category.AGENCY, description="Cover",
                                     stream_id=w.council.id)
    assert balance(w).held == 30_000
    holder = portal.client("holder")
    inbox_path = f"/wallets/{w.wallet.id}/approvals"
    token = holder.csrf(inbox_path)
    no_reason = holder.post(f"{inbox_path}/{asked.id}/reject", data={"csrf_token": token, "reason": "  "})
    assert no_reason.status_code == 400
    html = no_reason.get_data(as_text=True)
    assert "There is a problem" in html and f'href="#reason-{asked.id}"' in html
    assert "Say why you are rejecting this payment" in html
    assert balance(w).held == 30_000 and requests_of(w)[0].status is PaymentStatus.AWAITING_APPROVAL

    done = holder.post(f"{inbox_path}/{asked.id}/reject", data={"csrf_token": token, "reason": "We use Jo now"})
    assert done.status_code == 302
    result = holder.get(done.headers["Location"]).get_data(as_text=True)
    assert "Rejected: the payment of £300.00 will not be made" in result and "We use Jo now" in result
    assert balance(w).held == 0 and balance(w).posted == 198_000
    assert requests_of(w)[0].status is PaymentStatus.REJECTED
    listed = holder.get(f"/wallets/{w.wallet.id}/payments").get_data(as_text=True)
    assert "Rejected" in listed and "We use Jo now" in listed


def test_validation_errors_write_nothing(portal):
    w = portal.world
    client = portal.client("holder")
    path = f"/wallets/{w.wallet.id}/payments/new"
    log_before = len(_access_rows(w))
    bad = client.post(path, data={"csrf_token": client.csrf(path), "payee": "", "amount": "12.345",
                                  "category": "caviar", "description": ""})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "<title>Error: Ask for a payment" in html
    for field, words in (("payee", "Choose who to pay"), ("amount", "Enter the amount in pounds and pence"),
                         ("category", "Choose what the payment is for"), ("description", "Say what the payment")):
        assert f'<a href="#{field}">{words}' in html
    assert 'aria-invalid="true"' in html
    assert requests_of(w) == []

    # A refusal from the domain (more than this funder has) is an error on the form, and nothing is held.
    too_much = client.post(path, data={"csrf_token": client.csrf(path), "payee": w.shop.id, "amount": "500",
                                       "category": "activities", "description": "Holiday", "funder": w.own.id})
    assert too_much.status_code == 400
    assert "There is not enough money from Own contribution: £120.00 available, £500.00 needed." in \
        too_much.get_data(as_text=True)
    assert requests_of(w) == [] and balance(w).held == 0
    assert len(_access_rows(w)) > log_before   # the refused attempt is on record


def test_a_payment_the_holder_makes_within_the_plan_is_paid_at_once(portal):
    w = portal.world
    first = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id,
                                     amount=1_000, category=Category.ACTIVITIES, description="Bowling")
    payments.approve_payment(w.uow, first.id, actor=w.users["appointee"])
    client = portal.client("holder")
    path = f"/wallets/{w.wallet.id}/payments/new"
    done = client.post(path, data={"csrf_token": client.csrf(path), "payee": w.shop.id, "amount": "£20",
                                   "category": "activities", "description": "Cinema"})
    assert done.status_code == 302
    assert "Paid: £20.00 to Leeds Leisure." in client.get(done.headers["Location"]).get_data(as_text=True)
    assert w.spent(Category.ACTIVITIES, w.own) == 3_000


def test_forms_without_a_csrf_token_are_refused(portal):
    w = portal.world
    asked = payments.request_payment(w.uow, w.wallet.id, actor=w.users["manager"], payee_id=w.agency.id,
                                     amount=30_000, category=Category.AGENCY, description="Cover",
                                     stream_id=w.council.id)
    client = portal.client("holder")
    for path, data in ((f"/wallets/{w.wallet.id}/payments/new", {"payee": w.shop.id, "amount": "5",
                                                                 "category": "activities", "description": "x"}),
                       (f"/wallets/{w.wallet.id}/approvals/{asked.id}/approve", {}),
                       (f"/wallets/{w.wallet.id}/approvals/{asked.id}/reject", {"reason": "no"}),
                       (f"/wallets/{w.wallet.id}/sharing", {"email": "stranger@example.org",
                                                            "shares": "view_balance"})):
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "Your form had expired" in response.get_data(as_text=True)
    assert [r.status for r in requests_of(w)] == [PaymentStatus.AWAITING_APPROVAL]
    assert balance(w).held == 30_000


def test_a_request_of_another_wallet_is_not_found_here(portal):
    w = portal.world
    from datetime import date
    other = wallets.open_wallet(w.uow, holder=w.users["holder"], name="Second", budget_kind="direct_payment",
                                plan_start=date(2026, 4, 6))
    asked = payments.request_payment(w.uow, w.wallet.id, actor=w.users["manager"], payee_id=w.agency.id,
                                     amount=30_000, category=Category.AGENCY, description="Cover",
                                     stream_id=w.council.id)
    client = portal.client("holder")
    path = f"/wallets/{other.id}/approvals"
    response = client.post(f"{path}/{asked.id}/approve", data={"csrf_token": client.csrf(path)})
    assert response.status_code == 404
    assert requests_of(w)[0].status is PaymentStatus.AWAITING_APPROVAL


def _access_rows(w):
    from wallet.domain.access_log import access_log
    return access_log(w.uow, w.wallet.id, actor=w.users["holder"])

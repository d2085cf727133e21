"""Timesheets in the portal: a PA sends one in, the holder (or an appointee) approves it or sends it back with a
reason; every payroll rule applies; a PA sees nothing of the wallet's money. SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from payroll.model import HourKind, TimesheetStatus
from tests.integration.web.payroll_world import UK, add_payroll
from wallet.domain import access_log
from wallet.web.views.timesheets import ROWS


@pytest.fixture
def staff(portal):
    return add_payroll(portal)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def form_data(client, path: str, shifts=(), **fields) -> dict[str, str]:
    data = {"csrf_token": client.csrf(path), "rows": str(ROWS), "period_start": "2026-04-06",
            "period_end": "2026-05-05", "expenses": "", "action": "send"}
    for n, (day, start, end, kind) in enumerate(shifts, start=1):
        data.update({f"shift-{n}-date": day, f"shift-{n}-start": start, f"shift-{n}-end": end,
                     f"shift-{n}-kind": kind})
    data.update(fields)
    return data


def log_of(w, **match):
    rows = access_log.access_log(w.uow, w.wallet.id, actor=w.users["holder"])
    return [r for r in rows if all(getattr(r, k) == v for k, v in match.items())]


def test_a_pa_sends_a_timesheet_and_the_holder_approves_it(portal, staff):
    w = portal.world
    pa = portal.client("pa")
    # Signing in, the PA lands on their timesheets: the wallet's money is not theirs to see.
    landing = pa.get("/wallets")
    assert landing.status_code == 302 and landing.headers["Location"].endswith(f"/wallets/{w.wallet.id}/timesheets")
    for page in ("", "/transactions", "/payments", "/approvals", "/access-log"):
        assert pa.get(f"/wallets/{w.wallet.id}{page}").status_code == 403, page
    listing = pa.get(landing.headers["Location"]).get_data(as_text=True)
    assert "Your timesheets" in listing and "Money you can spend" not in listing
    nav = re.search(r'<nav aria-label="Wallet".*?</nav>', listing, re.S).group(0)
    assert re.findall(r">([A-Za-z ]+)</a></li>", nav) == ["Your wallets", "Timesheets", "Payslips"]

    path = f"/wallets/{w.wallet.id}/timesheets/new"
    form = pa.get(path).get_data(as_text=True)
    assert "Timesheet for <strong>Jo Smith</strong>" in form and 'name="employee" value="' + staff.jo.id in form
    assert "Sam Jones" not in form   # only her own
    sent = pa.post(path, data=form_data(pa, path, [
        ("2026-04-06", "09:00", "15:30", "standard"),
        ("11/4/2026", "10:00", "14:00", "weekend"),
        ("2026-04-11", "22:00", "07:00", "sleep_in"),      # overnight: ends the next morning
    ], expenses="12.50", employee=staff.jo.id))
    assert sent.status_code == 302, text_of(sent.get_data(as_text=True))
    (sheet,) = staff.service.list_timesheets(employee_id=staff.jo.id)
    assert sent.headers["Location"].endswith(f"/timesheets/{sheet.id}")
    assert sheet.status is TimesheetStatus.SUBMITTED and sheet.submitted_by == staff.pa_user
    assert sheet.expenses == 1_250 and [s.kind for s in sheet.shifts] == [HourKind.STANDARD, HourKind.WEEKEND,
                                                                          HourKind.SLEEP_IN]
    sleep = sheet.shifts[2]
    assert sleep.starts == datetime(2026, 4, 11, 22, tzinfo=UK) and sleep.ends == datetime(2026, 4, 12, 7, tzinfo=UK)
    shown = text_of(pa.get(sent.headers["Location"]).get_data(as_text=True))
    assert "Your timesheet has been sent for approval." in shown and "Waiting for approval" in shown
    assert "Hours worked 10.50" in shown and "Sleep-ins 1 night" in shown and "£12.50" in shown
    assert "Approve these hours" not in shown   # a PA never approves
    assert [r.outcome for r in log_of(w, actor=staff.pa_user, action="submit_timesheet")
            if "send in a timesheet" in r.detail] == ["done"]

    holder = portal.client("holder")
    inbox = text_of(holder.get(f"/wallets/{w.wallet.id}/timesheets").get_data(as_text=True))
    assert "Waiting for your decision Jo Smith: 6 April 2026 to 5 May 2026" in inbox
    detail_path = f"/wallets/{w.wallet.id}/timesheets/{sheet.id}"
    approved = holder.post(f"{detail_path}/approve", data={"csrf_token": holder.csrf(detail_path)})
    assert approved.status_code == 302
    assert staff.service.get_timesheet(sheet.id).status is TimesheetStatus.APPROVED
    assert "Approved: these hours will be paid" in holder.get(approved.headers["Location"]).get_data(as_text=True)
    assert "Approved by Holder" in text_of(pa.get(detail_path).get_data(as_text=True))
    assert [r.outcome for r in log_of(w, actor=w.users["holder"], action="approve_timesheet")] == ["done"]
    # Approved hours no longer change.
    assert "can no longer be changed" in text_of(pa.get(f"{detail_path}/change", follow_redirects=True)
                                                  .get_data(as_text=True))


def test_every_field_problem_is_shown_next_to_its_field_and_nothing_is_saved(portal, staff):
    w = portal.world
    pa = portal.client("pa")
    path = f"/wallets/{w.wallet.id}/timesheets/new"
    sent = pa.post(path, data=form_data(pa, path, [
        ("", "09:00", "17:00", "standard"),            # no date
        ("2026-04-07", "9am", "", "standard"),         # no end
        ("2026-04-08", "25:00", "17:00", "night"),     # not a time
        ("2026-04-09", "09:00", "09:00", "standard"),  # ends when it starts
        ("2026-06-01", "09:00", "12:00", "standard"),  # outside the period
        ("2026-04-10", "09:00", "12:00", "flying"),    # not a kind of hour
    ], expenses="twelve", employee=staff.jo.id, period_start="2026-04-06", period_end="31/2/2026"))
    assert sent.status_code == 400
    html = sent.get_data(as_text=True)
    expected = {
        "period_end": "The last day must be a real date, like 6/4/2026",
        "shift-1-date": "Row 1: enter the date the shift started",
        "shift-2-end": "Row 2: enter the end time, like 08:30",
        "shift-3-start": "Row 3: the start time must be a time, like 08:30 or 20:00",
        "shift-4-end": "Row 4: the end time must be different from the start time",
        "shift-6-kind": "Row 6: choose the kind of hours",
        "expenses": "Enter the expenses in pounds and pence, like 12.50",
    }
    for field, message in expected.items():
        # In the summary, linked to the field; and beside the field, which is marked invalid and described by it.
        assert f'<a href="#{field}">{message}</a>' in html, field
        assert f'id="{field}-error"><span class="visually-hidden">Error:</span> {message}' in html, field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*{field}-error', html), field
    assert html.count('class="error-message"') == len(expected)
    assert "<title>Error: Send in a timesheet" in html
    # What was typed is kept.
    assert 'value="9am"' in html and 'value="twelve"' in html
    assert staff.service.list_timesheets(employee_id=staff.jo.id) == []

    # The period outside check needs a good period: it then points at the row.
    again = pa.post(path, data=form_data(pa, path, [("2026-06-01", "09:00", "12:00", "standard")],
                                         employee=staff.jo.id))
    assert again.status_code == 400
    assert ("Row 1: the shift starts on 1 June 2026, outside the timesheet (6 April 2026 to 5 May 2026)"
            in again.get_data(as_text=True))
    empty = pa.post(path, data=form_data(pa, path, [], employee=staff.jo.id))
    assert empty.status_code == 400 and "Add at least one shift, or the expenses to pay back" in \
        empty.get_data(as_text=True)
    assert staff.service.list_timesheets(employee_id=staff.jo.id) == []


def test_the_payrolls_own_rules_come_back_next_to_the_row(portal, staff):
    w = portal.world
    pa = portal.client("pa")
    path = f"/wallets/{w.wallet.id}/timesheets/new"
    # The contract has no bank holiday rate; and two working shifts may not overlap.
    sent = pa.post(path, data=form_data(pa, path, [
        ("2026-04-06", "09:00", "12:00", "bank_holiday"),
        ("2026-04-07", "09:00", "13:00", "standard"),
        ("2026-04-07", "12:00", "14:00", "standard"),
    ], employee=staff.jo.id))
    assert sent.status_code == 400
    html = text_of(sent.get_data(as_text=True))
    assert "Row 1: the shift is bank holiday hours, but the contract has no rate for bank holiday hours" in html
    assert "Row 3: the shift overlaps shift 2" in html
    assert staff.service.list_timesheets(employee_id=staff.jo.id) == []
    refused = log_of(w, actor=staff.pa_user, outcome="refused")
    assert len(refused) == 1 and "InvalidInput" in refused[0].detail


def test_more_rows_without_javascript_and_a_draft_sent_later(portal, staff):
    w = portal.world
    pa = portal.client("pa")
    path = f"/wallets/{w.wallet.id}/timesheets/new"
    more = pa.post(path, data=form_data(pa, path, [("2026-04-06", "09:00", "12:00", "night")],
                                        employee=staff.jo.id, action="more"))
    html = more.get_data(as_text=True)
    assert more.status_code == 200
    assert f'id="shift-{2 * ROWS}-date"' in html and f'id="shift-{2 * ROWS + 1}-date"' not in html
    assert 'value="2026-04-06"' in html and staff.service.list_timesheets(employee_id=staff.jo.id) == []
    data = form_data(pa, path, [("2026-04-06", "09:00", "12:00", "night")], employee=staff.jo.id, action="save")
    data["rows"] = str(2 * ROWS)
    saved = pa.post(path, data=data)
    assert saved.status_code == 302
    (sheet,) = staff.service.list_timesheets(employee_id=staff.jo.id)
    assert sheet.status is TimesheetStatus.DRAFT
    detail = saved.headers["Location"]
    assert "Not sent yet" in pa.get(detail).get_data(as_text=True)
    # The holder does not decide on a draft: nothing waits for them yet.
    holder = portal.client("holder")
    assert "No timesheets are waiting for your decision." in holder.get(
        f"/wallets/{w.wallet.id}/timesheets").get_data(as_text=True)
    sent = pa.post(f"{detail}/send", data={"csrf_token": pa.csrf(detail)})
    assert sent.status_code == 302
    assert staff.service.get_timesheet(sheet.id).status is TimesheetStatus.SUBMITTED


def test_sent_back_with_a_reason_then_changed_and_sent_again(portal, staff):
    w = portal.world
    sheet = staff.submitted(staff.jo, staff.pa_user)
    detail = f"/wallets/{w.wallet.id}/timesheets/{sheet.id}"
    appointee = portal.client("appointee")
    no_reason = appointee.post(f"{detail}/reject", data={"csrf_token": appointee.csrf(detail), "reason": "  "})
    assert no_reason.status_code == 400
    html = no_reason.get_data(as_text=True)
    assert '<a href="#reason">Say why you are sending this timesheet back, so the PA knows what to change</a>' in html
    assert staff.service.get_timesheet(sheet.id).status is TimesheetStatus.SUBMITTED
    rejected = appointee.post(f"{detail}/reject", data={"csrf_token": appointee.csrf(detail),
                                                        "reason": "The 9 April shift was 5 hours, not 6"})
    assert rejected.status_code == 302
    assert staff.service.get_timesheet(sheet.id).status is TimesheetStatus.REJECTED

    pa = portal.client("pa")
    listing = text_of(pa.get(f"/wallets/{w.wallet.id}/timesheets").get_data(as_text=True))
    assert "Sent back Why: “The 9 April shift was 5 hours, not 6”" in listing
    change = pa.get(f"{detail}/change").get_data(as_text=True)
    assert "This timesheet was sent back: “The 9 April shift was 5 hours, not 6”" in change
    assert 'value="2026-04-09"' in change and 'value="15:00"' in change
    data = form_data(pa, f"{detail}/change", [
        ("2026-04-06", "09:00", "15:00", "standard"), ("2026-04-09", "09:00", "14:00", "standard")],
        expenses="12.50")
    del data["period_start"], data["period_end"]
    changed = pa.post(f"{detail}/change", data=data)
    assert changed.status_code == 302, text_of(changed.get_data(as_text=True))
    again = staff.service.get_timesheet(sheet.id)
    assert again.status is TimesheetStatus.SUBMITTED and again.rejection_reason is None
    assert [s.ends - s.starts for s in again.shifts] == [timedelta(hours=6), timedelta(hours=5)]


def test_whoever_sent_it_in_cannot_approve_it_and_a_pa_cannot_decide(portal, staff):
    w = portal.world
    holder = portal.client("holder")
    path = f"/wallets/{w.wallet.id}/timesheets/new"
    form = holder.get(path).get_data(as_text=True)
    assert "Jo Smith" in form and "Sam Jones" in form   # the employer sends in for any of their PAs
    sent = holder.post(path, data=form_data(holder, path, [("2026-04-06", "09:00", "12:00", "standard")],
                                            employee=staff.sam.id))
    assert sent.status_code == 302
    detail = sent.headers["Location"]
    page = holder.get(detail).get_data(as_text=True)
    assert "The timesheet for Sam Jones has been sent for approval." in page
    assert "You sent this timesheet in, so someone else must approve it or send it back." in page
    assert "No timesheets are waiting for your decision." in holder.get(
        f"/wallets/{w.wallet.id}/timesheets").get_data(as_text=True)
    assert "Approve these hours" not in page
    (sheet,) = staff.service.list_timesheets(employee_id=staff.sam.id)
    tried = holder.post(f"{detail}/approve", data={"csrf_token": holder.csrf(detail)})
    assert tried.status_code == 302
    assert "someone else must approve it" in holder.get(tried.headers["Location"]).get_data(as_text=True)
    assert staff.service.get_timesheet(sheet.id).status is TimesheetStatus.SUBMITTED
    refused = log_of(w, actor=w.users["holder"], action="approve_timesheet")
    assert [r.outcome for r in refused] == ["refused"] and "NotPermitted" in refused[0].detail

    # The PA sees neither Sam's timesheet nor the buttons; trying is refused and logged.
    pa = portal.client("pa")
    assert "Sam Jones" not in pa.get(f"/wallets/{w.wallet.id}/timesheets").get_data(as_text=True)
    assert pa.get(detail).status_code == 403
    token = pa.csrf(f"/wallets/{w.wallet.id}/timesheets")
    assert pa.post(f"{detail}/approve", data={"csrf_token": token}).status_code == 403
    own = staff.submitted(staff.jo, w.users["manager"])   # sent in on her behalf by the support manager
    assert pa.post(f"/wallets/{w.wallet.id}/timesheets/{own.id}/approve",
                   data={"csrf_token": token}).status_code == 403
    assert pa.post(path, data=form_data(pa, path, [("2026-04-06", "09:00", "12:00", "standard")],
                                        employee=staff.sam.id, period_start="2026-05-06",
                                        period_end="2026-06-05")).status_code == 400
    assert [r.outcome for r in log_of(w, actor=staff.pa_user, action="approve_timesheet")] == ["denied", "denied"]
    denied = log_of(w, actor=staff.pa_user, outcome="denied", action="view_timesheets")
    assert len(denied) == 1 and sheet.id in denied[0].detail and "someone else's" in denied[0].detail

    # Someone else (an appointee) approves what the holder sent in.
    appointee = portal.client("appointee")
    assert appointee.post(f"{detail}/approve", data={"csrf_token": appointee.csrf(detail)}).status_code == 302
    assert staff.service.get_timesheet(sheet.id).status is TimesheetStatus.APPROVED


def test_a_support_manager_sends_in_on_a_pas_behalf_and_others_are_refused(portal, staff):
    w = portal.world
    manager = portal.client("manager")
    path = f"/wallets/{w.wallet.id}/timesheets/new"
    sent = manager.post(path, data=form_data(manager, path, [("2026-04-06", "09:00", "12:00", "standard")],
                                             employee=staff.jo.id))
    assert sent.status_code == 302
    page = manager.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Approve these hours" not in page   # a support manager never approves
    for who in ("overseer", "auditor", "council_officer", "stranger"):
        client = portal.client(who)
        assert client.get(f"/wallets/{w.wallet.id}/timesheets").status_code == 403, who
        assert client.get(sent.headers["Location"]).status_code == 403, who


def test_forms_need_the_csrf_token(portal, staff):
    w = portal.world
    pa = portal.client("pa")
    data = form_data(pa, f"/wallets/{w.wallet.id}/timesheets/new",
                     [("2026-04-06", "09:00", "12:00", "standard")], employee=staff.jo.id)
    del data["csrf_token"]
    assert pa.post(f"/wallets/{w.wallet.id}/timesheets/new", data=data).status_code == 400
    assert staff.service.list_timesheets(employee_id=staff.jo.id) == []


def test_a_wallet_with_nobody_on_its_payroll_has_no_timesheets(portal):
    w = portal.world   # the standard wallet names a payroll employer that has no PAs (or record) yet
    page = portal.client("holder").get(f"/wallets/{w.wallet.id}/timesheets")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "There are no timesheets yet." in html and "Send in a timesheet" not in html
    form = portal.client("holder").get(f"/wallets/{w.wallet.id}/timesheets/new").get_data(as_text=True)
    assert "There is nobody on this wallet's payroll whose timesheet you can send in." in form

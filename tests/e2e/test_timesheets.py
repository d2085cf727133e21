"""A PA sends in a timesheet in a real browser and the holder approves it; axe-core finds nothing on any page on
the way (the list, the form, the form with its errors, the timesheet, the payslips)."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet

from ledger.clock import ManualClock
from tests.e2e.conftest import LiveServer, axe_violations
from tests.integration.wallet.conftest import TODAY, make_users
from tests.integration.web.payroll_world import add_payroll
from payroll.model import TimesheetStatus
from wallet.domain import wallets
from wallet.domain.unit_of_work import UnitOfWork
from wallet.web import create_app
from wallet.web.auth import credentials
from wallet.web.extensions import limiter

PASSWORD = "correct horse battery staple"


@pytest.fixture
def server(sqlite_database_url):
    clock = ManualClock(datetime(2026, 4, 6, 9, 0, tzinfo=timezone.utc))
    uow = UnitOfWork(sqlite_database_url, clock=clock)
    users = make_users(uow)
    w = wallets.open_wallet(uow, holder=users["holder"], name="Asha's budget", budget_kind="direct_payment",
                            plan_start=TODAY, reference="case-1")
    app = create_app({"DATABASE_URL": sqlite_database_url, "SECRET_KEY": "e2e",
                      "ENCRYPTION_KEYS": [Fernet.generate_key()], "CLOCK": clock})
    limiter.reset()
    with app.app_context():
        credentials().create(users["holder"], "holder@example.org", PASSWORD, two_factor_required=False)
    portal = SimpleNamespace(app=app, world=SimpleNamespace(uow=uow, wallet=w, users=users))
    staff = add_payroll(portal)   # Jo Smith signs in as pa@example.org
    with LiveServer(app) as live:
        live.world = SimpleNamespace(uow=uow, wallet=w, users=users, staff=staff)
        yield live
    uow.db.dispose()


def sign_in(page, server, email: str) -> None:
    page.goto(server.url + "/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_pa_sends_a_timesheet_and_the_holder_approves_it(browser, server):
    w = server.world
    pa = browser.new_context(locale="en-GB", timezone_id="Europe/London").new_page()
    pa.set_default_timeout(10_000)
    sign_in(pa, server, "pa@example.org")
    assert pa.url.endswith(f"/wallets/{w.wallet.id}/timesheets"), pa.url
    assert pa.title() == "Timesheets – Asha's budget – Care Wallet"
    assert pa.locator("#available").count() == 0
    assert axe_violations(pa) == []

    pa.get_by_role("link", name="Send in a timesheet").click()
    assert pa.locator("h1").inner_text() == "Send in a timesheet"
    assert axe_violations(pa) == []
    pa.get_by_role("button", name="Send for approval").click()
    summary = pa.locator(".error-summary")
    assert summary.is_visible() and "Enter the first day of the timesheet" in summary.inner_text()
    assert pa.title().startswith("Error: ")
    assert axe_violations(pa) == []

    pa.locator("#period_start").fill("2026-04-06")
    pa.locator("#period_end").fill("2026-05-05")
    pa.locator("#shift-1-date").fill("2026-04-06")
    pa.locator("#shift-1-start").fill("09:00")
    pa.locator("#shift-1-end").fill("15:00")
    pa.locator("#shift-2-date").fill("2026-04-07")
    pa.locator("#shift-2-start").fill("22:00")
    pa.locator("#shift-2-end").fill("07:00")
    pa.locator("#shift-2-kind").select_option("sleep_in")
    pa.locator("#expenses").fill("8.40")
    pa.get_by_role("button", name="Send for approval").click()
    assert pa.locator("h1").inner_text() == "Timesheet: 6 April 2026 to 5 May 2026"
    assert pa.locator("#timesheet-status").inner_text() == "Waiting for approval"
    assert pa.locator("#shifts tbody tr").count() == 2
    assert axe_violations(pa) == []
    sheet_url = pa.url

    holder = browser.new_context(locale="en-GB", timezone_id="Europe/London").new_page()
    holder.set_default_timeout(10_000)
    sign_in(holder, server, "holder@example.org")
    holder.get_by_role("navigation", name="Wallet").get_by_role("link", name="Timesheets").click()
    assert holder.locator("#waiting-timesheets li").count() == 1
    assert axe_violations(holder) == []
    holder.locator("#waiting-timesheets a").click()
    assert holder.url == sheet_url
    assert axe_violations(holder) == []
    holder.get_by_role("button", name="Approve these hours").click()
    assert "Approved: these hours will be paid" in holder.locator(".notice-success").inner_text()
    assert axe_violations(holder) == []

    (sheet,) = w.staff.service.list_timesheets(employee_id=w.staff.jo.id)
    assert sheet.status is TimesheetStatus.APPROVED and sheet.expenses == 840
    pa.reload()
    assert pa.locator("#timesheet-status").inner_text() == "Approved"

    # Paid: the PA's payslip page passes too.
    run = w.staff.service.create_pay_run(w.staff.employer.id, period_start=sheet.period_start,
                                         period_end=sheet.period_end, payment_date=datetime(2026, 4, 30).date(),
                                         frequency="monthly", actor="payroll")
    w.staff.service.calculate(run.id, actor="payroll")
    w.staff.service.review(run.id, actor="payroll")
    w.staff.service.approve(run.id, actor=w.users["holder"])
    w.staff.service.finalise(run.id, actor="payroll")
    pa.get_by_role("navigation", name="Wallet").get_by_role("link", name="Payslips").click()
    assert pa.locator("#payslips tbody tr").count() == 1
    assert axe_violations(pa) == []
    pa.locator("#payslips tbody a").first.click()
    assert pa.locator("h1").inner_text() == "Payslip"
    assert axe_violations(pa) == []

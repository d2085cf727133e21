"""Payslips in the portal: a PA lists and opens their own (finalised runs only), as a page or a PDF, with the
National Insurance number and bank account masked; the holder and appointees see every PA's. SQLite and
PostgreSQL."""
from __future__ import annotations

import re

import pytest

from tests.integration.web.payroll_world import JO_ACCOUNT, JO_NINO, JO_SORT_CODE, MONTH_1, add_payroll
from wallet.domain import access_log
from wallet.money import format_pence


@pytest.fixture
def paid(portal):
    staff = add_payroll(portal)
    run = staff.finalised_month_1(by=staff.pa_user, approver=portal.world.users["holder"])
    return staff, run


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_pa_sees_only_their_own_payslips_with_private_details_masked(portal, paid):
    staff, run = paid
    w = portal.world
    jo = next(p for p in run.payslips if p.employee_id == staff.jo.id)
    sam = next(p for p in run.payslips if p.employee_id == staff.sam.id)
    pa = portal.client("pa")
    listing = pa.get(f"/wallets/{w.wallet.id}/payslips").get_data(as_text=True)
    assert re.findall(r'data-payslip-id="([^"]+)"', listing) == [jo.id]
    row = text_of(re.search(rf'data-payslip-id="{jo.id}".*?</tr>', listing, re.S).group(0))
    assert "30 April 2026" in row and "6 April 2026 to 5 May 2026" in row and format_pence(jo.net_pay) in row
    assert "Sam Jones" not in listing

    page = pa.get(f"/wallets/{w.wallet.id}/payslips/{jo.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = text_of(html)
    assert f"Net pay (what you are paid): {format_pence(jo.net_pay)}" in shown
    assert f"Gross pay {format_pence(jo.gross_pay)}" in shown and "Income Tax" in shown
    assert "** ** ** 56 C" in shown and f"**-**-{JO_SORT_CODE[-2:]} ****{JO_ACCOUNT[-4:]}" in shown
    assert JO_NINO not in html and JO_ACCOUNT not in html and JO_SORT_CODE not in html
    assert "style=" not in html and "<style" not in html   # the portal's own layout, under the strict CSP

    pdf = pa.get(f"/wallets/{w.wallet.id}/payslips/{jo.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="payslip-2026-04-30.pdf"'
    assert pdf.headers["Cache-Control"] == "no-store"

    # Someone else's payslip, or one that does not exist, is not shown; the attempt is logged.
    assert pa.get(f"/wallets/{w.wallet.id}/payslips/{sam.id}").status_code == 403
    assert pa.get(f"/wallets/{w.wallet.id}/payslips/{sam.id}/pdf").status_code == 403
    assert pa.get(f"/wallets/{w.wallet.id}/payslips/00000000-0000-4000-8000-000000000000").status_code == 404
    log = access_log.access_log(w.uow, w.wallet.id, actor=w.users["holder"])
    mine = [(r.action, r.outcome) for r in log if r.actor == staff.pa_user and "payslips" in r.detail]
    assert mine.count(("view_own_payslips", "done")) == 3
    assert mine.count(("view_own_payslips", "denied")) == 2


@pytest.mark.parametrize("who", ["holder", "appointee"])
def test_the_employer_sees_every_pas_payslips(portal, paid, who):
    staff, run = paid
    w = portal.world
    client = portal.client(who)
    listing = client.get(f"/wallets/{w.wallet.id}/payslips").get_data(as_text=True)
    assert set(re.findall(r'data-payslip-id="([^"]+)"', listing)) == {p.id for p in run.payslips}
    assert "Jo Smith" in listing and "Sam Jones" in listing
    sam = next(p for p in run.payslips if p.employee_id == staff.sam.id)
    assert client.get(f"/wallets/{w.wallet.id}/payslips/{sam.id}").status_code == 200


@pytest.mark.parametrize("who", ["manager", "overseer", "auditor", "payroll_admin", "council_officer", "stranger"])
def test_others_see_no_payslips(portal, paid, who):
    _, run = paid
    w = portal.world
    client = portal.client(who)
    assert client.get(f"/wallets/{w.wallet.id}/payslips").status_code == 403
    assert client.get(f"/wallets/{w.wallet.id}/payslips/{run.payslips[0].id}").status_code == 403


def test_payslips_of_a_run_not_yet_finalised_are_not_shown(portal):
    staff = add_payroll(portal)
    w = portal.world
    sheet = staff.submitted(staff.jo, staff.pa_user)
    staff.service.approve_timesheet(sheet.id, actor=w.users["holder"])
    run = staff.service.create_pay_run(staff.employer.id, period_start=MONTH_1[0], period_end=MONTH_1[1],
                                       payment_date=MONTH_1[0].replace(day=30), frequency="monthly", actor="payroll")
    calculated = staff.service.calculate(run.id, actor="payroll")
    assert calculated.payslips
    pa = portal.client("pa")
    assert "There are no payslips yet." in pa.get(f"/wallets/{w.wallet.id}/payslips").get_data(as_text=True)
    assert pa.get(f"/wallets/{w.wallet.id}/payslips/{calculated.payslips[0].id}").status_code == 404


def test_a_pa_whose_role_is_revoked_sees_nothing(portal, paid):
    from wallet.domain import people
    from wallet.domain.unit_of_work import SYSTEM

    staff, run = paid
    w = portal.world
    pa = portal.client("pa")
    people.revoke_role(w.uow, w.wallet.id, staff.pa_user, "personal_assistant", actor=SYSTEM)
    assert pa.get(f"/wallets/{w.wallet.id}/payslips").status_code == 403
    assert pa.get(f"/wallets/{w.wallet.id}/timesheets").status_code == 403
    assert pa.get("/wallets").status_code == 200   # no wallet of theirs any more


def test_the_demo_pa_signs_in_to_her_own_timesheets_and_payslips(portal):
    from tests.integration.web.people import sign_in
    from wallet.web.context import uow
    from wallet.web.demo_logins import DEMO_PASSWORD, load_demo_with_logins

    with portal.app.app_context():
        from wallet.web.auth import credentials
        summary, logins = load_demo_with_logins(uow(), credentials())
    (jo,) = [login for login in logins if login.role == "personal_assistant"]
    assert (jo.name, jo.two_factor) == ("Jo Smith", False)
    client = portal.app.test_client()
    assert sign_in(client, jo.email, DEMO_PASSWORD).status_code == 302
    asha = summary.wallets["asha"]
    landing = client.get("/wallets")
    assert landing.headers["Location"].endswith(f"/wallets/{asha}/timesheets")
    sheets = client.get(landing.headers["Location"]).get_data(as_text=True)
    assert sheets.count("data-timesheet-id=") == 13 and sheets.count(">Approved</span>") == 13
    slips = client.get(f"/wallets/{asha}/payslips").get_data(as_text=True)
    assert slips.count("data-payslip-id=") == 13
    assert client.get(f"/wallets/{asha}").status_code == 403

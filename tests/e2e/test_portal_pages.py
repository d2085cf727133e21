"""The wallet pages in a real browser: who sees the balance, approving a payment, axe-core on every page the
brief names, and reflow at 320 CSS pixels. The world is built with the domain services on SQLite."""
from __future__ import annotations

from datetime import datetime, timezone

import pyotp
import pytest
from cryptography.fernet import Fernet

from ledger.clock import ManualClock
from tests.e2e.conftest import LiveServer, axe_violations
from tests.integration.wallet.conftest import TODAY, make_users
from wallet.domain import payees, payments, people, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.permissions import Action, Role
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork
from wallet.money import format_pence
from wallet.web import create_app
from wallet.web.auth import credentials
from wallet.web.extensions import limiter

PASSWORD = "correct horse battery staple"
NEEDS_CODE = ("appointee", "auditor")


class World:
    pass


@pytest.fixture
def server(sqlite_database_url):
    clock = ManualClock(datetime(2026, 4, 6, 9, 0, tzinfo=timezone.utc))
    uow = UnitOfWork(sqlite_database_url, clock=clock)
    users = make_users(uow)
    w = wallets.open_wallet(uow, holder=users["holder"], name="Asha's budget", budget_kind="direct_payment",
                            plan_start=TODAY, reference="case-1")
    council = wallets.set_funding_stream(uow, w.id, kind="council_adult_services", funder_ref="council:leeds",
                                         label="Leeds adult social care", schedule="four_weekly", amount=186_000,
                                         starts=TODAY, actor=SYSTEM)
    plans.set_budget_line(uow, w.id, category=Category.PA_WAGES, stream_id=council.id, planned_per_period=150_000,
                          actor=SYSTEM)
    plans.set_budget_line(uow, w.id, category=Category.ACTIVITIES, stream_id=council.id,
                          planned_per_period=10_000, actor=SYSTEM)
    people.grant_role(uow, w.id, users["appointee"], Role.APPOINTEE, actor=SYSTEM)
    people.grant_role(uow, w.id, users["auditor"], Role.AUDITOR, actor=SYSTEM)
    people.grant_role(uow, w.id, users["overseer"], Role.FAMILY_OVERSEER, actor=users["holder"],
                      shares=[Action.VIEW_BALANCE, Action.VIEW_TRANSACTIONS])
    wallets.record_funding(uow, w.id, council.id, 186_000, TODAY, actor=SYSTEM, key="council-1")
    pa = payees.add_payee(uow, w.id, kind="pa", name="Jo Smith", employee_id="pa-jo", actor=users["holder"])
    shop = payees.add_payee(uow, w.id, kind="supplier", name="Leeds Leisure", actor=users["holder"])
    first = payments.request_payment(uow, w.id, actor=users["holder"], payee_id=shop.id, amount=2_500,
                                     category=Category.ACTIVITIES, description="Swimming lessons")
    payments.approve_payment(uow, first.id, actor=users["appointee"])

    app = create_app({"DATABASE_URL": sqlite_database_url, "SECRET_KEY": "e2e",
                      "ENCRYPTION_KEYS": [Fernet.generate_key()], "CLOCK": clock})
    limiter.reset()
    secrets = {}
    with app.app_context():
        creds = credentials()
        for who in ("holder", "appointee", "overseer", "auditor"):
            creds.create(users[who], f"{who}@example.org", PASSWORD, two_factor_required=who in NEEDS_CODE)
            if who in NEEDS_CODE:
                secrets[who] = pyotp.random_base32()
                creds.provision_code(users[who], secrets[who])
    with LiveServer(app) as live:
        live.world = World()
        live.world.__dict__.update(uow=uow, wallet=w, users=users, pa=pa, shop=shop, council=council,
                                   secrets=secrets)
        yield live
    uow.db.dispose()


def sign_in(page, server, who: str) -> None:
    page.goto(server.url + "/sign-in")
    page.locator("#email").fill(f"{who}@example.org")
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if who in server.world.secrets:
        page.locator("#code").fill(pyotp.TOTP(server.world.secrets[who]).now())
        with page.expect_navigation():
            page.keyboard.press("Enter")


def available(server) -> str:
    w = server.world
    return format_pence(wallets.wallet_balance(w.uow, w.wallet.id, actor=SYSTEM).available)


def test_each_person_sees_the_balance_only_if_they_may(browser, server):
    w = server.world
    for who, sees in (("holder", True), ("appointee", True), ("overseer", True), ("auditor", False)):
        context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, server, who)
        if sees:
            assert page.url.endswith(f"/wallets/{w.wallet.id}"), (who, page.url)
            assert page.locator("#available .figure").inner_text() == available(server)
        else:
            assert page.url.endswith("/wallets"), page.url
            assert page.locator("h1").inner_text() == "Your wallets"
            page.goto(server.url + f"/wallets/{w.wallet.id}")
            assert page.locator("h1").inner_text() == "You cannot see this page"
            assert page.locator("#available").count() == 0
        context.close()


def test_approve_a_payment_and_every_page_passes_axe(page, server):
    w = server.world
    asked = payments.request_payment(w.uow, w.wallet.id, actor=w.users["appointee"], payee_id=w.pa.id,
                                     amount=45_000, category=Category.PA_WAGES, description="April wages")
    sign_in(page, server, "holder")
    assert page.title() == "Home – Asha's budget – Care Wallet"
    assert axe_violations(page) == []
    page.get_by_role("navigation", name="Wallet").get_by_role("link", name="Transactions").click()
    assert page.locator("#transactions tbody tr").count() == 2
    assert axe_violations(page) == []

    page.get_by_role("navigation", name="Wallet").get_by_role("link", name="Approvals").click()
    assert page.locator(f'[data-request-id="{asked.id}"] h2').inner_text() == "£450.00 to Jo Smith"
    assert axe_violations(page) == []
    held_before = available(server)
    page.get_by_role("button", name="Approve £450.00 to Jo Smith").click()
    page.wait_for_selector(".notice-success")
    assert page.locator(".notice-success").inner_text() == "Approved: £450.00 has been paid to Jo Smith."
    assert axe_violations(page) == []
    assert available(server) == held_before   # held money became spent: what can be spent is unchanged
    page.get_by_role("navigation", name="Wallet").get_by_role("link", name="Home").click()
    assert page.locator("#posted .figure").inner_text() == format_pence(186_000 - 2_500 - 45_000)

    page.goto(server.url + f"/wallets/{w.wallet.id}/payments/new")
    assert axe_violations(page) == []
    page.locator("#amount").fill("lots")
    page.get_by_role("button", name="Ask for this payment").click()
    page.wait_for_selector(".error-summary")
    assert page.title().startswith("Error: ")
    assert "Enter the amount in pounds and pence" in page.locator(".error-summary").inner_text()
    assert axe_violations(page) == []


def test_pages_reflow_at_320_pixels(browser, server):
    w = server.world
    payments.request_payment(w.uow, w.wallet.id, actor=w.users["appointee"], payee_id=w.pa.id, amount=45_000,
                             category=Category.PA_WAGES, description="April wages")
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="en-GB",
                                  timezone_id="Europe/London")
    page = context.new_page()
    sign_in(page, server, "holder")
    for path in ("", "/transactions", "/payments", "/payments/new", "/approvals", "/sharing", "/access-log"):
        page.goto(server.url + f"/wallets/{w.wallet.id}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    context.close()


def test_a_new_posting_appears_on_the_real_transactions_page_and_is_announced(page, server):
    w = server.world
    sign_in(page, server, "holder")
    page.goto(f"{server.url}/wallets/{w.wallet.id}/transactions")
    rows_before = page.locator("#transactions tbody tr").count()
    from playwright.sync_api import expect

    assert page.locator("#transactions").get_attribute("data-live-url")
    page.wait_for_timeout(300)   # let the EventSource connect
    wallets.record_funding(w.uow, w.wallet.id, w.council.id, 43_210, TODAY, actor=SYSTEM, key="council-live")
    # (The page's strict CSP forbids string-evaluated waits, so wait with locators.)
    expect(page.locator("#transactions tbody tr")).to_have_count(rows_before + 1, timeout=3_000)
    assert format_pence(43_210) in page.locator("#transactions tbody tr").first.inner_text()
    expect(page.locator("#live-status")).to_contain_text("New:", timeout=3_000)
    assert axe_violations(page) == []


def test_export_a_statement_and_check_it_against_the_books(page, server, tmp_path):
    """The holder downloads a PDF statement from the export form by keyboard; the file is the ZIP the
    independent reader accepts, and it agrees with the ledger."""
    from tests.support.export_reader import check_against_ledger, read_export

    w = server.world
    sign_in(page, server, "holder")
    page.get_by_role("navigation", name="Wallet").get_by_role("link", name="Download records").click()
    assert page.get_by_role("heading", level=1).count() == 1
    assert axe_violations(page) == []
    page.get_by_label("PDF statement (in a ZIP file with its manifest)").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").press("Enter")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".zip"
    export = read_export(saved.read_bytes(), "pdf")
    assert export.ok, export.problems
    assert export.manifest["wallet"]["id"] == w.wallet.id and export.manifest["row_count"] >= 1
    assert check_against_ledger(export, w.uow.db) == []

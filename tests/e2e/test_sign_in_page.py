"""Signing in, in a real browser, with the accessibility rules checked on every state of the page."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.e2e.conftest import LiveServer, axe_violations
from wallet.web import create_app
from wallet.web.auth import credentials
from wallet.web.extensions import limiter

PASSWORD = "correct horse battery staple"


@pytest.fixture
def server(sqlite_database_url):
    app = create_app({"DATABASE_URL": sqlite_database_url, "SECRET_KEY": "e2e",
                      "ENCRYPTION_KEYS": [Fernet.generate_key()]})
    limiter.reset()
    with app.app_context():
        credentials().create("u-holder", "asha@example.org", PASSWORD, two_factor_required=False)
    with LiveServer(app) as live:
        yield live


def test_sign_in_page_and_its_errors_pass_axe_and_work_by_keyboard(page, server):
    page.goto(server.url + "/sign-in")
    assert page.title() == "Sign in – Care Wallet"
    assert axe_violations(page) == []

    # Keyboard only: the skip link comes first, then the form.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.locator("#email").fill("asha@example.org")
    page.locator("#password").fill("not the right password")
    page.keyboard.press("Enter")
    page.wait_for_selector(".error-summary")
    assert page.title().startswith("Error: ")
    assert "password or code is not right" in page.locator(".error-summary").inner_text()
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []


def test_the_page_reflows_at_400_percent_zoom(browser, server):
    # 1280 CSS px at 400% is a 320 px wide viewport (WCAG 1.4.10 Reflow): nothing may scroll sideways.
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(server.url + "/sign-in")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()

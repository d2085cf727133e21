"""Live updates in a real browser: a payment posted by the service shows up on an open transactions page, as a
new row, a new balance and a polite announcement, within a second. SQLite, and PostgreSQL when the suite's
cluster is available.

The transactions page itself is another part of the portal; this test serves a page of its own with the same
markup (``#transactions``, ``data-entry-id`` rows, ``data-live-*`` hooks) so the script is tested on its own.
"""
from __future__ import annotations

import time
from datetime import date

import pytest
from cryptography.fernet import Fernet
from flask import render_template_string

from tests.e2e.conftest import LiveServer, axe_violations
from tests.integration.wallet.conftest import TODAY, uow, world  # noqa: F401  (fixtures)
from wallet.domain import wallets
from wallet.domain.permissions import Action
from wallet.domain.unit_of_work import SYSTEM
from wallet.live.hub import hub_for
from wallet.money import format_pence
from wallet.web import create_app
from wallet.web.auth import credentials
from wallet.web.context import uow as app_uow, user_id, wallet_for
from wallet.web.db import database
from wallet.web.extensions import limiter
from wallet.web.live import feed_position

PASSWORD = "correct horse battery staple"
DEADLINE_MS = 1000

PAGE = """{% extends "base.html" %}
{% block content %}
<h1>Transactions</h1>
<p>Money held now: <strong data-live-balance>{{ balance }}</strong></p>
<table id="transactions" data-live-url="{{ live_feed_url(wallet.id, after) }}">
  <caption>Money in and out, newest first</caption>
  <thead><tr>
    <th scope="col" data-live-column="date">Date</th>
    <th scope="col" data-live-column="description">Description</th>
    <th scope="col" data-live-column="stream">Funder</th>
    <th scope="col" data-live-column="in">Money in</th>
    <th scope="col" data-live-column="out">Money out</th>
    <th scope="col" data-live-column="balance">Balance</th>
  </tr></thead>
  <tbody>
  {% for t in rows %}
    <tr data-entry-id="{{ t.entry_id }}">
      <td><time datetime="{{ t.effective_at.date().isoformat() }}">{{ t.effective_at.day }} {{ t.effective_at.strftime("%B %Y") }}</time></td>
      <td>{{ t.description }}</td><td>{{ t.stream_label }}</td>
      <td>{{ money(t.amount) if t.amount > 0 else "" }}</td><td>{{ money(-t.amount) if t.amount < 0 else "" }}</td>
      <td>{{ money(t.balance) }}</td>
    </tr>
  {% endfor %}
  </tbody>
</table>
<div id="live-status" class="visually-hidden" role="status" aria-live="polite"></div>
{% endblock %}
{% block scripts %}<script src="{{ url_for('static', filename='live.js') }}" defer></script>{% endblock %}
"""


@pytest.fixture
def server(world, database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "e2e-live",
                      "ENCRYPTION_KEYS": [Fernet.generate_key()], "CLOCK": world.clock,
                      "LIVE_HEARTBEAT_MS": 1000})
    limiter.reset()

    def transactions_page(wallet_id: str):
        wallet = wallet_for(Action.VIEW_TRANSACTIONS, wallet_id)
        after = feed_position(wallet.book)          # before the rows: the script skips what is already shown
        rows = wallets.transactions(app_uow(), wallet.id, actor=user_id(), start=date(2026, 1, 1),
                                    end=date(2027, 1, 1))
        balance = wallets.wallet_balance(app_uow(), wallet.id, actor=user_id()).posted
        return render_template_string(PAGE, wallet=wallet, after=after, rows=list(reversed(rows)),
                                      balance=format_pence(balance), money=format_pence)

    app.add_url_rule("/test/wallets/<wallet_id>/transactions", view_func=transactions_page)
    with app.app_context():
        credentials().create(world.users["holder"], "holder@example.org", PASSWORD, two_factor_required=False)
    with LiveServer(app) as live:
        with app.app_context():
            live.hub = hub_for(database().engine)
        yield live
        live.hub.stop()


def sign_in(page, server) -> None:
    page.goto(server.url + "/sign-in")
    page.locator("#email").fill("holder@example.org")
    page.locator("#password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def wait_until(check, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_a_new_payment_appears_and_is_announced_within_a_second(page, server, world):
    sign_in(page, server)
    page.goto(f"{server.url}/test/wallets/{world.wallet.id}/transactions")
    rows = page.locator("#transactions tbody tr")
    assert rows.count() == 2
    assert page.locator("[data-live-balance]").inner_text() == "£1,980.00"
    wait_until(lambda: server.hub.subscriber_count() >= 1)     # the browser's EventSource is connected

    posted = time.monotonic()
    wallets.record_funding(world.uow, world.wallet.id, world.council.id, 186_000, TODAY, actor=SYSTEM,
                           key="browser-1")
    entry = world.ledger.entry_by_key(f"{world.wallet.book}:funding:{world.council.code}:browser-1")
    page.wait_for_selector(f'#transactions tbody tr[data-entry-id="{entry.id}"]', timeout=DEADLINE_MS)
    row_ms = (time.monotonic() - posted) * 1000
    # A locator's wait, not wait_for_function: the page's CSP forbids the eval that the latter needs.
    page.locator("#live-status", has_text="£1,860.00").wait_for(state="attached", timeout=DEADLINE_MS)
    announced_ms = (time.monotonic() - posted) * 1000
    print(f"\nlive update in the browser: row after {row_ms:.0f} ms, announcement after {announced_ms:.0f} ms")
    assert announced_ms < DEADLINE_MS

    assert rows.count() == 3
    first = rows.nth(0)
    assert first.get_attribute("data-entry-id") == entry.id
    assert first.locator("td").all_inner_texts() == [
        "6 April 2026", "Money received from Leeds adult social care", "Leeds adult social care", "£1,860.00", "",
        "£3,720.00"]
    assert page.locator("[data-live-balance]").inner_text() == "£3,840.00"
    assert page.locator("#live-status").text_content() == (
        "New: Money received from Leeds adult social care, £1,860.00 paid in. Balance now £3,840.00.")
    assert page.locator("#live-status").get_attribute("aria-live") == "polite"
    assert axe_violations(page) == []


def test_the_page_works_without_javascript(browser, server, world):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, server)
    page.goto(f"{server.url}/test/wallets/{world.wallet.id}/transactions")
    assert page.locator("#transactions tbody tr").count() == 2
    assert server.hub.subscriber_count() == 0              # no script, no stream: the page is complete as it is
    context.close()

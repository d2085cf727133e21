"""The wallet's home page and "Your wallets": figures read from the ledger and the domain, on both engines."""
from __future__ import annotations

import re
from datetime import date, timedelta

from wallet.domain import alerts, payments, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.unit_of_work import SYSTEM
from wallet.money import format_pence


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"(.*?)</(?:div|dl|ul|p|table)>', html, re.S)
    assert match, f"no element {element_id}"
    return text_of(match.group(1))


def test_home_shows_balance_per_funder_period_figures_and_waiting_payments(portal):
    w = portal.world
    # A paid payment (holder, known payee by now? no: first payment needs approval) and one that waits.
    first = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id, amount=4_550,
                                     category=Category.ACTIVITIES, description="Swimming")
    payments.approve_payment(w.uow, first.id, actor=w.users["appointee"])
    waiting = payments.request_payment(w.uow, w.wallet.id, actor=w.users["appointee"], payee_id=w.pa.id,
                                       amount=30_000, category=Category.PA_WAGES, description="April wages")
    client = portal.client("holder")
    page = client.get(f"/wallets/{w.wallet.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)

    balance = wallets.wallet_balance(w.uow, w.wallet.id, actor=SYSTEM)
    assert balance.held == 30_000
    assert format_pence(balance.available) in section(html, "available")
    assert format_pence(balance.posted) in section(html, "posted")
    assert format_pence(balance.held) in section(html, "held")
    funders = section(html, "by-funder")
    for s in balance.streams:
        assert f"{s.label} {format_pence(s.posted)} {format_pence(s.held)} {format_pence(s.available)}" in funders

    assert format_pence(186_000 + 12_000) in section(html, "money-in")
    assert format_pence(4_550) in section(html, "money-out")
    assert f"{format_pence(waiting.amount)} to Jo Smith" in section(html, "awaiting")
    # Funding expected next: each stream's next four-weekly date.
    expected = section(html, "expected")
    assert "£1,860.00 from Leeds adult social care on 4 May 2026" in expected
    assert "£120.00 from Own contribution on 4 May 2026" in expected

    report = plans.planned_vs_actual(w.uow, w.wallet.id, actor=SYSTEM)
    plan = section(html, "plan-table")
    activities = report.line(Category.ACTIVITIES)
    assert (f"Activities (Own contribution) {format_pence(activities.planned)} {format_pence(activities.actual)}"
            in plan)
    wages = report.line(Category.PA_WAGES)
    assert format_pence(wages.awaiting_approval) in plan

    # Two charts, each an image with a title and description, drawn without inline style.
    for chart_id in ("plan-chart", "balance-chart"):
        assert re.search(rf'<svg[^>]*id="{chart_id}"[^>]*role="img"[^>]*aria-labelledby="{chart_id}-title '
                         rf'{chart_id}-desc"', html)
        assert f'<title id="{chart_id}-title">' in html and f'<desc id="{chart_id}-desc">' in html
    assert "style=" not in html and "<style" not in html
    assert "(now)" in section(html, "history-table") and format_pence(balance.posted) in section(html, "history-table")


def test_balance_over_time_covers_the_last_13_periods(portal):
    w = portal.world
    for n in range(1, 15):   # 14 more periods of council money, four weeks apart
        w.clock.advance(days=28)
        day = date(2026, 4, 6) + timedelta(days=28 * n)
        wallets.record_funding(w.uow, w.wallet.id, w.council.id, 1_000, day, actor=SYSTEM, key=f"c-{n}")
    html = portal.client("holder").get(f"/wallets/{w.wallet.id}").get_data(as_text=True)
    table = re.search(r'id="history-table"(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th><td class=\"num\">(.*?)</td>", table)
    assert len(rows) == 13
    ledger, chart = w.ledger, w.wallet.chart
    total_now = sum(ledger.balance(chart.cash(s.code)).posted for s in (w.council, w.own))
    assert rows[-1][1] == format_pence(total_now) and "(now)" in rows[-1][0]
    assert rows[-2][1] == format_pence(total_now - 1_000)
    assert html.count('class="chart-balance"') == 12 and html.count('class="chart-now"') == 1


def test_alerts_are_shown_in_plain_words(portal):
    w = portal.world
    wallets.update_wallet(w.uow, w.wallet.id, actor=SYSTEM, insurance_renews_on=date(2026, 4, 20))
    raised = alerts.check_alerts(w.uow, w.wallet.id, actor=SYSTEM)
    assert raised
    html = portal.client("appointee").get(f"/wallets/{w.wallet.id}").get_data(as_text=True)
    for a in raised:
        assert a.message.replace("'", "&#39;") in html


def test_an_overseer_shown_only_the_balance_sees_no_transactions(portal):
    w = portal.world
    from wallet.domain import people
    people.share_with_overseer(w.uow, w.wallet.id, w.users["overseer"], ["view_balance"], actor=w.users["holder"])
    client = portal.client("overseer")
    html = client.get(f"/wallets/{w.wallet.id}").get_data(as_text=True)
    assert 'id="available"' in html and 'id="money-in"' not in html and 'id="plan-table"' not in html
    assert ">Transactions<" not in html
    assert client.get(f"/wallets/{w.wallet.id}/transactions").status_code == 403


def test_an_overseer_shown_only_the_transactions_gets_the_transactions_page(portal):
    w = portal.world
    from wallet.domain import people
    people.share_with_overseer(w.uow, w.wallet.id, w.users["overseer"], ["view_transactions"],
                               actor=w.users["holder"])
    client = portal.client("overseer")
    assert client.get(f"/wallets/{w.wallet.id}").status_code == 403
    assert client.get(f"/wallets/{w.wallet.id}/transactions").status_code == 200
    # Their only wallet opens at the page they may see.
    landing = client.get("/wallets")
    assert landing.status_code == 302 and landing.headers["Location"].endswith(f"/wallets/{w.wallet.id}/transactions")


def test_start_page_goes_to_the_only_wallet_or_lists_several(portal):
    w = portal.world
    holder = portal.client("holder")
    first = holder.get("/")
    assert first.status_code == 302 and first.headers["Location"].endswith("/wallets")
    only = holder.get("/wallets")
    assert only.status_code == 302 and only.headers["Location"].endswith(f"/wallets/{w.wallet.id}")

    second = wallets.open_wallet(w.uow, holder=w.users["holder"], name="Asha's health budget",
                                 budget_kind="personal_health_budget", plan_start=date(2026, 4, 6))
    listing = holder.get("/wallets")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert f'href="/wallets/{w.wallet.id}"' in html and f'href="/wallets/{second.id}"' in html

    stranger = portal.client("stranger").get("/wallets")
    assert stranger.status_code == 200 and "There are no wallets for you to see yet" in stranger.get_data(as_text=True)
    # The council officer of another council sees nothing; Leeds's officer sees the wallet Leeds funds.
    assert "Asha" not in portal.client("other_council_officer").get("/wallets").get_data(as_text=True)
    leeds = portal.client("council_officer").get("/wallets")
    assert leeds.status_code == 302 and leeds.headers["Location"].endswith(f"/wallets/{w.wallet.id}")


def test_signed_out_people_are_sent_to_sign_in(portal):
    w = portal.world
    response = portal.client(None).get(f"/wallets/{w.wallet.id}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_unknown_wallet_is_a_plain_english_404(portal):
    response = portal.client("holder").get("/wallets/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)

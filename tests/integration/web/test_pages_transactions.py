"""The transactions page: running balance, newest first, explained in plain words, filters, search, paging."""
from __future__ import annotations

import html as htmllib
import re
from datetime import date

from wallet.domain import payments, wallets
from wallet.domain.chart import Category
from wallet.domain.unit_of_work import SYSTEM
from wallet.money import format_pence


def rows_of(html: str) -> list[tuple[str, list[str]]]:
    table = re.search(r'<table id="transactions".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    out = []
    for entry, body in re.findall(r'<tr data-entry-id="([^"]+)">(.*?)</tr>', table, re.S):
        cells = [htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c))).strip()
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
        out.append((entry, cells))
    return out


def test_every_movement_with_running_balance_newest_first_and_explained(portal):
    w = portal.world
    paid = payments.request_payment(w.uow, w.wallet.id, actor=w.users["appointee"], payee_id=w.pa.id,
                                    amount=45_000, category=Category.PA_WAGES, description="April wages")
    payments.approve_payment(w.uow, paid.id, actor=w.users["holder"])
    w.clock.advance(days=1)
    shop = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id, amount=2_500,
                                    category=Category.ACTIVITIES, description="Swimming lessons")
    payments.approve_payment(w.uow, shop.id, actor=w.users["appointee"])

    client = portal.client("overseer")
    page = client.get(f"/wallets/{w.wallet.id}/transactions")
    assert page.status_code == 200
    rows = rows_of(page.get_data(as_text=True))
    lines = wallets.transactions(w.uow, w.wallet.id, actor=SYSTEM, start=date(2026, 1, 1), end=date(2027, 1, 1))
    assert [entry for entry, _ in rows] == [t.entry_id for t in reversed(lines)]

    # The running balance is the whole wallet's money after each line, newest first.
    balances = [cells[4] for _, cells in rows]
    total = sum(w.cash(s).posted for s in (w.council, w.own))
    assert balances[0] == format_pence(total)
    assert balances == [format_pence(total), format_pence(total + 2_500), format_pence(total + 2_500 + 45_000),
                        format_pence(186_000)]
    explained = [cells[1] for _, cells in rows]
    assert explained[0].startswith("Paid Leeds Leisure (supplier) for activities")
    assert "Swimming lessons" in explained[0]
    assert explained[1].startswith("Paid Jo Smith (personal assistant) wages")
    assert explained[2] == "Holder paid in £120.00 as their own contribution"
    assert explained[3] == "Leeds adult social care paid in £1,860.00 for Holder's care"
    assert rows[3][1][2] == "£1,860.00" and rows[3][1][3] == ""
    assert rows[0][1][3] == "£25.00" and rows[0][1][2] == ""


def test_filters_search_and_paging_are_get_parameters(portal):
    w = portal.world
    for n in range(30):
        wallets.record_funding(w.uow, w.wallet.id, w.own.id, 100 + n, date(2026, 4, 7), actor=SYSTEM, key=f"o-{n}")
    shop = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id, amount=2_500,
                                    category=Category.ACTIVITIES, description="Swimming lessons")
    payments.approve_payment(w.uow, shop.id, actor=w.users["appointee"])
    client = portal.client("holder")
    base = f"/wallets/{w.wallet.id}/transactions"

    first = client.get(base).get_data(as_text=True)
    assert len(rows_of(first)) == 25 and "33 transactions" in first and "Page 1 of 2" in first
    second = client.get(base + "?page=2").get_data(as_text=True)
    assert len(rows_of(second)) == 8
    assert rows_of(second)[-1][1][1].startswith("Leeds adult social care paid in")

    council = client.get(f"{base}?funder={w.council.id}").get_data(as_text=True)
    rows = rows_of(council)
    assert len(rows) == 1 and rows[0][1][4] == format_pence(w.cash(w.council).posted)

    money_out = rows_of(client.get(f"{base}?direction=out").get_data(as_text=True))
    assert [cells[3] for _, cells in money_out] == ["£25.00"]
    activities = rows_of(client.get(f"{base}?category=activities").get_data(as_text=True))
    assert len(activities) == 1
    search = rows_of(client.get(f"{base}?q=SWIMMING").get_data(as_text=True))
    assert [entry for entry, _ in search] == [entry for entry, _ in activities]
    dated = client.get(f"{base}?from=2026-04-07&to=2026-04-07").get_data(as_text=True)
    assert "30 transactions match" in dated
    assert 'href="/wallets/%s/transactions?from=2026-04-07&amp;to=2026-04-07&amp;page=2"' % w.wallet.id in dated

    wrong = client.get(f"{base}?from=2026-02-30")
    assert wrong.status_code == 400
    html = wrong.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#from"' in html and "must be a real date" in html
    assert len(rows_of(html)) == 25   # the list is still shown, without the wrong date

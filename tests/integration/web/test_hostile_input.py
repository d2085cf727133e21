"""Hostile input on SQLite and PostgreSQL: script in free text is shown as text, injection in a search is only
text, NUL bytes, over-long and non-UTF-8 input, and negative or huge amounts are refused with a clear error,
and in every case nothing is written."""
from __future__ import annotations

import pytest

from ledger.verify import verify
from wallet.domain import payments
from wallet.domain.unit_of_work import SYSTEM

API = "/api/v1"
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def requests_of(world):
    return payments.payment_requests(world.uow, world.wallet.id, actor=SYSTEM)


def api_post(client, path, **kwargs):
    headers = {"X-CSRFToken": client.csrf("/no-such-page")}
    return client.post(API + path, headers=headers, **kwargs)


def body(world, **changes):
    return {"payee_id": world.shop.id, "amount": 1_250, "category": "activities", "description": "Swimming",
            **changes}


def refused(response, words: str):
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert words in (error["detail"] + str(error.get("fields", ""))), error


def test_script_in_free_text_is_shown_as_text_never_run(portal):
    world = portal.world
    client = portal.client("appointee")
    made = api_post(client, f"/wallets/{world.wallet.id}/payment-requests",
                    json=body(world, description=SCRIPT, reference=SCRIPT[:200]))
    assert made.status_code == 201, made.get_data(as_text=True)
    for page in (f"/wallets/{world.wallet.id}/approvals", f"/wallets/{world.wallet.id}/payments"):
        html = portal.client("holder").get(page).get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html, page
        assert "onerror=alert(1)>" not in html


@pytest.mark.parametrize("search", ["' OR 1=1 --", "%' UNION SELECT code FROM ledger_account --", "\\%_"])
def test_injection_in_the_transaction_search_is_only_text(portal, search):
    world = portal.world
    client = portal.client("holder")
    page = client.get(f"/wallets/{world.wallet.id}/transactions", query_string={"q": search})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "No transactions match" in html or "no transactions" in html.lower(), html[:2000]
    assert verify(world.uow.db).ok


@pytest.mark.parametrize("description, words", [
    ("a\x00b", "NUL"),                              # PostgreSQL text cannot hold NUL: refused, never a 500
    ("x" * 10_000, "description"),
    ("", "description"),
])
def test_bad_text_is_refused_and_nothing_written(portal, description, words):
    world = portal.world
    client = portal.client("holder")
    response = api_post(client, f"/wallets/{world.wallet.id}/payment-requests", json=body(world, description=description))
    refused(response, words)
    assert requests_of(world) == []


@pytest.mark.parametrize("amount", [-1_250, 0, 10**20, 12.5, "12.50", True])
def test_negative_huge_and_fractional_amounts_are_refused(portal, amount):
    world = portal.world
    client = portal.client("holder")
    response = api_post(client, f"/wallets/{world.wallet.id}/payment-requests", json=body(world, amount=amount))
    refused(response, "amount")
    assert requests_of(world) == [] and world.cash(world.council).held == 0


def test_a_body_that_is_not_utf8_json_is_refused(portal):
    world = portal.world
    client = portal.client("holder")
    for raw in (b'{"description": "\xff\xfe caf\xe9"}', b"not json at all", b"\x00" * 64):
        response = api_post(client, f"/wallets/{world.wallet.id}/payment-requests", data=raw,
                            content_type="application/json")
        assert response.status_code == 400, raw
        assert response.get_json()["error"]["detail"]
    assert requests_of(world) == []


@pytest.mark.parametrize("amount", ["-12.50", "1e9", "99999999999999999999", "12.345", "12,50p", "twelve"])
def test_the_payment_form_refuses_bad_amounts_plainly(portal, amount):
    world = portal.world
    client = portal.client("holder")
    path = f"/wallets/{world.wallet.id}/payments/new"
    response = client.post(path, data={"csrf_token": client.csrf(path), "payee": world.shop.id, "amount": amount,
                                       "category": "activities", "description": "Swimming"})
    assert response.status_code == 400
    assert '<a href="#amount">' in response.get_data(as_text=True)
    assert requests_of(world) == []


@pytest.mark.parametrize("path", ["/wallets/../../etc/passwd", "/static/../wallet/config.py",
                                  "/static/%2e%2e/%2e%2e/pyproject.toml", "/wallets/%00/transactions",
                                  "/wallets/x/transactions?q=%00"])
def test_paths_that_climb_out_are_not_found(portal, path):
    response = portal.client("holder").get(path)
    assert response.status_code in (400, 404)
    assert b"WALLET_" not in response.data and b"[project]" not in response.data

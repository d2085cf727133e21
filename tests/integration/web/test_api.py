"""The JSON API on SQLite and PostgreSQL: the session and CSRF, schema validation (400, nothing written),
refusals in plain words (403, 404, 409), and an OpenAPI document that lists exactly the routes there are."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.integration.wallet.conftest import TODAY
from tests.support.export_reader import check_against_ledger, read_export
from wallet.domain import payments, wallets
from wallet.domain.unit_of_work import SYSTEM

API = "/api/v1"


def _post(client, path, body, csrf=True):
    headers = {"X-CSRFToken": client.csrf("/no-such-page")} if csrf else {}
    return client.post(API + path, json=body, headers=headers)


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["status"] == status and error["title"] and error["detail"]
    return error


def _requests(world):
    return payments.payment_requests(world.uow, world.wallet.id, actor=SYSTEM)


# ---------------------------------------------------------------------- the document
def test_the_openapi_document_lists_every_route_and_only_those(portal):
    client = portal.client(None)
    doc = client.get(f"{API}/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for rule in portal.app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented
    assert len(served) >= 10
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["responses"], (path, method)
            for name in re.findall(r"{([^}]+)}", path):
                assert {"in": "path", "name": name, "required": True, "schema": {"type": "string"}} \
                    in op["parameters"]
    schemas = doc["components"]["schemas"]
    assert {"Error", "NewPaymentRequest", "PaymentRequest", "WalletBalance", "TransactionPage"} <= set(schemas)
    assert schemas["NewPaymentRequest"]["properties"]["amount"]["type"] == "integer"
    assert set(schemas["NewPaymentRequest"]["required"]) == {"payee_id", "amount", "category", "description"}
    create = doc["paths"][f"{API}/wallets/{{wallet_id}}/payment-requests"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewPaymentRequest"}
    assert {"201", "400", "403", "409"} <= set(create["responses"])
    query = {p["name"] for p in doc["paths"][f"{API}/wallets/{{wallet_id}}/transactions"]["get"]["parameters"]}
    assert {"wallet_id", "start", "end", "funder", "direction", "page", "page_size"} == query


# ---------------------------------------------------------------------- reading
def test_signed_out_is_401_in_json(portal):
    _error(portal.client(None).get(f"{API}/wallets"), 401)


def test_wallets_i_can_see(portal):
    w = portal.world
    mine = portal.client("holder").get(f"{API}/wallets").get_json()
    assert [i["id"] for i in mine["items"]] == [w.wallet.id] and mine["next_page"] is None
    assert "approve_payment" in mine["items"][0]["actions"] and mine["items"][0]["roles"] == ["holder"]
    auditor = portal.client("auditor").get(f"{API}/wallets").get_json()
    assert auditor["items"][0]["actions"] == ["export"]
    council = portal.client("council_officer").get(f"{API}/wallets").get_json()
    assert [i["id"] for i in council["items"]] == [w.wallet.id]
    assert portal.client("other_council_officer").get(f"{API}/wallets").get_json()["items"] == []
    assert portal.client("stranger").get(f"{API}/wallets").get_json() == {
        "items": [], "page": 1, "page_size": 50, "next_page": None}
    _error(portal.client("holder").get(f"{API}/wallets?page_size=0"), 400)


def test_balance_overall_and_per_funder(portal):
    w = portal.world
    body = portal.client("overseer").get(f"{API}/wallets/{w.wallet.id}").get_json()
    assert body["balance"] == {"posted": 198_000, "held": 0, "available": 198_000}
    assert {f["name"]: f["posted"] for f in body["funders"]} == {"Leeds adult social care": 186_000,
                                                                "Own contribution": 12_000}
    _error(portal.client("auditor").get(f"{API}/wallets/{w.wallet.id}"), 403)
    _error(portal.client("other_council_officer").get(f"{API}/wallets/{w.wallet.id}"), 403)
    _error(portal.client("holder").get(f"{API}/wallets/no-such-wallet"), 404)


def test_transactions_paged_and_filtered(portal):
    w = portal.world
    for i in range(3):
        w.clock.advance(days=1)
        payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.agency.id,
                                 amount=1_000 + i, category="transport", description=f"Taxi {i}",
                                 stream_id=w.council.id)
    client = portal.client("holder")
    url = f"{API}/wallets/{w.wallet.id}/transactions"
    everything = client.get(url, query_string={"start": TODAY.isoformat()}).get_json()
    assert everything["total"] == 2    # the receipts; the new payee's payments wait for approval
    payments.approve_payment(w.uow, _requests(w)[0].id, actor=w.users["appointee"])
    page = client.get(url, query_string={"start": TODAY.isoformat(), "page_size": 2, "page": 2}).get_json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["items"][0]["amount"] == -1_000
    out = client.get(url, query_string={"direction": "out"}).get_json()
    assert [t["description"] for t in out["items"]] == ["Taxi 0 (Bright Care)"]
    own = client.get(url, query_string={"funder": w.own.id}).get_json()
    assert [t["amount"] for t in own["items"]] == [12_000]
    error = _error(client.get(url, query_string={"page_size": 0, "direction": "sideways", "start": "yesterday"}),
                   400)
    assert set(error["fields"]) == {"page_size", "direction", "start"}
    error = _error(client.get(url, query_string={"start": "2026-05-01", "end": "2026-04-01"}), 400)
    assert "end" in error["fields"]
    error = _error(client.get(url, query_string={"colour": "blue"}), 400)
    assert "colour" in error["fields"]
    _error(portal.client("auditor").get(url), 403)


# ---------------------------------------------------------------------- payment requests
def test_asking_for_a_payment_and_a_second_person_deciding(portal):
    w = portal.world
    holder, appointee = portal.client("holder"), portal.client("appointee")
    body = {"payee_id": w.agency.id, "amount": 7_500, "category": "transport", "description": "Taxis",
            "funder": w.council.id, "key": "taxi-1"}
    made = _post(holder, f"/wallets/{w.wallet.id}/payment-requests", body)
    assert made.status_code == 201, made.get_data(as_text=True)
    request = made.get_json()
    assert request["status"] == "awaiting_approval" and request["approval_reasons"] == ["new_payee"]
    assert request["amount"] == 7_500 and request["funder"] == w.council.id
    again = _post(holder, f"/wallets/{w.wallet.id}/payment-requests", body)
    assert again.status_code == 201 and again.get_json()["id"] == request["id"]    # the key: no second request

    listed = holder.get(f"{API}/wallets/{w.wallet.id}/payment-requests?status=awaiting_approval").get_json()
    assert [r["id"] for r in listed["items"]] == [request["id"]]

    mine = _error(_post(holder, f"/payment-requests/{request['id']}/approve", {}), 403)
    assert "someone else" in mine["detail"]
    approved = _post(appointee, f"/payment-requests/{request['id']}/approve", {"note": "Fine"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "paid"
    assert approved.get_json()["entry_id"] and approved.get_json()["decisions"][0]["decided_by"] == w.users["appointee"]
    twice = _error(_post(appointee, f"/payment-requests/{request['id']}/approve", {}), 409)
    assert "not awaiting approval" in twice["detail"]
    assert w.cash(w.council).posted == 186_000 - 7_500


def test_rejecting_needs_a_reason_and_releases_the_money(portal):
    w = portal.world
    made = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id,
                                    amount=3_000, category="activities", description="Swimming",
                                    stream_id=w.own.id)
    appointee = portal.client("appointee")
    error = _error(_post(appointee, f"/payment-requests/{made.id}/reject", {"reason": "  "}), 400)
    assert error["fields"] == {"reason": ["Say why the payment is rejected."]}
    error = _error(_post(appointee, f"/payment-requests/{made.id}/reject", {}), 400)
    assert "reason" in error["fields"]
    assert _requests(w)[0].status.value == "awaiting_approval" and w.cash(w.own).held == 3_000
    done = _post(appointee, f"/payment-requests/{made.id}/reject", {"reason": "Not in the plan"})
    assert done.status_code == 200 and done.get_json()["status"] == "rejected"
    assert w.cash(w.own).held == 0
    _error(_post(appointee, "/payment-requests/no-such-request/reject", {"reason": "x"}), 404)


@pytest.mark.parametrize("bad, fields", [
    ({"amount": 12.5}, {"amount"}),
    ({"amount": "1250"}, {"amount"}),
    ({"amount": 0}, {"amount"}),
    ({"amount": True}, {"amount"}),
    ({"category": "holidays"}, {"category"}),
    ({"description": ""}, {"description"}),
    ({"payee_id": None}, {"payee_id"}),
    ({"surprise": 1}, {"surprise"}),
])
def test_invalid_payment_requests_are_400_and_nothing_is_written(portal, bad, fields):
    w = portal.world
    body = {"payee_id": w.agency.id, "amount": 1_000, "category": "transport", "description": "Taxi"} | bad
    error = _error(_post(portal.client("holder"), f"/wallets/{w.wallet.id}/payment-requests", body), 400)
    assert set(error["fields"]) == fields
    assert _requests(w) == []


def test_refusals_in_plain_words_and_nothing_written(portal):
    w = portal.world
    holder = portal.client("holder")
    url = f"/wallets/{w.wallet.id}/payment-requests"
    body = {"payee_id": w.agency.id, "amount": 50_000, "category": "activities", "description": "A holiday",
            "funder": w.own.id}
    too_much = _error(_post(holder, url, body), 409)
    assert too_much["detail"].startswith("There is not enough money from Own contribution")
    assert _error(_post(holder, url, body | {"payee_id": "no-such-payee", "amount": 10}), 404)
    not_json = holder.post(API + url, data="amount=1", headers={"X-CSRFToken": holder.csrf("/no-such-page")})
    assert _error(not_json, 400)["detail"].startswith("Send a JSON object")
    no_csrf = _error(_post(holder, url, body | {"amount": 10}, csrf=False), 400)
    assert "X-CSRFToken" in no_csrf["detail"]
    overseer = _error(_post(portal.client("overseer"), url, body | {"amount": 10}), 403)
    assert overseer["title"] == "You cannot see this page" or overseer["detail"]
    assert _requests(w) == []


# ---------------------------------------------------------------------- alerts and the export bundle
def test_alerts(portal):
    w = portal.world
    wallets.update_wallet(w.uow, w.wallet.id, actor=SYSTEM, insurance_renews_on=TODAY + timedelta(days=10))
    from wallet.domain.alerts import check_alerts
    check_alerts(w.uow, w.wallet.id, actor=SYSTEM)
    body = portal.client("council_officer").get(f"{API}/wallets/{w.wallet.id}/alerts").get_json()
    assert [a["kind"] for a in body["items"]] == ["insurance_renewal"]
    assert "renewal" in body["items"][0]["message"] and body["items"][0]["dismissed_at"] is None
    _error(portal.client("auditor").get(f"{API}/wallets/{w.wallet.id}/alerts"), 403)
    _error(portal.client("holder").get(f"{API}/wallets/{w.wallet.id}/alerts?include_dismissed=perhaps"), 400)


def test_the_export_bundle_over_the_api(portal):
    w = portal.world
    auditor = portal.client("auditor")     # one sign-in: a two-step code is accepted once only
    response = auditor.get(f"{API}/wallets/{w.wallet.id}/export",
                                            query_string={"start": TODAY.isoformat(), "end": TODAY.isoformat()})
    assert response.status_code == 200 and response.mimetype == "application/json"
    export = read_export(response.get_data(), "json")
    assert export.ok, export.problems
    assert check_against_ledger(export, w.uow.db) == []
    assert export.manifest["row_count"] == 2 and export.manifest["closing_balance"] == 198_000
    bad = _error(auditor.get(f"{API}/wallets/{w.wallet.id}/export?start=2026-13-01"), 400)
    assert "start" in bad["fields"]

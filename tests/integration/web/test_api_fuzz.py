"""Property-based fuzzing of every API operation from the OpenAPI document (schemathesis), on SQLite and
PostgreSQL, signed in as the holder: valid and invalid inputs alike never cause a server error, every answer
matches the document (status codes, content types, response schemas), and afterwards the books still verify
and every amount held is accounted for by a request waiting for approval."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                              status_code_conformance)

from ledger.verify import verify
from schemathesis.core import NotSet
from wallet.domain import payments
from wallet.domain.unit_of_work import SYSTEM

API = "/api/v1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 40


def _operations(portal):
    doc = portal.client(None).get(f"{API}/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(doc)
    return [result.ok() for result in schema.get_all_operations()]


def _real_ids(world) -> dict[str, list[str]]:
    """Path parameters worth hitting besides random text: the holder's wallet and a payment request."""
    pending = payments.request_payment(
        world.uow, world.wallet.id, payee_id=world.shop.id, amount=1_500, category="activities",
        description="Swimming lessons", actor=world.users["appointee"], key="fuzz-seed")
    return {"wallet_id": [world.wallet.id], "request_id": [pending.id]}


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_every_operation_holds_to_its_document_under_fuzzing(portal, mode):
    world = portal.world
    client = portal.client("holder")
    token = client.csrf("/no-such-page")
    ids = _real_ids(world)
    tried: dict[str, int] = {}
    for operation in _operations(portal):
        strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy, real=st.booleans())
        def exercise(case, real):
            if real:   # half the cases use real ids, so the operation itself runs, not only its 404
                for name in case.path_parameters or {}:
                    if name in ids:
                        case.path_parameters[name] = ids[name][0]
            headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "cookie"}
            if operation.method.upper() != "GET":
                headers["X-CSRFToken"] = token
            kwargs = {"query_string": case.query or None, "headers": headers}
            if isinstance(case.body, bytes):      # negative cases may be raw bytes: sent as a JSON body
                kwargs.update(data=case.body, content_type="application/json")
            elif not isinstance(case.body, NotSet):
                kwargs["json"] = case.body
            response = client.open(case.formatted_path, method=operation.method.upper(), **kwargs)
            case.validate_response(response, checks=CHECKS)
            tried[operation.label] = tried.get(operation.label, 0) + 1

        exercise()
    assert len(tried) >= 10, tried
    report = verify(world.uow.db)
    assert report.ok, report.fault
    # Money held is exactly what requests waiting for approval hold: no refusal left a hold behind.
    waiting = [p for p in payments.payment_requests(world.uow, world.wallet.id, actor=SYSTEM)
               if p.status is payments.PaymentStatus.AWAITING_APPROVAL]
    assert sum(world.cash(s).held for s in (world.council, world.own)) == sum(p.amount for p in waiting)

"""Request ids on every response and log line, JSON logs without form data, and the metrics endpoint."""
from __future__ import annotations

import json
import logging

import pytest

from wallet.web import create_app
from wallet.web.observability import JsonFormatter


@pytest.fixture
def app(database_url):
    return create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t", "TESTING": True})


def test_a_sane_request_id_is_kept_and_anything_else_replaced(app):
    client = app.test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert made != "<script>" and len(made) == 32


def test_metrics_count_requests_by_route_and_only_loopback_or_the_token_may_read_them(app):
    client = app.test_client()
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'wallet_http_requests_total{method="GET",route="/healthz",status="200"} 3' in text
    assert 'wallet_http_requests_total{method="GET",route="(no route)",status="404"} 1' in text
    assert 'wallet_http_request_duration_seconds_count{route="/healthz"} 3' in text
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 403
    app.config["METRICS_TOKEN"] = "s3cret"
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                      headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_log_lines_are_json_with_the_request_id_and_never_the_form(app):
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(JsonFormatter().format(record))

    logger = logging.getLogger("wallet.access")
    keep = Keep()
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)
    try:
        app.test_client().post("/sign-in?account=71234567", data={"account_number": "71234567"},
                               headers={"X-Request-ID": "req-1"})
    finally:
        logger.removeHandler(keep)
    record = json.loads(lines[-1])
    assert record["request_id"] == "req-1" and record["route"] == "/sign-in" and record["status"] == 400
    assert "71234567" not in lines[-1]

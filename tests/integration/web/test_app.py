"""The application shell: health, readiness, error pages and the security headers on every response."""
from __future__ import annotations

import pytest

from wallet.web import create_app
from wallet.web.security import CONTENT_SECURITY_POLICY


@pytest.fixture
def client(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True})
    return app.test_client()


def test_health_and_readiness_report_the_schema(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["schema"].startswith("00")


def test_readiness_fails_when_the_database_is_not_migrated(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "SECRET_KEY": "test"})
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["status"] == "unavailable"


def test_every_response_carries_the_security_headers(client):
    for path in ("/healthz", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"


def test_errors_are_plain_english_pages_or_json_for_the_api(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "Page not found" in page.get_data(as_text=True)
    assert '<html lang="en-GB">' in page.get_data(as_text=True)
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404
    assert api.get_json()["error"]["title"] == "Page not found"

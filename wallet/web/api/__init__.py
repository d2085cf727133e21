"""The JSON API, ``/api/v1/``: the same things the pages offer, for programs.

Signed in with the portal's own session cookie; unsafe methods need the CSRF token in the ``X-CSRFToken``
header (Flask-WTF's CSRFProtect checks it, as it checks forms). Requests are checked with marshmallow schemas
before anything is done: a request that does not pass gets 400 ``{"error": {"status", "title", "detail",
"fields": {...}}}`` and nothing is written. A refusal by the service is 403 (not allowed), 404 (no such thing),
409 (not now: not enough money, already decided, a key reused) in plain words. ``/api/v1/openapi.json`` is an
OpenAPI 3.1 document generated from the same schemas and the same list of routes.
"""
from __future__ import annotations

from flask import Flask

from wallet.web.api.routes import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]

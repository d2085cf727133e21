"""Security headers on every response, with a strict Content Security Policy.

No inline script or style anywhere in the templates, so the policy can forbid both; pages are never framed.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import BadRequest

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), geolocation=(), microphone=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


NUL_REFUSED = ("Text cannot contain the invisible character NUL (character code 0): remove it and try again. "
               "Nothing was saved.")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters() -> None:
        """No text the service keeps may hold NUL: PostgreSQL cannot store it, and no person types it, so a
        request carrying one (in the address, the query, a form field or a JSON body) is refused before any
        view runs."""
        if "\x00" in request.path or any("\x00" in v for v in request.args.values()) or (
                request.method not in ("GET", "HEAD") and (
                    any("\x00" in v for v in request.form.values())
                    or (request.is_json and _has_nul(request.get_json(silent=True))))):
            raise BadRequest(NUL_REFUSED)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "Cache-Control" not in response.headers:
            # Pages show people's money: never keep them in a shared or back-button cache.
            response.headers["Cache-Control"] = "no-store"
        return response

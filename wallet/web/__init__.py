"""The portal: a Flask application factory, one blueprint per area (Flask's own tutorial is the model).

Server-rendered pages that work without JavaScript; the JSON API and the live feed sit beside them.
Every response carries strict security headers (``security.py``); forms are CSRF-protected; sign-in is
rate-limited.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from wallet.config import database_url, secret_key
from wallet.web import auth, errors, health, observability, security
from wallet.web import live
from wallet.web.extensions import csrf, limiter
from wallet.web.views import access_log as access_log_views, home as home_views, payments as payment_views, sharing as sharing_views, transactions as transaction_views  # noqa: E501


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=None,
        SECRET_KEY=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_IDLE_SECONDS=15 * 60,        # signed out after this long without a request
        SESSION_WARNING_SECONDS=2 * 60,      # warned this long before, with a button to stay signed in
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        WTF_CSRF_TIME_LIMIT=None,            # the token lives as long as the session
    )
    app.config.from_prefixed_env("WALLET")
    # Keys are read by wallet.config.encryption_keys() (a comma-separated list); a test may pass a list here.
    app.config.pop("ENCRYPTION_KEYS", None)
    if config:
        app.config.from_mapping(config)
    app.config["DATABASE_URL"] = app.config["DATABASE_URL"] or database_url()
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or secret_key()

    observability.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(home_views.bp)
    app.register_blueprint(transaction_views.bp)
    app.register_blueprint(payment_views.bp)
    app.register_blueprint(sharing_views.bp)
    app.register_blueprint(access_log_views.bp)
    from wallet.web.views import payslips as payslip_views, timesheets as timesheet_views   # PAs' pay
    app.register_blueprint(timesheet_views.bp)
    app.register_blueprint(payslip_views.bp)
    from wallet.web.views import evidence as evidence_views, invoices as invoice_views   # evidence, invoices
    app.register_blueprint(evidence_views.bp)
    app.register_blueprint(invoice_views.bp)
    from wallet.web.views import bank as bank_views, reports as report_views   # bank statements, monthly report
    app.register_blueprint(bank_views.bp)
    app.register_blueprint(report_views.bp)
    from wallet.web import api, views_exports   # exports and the JSON API (issue 5)
    app.register_blueprint(views_exports.bp)
    api.init_app(app)
    app.register_blueprint(live.bp)
    from wallet.stripe_gateway import web as stripe_web   # the Stripe webhook and each wallet's card page
    stripe_web.init_app(app)
    return app

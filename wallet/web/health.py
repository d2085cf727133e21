"""Liveness and readiness for load balancers and orchestrators."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from wallet.web.db import engine

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The process can serve: the database answers and its schema is at the newest migration."""
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as error:  # any database failure means "not ready"; the reason goes to the log only
        current_app.logger.warning("not ready: %s", type(error).__name__)
        return jsonify(status="unavailable", reason="database not reachable or not migrated"), 503
    return jsonify(status="ok", schema=version)

"""The application's database handles, made once per process and shared by requests."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.engine import Engine

from ledger.db import Database
from ledger.service import Ledger


def database() -> Database:
    ext = current_app.extensions
    if "wallet.database" not in ext:
        ext["wallet.database"] = Database(current_app.config["DATABASE_URL"])
    return ext["wallet.database"]


def export_database() -> Database:
    """Where exports read their rows: a read replica when ``WALLET_EXPORT_DATABASE_URL`` names one, so the
    heaviest reads stay off the primary; otherwise the database itself. An export is planned, permitted and
    logged on the primary; its rows, balances and chain head come from one snapshot of this database, and the
    manifest names the chain head it reached, so a replica a moment behind gives a complete, consistent export
    of what it had replayed."""
    url = current_app.config.get("EXPORT_DATABASE_URL")
    if not url:
        return database()
    ext = current_app.extensions
    if "wallet.export_database" not in ext:
        ext["wallet.export_database"] = Database(url)
    return ext["wallet.export_database"]


def engine() -> Engine:
    return database().engine


def ledger() -> Ledger:
    ext = current_app.extensions
    if "wallet.ledger" not in ext:
        ext["wallet.ledger"] = Ledger(database())
    return ext["wallet.ledger"]

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


def engine() -> Engine:
    return database().engine


def ledger() -> Ledger:
    ext = current_app.extensions
    if "wallet.ledger" not in ext:
        ext["wallet.ledger"] = Ledger(database())
    return ext["wallet.ledger"]

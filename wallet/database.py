"""The wallet's database: one URL, migrated by Alembic, shared by the ledger and the wallet's own tables."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ledger.db import Database, make_engine
from wallet.config import database_url

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Create or migrate the database to the newest schema."""
    url = url or database_url()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def open_database(url: str | None = None, **kwargs) -> Database:
    return Database(url or database_url(), **kwargs)

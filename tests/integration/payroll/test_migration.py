"""The payroll migration: its tables match ``payroll.tables``, and it goes down and up again on both engines."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from payroll import tables
from wallet.database import alembic_config

PAYROLL_TABLES = {t.name: t for t in vars(tables).values() if hasattr(t, "c") and getattr(t, "name", "").startswith(
    "payroll_")}


def payroll_columns(engine) -> dict[str, set[str]]:
    found = inspect(engine)
    return {name: {c["name"] for c in found.get_columns(name)}
            for name in found.get_table_names() if name.startswith("payroll_")}


def test_tables_match_the_classes(engine):
    assert payroll_columns(engine) == {name: {c.name for c in t.c} for name, t in PAYROLL_TABLES.items()}


def test_downgrade_and_upgrade_again(engine, database_url):
    def migrate(step, revision):
        with engine.begin() as conn:
            cfg = alembic_config(database_url)
            cfg.attributes["connection"] = conn
            step(cfg, revision)

    migrate(command.downgrade, "0001_ledger")
    assert payroll_columns(engine) == {}
    migrate(command.upgrade, "head")
    assert set(payroll_columns(engine)) == set(PAYROLL_TABLES)

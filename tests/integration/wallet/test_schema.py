"""The migration and ``wallet.domain.tables`` describe the same tables, on both engines; downgrade removes them."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from ledger.db import make_engine
from wallet import database
from wallet.domain.tables import metadata


def test_migrated_tables_match_the_table_definitions(database_url):
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        assert {t for t in found.get_table_names() if t.startswith("wallet_")} == set(metadata.tables)
        for name, table in metadata.tables.items():
            columns = {c["name"]: c for c in found.get_columns(name)}
            assert set(columns) == {c.name for c in table.columns}, name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, f"{name}.{column.name}"
            fks = {(fk["constrained_columns"][0], fk["referred_table"]) for fk in found.get_foreign_keys(name)}
            assert fks == {(fk.parent.name, fk.column.table.name) for fk in table.foreign_keys}, name
    finally:
        engine.dispose()


def test_downgrade_removes_the_wallet_tables_and_upgrade_restores_them(database_url):
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            cfg = database.alembic_config(database_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002_payroll")
        assert not [t for t in inspect(engine).get_table_names() if t.startswith("wallet_")]
        with engine.begin() as conn:
            cfg = database.alembic_config(database_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert {t for t in inspect(engine).get_table_names() if t.startswith("wallet_")} == set(metadata.tables)
    finally:
        engine.dispose()

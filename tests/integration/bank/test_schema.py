"""Migration 0009 and ``wallet.bank.tables`` describe the same tables, on both engines; downgrade removes them;
the database itself refuses a line stored twice or an entry matched twice."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from ledger.db import make_engine
from tests.integration.bank import samples
from tests.integration.bank.conftest import statement_rows
from wallet import database
from wallet.bank import service
from wallet.bank.tables import bank_line_t, metadata

OURS = ("bank_", "report_")


def test_migrated_tables_match_the_table_definitions(database_url):
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        assert {t for t in found.get_table_names() if t.startswith(OURS)} == set(metadata.tables)
        for name, table in metadata.tables.items():
            columns = {c["name"]: c for c in found.get_columns(name)}
            assert set(columns) == {c.name for c in table.columns}, name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, f"{name}.{column.name}"
            fks = {(fk["constrained_columns"][0], fk["referred_table"]) for fk in found.get_foreign_keys(name)}
            assert fks == {(fk.parent.name, fk.target_fullname.split(".")[0]) for fk in table.foreign_keys}, name
    finally:
        engine.dispose()


def test_downgrade_removes_the_tables_and_upgrade_restores_them(database_url):
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            cfg = database.alembic_config(database_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008_evidence")
        assert not [t for t in inspect(engine).get_table_names() if t.startswith(OURS)]
        with engine.begin() as conn:
            cfg = database.alembic_config(database_url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        assert {t for t in inspect(engine).get_table_names() if t.startswith(OURS)} == set(metadata.tables)
    finally:
        engine.dispose()


def test_the_database_refuses_duplicates_and_double_matches(books):
    w = books.world
    service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(statement_rows()), "a.csv",
                             actor=w.users["holder"])
    rows = w.uow.read(lambda tx: tx.conn.execute(bank_line_t.select().order_by(bank_line_t.c.id)).all())
    matched = next(r for r in rows if r.status == "matched")
    other = next(r for r in rows if r.status == "unmatched")
    copy = {k: v for k, v in matched._mapping.items() if k != "id"}
    with pytest.raises(IntegrityError):     # the same fingerprint again
        w.uow.db.write(lambda conn: conn.execute(bank_line_t.insert(), {**copy, "uuid": "x", "entry_id": None,
                                                                         "status": "unmatched"}))
    with pytest.raises(IntegrityError):     # an entry already matched to another line
        w.uow.db.write(lambda conn: conn.execute(bank_line_t.update().where(bank_line_t.c.id == other.id)
                                                 .values(status="matched", entry_id=matched.entry_id)))
    with pytest.raises(IntegrityError):     # matched without an entry
        w.uow.db.write(lambda conn: conn.execute(bank_line_t.update().where(bank_line_t.c.id == other.id)
                                                 .values(status="matched")))

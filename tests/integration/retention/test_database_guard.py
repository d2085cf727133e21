"""The access log stays append-only in the database itself: a row goes only when it is over six years old by the
database's clock and the retention gate is open in the same transaction; an UPDATE is always refused."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.integration.retention.conftest import present


def _attempt(db, *statements: str, gate: bool = False) -> None:
    def work(conn):
        if gate:
            conn.execute(text("INSERT INTO wallet_retention_gate (opened_us) VALUES (0)"))
        for statement in statements:
            conn.execute(text(statement))
        if gate:
            conn.execute(text("DELETE FROM wallet_retention_gate"))

    db.write(work, attempts=1)


def test_a_recent_row_cannot_be_deleted_even_through_the_gate(world, seeded):
    db = world.uow.db
    recent = seeded.kept["wallet_access_log"][-1]
    for gate in (False, True):
        with pytest.raises(DBAPIError, match="append-only"):
            _attempt(db, f"DELETE FROM wallet_access_log WHERE id = {recent}", gate=gate)
    assert present(db, "wallet_access_log", [recent]) == [recent]


def test_an_old_row_goes_only_through_the_gate(world, seeded):
    db = world.uow.db
    old = seeded.gone["wallet_access_log"][0]
    with pytest.raises(DBAPIError, match="only by the retention job"):
        _attempt(db, f"DELETE FROM wallet_access_log WHERE id = {old}")
    with pytest.raises(DBAPIError, match="append-only"):    # a blanket delete fails on the first row it meets
        _attempt(db, "DELETE FROM wallet_access_log")
    assert present(db, "wallet_access_log", [old]) == [old]
    _attempt(db, f"DELETE FROM wallet_access_log WHERE id = {old}", gate=True)
    assert present(db, "wallet_access_log", [old]) == []


def test_no_row_can_be_changed_even_through_the_gate(world, seeded):
    db = world.uow.db
    old = seeded.gone["wallet_access_log"][0]
    for gate in (False, True):
        with pytest.raises(DBAPIError, match="append-only"):
            _attempt(db, f"UPDATE wallet_access_log SET actor = 'someone else' WHERE id = {old}", gate=gate)


@pytest.mark.postgres
@pytest.mark.parametrize("database_factory", ["postgres"], indirect=True)   # SQLite has no TRUNCATE
def test_postgres_still_refuses_truncate(world, seeded):
    db = world.uow.db
    assert db.is_postgres
    with pytest.raises(DBAPIError, match="append-only"):
        _attempt(db, "TRUNCATE wallet_access_log CASCADE", gate=True)


def test_the_migration_goes_down_to_the_old_guard_and_up_again(database_url):
    from alembic import command

    from ledger.db import make_engine
    from wallet.database import alembic_config, upgrade

    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(database_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0014_supplier_payables")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO wallet_access_log (actor, action, outcome, detail, at_us) "
                              "VALUES ('someone', 'view_balance', 'done', '', 0)"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM wallet_access_log"))
    finally:
        engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with pytest.raises(DBAPIError, match="only by the retention job"), engine.begin() as conn:
            conn.execute(text("DELETE FROM wallet_access_log"))     # the new guard is back
    finally:
        engine.dispose()

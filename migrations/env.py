"""Alembic environment: one set of migrations for SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from ledger.db import make_engine
from wallet.config import database_url

config = context.config


def run_migrations() -> None:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or database_url()
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    # SQLite cannot ALTER most things in place; batch mode rebuilds tables when a later migration needs it.
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite",
                      transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL, foreign keys on, and writes under ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock
upgrade. PostgreSQL: READ COMMITTED with accounts locked in id order; a deadlock, serialization failure or a
race on a unique idempotency key is retried from the start.
"""
from __future__ import annotations

import random
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

T = TypeVar("T")

_RETRYABLE_PG = {"40001", "40P01", "23505"}  # serialization failure, deadlock, unique key race


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        synchronous = kwargs.pop("sqlite_synchronous", "FULL")
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, synchronous)
        return engine
    kwargs.pop("sqlite_synchronous", None)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so writes can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):  # pragma: no cover - exercised by every SQLite test
        if conn.get_execution_options().get("ledger_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """One engine and the two ways the ledger talks to it: a retried write, and a read."""

    def __init__(self, engine_or_url: Engine | str, **kwargs: Any):
        self.engine = make_engine(engine_or_url, **kwargs) if isinstance(engine_or_url, str) else engine_or_url
        self.dialect = self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def write(self, work: Callable[[Connection], T], attempts: int = 12) -> T:
        """Run ``work`` in one write transaction: all of it commits, or none of it."""
        for attempt in range(attempts):
            try:
                with self.engine.connect().execution_options(ledger_write=True) as conn:
                    with conn.begin():
                        return work(conn)
            except (OperationalError, IntegrityError) as exc:
                if attempt == attempts - 1 or not self._retryable(exc):
                    raise
                time.sleep(random.uniform(0, 0.002 * (2 ** min(attempt, 6))))
        raise AssertionError("unreachable")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def _retryable(self, exc: DBAPIError) -> bool:
        if self.is_postgres:
            return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_PG
        return "database is locked" in str(exc.orig)

    def dispose(self) -> None:
        self.engine.dispose()

"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL, foreign keys on, and writes under ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock
upgrade; 64 MiB of page cache; a checkpoint every 10,000 WAL pages. PostgreSQL: READ COMMITTED with accounts
locked in id order; a deadlock, serialization failure, race on a unique idempotency key or lost connection is
retried from the start. Pooled PostgreSQL connections are pinged only after lying idle, not before every
transaction.
"""
from __future__ import annotations

import random
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError

T = TypeVar("T")

_RETRYABLE_PG = {"40001", "40P01", "23505"}  # serialization failure, deadlock, unique key race
_PING_AFTER_IDLE_S = 10


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        synchronous = kwargs.pop("sqlite_synchronous", "FULL")
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, synchronous)
        return engine
    kwargs.pop("sqlite_synchronous", None)
    ping_after = kwargs.pop("ping_after_idle_s", _PING_AFTER_IDLE_S)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_after)
    return engine


def _ping_when_idle(engine: Engine, idle_s: int) -> None:
    """Test a pooled connection before use only if it has lain idle: a ping on every checkout (SQLAlchemy's
    ``pool_pre_ping``) costs a network round trip per transaction, a third of a small write's round trips.
    A connection that dies in use anyway is replaced, and the write retried (``Database.write``)."""

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_conn, record):  # pragma: no cover - exercised by every PostgreSQL test
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_conn, record, _proxy):  # pragma: no cover - exercised by every PostgreSQL test
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection is gone: {exc}") from exc


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
        # 64 MiB of page cache (the default is 2 MiB): the random-keyed indexes (entry uuid, idempotency
        # key) outgrow 2 MiB within 100,000 entries, and every insert then rereads pages from the OS.
        cur.execute("PRAGMA cache_size=-65536")
        # Copy the WAL back into the database every 10,000 pages (40 MiB) rather than every 1,000: a batch of
        # 1,000 entries writes more than 1,000 pages, so the default checkpointed (and fsynced the database
        # file) after nearly every commit, writing pages that the next batch changes again. Commits are as
        # durable as before: each one still syncs the WAL (synchronous=FULL).
        cur.execute("PRAGMA wal_autocheckpoint=10000")
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
        """Run ``work`` in one write transaction: all of it commits, or none of it.

        Retried from the start on a deadlock, serialization failure, unique-key race or lost connection
        (every ledger write carries an idempotency key or is idempotent itself, so a write whose COMMIT
        was lost with the connection is found, not repeated, when retried)."""
        for attempt in range(attempts):
            try:
                with self.engine.connect().execution_options(ledger_write=True) as conn:
                    with conn.begin():
                        return work(conn)
            except Exception as exc:
                if attempt == attempts - 1 or not self._retryable(exc):
                    raise
                time.sleep(random.uniform(0, 0.002 * (2 ** min(attempt, 6))))
        raise AssertionError("unreachable")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def read_one(self, statement: Any, params: dict) -> Any:
        """The first row of one read-only statement. On PostgreSQL it runs outside an explicit transaction
        (a statement sees one consistent snapshot by itself): one round trip instead of three (BEGIN, the
        statement, COMMIT). A subclass that changes ``read`` (one bound to an open transaction, say) is
        read through its own ``read``."""
        if self.is_postgres and type(self).read is Database.read:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                return conn.execute(statement, params).first()
        with self.read() as conn:
            return conn.execute(statement, params).first()

    def _retryable(self, exc: Exception) -> bool:
        """Errors come wrapped by SQLAlchemy or, from the statements the write path sends through the driver
        itself, raw."""
        if isinstance(exc, DBAPIError):
            if exc.connection_invalidated:
                return True
            orig = exc.orig
        elif isinstance(exc, self.engine.dialect.dbapi.Error):
            orig = exc
        else:
            return False
        if self.is_postgres:
            sqlstate = getattr(orig, "sqlstate", None)
            # No SQLSTATE on an OperationalError: the server never answered (the connection itself failed).
            return sqlstate in _RETRYABLE_PG or (
                sqlstate is None and isinstance(orig, self.engine.dialect.dbapi.OperationalError))
        return isinstance(orig, self.engine.dialect.dbapi.OperationalError) and "database is locked" in str(orig)

    def dispose(self) -> None:
        self.engine.dispose()

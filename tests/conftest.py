"""Fixtures shared by the whole suite.

Every database test runs twice, on SQLite and on PostgreSQL. A PostgreSQL cluster is started once per test
session as an unprivileged user; each test gets a fresh database copied from a migrated template, so tests
never see each other's rows (and never need to delete from append-only tables).
On a machine without a PostgreSQL server those tests skip with the reason; in CI (CI=true) they fail instead.
"""
from __future__ import annotations

import itertools
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ledger.clock import ManualClock, seeded_ids
from ledger.db import Database
from ledger.service import Ledger
from tests.support.postgres import PostgresCluster, server_bin_dir
from wallet import database as wallet_database

IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=150)
settings.load_profile("ci" if IN_CI else "default")


def need(reason: str) -> None:
    """Skip for a missing system part, except in CI where every test must run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run every test; .ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster():
    bin_dir = server_bin_dir()
    if bin_dir is None:
        need("PostgreSQL server not installed (apt-get install postgresql), so PostgreSQL tests are skipped")
    cluster = PostgresCluster(bin_dir).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster):
    pg_cluster.execute("CREATE DATABASE wallet_template")
    wallet_database.upgrade(pg_cluster.url("wallet_template"))
    return "wallet_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    wallet_database.upgrade(f"sqlite:///{path}")
    return path


_counter = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_factory(request, tmp_path):
    """Makes freshly migrated, empty databases (SQLite or PostgreSQL) on demand; returns their URLs."""
    made: list[str] = []
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")

        def make() -> str:
            path = tmp_path / f"wallet-{next(_counter)}.db"
            shutil.copy(template, path)
            return f"sqlite:///{path}"

        yield make
        return
    cluster = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("pg_template")

    def make() -> str:
        name = f"t_{os.getpid()}_{next(_counter)}"
        cluster.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        made.append(name)
        return cluster.url(name)

    yield make
    for name in made:
        cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(database_factory):
    """A freshly migrated, empty database: SQLite or PostgreSQL."""
    return database_factory()


@pytest.fixture
def sqlite_database_url(sqlite_template, tmp_path):
    """A freshly migrated SQLite database only (browser tests, which exercise the pages, not the engines)."""
    path = tmp_path / "wallet-e2e.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 4, 6, 9, 0, tzinfo=timezone.utc))


@pytest.fixture
def ledger(db, clock):
    return Ledger(db, clock=clock, ids=seeded_ids(7))

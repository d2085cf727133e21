"""Faults: PostgreSQL restarted while money moves, and a worker killed in the middle of posting a pay run.
After each: no partial entries, no duplicates, the books verify, and the service carries on by itself."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from ledger.db import Database
from ledger.service import Ledger
from ledger.tables import entry_t
from ledger.verify import verify
from tests.conftest import need
from tests.integration.ledger.helpers import fund, open_wallet
from tests.support.postgres import PostgresCluster, server_bin_dir
from wallet import database as wallet_database

TRANSFERS = 300


@pytest.fixture
def own_cluster():
    """A cluster of this test's own, with durable commits, so restarting it disturbs no other test."""
    bin_dir = server_bin_dir()
    if bin_dir is None:
        need("PostgreSQL server not installed (apt-get install postgresql), so the restart test is skipped")
    cluster = PostgresCluster(bin_dir, durable=True).start()
    cluster.execute("CREATE DATABASE faults")
    wallet_database.upgrade(cluster.url("faults"))
    yield cluster
    cluster.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_restarted_mid_run_loses_and_repeats_nothing(own_cluster):
    db = Database(own_cluster.url("faults"), pool_size=4)
    ledger = Ledger(db)
    open_wallet(ledger)
    fund(ledger, 1_000_000)
    done: list[int] = []
    refused: list[str] = []

    def writer() -> None:
        # A client that retries with the same idempotency key when the service says it could not finish.
        for n in range(TRANSFERS):
            while True:
                try:
                    ledger.transfer(f"during-restart-{n}", "w1:wages", "w1:cash", 100)
                    break
                except Exception as exc:   # the database was away: try again, as a caller would
                    refused.append(type(exc).__name__)
                    time.sleep(0.05)
            done.append(n)

    threads = [threading.Thread(target=writer) for _ in range(2)]   # two clients sending the same transfers
    for t in threads:
        t.start()
    while len(done) < TRANSFERS // 3:
        time.sleep(0.01)
    own_cluster.restart()
    assert len(done) < 2 * TRANSFERS, "the transfers finished before the restart: nothing was tested"
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert len(done) == 2 * TRANSFERS

    with db.read() as conn:
        entries = conn.execute(select(func.count()).select_from(entry_t)).scalar_one()
    assert entries == 1 + TRANSFERS                      # the funding, and each transfer exactly once
    assert ledger.balance("w1:cash").posted == 1_000_000 - 100 * TRANSFERS
    report = verify(db)
    assert report.ok, report.fault
    # And the service carries on by itself on the same pool.
    ledger.transfer("after-restart", "w1:wages", "w1:cash", 1)
    assert ledger.balance("w1:cash").posted == 1_000_000 - 100 * TRANSFERS - 1
    db.dispose()

"""A killed writer leaves all of its batch or none of it; eight concurrent writers never break a floor."""
from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from ledger.db import Database
from ledger.errors import InsufficientFunds
from ledger.model import AccountSpec, AccountType
from ledger.service import Ledger
from ledger.tables import entry_t
from ledger.verify import verify

from .helpers import fund, open_wallet

BATCH = 30_000


@pytest.mark.slow
def test_killed_writer_leaves_all_or_nothing(ledger, database_url, db):
    open_wallet(ledger)
    fund(ledger, 10_000_000)
    child = subprocess.Popen([sys.executable, "-m", "tests.support.crash_child", database_url, str(BATCH)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    time.sleep(0.8)
    assert child.poll() is None, "the batch finished before it could be interrupted"
    child.send_signal(signal.SIGKILL)
    child.wait()
    with db.read() as conn:
        entries = conn.execute(select(func.count()).select_from(entry_t)).scalar_one()
    assert entries in (1, 1 + BATCH)
    assert ledger.balance("w1:cash").posted in (10_000_000, 10_000_000 - BATCH)
    report = verify(db)
    assert report.ok, report.fault
    fund(ledger, 5, key="after-the-crash")  # the database is writable again


@pytest.mark.postgres
@pytest.mark.slow
def test_eight_workers_on_shared_accounts_respect_floors(pg_cluster, pg_template):
    name = "concurrency"
    pg_cluster.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    db = Database(pg_cluster.url(name), pool_size=10)
    try:
        book = Ledger(db)
        codes = [f"shared:{i}" for i in range(4)]
        book.open_accounts([AccountSpec(c, AccountType.ASSET, floor=0, book="shared") for c in codes]
                           + [AccountSpec("shared:source", AccountType.EQUITY, book="shared")])
        for c in codes:
            book.transfer(f"seed-{c}", c, "shared:source", 10_000)
        refused, done, errors = [], [], []

        def worker(n: int) -> None:
            rng = random.Random(n)
            for i in range(150):
                src, dst = rng.sample(codes, 2)
                try:
                    book.transfer(f"w{n}-{i}", dst, src, rng.randint(1, 4_000))
                    done.append(1)
                except InsufficientFunds:
                    refused.append(1)
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        balances = [book.balance(c).posted for c in codes]
        assert all(b >= 0 for b in balances)
        assert sum(balances) == 40_000
        assert len(done) + len(refused) == 8 * 150 and done and refused
        report = verify(db)
        assert report.ok, report.fault
        assert report.entries == 4 + len(done)
    finally:
        db.dispose()
        pg_cluster.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.postgres
def test_a_write_whose_connection_was_lost_is_retried_on_a_fresh_one(pg_cluster, pg_template):
    name = "lost_connection"
    pg_cluster.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    db = Database(pg_cluster.url(name), pool_size=1, max_overflow=0)
    try:
        book = Ledger(db)
        open_wallet(book)
        fund(book, 100)
        # The server ends every session of this database: the pooled connection is dead, unknown to the pool.
        pg_cluster.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        entry = book.transfer("after-the-cut", "w1:wages", "w1:cash", 10)
        assert entry.sequence == 2 and book.balance("w1:cash").posted == 90
        assert verify(db).ok
    finally:
        db.dispose()
        pg_cluster.execute(f"DROP DATABASE {name} WITH (FORCE)")

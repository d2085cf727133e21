"""A worker killed (SIGKILL) while it posts finalised pay runs into the wallet's books and pays them, on SQLite
and PostgreSQL. The worker is a separate process running the product code unchanged; it is killed at random
moments, several times, then run again to the end. After that: every run posted exactly once, every PA, HMRC and
the pension paid exactly once, no partial entries (every entry balances: ``ledger verify``), the payables back to
zero and the cash down by exactly what was paid."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from ledger.tables import entry_t
from ledger.verify import verify
from tests.integration.wallet.conftest import TODAY, uow, world  # noqa: F401  (fixtures)
from wallet.domain import wallets
from wallet.domain.chart import Category
from wallet.domain.tables import pay_run_posting_t, settlement_t
from wallet.domain.unit_of_work import SYSTEM

REPO = Path(__file__).resolve().parents[3]
RUNS, PAS, NET = 12, 25, 1_000
"""Twelve pay runs of 25 PAs each, every PA £10 net (no tax, NI or pension): 25 + 1 entries a run."""

WORKER = textwrap.dedent(f"""
    import sys
    from datetime import date
    from ledger.db import Database
    from tests.integration.wallet.helpers import pay_run, payslip
    from wallet.domain import payroll_posting as pp
    from wallet.domain.unit_of_work import SYSTEM, UnitOfWork

    url, wallet_id = sys.argv[1:3]
    db = Database(url)
    uow = UnitOfWork(db)
    for n in range({RUNS}):
        run_id = f"run-{{n:02d}}"
        slips = [payslip(run_id, f"pa-{{k:02d}}", gross={NET}, tax=0, ee_ni=0, er_ni=0 if k else 500)
                 for k in range({PAS})]
        pp.post_pay_run(uow, wallet_id, pay_run(run_id, *slips), actor=SYSTEM)
        pp.settle_pay_run(uow, wallet_id, run_id, actor=SYSTEM, paid_on=date(2026, 4, 30))
        print(run_id, flush=True)
    db.dispose()
""")


def _worker(database_url: str, wallet_id: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, database_url, wallet_id], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _count(world, table, *where) -> int:  # noqa: F811
    return world.uow.read(lambda tx: tx.conn.execute(select(func.count()).select_from(table).where(*where))
                          .scalar_one())


def test_a_worker_killed_mid_posting_leaves_nothing_partial_and_a_rerun_finishes_once(world, database_url):  # noqa: F811
    wallets.record_funding(world.uow, world.wallet.id, world.council.id, 2_000_000, TODAY, actor=SYSTEM,
                           key="council-payroll")
    chart = world.wallet.chart
    cash_before = world.cash(world.council).posted
    rng = random.Random(20260430)
    killed_mid_way = 0
    for attempt in range(4):
        worker = _worker(database_url, world.wallet.id)
        posted_before = _count(world, pay_run_posting_t)
        deadline = time.monotonic() + 60
        # Kill once this worker has started writing (a posting of its own appears), after a random pause.
        while _count(world, pay_run_posting_t) == posted_before and worker.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            killed_mid_way += 1
        worker.wait(30)
        assert worker.returncode in (0, -signal.SIGKILL), worker.stderr.read()[-3000:]
        report = verify(world.uow.db)          # after every kill: the books are whole
        assert report.ok, report.fault
        postings = _count(world, pay_run_posting_t)
        assert _count(world, settlement_t) in range(0, postings * (PAS + 1) + 1)
    assert killed_mid_way >= 2, "the worker finished before it could be killed: nothing was tested"

    worker = _worker(database_url, world.wallet.id)       # the service carries on: run again, to the end
    out, err = worker.communicate(timeout=300)
    assert worker.returncode == 0, err[-3000:]

    assert _count(world, pay_run_posting_t) == RUNS
    assert _count(world, settlement_t) == RUNS * (PAS + 1)       # each PA's net pay, and HMRC, once a run
    assert _count(world, entry_t, entry_t.c.idempotency_key.like("%:payrun:%")) == RUNS   # no duplicate posting
    ledger = world.ledger
    assert ledger.balance(chart.wages_payable).posted == 0
    assert ledger.balance(chart.hmrc_payable).posted == 0
    assert ledger.balance(chart.spend(Category.PA_WAGES, world.council.code)).posted == RUNS * (PAS * NET + 500)
    assert world.cash(world.council).posted == cash_before - RUNS * (PAS * NET + 500)
    report = verify(world.uow.db)
    assert report.ok, report.fault

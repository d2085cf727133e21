"""One leader: two schedulers started at once run each job once; the lease hands over when it runs out."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from ledger.clock import ManualClock, seeded_ids
from ledger.db import Database
from wallet.domain import alerts
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork
from wallet.scheduler import LeaseLost, Scheduler, lease_state, notices
from wallet.scheduler.store import all_runs, claim


def test_two_schedulers_started_at_once_run_each_job_once(world, database_url, payroll, employer):
    start = world.clock.now()
    clocks = [ManualClock(start), ManualClock(start)]
    databases = [Database(database_url), Database(database_url)]
    schedulers = [Scheduler(UnitOfWork(db, clock=c, ids=seeded_ids(20 + i)), payroll=payroll, holder=f"s{i}")
                  for i, (db, c) in enumerate(zip(databases, clocks))]
    leaders: list[str] = []
    errors: list[BaseException] = []
    try:
        for day in range(40):                   # past the first pay day, funding check and month end
            moment = start + timedelta(days=day)
            for c in clocks:
                c.set(moment)
            barrier = threading.Barrier(2)
            reports = [None, None]

            def run(i: int) -> None:
                try:
                    barrier.wait()
                    reports[i] = schedulers[i].tick()
                except BaseException as exc:    # pragma: no cover - shown by the assertion below
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
            leading = [r for r in reports if r.leader]
            assert len(leading) == 1, "exactly one of the two leads at each tick"
            assert not any(r.done for r in reports if not r.leader)
            leaders.append(schedulers[reports.index(leading[0])].holder)
    finally:
        for db in databases:
            db.dispose()

    runs = all_runs(world.uow.db)
    assert all(r.state == "done" and r.attempts == 1 for r in runs)
    jobs = Counter(r.job for r in runs)
    assert jobs["alert_checks"] == 40 and jobs["expire_holds"] == 40
    assert jobs["funding_due"] == 4 and jobs["monthly_statement"] == 1 and jobs["pay_run_calculation"] == 2
    kinds = Counter(n.kind for n in notices(world.uow.db))
    assert kinds["pay_run_calculated"] == 1 and kinds["pay_run_blocked"] == 1     # the first run is unfinished
    assert kinds["fps_reminder"] == 1 and kinds["monthly_statement"] == 1
    causes = [a.cause for a in alerts.alerts(world.uow, world.wallet.id, actor=SYSTEM, include_dismissed=True)]
    assert len(causes) == len(set(causes))


def test_the_lease_hands_over_when_the_leader_stops_renewing(world):
    a = Scheduler(world.uow, holder="a", lease_ttl=timedelta(seconds=60))
    b = Scheduler(world.uow, holder="b", lease_ttl=timedelta(seconds=60))
    assert a.tick().leader
    assert not b.tick().leader
    first = lease_state(world.uow.db)
    assert first.holder == "a"

    world.clock.advance(seconds=45)
    a.renew()                                       # a keeps the lead while it renews
    world.clock.advance(seconds=45)
    assert not b.tick().leader
    world.clock.advance(seconds=61)                 # a has gone quiet: its lease runs out
    assert b.tick().leader
    taken = lease_state(world.uow.db)
    assert taken.holder == "b" and taken.generation == first.generation + 1
    assert not a.tick().leader                      # the old leader stands by now
    with pytest.raises(LeaseLost):                  # and cannot claim work, even if it tries
        claim(world.uow.db, a.lease, key="x", job="x", due_us=0, params={},
              now_us=int(world.clock.now().timestamp()) * 1_000_000, max_attempts=3, stale_us=1)

    b.stop()                                        # a clean stop hands over at once
    assert lease_state(world.uow.db).holder is None
    assert a.tick().leader

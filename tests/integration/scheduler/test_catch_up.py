"""After downtime each missed run is caught up once; a cap spreads a long catch-up over several ticks."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from wallet.scheduler import Scheduler, notices
from wallet.scheduler.store import all_runs


def test_missed_runs_after_downtime_run_once_each(world, payroll, employer, caplog):
    s = Scheduler(world.uow, payroll=payroll, holder="s")
    assert s.tick().leader
    world.clock.advance(days=45)                     # down from 6 April to 21 May 2026
    caplog.set_level(logging.INFO, logger="wallet.scheduler")
    report = s.tick()
    assert not report.failed and not report.waiting
    jobs = Counter(r.job for r in all_runs(world.uow.db))
    assert jobs["alert_checks"] == 46                # 6 April, then 7 April to 21 May, each once
    assert jobs["expire_holds"] == 2                 # the sweep coalesces: once for all 4,320 missed slots
    assert jobs["funding_due"] == 4                  # 6 April and 4 May, both streams
    assert jobs["pay_run_calculation"] == 2 and jobs["fps_reminder"] == 2   # pay days 24 April and 22 May
    assert jobs["monthly_statement"] == 1 and jobs["data_retention"] == 1 and jobs["eps_submission"] == 1
    assert "expire_holds missed 4320 runs while the scheduler was stopped" in caplog.text
    assert all(r.attempts == 1 and r.state == "done" for r in all_runs(world.uow.db))
    assert s.tick().done == []
    assert Scheduler(world.uow, payroll=payroll, holder="t").tick(world.clock.now() + timedelta(minutes=2)).done \
        == []


def test_a_capped_catch_up_runs_the_oldest_first_and_the_rest_in_later_ticks(world, caplog):
    s = Scheduler(world.uow, holder="s", catch_up_cap=10)
    s.tick()
    world.clock.advance(days=35)
    caplog.set_level(logging.WARNING, logger="wallet.scheduler")
    first = s.tick()
    assert first.waiting == {"alert_checks": 25}
    assert "alert_checks has 35 missed runs to catch up; running the oldest 10 now" in caplog.text
    ticks = 1
    while s.tick().done:
        ticks += 1
    checks = sorted(r.key for r in all_runs(world.uow.db) if r.job == "alert_checks")
    assert len(checks) == 36 == len(set(checks)) and ticks == 4
    assert checks[1] == "alert_checks:2026-04-07" and checks[-1] == "alert_checks:2026-05-11"
    assert len(notices(world.uow.db, kind="monthly_statement")) == 1

"""A crash mid-job (an exception after claiming, or a killed process) is resumed on the next run, and the work
is not done twice: the money-moving job's idempotency key derives from its run key."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from wallet.scheduler import Scheduler
from wallet.scheduler.store import all_runs

from .jobs_for_tests import AMOUNT, pay_in_job

REPO = Path(__file__).resolve().parents[3]


def _cash(world) -> int:
    return world.cash(world.council).posted


def test_an_exception_after_claiming_is_retried_next_tick_without_paying_twice(world):
    before = _cash(world)
    crashes = []

    def crash_once(ctx):
        if ctx.attempt == 1:
            crashes.append(ctx.run_key)
            raise RuntimeError("the power went off")

    s = Scheduler(world.uow, jobs=[pay_in_job(world.wallet.id, world.council.id, then=crash_once)], holder="s")
    first = s.tick()
    assert first.failed == [crashes[0]] and first.done == []
    [run] = all_runs(world.uow.db)
    assert (run.state, run.attempts, run.error) == ("failed", 1, "RuntimeError: the power went off")
    assert _cash(world) == before + AMOUNT          # the work itself was done before the crash

    world.clock.advance(minutes=1)
    second = s.tick()
    assert second.done == [run.key]
    [run] = all_runs(world.uow.db)
    assert (run.state, run.attempts, run.error) == ("done", 2, None)
    assert _cash(world) == before + AMOUNT          # and was not done again
    assert s.tick().done == []


def test_a_failing_job_gives_up_after_its_attempts_and_says_so(world):
    def always(ctx):
        raise ValueError("the funder's reference is wrong")

    job = pay_in_job(world.wallet.id, world.council.id, then=always)
    s = Scheduler(world.uow, jobs=[job], holder="s")
    for _ in range(job.max_attempts + 2):
        s.tick()
        world.clock.advance(minutes=1)
    [run] = all_runs(world.uow.db)
    assert (run.state, run.attempts) == ("failed", job.max_attempts)


def test_a_killed_scheduler_is_taken_over_and_its_run_resumed_without_paying_twice(world, database_url):
    before = _cash(world)
    now = world.clock.now()
    child = subprocess.run(
        [sys.executable, "-m", "tests.integration.scheduler.crash_child", database_url, world.wallet.id,
         world.council.id, now.isoformat()],
        cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.returncode == 9, child.stderr
    assert "recorded; dying" in child.stdout
    [run] = all_runs(world.uow.db)
    assert (run.state, run.holder) == ("started", "child")
    assert _cash(world) == before + AMOUNT

    s = Scheduler(world.uow, jobs=[pay_in_job(world.wallet.id, world.council.id)], holder="parent")
    world.clock.set(now + timedelta(seconds=30))
    assert not s.tick().leader                      # the dead child's lease has not run out yet
    world.clock.set(now + timedelta(seconds=61))
    report = s.tick()
    assert report.leader and report.done == [run.key]
    [run] = all_runs(world.uow.db)
    assert (run.state, run.attempts, run.holder) == ("done", 2, "parent")
    assert _cash(world) == before + AMOUNT

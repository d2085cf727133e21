"""`wallet scheduler run-once` and `wallet scheduler status`; the APScheduler service starts, runs and stops."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from ledger.clock import SystemClock
from wallet.cli import cli
from wallet.domain.unit_of_work import UnitOfWork
from wallet.scheduler import Scheduler, lease_state, notices
from wallet.scheduler.store import all_runs


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", Fernet.generate_key().decode())


def run(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, *args])


def test_run_once_runs_what_is_due_once_and_status_shows_it(world, database_url):
    first = run(database_url, "scheduler", "run-once", "--now", "2026-05-01T09:00:00+00:00")
    assert first.exit_code == 0, first.output
    assert "done    statement:" in first.output
    assert "done    alert_checks:2026-05-01" in first.output
    again = run(database_url, "scheduler", "run-once", "--now", "2026-05-01T09:00:00+00:00")
    assert again.exit_code == 0, again.output
    assert "0 runs done" in again.output
    assert len(notices(world.uow.db, kind="monthly_statement")) == 1

    status = run(database_url, "scheduler", "status")
    assert status.exit_code == 0, status.output
    assert "No scheduler leads now." in status.output       # run-once gives the lead up when it is done
    assert "done    x1 statement:" in status.output


def test_run_once_stands_by_while_another_scheduler_leads(world, database_url):
    leader = Scheduler(world.uow, holder="daemon", lease_ttl=timedelta(days=3650))
    assert leader.tick().leader
    result = run(database_url, "scheduler", "run-once")
    assert result.exit_code == 3
    assert "Another scheduler leads now; nothing was run." in result.output
    status = run(database_url, "scheduler", "status")
    assert "Leader: daemon" in status.output


def test_the_apscheduler_service_ticks_renews_and_gives_up_the_lead(world):
    uow = UnitOfWork(world.uow.db, clock=SystemClock())
    s = Scheduler(uow, holder="service", lease_ttl=timedelta(seconds=3))
    aps = s.serve(timedelta(seconds=1), blocking=False)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(r.job == "expire_holds" for r in all_runs(uow.db)):
            time.sleep(0.2)
        assert lease_state(uow.db).holder == "service"
    finally:
        aps.shutdown(wait=True)
        s.stop()
    assert any(r.job == "expire_holds" and r.state == "done" for r in all_runs(uow.db))
    assert lease_state(uow.db).holder is None

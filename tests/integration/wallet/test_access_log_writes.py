"""Page visits' access-log rows written on their own (``UnitOfWork.log_visits``): concurrent visits in one
process share a transaction, every row is written once, and a failed write fails every visit in it."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from wallet.domain.tables import access_log_t
from wallet.domain.unit_of_work import _AuditEntry


def rows(uow, actor_prefix: str) -> int:
    with uow.db.read() as conn:
        return conn.execute(select(func.count()).select_from(access_log_t)
                            .where(access_log_t.c.actor.like(f"{actor_prefix}%"))).scalar_one()


def wallet_pk(world) -> int:
    return world.uow.read(lambda tx: tx.wallet_row(world.wallet.id).id)


def visit(pk: int, n: int, prefix: str = "visitor") -> list[_AuditEntry]:
    return [_AuditEntry(pk, f"{prefix}-{n}", "view_balance", "home page")]


def test_concurrent_visits_share_commits_and_every_row_is_written(world, monkeypatch):
    uow, pk = world.uow, wallet_pk(world)
    real_write = uow.db.write
    first = threading.Event()

    def slow_write(work, *args, **kwargs):
        # The first commit lasts until the other 15 visits have queued behind it.
        if not first.is_set():
            first.set()
            deadline = time.monotonic() + 20
            while len(uow._visits._queue) < 15 and time.monotonic() < deadline:
                time.sleep(0.01)
        return real_write(work, *args, **kwargs)

    monkeypatch.setattr(uow.db, "write", slow_write)
    before = uow._visits.transactions
    threads = [threading.Thread(target=uow.log_visits, args=(visit(pk, n),)) for n in range(16)]
    threads[0].start()
    first.wait(5)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(30)
    assert rows(uow, "visitor-") == 16
    assert uow._visits.transactions - before == 2          # the first visit's commit, then the other 15 together


def test_a_failed_write_fails_every_visit_in_it_and_writes_none(world, monkeypatch):
    uow, pk = world.uow, wallet_pk(world)

    def broken(work, *args, **kwargs):
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(uow.db, "write", broken)
    with pytest.raises(RuntimeError, match="disk I/O error"):
        uow.log_visits(visit(pk, 1, "lost"))
    monkeypatch.undo()
    assert rows(uow, "lost-") == 0
    uow.log_visits(visit(pk, 2, "after"))                  # the next visit is written as usual
    assert rows(uow, "after-") == 1

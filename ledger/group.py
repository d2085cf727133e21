"""Group commit: concurrent writers in one process share one database transaction.

A write costs a few network round trips and one durable commit whatever its size, so when several threads
of a process post at once, one of them leads: it takes every write waiting at that moment, runs them as one
transaction and hands each caller its own outcome; callers who arrive meanwhile queue for the next
transaction, which the leader hands to the oldest of them. Nobody waits on a timer: a lone caller leads at
once, and a group is simply whatever queued while the previous transaction was in flight.

Each write in a group is a ``Unit`` that succeeds or fails on its own. The ledger checks every refusal it
can (idempotency, unknown or closed accounts, floors, ...) in memory under the accounts' locks and drops a
refused unit's changes before anything is written; if the database itself refuses the group, every unit is
run again alone, so one caller's fault never becomes another's.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any, Callable

_ALL: "weakref.WeakSet[GroupCommit]" = weakref.WeakSet()


class Unit:
    """One caller's entries, which commit together or not at all."""

    __slots__ = ("entries", "count_only", "size", "done", "error", "result", "_wake")

    def __init__(self, entries: list[Any], count_only: bool = False):
        self.entries = entries
        self.count_only = count_only
        self.size = len(entries)
        self.done = False
        self.error: BaseException | None = None
        self.result: Any = None
        self._wake = threading.Lock()
        self._wake.acquire()

    def settle(self, error: BaseException | None, result: Any) -> None:
        self.error, self.result, self.done = error, result, True

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    def __init__(self, run: Callable[[list[Unit]], None], max_entries: int = 2_000):
        """``run`` settles every unit it is given and does not raise."""
        self._run = run
        self._max = max_entries
        self._forked()
        _ALL.add(self)
        self.transactions = 0
        """How many groups have run (each one transaction, or one per write if the database refused it)."""
        self.writes = 0
        """How many writes (units) those groups held."""

    def _forked(self) -> None:
        """A fresh start (also in a child process: whatever its parent had in flight is not the child's)."""
        self._lock = threading.Lock()
        self._queue: list[Unit] = []
        self._leading = False
        self.arriving = 0

    def arrive(self) -> None:
        """A caller has begun preparing a write: a leader about to start lets it join (see ``_gather``)."""
        with self._lock:
            self.arriving += 1

    def leave(self) -> None:
        """An arrived caller will not submit after all (its request was refused before it was queued)."""
        with self._lock:
            self.arriving -= 1

    def submit(self, unit: Unit, arrived: bool = False) -> Any:
        with self._lock:
            if arrived:
                self.arriving -= 1
            self._queue.append(unit)
            waiting = self._leading
            self._leading = True
        if waiting:
            unit._wake.acquire()  # released when this unit is settled, or when it is handed the lead
            if unit.done:
                return unit.outcome()
        while True:  # leading, until this caller's own unit is settled
            self._gather()
            with self._lock:
                batch = self._take()
            try:
                self._run(batch)
            except BaseException:
                # Interrupted (KeyboardInterrupt, say): the others' unfinished writes go back to the queue.
                self._wake_settled(batch, unit)
                self._hand_on([u for u in batch if not u.done and u is not unit])
                raise
            self._wake_settled(batch, unit)
            if unit.done:
                self._hand_on([u for u in batch if not u.done])
                return unit.outcome()

    def _gather(self) -> None:
        """Before starting a transaction, let callers already preparing a write queue it, so that it rides in
        this transaction rather than waiting for the next one. Not a timer: the leader only yields the
        interpreter (``sleep(0)``), once, then for as long as some caller is still preparing, a bounded
        number of times; a lone caller costs one yield."""
        time.sleep(0)
        for _ in range(64):
            if not self.arriving:
                return
            time.sleep(0)

    @staticmethod
    def _wake_settled(batch: list[Unit], leader: Unit) -> None:
        for u in batch:
            if u is not leader and u.done:
                u._wake.release()

    def _take(self) -> list[Unit]:
        """The oldest waiting writes, up to about ``max_entries`` entries (always at least one write)."""
        queue, total, n = self._queue, 0, 0
        while n < len(queue) and (n == 0 or total + queue[n].size <= self._max):
            total += queue[n].size
            n += 1
        batch = queue[:n]
        del queue[:n]
        self.transactions += 1
        self.writes += n
        return batch

    def _hand_on(self, unsettled: list[Unit]) -> None:
        """Give the lead to the oldest waiting caller, or lay it down when nobody waits."""
        with self._lock:
            self._queue[:0] = unsettled
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._leading = False
        if successor is not None:
            successor._wake.release()


def _after_fork_in_child() -> None:
    for group in list(_ALL):
        group._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

"""The scheduler's records: the leader's lease, each job run, each job's watermark, notices for people.

The lease
    One row (``scheduler_lease``, name ``scheduler``) says which scheduler process leads and until when. Taking
    or renewing it is one write transaction that reads the row under the write lock (``SELECT ... FOR UPDATE``
    on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers), so two processes can never both take it.
    A holder renews before it runs out; when it runs out (the process died or hung), the next process to ask
    takes it over and the row's ``generation`` goes up by one: a fencing token. Every claim of a run checks, in
    its own transaction, that the claimer still holds the lease, so a leader that lost its lease stops claiming.

Runs
    A run is claimed before its work starts, by a unique key (``funding:<stream>:<date>``...). A claim:

    * no row yet: insert it ``started`` with one attempt: go;
    * ``done``: never again;
    * ``failed``: again, with one more attempt, up to the job's limit (then it stays failed: a person looks);
    * ``started``: someone is doing it, unless it was started under an older lease generation (its process
      lost the lease, so it died or hung) or longer ago than the stale limit: then it is taken over, attempt + 1.

    The work itself carries idempotency keys derived from the run key (ledger keys, notice keys, alert causes),
    so a crash between doing the work and marking the run done is safe: the retry finds the work done.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection

from ledger.clock import from_us, to_us
from ledger.db import Database
from wallet.scheduler.tables import job_t, lease_t, notice_t, run_t

log = logging.getLogger("wallet.scheduler")

LEASE_NAME = "scheduler"


class LeaseLost(Exception):
    """This process no longer holds the scheduler's lease: it must stop claiming work."""


def new_holder_id() -> str:
    """Names a scheduler process in the lease and the runs: host, process id and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _locked(q, conn: Connection):
    return q.with_for_update() if conn.dialect.name == "postgresql" else q


@dataclass(frozen=True)
class LeaseState:
    holder: str | None
    expires_at: datetime | None
    generation: int
    acquired_at: datetime | None
    renewed_at: datetime | None


class Lease:
    """The scheduler's leader lease, held by ``holder`` for ``ttl`` at a time."""

    def __init__(self, db: Database, holder: str, ttl: timedelta = timedelta(seconds=60)):
        if ttl <= timedelta(0):
            raise ValueError("a lease must last some time")
        self.db = db
        self.holder = holder
        self.ttl_us = ttl // timedelta(microseconds=1)
        self.generation: int | None = None
        """The generation this process holds, or None when it does not lead."""

    def acquire(self, now: datetime) -> bool:
        """Take the lease, or renew it if this process holds it already; False if another process holds it."""
        now_us = to_us(now)

        def work(conn: Connection) -> tuple[bool, Any]:
            row = conn.execute(_locked(select(lease_t).where(lease_t.c.name == LEASE_NAME), conn)).first()
            if row is None:  # a database migrated without the seed row: make it
                conn.execute(lease_t.insert(), dict(name=LEASE_NAME, holder=self.holder,
                                                    expires_us=now_us + self.ttl_us, generation=1,
                                                    acquired_us=now_us, renewed_us=now_us))
                return True, (None, 0, 1)
            if row.holder == self.holder:
                conn.execute(update(lease_t).where(lease_t.c.name == LEASE_NAME).values(
                    expires_us=now_us + self.ttl_us, renewed_us=now_us))
                return True, (row.holder, row.expires_us, row.generation)
            if row.holder is None or row.expires_us <= now_us:
                conn.execute(update(lease_t).where(lease_t.c.name == LEASE_NAME).values(
                    holder=self.holder, expires_us=now_us + self.ttl_us, generation=row.generation + 1,
                    acquired_us=now_us, renewed_us=now_us))
                return True, (row.holder, row.expires_us, row.generation + 1)
            return False, (row.holder, row.expires_us, row.generation)

        held, (previous, previous_expiry, generation) = self.db.write(work)
        was_leading = self.generation is not None
        if held:
            if previous != self.holder:
                if previous is None:
                    log.info("Scheduler %s is now the leader (no scheduler held the lease).", self.holder)
                else:
                    log.info("Scheduler %s is now the leader: %s's lease ran out at %s.", self.holder, previous,
                             from_us(previous_expiry).isoformat())
            self.generation = generation
        else:
            if was_leading:
                log.warning("Scheduler %s has lost the lead to %s and stops running jobs.", self.holder, previous)
            self.generation = None
        return held

    def check(self, conn: Connection, now_us: int) -> int:
        """Inside a transaction: the generation this process leads under; LeaseLost if it does not lead."""
        row = conn.execute(select(lease_t).where(lease_t.c.name == LEASE_NAME)).first()
        if row is None or row.holder != self.holder or row.expires_us <= now_us:
            self.generation = None
            raise LeaseLost(f"scheduler {self.holder} no longer holds the lease")
        return row.generation

    def release(self) -> None:
        """Give the lease up at once (on a clean stop), so a standby need not wait for it to run out."""
        def work(conn: Connection) -> int:
            return conn.execute(update(lease_t).where(and_(lease_t.c.name == LEASE_NAME,
                                                           lease_t.c.holder == self.holder))
                                .values(holder=None, expires_us=0)).rowcount

        if self.db.write(work):
            log.info("Scheduler %s has given up the lead.", self.holder)
        self.generation = None


def lease_state(db: Database) -> LeaseState:
    with db.read() as conn:
        row = conn.execute(select(lease_t).where(lease_t.c.name == LEASE_NAME)).first()
    if row is None:
        return LeaseState(None, None, 0, None, None)
    return LeaseState(row.holder, from_us(row.expires_us) if row.holder else None, row.generation,
                      from_us(row.acquired_us) if row.acquired_us else None,
                      from_us(row.renewed_us) if row.renewed_us else None)


# ---------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Claim:
    run_id: int
    key: str
    attempt: int
    generation: int


@dataclass(frozen=True)
class RunRecord:
    key: str
    job: str
    due_at: datetime
    params: dict[str, Any]
    state: str
    attempts: int
    holder: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    summary: str | None


def _record(row: Any) -> RunRecord:
    return RunRecord(row.run_key, row.job, from_us(row.due_us), dict(row.params), row.state, row.attempts,
                     row.holder, from_us(row.started_us), from_us(row.finished_us) if row.finished_us else None,
                     row.error, row.summary)


def claim(db: Database, lease: Lease, *, key: str, job: str, due_us: int, params: dict[str, Any], now_us: int,
          max_attempts: int, stale_us: int) -> Claim | None:
    """Claim a run before doing its work (see the module's notes); None when it is not this process's to do."""

    def work(conn: Connection) -> Claim | None:
        generation = lease.check(conn, now_us)
        row = conn.execute(_locked(select(run_t).where(run_t.c.run_key == key), conn)).first()
        if row is None:
            inserted = conn.execute(run_t.insert(), dict(
                run_key=key, job=job, due_us=due_us, params=params, state="started", attempts=1,
                holder=lease.holder, generation=generation, started_us=now_us))
            return Claim(inserted.inserted_primary_key[0], key, 1, generation)
        if row.state == "done":
            return None
        if row.state == "failed" and row.attempts >= max_attempts:
            return None
        if row.state == "started" and row.generation >= generation and row.started_us > now_us - stale_us:
            return None  # being done now, by this leader
        if row.state == "started":
            log.warning("Run %s was left unfinished by %s (attempt %d); taking it over.", key, row.holder,
                        row.attempts)
        conn.execute(update(run_t).where(run_t.c.id == row.id).values(
            state="started", attempts=row.attempts + 1, holder=lease.holder, generation=generation,
            started_us=now_us, finished_us=None))
        return Claim(row.id, key, row.attempts + 1, generation)

    return db.write(work)


def finish(db: Database, lease: Lease, c: Claim, *, now_us: int, summary: str) -> bool:
    """Mark a claimed run done; False if another process took it over meanwhile (its work is idempotent)."""
    def work(conn: Connection) -> int:
        return conn.execute(update(run_t).where(and_(
            run_t.c.id == c.run_id, run_t.c.holder == lease.holder, run_t.c.state == "started",
            run_t.c.attempts == c.attempt)).values(state="done", finished_us=now_us, summary=summary[:2000],
                                                   error=None)).rowcount

    return bool(db.write(work))


def fail(db: Database, lease: Lease, c: Claim, *, now_us: int, error: str) -> None:
    def work(conn: Connection) -> int:
        return conn.execute(update(run_t).where(and_(
            run_t.c.id == c.run_id, run_t.c.holder == lease.holder, run_t.c.state == "started",
            run_t.c.attempts == c.attempt)).values(state="failed", finished_us=now_us,
                                                   error=error[:2000])).rowcount

    db.write(work)


def unfinished_runs(db: Database, job: str, *, now_us: int, generation: int, max_attempts: int,
                    stale_us: int) -> list[RunRecord]:
    """Runs of ``job`` to try again: failed with attempts left, or started and abandoned."""
    with db.read() as conn:
        rows = conn.execute(select(run_t).where(and_(run_t.c.job == job, or_(
            and_(run_t.c.state == "failed", run_t.c.attempts < max_attempts),
            and_(run_t.c.state == "started", or_(run_t.c.generation < generation,
                                                 run_t.c.started_us <= now_us - stale_us)))))
                            .order_by(run_t.c.due_us, run_t.c.run_key)).all()
    return [_record(r) for r in rows]


def done_keys(db: Database, job: str, since_us: int) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(select(run_t.c.run_key).where(and_(
            run_t.c.job == job, run_t.c.state == "done", run_t.c.due_us > since_us))).scalars())


def recent_runs(db: Database, limit: int = 20, job: str | None = None) -> list[RunRecord]:
    q = select(run_t).order_by(run_t.c.started_us.desc(), run_t.c.id.desc()).limit(limit)
    if job is not None:
        q = q.where(run_t.c.job == job)
    with db.read() as conn:
        return [_record(r) for r in conn.execute(q)]


def all_runs(db: Database) -> list[RunRecord]:
    with db.read() as conn:
        return [_record(r) for r in conn.execute(select(run_t).order_by(run_t.c.due_us, run_t.c.run_key))]


def run_counts(db: Database) -> dict[tuple[str, str], int]:
    with db.read() as conn:
        return {(r.job, r.state): r.n for r in conn.execute(
            select(run_t.c.job, run_t.c.state, func.count().label("n")).group_by(run_t.c.job, run_t.c.state))}


# ---------------------------------------------------------------------- watermarks
def watermarks(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {r.name: r.checked_through_us for r in conn.execute(select(job_t))}


def set_watermarks(db: Database, lease: Lease, through: dict[str, int], now_us: int) -> None:
    """Every due moment of each job up to its moment has been claimed (done, failed, or left for a retry)."""
    if not through:
        return

    def work(conn: Connection) -> None:
        lease.check(conn, now_us)
        for job, through_us in through.items():
            row = conn.execute(_locked(select(job_t).where(job_t.c.name == job), conn)).first()
            if row is None:
                conn.execute(job_t.insert(), dict(name=job, checked_through_us=through_us))
            elif row.checked_through_us < through_us:
                conn.execute(update(job_t).where(job_t.c.name == job).values(checked_through_us=through_us))

    db.write(work)


# ---------------------------------------------------------------------- notices
@dataclass(frozen=True)
class Notice:
    key: str
    kind: str
    subject: str | None
    due_on: date | None
    message: str
    details: dict[str, Any]
    created_at: datetime


def add_notice(conn: Connection, *, key: str, kind: str, subject: str | None, due_on: date | None, message: str,
               details: dict[str, Any], now_us: int) -> bool:
    """Leave a notice for people, once: a notice key already used changes nothing. True if it is new."""
    found = conn.execute(select(notice_t.c.id).where(notice_t.c.notice_key == key)).first()
    if found is not None:
        return False
    conn.execute(notice_t.insert(), dict(notice_key=key, kind=kind, subject=subject, due_on=due_on,
                                         message=message, details=details, created_us=now_us))
    return True


def notices(db: Database, kind: str | None = None, subject: str | None = None) -> list[Notice]:
    q = select(notice_t).order_by(notice_t.c.id)
    if kind is not None:
        q = q.where(notice_t.c.kind == kind)
    if subject is not None:
        q = q.where(notice_t.c.subject == subject)
    with db.read() as conn:
        return [Notice(r.notice_key, r.kind, r.subject, r.due_on, r.message, dict(r.details),
                       from_us(r.created_us)) for r in conn.execute(q)]

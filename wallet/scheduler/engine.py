"""The scheduler: one leader, each due run claimed once, missed runs caught up once.

:meth:`Scheduler.tick` is the whole of it, and runs the same way from APScheduler (``wallet scheduler``), from
cron (``wallet scheduler run-once``) and from tests with a ManualClock:

1. take or renew the lease (``store.Lease``); a process that does not lead does nothing;
2. for each job, first the runs left unfinished (failed with attempts left, or abandoned by a process that
   died), then the runs due since the job's watermark (its ``checked_through`` moment; a job that never ran
   looks back ``first_lookback``), oldest first. Each is claimed by its key before its work starts, so a run
   that is done is never done again, however often the scheduler restarts or however many are started;
3. after downtime every missed run is due at once, and runs once: a coalescing job (the hold sweep) runs once
   for all of them; others run one by one, at most ``catch_up_cap`` in a tick (a log line says how many wait),
   and the watermark stops at the last one run, so the next tick goes on from there.

The work of a run is not in the claim's transaction: a job does its own units of work, each one transaction,
with idempotency keys derived from the run key (``JobContext.key``); claiming, doing and marking done are
separate steps, and a crash between any two is safe because the retry finds the work already done.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy.exc import StatementError

from ledger.clock import Clock, from_us, to_us
from wallet.calendar import ENGLAND_AND_WALES, WorkingDays
from wallet.domain.unit_of_work import UnitOfWork
from wallet.scheduler import store
from wallet.scheduler.jobs import Job, JobContext, Occurrence, default_jobs
from wallet.scheduler.store import Lease, LeaseLost, new_holder_id

log = logging.getLogger("wallet.scheduler")

DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_STALE = timedelta(hours=1)
DEFAULT_CATCH_UP_CAP = 100


@dataclass
class TickReport:
    at: datetime
    leader: bool
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)
    """Per job: missed runs left for the next tick by the catch-up cap."""
    lost_lead: bool = False


def describe_error(exc: BaseException) -> str:
    """An error in plain words without the SQL parameters a database error carries (they may hold personal data)."""
    if isinstance(exc, StatementError) and exc.orig is not None:
        return f"{type(exc.orig).__name__}: {exc.orig}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


class Scheduler:
    """Runs the jobs for one process. ``tick()`` once, or ``serve()`` with APScheduler."""

    def __init__(self, uow: UnitOfWork, *, payroll: Any = None, jobs: Sequence[Job] | None = None,
                 holder: str | None = None, lease_ttl: timedelta = DEFAULT_LEASE,
                 stale_after: timedelta = DEFAULT_STALE, catch_up_cap: int = DEFAULT_CATCH_UP_CAP,
                 calendar: WorkingDays = ENGLAND_AND_WALES):
        if catch_up_cap < 1:
            raise ValueError("the catch-up cap must be at least one run")
        self.uow = uow
        self.db = uow.db
        self.clock: Clock = uow.clock
        self.payroll = payroll
        self.jobs = list(jobs if jobs is not None else default_jobs())
        names = [j.name for j in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError("two jobs have the same name")
        self.lease = Lease(self.db, holder or new_holder_id(), lease_ttl)
        self.stale_us = stale_after // timedelta(microseconds=1)
        self.catch_up_cap = catch_up_cap
        self.calendar = calendar
        self._tick_lock = threading.Lock()

    @property
    def holder(self) -> str:
        return self.lease.holder

    def _now_us(self) -> int:
        return to_us(self.clock.now())

    # ------------------------------------------------------------------ one tick
    def tick(self, now: datetime | None = None) -> TickReport:
        """Run every due job once, if this process leads."""
        with self._tick_lock:
            now = now or self.clock.now()
            report = TickReport(now, leader=self.lease.acquire(now))
            if not report.leader:
                log.debug("Scheduler %s is standing by: another process leads.", self.holder)
                return report
            marks = store.watermarks(self.db)
            advanced: dict[str, int] = {}
            try:
                for job in self.jobs:
                    through = self._run_job(job, now, marks.get(job.name), report)
                    if through is not None:
                        advanced[job.name] = through
                # one write for all the watermarks: a crash before it only means the next tick looks again,
                # and finds the runs already done by their keys
                store.set_watermarks(self.db, self.lease, advanced, self._now_us())
            except LeaseLost:
                report.lost_lead = True
                log.warning("Scheduler %s lost the lead during a tick; the rest is left to the new leader.",
                            self.holder)
            if report.done or report.failed:
                log.info("Scheduler tick at %s: %d runs done, %d failed.", now.isoformat(), len(report.done),
                         len(report.failed))
            return report

    def _context(self, now: datetime) -> JobContext:
        return JobContext(self.uow, self.clock, self.payroll, self.calendar, now)

    def _run_job(self, job: Job, now: datetime, mark_us: int | None, report: TickReport) -> int | None:
        """Run the job's unfinished and due runs; returns its new watermark (None: leave it)."""
        handled: set[str] = set()
        generation = self.lease.generation or 0
        for rec in store.unfinished_runs(self.db, job.name, now_us=self._now_us(), generation=generation,
                                         max_attempts=job.max_attempts, stale_us=self.stale_us):
            handled.add(rec.key)
            self._execute(job, Occurrence(job.name, rec.key, rec.due_at, rec.params), now, report)

        after = from_us(mark_us) if mark_us is not None else now - job.first_lookback
        if after >= now:
            return None
        try:
            due = sorted((o for o in job.due(self._context(now), after, now) if after < o.due_at <= now),
                         key=lambda o: (o.due_at, o.key))
        except LeaseLost:
            raise
        except Exception as exc:  # a job that cannot even say what is due: log it, try again next tick
            log.error("Could not work out the due runs of %s: %s", job.name, describe_error(exc))
            report.failed.append(f"{job.name}:due")
            return None
        through = now
        if job.coalesce and len(due) > 1:
            log.info("%s missed %d runs while the scheduler was stopped; running it once for them all.",
                     job.name, len(due))
            due = due[-1:]
        elif job.coalesce and due and due[0].params.get("missed_slots"):
            log.info("%s missed %d runs while the scheduler was stopped; running it once for them all.",
                     job.name, due[0].params["missed_slots"] + 1)
        if len(due) > self.catch_up_cap:
            last = due[self.catch_up_cap - 1].due_at
            kept = [o for o in due if o.due_at <= last]  # never split runs due at the same moment
            report.waiting[job.name] = len(due) - len(kept)
            log.warning("%s has %d missed runs to catch up; running the oldest %d now and the rest in the next "
                        "ticks.", job.name, len(due), len(kept))
            due, through = kept, last
        done = store.done_keys(self.db, job.name, to_us(after))
        for occ in due:
            if occ.key in done or occ.key in handled:
                continue
            handled.add(occ.key)
            self._execute(job, occ, now, report)
        return to_us(through)

    def _execute(self, job: Job, occ: Occurrence, now: datetime, report: TickReport) -> None:
        claimed = store.claim(self.db, self.lease, key=occ.key, job=job.name, due_us=to_us(occ.due_at),
                              params=occ.params, now_us=self._now_us(), max_attempts=job.max_attempts,
                              stale_us=self.stale_us)
        if claimed is None:
            return
        ctx = self._context(now)
        ctx.run_key, ctx.attempt = occ.key, claimed.attempt
        try:
            summary = job.run(ctx, occ)
        except LeaseLost:
            raise
        except Exception as exc:
            error = describe_error(exc)
            store.fail(self.db, self.lease, claimed, now_us=self._now_us(), error=error)
            report.failed.append(occ.key)
            left = job.max_attempts - claimed.attempt
            log.error("Run %s failed (attempt %d of %d%s): %s", occ.key, claimed.attempt, job.max_attempts,
                      "; it will be tried again" if left > 0 else "; no more tries: a person must look at it",
                      error)
            return
        if store.finish(self.db, self.lease, claimed, now_us=self._now_us(), summary=summary):
            report.done.append(occ.key)
            log.info("Run %s done: %s", occ.key, summary)
        else:
            log.warning("Run %s finished here but another scheduler had taken it over; its work is idempotent.",
                        occ.key)

    # ------------------------------------------------------------------ stopping and serving
    def renew(self) -> None:
        """Keep the lease while leading (called often, apart from the ticks, so a long job keeps the lead)."""
        if self.lease.generation is not None:
            self.lease.acquire(self.clock.now())

    def stop(self) -> None:
        self.lease.release()

    def serve(self, tick_every: timedelta = timedelta(seconds=60), *, blocking: bool = True) -> Any:
        """Run with APScheduler: a tick every ``tick_every`` and a lease renewal every third of the lease.

        Blocking (the ``wallet scheduler`` command) returns when stopped (Ctrl-C or SIGTERM) and gives the
        lease up; non-blocking returns the started BackgroundScheduler (call ``shutdown()`` then ``stop()``).
        """
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.schedulers.blocking import BlockingScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": tick_every // timedelta(seconds=1)}
        aps = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=timezone.utc, job_defaults=defaults)
        renew_every = max(1, int(self.lease.ttl_us // 3_000_000))
        aps.add_job(self._safe_tick, IntervalTrigger(seconds=tick_every // timedelta(seconds=1)), id="tick",
                    name="scheduler tick", next_run_time=datetime.now(timezone.utc))
        aps.add_job(self._safe_renew, IntervalTrigger(seconds=renew_every), id="lease", name="lease renewal")
        log.info("Scheduler %s started: a tick every %s, the lease renewed every %d seconds.", self.holder,
                 tick_every, renew_every)
        if not blocking:
            aps.start()
            return aps
        import signal

        def on_term(_signum: int, _frame: Any) -> None:
            aps.shutdown(wait=False)

        previous = signal.signal(signal.SIGTERM, on_term)
        try:
            aps.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stop()
            log.info("Scheduler %s stopped.", self.holder)
        return None

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception as exc:  # the database is down, say: log it and try at the next tick
            log.error("Scheduler tick failed: %s", describe_error(exc))

    def _safe_renew(self) -> None:
        try:
            self.renew()
        except Exception as exc:
            log.error("Could not renew the scheduler's lease: %s", describe_error(exc))

"""The scheduler: the wallet's timed work (funding checks, hold expiry, alerts, payroll and HMRC,
statements, data retention), run by one leader process at a time.

* ``store``: the lease, the run records (claimed by unique key, so nothing is done twice), watermarks, notices;
* ``jobs``: what is due when, and the work of each run, as plain functions over a ``JobContext``;
* ``engine``: ``Scheduler.tick()`` (one pass: lead, retry, catch up, run) and ``Scheduler.serve()``
  (APScheduler, for the ``wallet scheduler`` command).

The payroll jobs (``payroll_jobs``) calculate pay runs before pay day for a person to approve, post finalised
runs, and send the FPS and EPS when HMRC gateway credentials are configured (each once: ``submissions``);
paying the PAs and HMRC stays a person's decision.
"""
from wallet.scheduler.engine import Scheduler, TickReport
from wallet.scheduler.jobs import Job, JobContext, Occurrence, default_jobs
from wallet.scheduler.store import Lease, LeaseLost, lease_state, notices, recent_runs

__all__ = ["Scheduler", "TickReport", "Job", "JobContext", "Occurrence", "default_jobs", "Lease", "LeaseLost",
           "lease_state", "notices", "recent_runs"]

"""`wallet scheduler ...` commands: the leader process, one pass for cron, and what it has done."""
from __future__ import annotations

import logging
from datetime import timedelta

import click


def _open(ctx: click.Context, now_text: str | None = None):
    """The wallet's database and a unit of work on it (with a clock standing still at ``now_text``, if given),
    and the payroll service if the encryption keys are configured (else no payroll reminders)."""
    from ledger.clock import ManualClock
    from wallet.config import database_url, encryption_keys
    from wallet.database import open_database
    from wallet.domain.unit_of_work import UnitOfWork
    from wallet.timeparse import start_of

    root = ctx.find_root()
    database = open_database((root.obj or {}).get("database_url") or database_url())
    root.call_on_close(database.dispose)
    clock = None
    if now_text is not None:
        try:
            clock = ManualClock(start_of(now_text))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from exc
    uow = UnitOfWork(database, clock=clock)
    payroll = None
    try:
        from payroll.sealed import FieldCipher
        from payroll.service import PayrollService

        payroll = PayrollService(database.engine, FieldCipher(encryption_keys()), clock=uow.clock)
    except Exception as exc:  # no keys: payroll reminders cannot be worked out
        click.echo(f"Payroll reminders are off: {exc}", err=True)
    return database, uow, payroll


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    if not verbose:  # APScheduler's own line per job run says nothing the scheduler's lines do not
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


@click.group(invoke_without_command=True,
             help="Run the scheduler: one leader process runs the timed jobs; others stand by.")
@click.option("--tick-seconds", default=60, show_default=True, help="How often to look for due work.")
@click.option("--lease-seconds", default=60, show_default=True, help="How long the lead lasts without renewal.")
@click.option("--verbose", is_flag=True, help="Log more detail.")
@click.pass_context
def scheduler(ctx: click.Context, tick_seconds: int, lease_seconds: int, verbose: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from wallet.scheduler import Scheduler

    _logging(verbose)
    _, uow, payroll = _open(ctx)
    s = Scheduler(uow, payroll=payroll, lease_ttl=timedelta(seconds=lease_seconds))
    click.echo(f"Scheduler {s.holder} starting (Ctrl-C to stop).")
    s.serve(timedelta(seconds=tick_seconds))


@scheduler.command("run-once", help="Run every due job once (for cron and tests), then give up the lead.")
@click.option("--now", "now_text", default=None, help="The moment to run as (ISO date or time; default: now).")
@click.option("--verbose", is_flag=True, help="Log more detail.")
@click.pass_context
def run_once(ctx: click.Context, now_text: str | None, verbose: bool) -> None:
    from wallet.scheduler import Scheduler

    _logging(verbose)
    _, uow, payroll = _open(ctx, now_text)
    s = Scheduler(uow, payroll=payroll)
    try:
        report = s.tick()
    finally:
        s.stop()
    if not report.leader:
        click.echo("Another scheduler leads now; nothing was run.")
        ctx.exit(3)
    click.echo(f"Ran at {report.at.isoformat()}: {len(report.done)} runs done, {len(report.failed)} failed.")
    for key in report.done:
        click.echo(f"  done    {key}")
    for key in report.failed:
        click.echo(f"  FAILED  {key}")
    for job, n in report.waiting.items():
        click.echo(f"  {n} missed runs of {job} wait for the next run")
    if report.failed:
        ctx.exit(1)


@scheduler.command("status", help="Show who leads, and the last runs.")
@click.option("--limit", default=20, show_default=True, help="How many runs to show.")
@click.pass_context
def status(ctx: click.Context, limit: int) -> None:
    from wallet.scheduler import lease_state, recent_runs

    database, _, _ = _open(ctx)
    lease = lease_state(database)
    if lease.holder is None:
        click.echo("No scheduler leads now.")
    else:
        click.echo(f"Leader: {lease.holder} (lease {lease.generation}, until {lease.expires_at.isoformat()})")
    runs = recent_runs(database, limit)
    if not runs:
        click.echo("No runs yet.")
    for r in runs:
        tail = f": {r.error}" if r.state == "failed" and r.error else ""
        click.echo(f"{r.started_at:%Y-%m-%d %H:%M} {r.state:<7} x{r.attempts} {r.key}{tail}")

"""The scheduler's jobs: plain functions over a :class:`JobContext`, testable without APScheduler.

A job says which runs are due between two moments (each an :class:`Occurrence` with a unique key such as
``funding:<stream>:<date>``) and does one run. Daily work happens at 06:00 UTC; dates where money moves (pay
days, HMRC due dates, reminders before them) are England and Wales working days (``wallet.calendar``).

What the jobs do, and what they never do:

* ``expire_holds`` (every 15 minutes, coalesced: after downtime it runs once, for the latest slot): releases
  lapsed holds (``Ledger.expire_holds``).
* ``funding_due`` (per funding stream, the morning after each expected payment's grace days end): there is no
  bank feed here, so it invents no money; it checks the wallet's alerts as of that day, which raises the
  missed-funding alert when the payment had not arrived.
* ``alert_checks`` (daily, per wallet): ``check_alerts`` (low balance, surplus, missed funding, overspend,
  insurance renewal), each alert raised once for its cause.
* the payroll jobs (``wallet.scheduler.payroll_jobs``): ``pay_run_calculation`` (five working days before
  each employer's pay day: the run created and calculated, for a person to approve), ``payroll_posting``
  (finalised runs into the books), ``fps_submission`` and ``fps_reminder`` (an FPS must reach HMRC on or
  before pay day), ``eps_submission`` (three working days before the 19th) and ``hmrc_payment_reminder``
  (three working days before the 22nd, or the last working day before it, with the amount from the P32).
  Submissions go to HMRC only when the gateway credentials are configured; paying stays a person's decision.
* ``monthly_statement`` (the 1st, per wallet, for the month before): a notice with the month's figures.
* ``monthly_report`` (the 1st, per wallet, for the month before): the monthly report kept as sent and a notice
  for the holder and each appointee (``wallet.reports``).
* ``data_retention`` (the 1st): applies the retention policy (``wallet.retention``, ``docs/retention.md``):
  deletes personal data over six years old and erases leavers' sealed details six years after their tax year,
  in bounded batches; financial records are kept and only counted. The run's summary and a notice say what
  went, with the cutoffs.

Pay days: payroll keeps no pay-day calendar, so an employer's pay days are projected from its regular pay runs:
the first run of its current frequency anchors the series (every 7, 14 or 28 days, or the same day each month);
a pay day that is not a working day moves to the working day before it.
"""
from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import and_, select

from ledger.clock import Clock, from_us, to_us
from wallet import retention
from wallet.calendar import ENGLAND_AND_WALES, WorkingDays
from wallet.domain import alerts as alerts_mod
from wallet.domain.schedules import Period, Schedule, add_months, funding_dates, start_of
from wallet.domain.tables import alert_t, funding_stream_t, wallet_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import load_wallet, statement_lines
from wallet.money import format_pence
from wallet.scheduler.store import add_notice

log = logging.getLogger("wallet.scheduler")

RUN_AT = time(6, 0, tzinfo=timezone.utc)
"""The hour of the day when daily and dated work is due."""
HOLD_SWEEP_EVERY = timedelta(minutes=15)
PAY_RUN_REMINDER_WORKING_DAYS = 5
HMRC_REMINDER_WORKING_DAYS = 3
_PAY_STEP_DAYS = {"weekly": 7, "fortnightly": 14, "four_weekly": 28}


@dataclass(frozen=True)
class Occurrence:
    """One due run of a job: its unique key, when it fell due, and what it is about."""

    job: str
    key: str
    due_at: datetime
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobContext:
    """What a job run sees. ``run_key`` names the run; the work's idempotency keys derive from it."""

    uow: UnitOfWork
    clock: Clock
    payroll: Any = None
    """A ``payroll.service.PayrollService`` on the same database, or None (no payroll reminders)."""
    calendar: WorkingDays = ENGLAND_AND_WALES
    now: datetime | None = None
    run_key: str = ""
    attempt: int = 1

    def key(self, *parts: str) -> str:
        """An idempotency key for work done by this run: the same on every retry of the run."""
        return ":".join((self.run_key, *parts)) if parts else self.run_key

    def moment(self) -> datetime:
        return self.now or self.clock.now()

    def notice(self, *, kind: str, subject: str | None, due_on: date | None, message: str,
               details: dict[str, Any] | None = None, key: str | None = None) -> bool:
        """Leave a notice for people, once per key (by default the run's key). True if it is new."""
        now_us = to_us(self.clock.now())
        return self.uow.db.write(lambda conn: add_notice(
            conn, key=key or self.run_key, kind=kind, subject=subject, due_on=due_on, message=message,
            details=details or {}, now_us=now_us))


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    due: Callable[[JobContext, datetime, datetime], Iterable[Occurrence]]
    """The runs due after the first moment, up to and including the second."""
    run: Callable[[JobContext, Occurrence], str]
    """Does one run and says in plain words what it did."""
    coalesce: bool = False
    """Missed runs after downtime collapse into one (the latest): for sweeps where only the present matters."""
    first_lookback: timedelta = timedelta(days=1)
    """How far back a job that has never run looks for due runs."""
    max_attempts: int = 5


# ---------------------------------------------------------------------- helpers
def at(day: date) -> datetime:
    return datetime.combine(day, RUN_AT)


def _days(after: datetime, upto: datetime) -> Iterator[date]:
    """Each day whose run moment falls after ``after`` and up to ``upto``."""
    day = after.astimezone(timezone.utc).date()
    while at(day) <= after:
        day += timedelta(days=1)
    while at(day) <= upto:
        yield day
        day += timedelta(days=1)


def _months(after: datetime, upto: datetime) -> Iterator[date]:
    """The 1st of each month whose run moment falls after ``after`` and up to ``upto``."""
    return (d for d in _days(after, upto) if d.day == 1)


def _long(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _wallet_rows(tx: Tx) -> list[Any]:
    return list(tx.conn.execute(select(wallet_t).order_by(wallet_t.c.id)))


# ---------------------------------------------------------------------- hold expiry
def _hold_slots(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
    step = HOLD_SWEEP_EVERY // timedelta(microseconds=1)
    first, last = to_us(after) // step + 1, to_us(upto) // step
    if last < first:
        return []
    # coalesced: only the latest slot is worth running, but say how many fell due
    moment = from_us(last * step)
    return [Occurrence("expire_holds", f"expire_holds:{moment.isoformat()}", moment,
                       {"missed_slots": last - first})]


def _expire_holds(ctx: JobContext, occ: Occurrence) -> str:
    n = ctx.uow.ledger.expire_holds(now=ctx.clock.now())
    return f"released {n} lapsed hold{'s' if n != 1 else ''}"


# ---------------------------------------------------------------------- funding
def _streams(ctx: JobContext) -> list[Any]:
    def work(tx: Tx) -> list[Any]:
        return list(tx.conn.execute(
            select(funding_stream_t, wallet_t.c.uuid.label("wallet_uuid"))
            .join(wallet_t, wallet_t.c.id == funding_stream_t.c.wallet_id).order_by(funding_stream_t.c.id)))

    return ctx.uow.read(work)


def _funding_due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
    out = []
    for s in _streams(ctx):
        if s.amount <= 0:
            continue
        for expected in funding_dates(Schedule(s.schedule), s.starts, upto.date(), s.ends):
            check_on = expected + timedelta(days=s.grace_days + 1)
            if after < at(check_on) <= upto:
                out.append(Occurrence("funding_due", f"funding:{s.uuid}:{expected.isoformat()}", at(check_on), {
                    "wallet": s.wallet_uuid, "stream": s.uuid, "code": s.code, "label": s.label,
                    "amount": s.amount, "expected_on": expected.isoformat(), "check_on": check_on.isoformat()}))
    return out


def _check_funding(ctx: JobContext, occ: Occurrence) -> str:
    p = occ.params
    alerts_mod.check_alerts(ctx.uow, p["wallet"], actor=SYSTEM, today=date.fromisoformat(p["check_on"]))
    cause = f"missed_funding:{p['code']}:{p['expected_on']}"

    def missed(tx: Tx) -> bool:
        row = tx.wallet_row(p["wallet"])
        return tx.conn.execute(select(alert_t.c.id).where(and_(
            alert_t.c.wallet_id == row.id, alert_t.c.cause == cause))).first() is not None

    expected = date.fromisoformat(p["expected_on"])
    if ctx.uow.read(missed):
        what = (f"{p['label']} was due to pay {format_pence(p['amount'])} on {_long(expected)} and it had not "
                "arrived: a missed-funding alert is raised")
        log.warning("%s.", what)
        return what
    return f"{p['label']}'s {format_pence(p['amount'])} due on {_long(expected)} had arrived"


# ---------------------------------------------------------------------- alert checks
def _daily(job: str) -> Callable[[JobContext, datetime, datetime], list[Occurrence]]:
    def due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
        return [Occurrence(job, f"{job}:{d.isoformat()}", at(d), {"day": d.isoformat()}) for d in _days(after, upto)]

    return due


def _alert_checks(ctx: JobContext, occ: Occurrence) -> str:
    day = date.fromisoformat(occ.params["day"])
    counts: dict[str, int] = {}
    wallets = ctx.uow.read(lambda tx: [r.uuid for r in _wallet_rows(tx)])
    for wallet_id in wallets:
        for a in alerts_mod.check_alerts(ctx.uow, wallet_id, actor=SYSTEM, today=day):
            counts[a.kind.value] = counts.get(a.kind.value, 0) + 1
            log.info("Alert for wallet %s: %s", wallet_id, a.message)
    raised = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items())) or "no new alerts"
    return f"checked {len(wallets)} wallet{'s' if len(wallets) != 1 else ''} as of {_long(day)}: {raised}"


# ---------------------------------------------------------------------- payroll reminders
@dataclass(frozen=True)
class PayDay:
    employer_id: str
    employer_name: str
    frequency: str
    nominal: date
    pay_day: date


def pay_days(runs: Iterable[Any], upto: date, calendar: WorkingDays = ENGLAND_AND_WALES,
             employer_id: str = "", employer_name: str = "") -> list[PayDay]:
    """An employer's pay days up to ``upto``, projected from its regular runs (see the module's notes)."""
    regular = [r for r in runs if getattr(r, "corrects", None) is None]
    if not regular:
        return []
    frequency = max(regular, key=lambda r: (r.payment_date, r.period_end)).frequency
    anchor = min(r.payment_date for r in regular if r.frequency == frequency)
    out, n = [], 0
    while True:
        if frequency in _PAY_STEP_DAYS:
            nominal = anchor + timedelta(days=_PAY_STEP_DAYS[frequency] * n)
        else:
            nominal = add_months(anchor, n, anchor_day=anchor.day)
        if nominal > upto:
            return out
        day = nominal if calendar.is_working_day(nominal) else calendar.previous_working_day(nominal)
        out.append(PayDay(employer_id, employer_name, frequency, nominal, day))
        n += 1


_TICK_READS: "weakref.WeakKeyDictionary[Any, tuple[datetime, dict[str, Any]]]" = weakref.WeakKeyDictionary()


def _tick_reads(ctx: JobContext) -> dict[str, Any]:
    """The payroll as the due-run functions of one tick see it, read once a tick rather than once a job (a run
    that changes pay runs calls ``forget_tick_reads``); the work of a run always reads afresh."""
    now = ctx.moment()
    held = _TICK_READS.get(ctx.payroll)
    if held is None or held[0] != now:
        held = (now, {})
        _TICK_READS[ctx.payroll] = held
    return held[1]


def forget_tick_reads(ctx: JobContext) -> None:
    if ctx.payroll is not None:
        _TICK_READS.pop(ctx.payroll, None)


def _employers(ctx: JobContext) -> list[Any]:
    if ctx.payroll is None:
        return []
    reads = _tick_reads(ctx)
    if "employers" not in reads:
        reads["employers"] = list(ctx.payroll.list_employers())
    return reads["employers"]


def employer_runs(ctx: JobContext, employer_id: str) -> list[Any]:
    """An employer's pay runs (without payslips), for working out what is due this tick."""
    runs = _tick_reads(ctx).setdefault("runs", {})
    if employer_id not in runs:
        runs[employer_id] = ctx.payroll.list_runs(employer_id)
    return runs[employer_id]


def _employer_pay_days(ctx: JobContext, upto: date) -> list[tuple[PayDay, list[Any]]]:
    out = []
    for e in _employers(ctx):
        runs = employer_runs(ctx, e.id)
        out.extend((p, runs) for p in pay_days(runs, upto + timedelta(days=60), ctx.calendar, e.id, e.name))
    return out


def _before_pay_day(job: str, working_days: int) -> Callable[[JobContext, datetime, datetime], list[Occurrence]]:
    def due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
        out = []
        for p, _ in _employer_pay_days(ctx, upto.date()):
            remind_on = ctx.calendar.add_working_days(p.pay_day, -working_days)
            if after < at(remind_on) <= upto:
                out.append(Occurrence(job, f"{job}:{p.employer_id}:{p.pay_day.isoformat()}", at(remind_on), {
                    "employer": p.employer_id, "employer_name": p.employer_name, "frequency": p.frequency,
                    "pay_day": p.pay_day.isoformat(), "nominal": p.nominal.isoformat()}))
        return out

    return due


def _run_for(ctx: JobContext, employer_id: str, pay_day: date, nominal: date) -> Any:
    for r in ctx.payroll.list_runs(employer_id) if ctx.payroll is not None else []:
        if getattr(r, "corrects", None) is None and r.payment_date in (pay_day, nominal):
            return r
    return None


def _tax_month_ends(ctx: JobContext, upto: date) -> Iterator[tuple[Any, date]]:
    """(employer, the 5th that ends a tax month) from the first tax month each employer paid in."""
    for e in _employers(ctx):
        runs = [r for r in employer_runs(ctx, e.id) if getattr(r, "corrects", None) is None]
        if not runs:
            continue
        first = min(r.payment_date for r in runs)
        end = date(first.year, first.month, 5)
        if first.day > 5:
            end = add_months(end, 1)
        while end <= upto:
            yield e, end
            end = add_months(end, 1)


def _tax_month_words(end: date) -> tuple[int, str]:
    start = add_months(end, -1, anchor_day=6)
    return (end.month - 5) % 12 + 1, f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"


def _hmrc_due(ctx: JobContext, end: date, kind: str) -> date:
    if kind == "eps":
        return date(end.year, end.month, 19)
    due = date(end.year, end.month, 22)
    return due if ctx.calendar.is_working_day(due) else ctx.calendar.previous_working_day(due)


def _monthly_hmrc(job: str, kind: str) -> Callable[[JobContext, datetime, datetime], list[Occurrence]]:
    def due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
        out = []
        for e, end in _tax_month_ends(ctx, upto.date() + timedelta(days=31)):
            due_on = _hmrc_due(ctx, end, kind)
            remind_on = ctx.calendar.add_working_days(due_on, -HMRC_REMINDER_WORKING_DAYS)
            if after < at(remind_on) <= upto:
                number, words = _tax_month_words(end)
                out.append(Occurrence(job, f"{job}:{e.id}:{end:%Y-%m}", at(remind_on), {
                    "employer": e.id, "employer_name": e.name, "due_on": due_on.isoformat(),
                    "tax_month": number, "tax_month_words": words}))
        return out

    return due


# ---------------------------------------------------------------------- statements
def _statements_due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
    months = list(_months(after, upto))
    if not months:
        return []
    wallets = ctx.uow.read(lambda tx: [(r.uuid, r.created_us) for r in _wallet_rows(tx)])
    out = []
    for first in months:
        month_start = add_months(first, -1)
        for wallet_id, created_us in wallets:
            if created_us < to_us(start_of(first)):
                out.append(Occurrence("monthly_statement", f"statement:{wallet_id}:{month_start:%Y-%m}", at(first),
                                      {"wallet": wallet_id, "month": month_start.isoformat()}))
    return out


def _monthly_statement(ctx: JobContext, occ: Occurrence) -> str:
    start = date.fromisoformat(occ.params["month"])
    period = Period(start, add_months(start, 1))

    def work(tx: Tx) -> tuple[str, int, int, int]:
        wallet = load_wallet(tx, tx.wallet_row(occ.params["wallet"]))
        money_in = money_out = closing = 0
        for s in wallet.streams:
            code = wallet.chart.cash(s.code)
            for line in statement_lines(tx.ledger, code, period.opens_at, start_of(period.end)):
                if line.amount > 0:
                    money_in += line.amount
                else:
                    money_out -= line.amount
            closing += tx.ledger.balance_as_of(code, period.closes_at)
        return wallet.name, money_in, money_out, closing

    name, money_in, money_out, closing = ctx.uow.read(work)
    message = (f"Statement for {name}, {start:%B %Y}: {format_pence(money_in)} came in, {format_pence(money_out)} "
               f"went out, and {format_pence(closing)} was held at the end of the month.")
    ctx.notice(kind="monthly_statement", subject=occ.params["wallet"], due_on=period.end, message=message,
               details={"month": start.isoformat(), "in": money_in, "out": money_out, "closing": closing})
    return message


# ---------------------------------------------------------------------- data retention
def _data_retention(ctx: JobContext, occ: Occurrence) -> str:
    day = date.fromisoformat(occ.params["day"])
    result = retention.apply(ctx.uow.db, day, now_us=to_us(ctx.clock.now()))
    message = retention.summary(result)
    ctx.notice(kind="data_retention", subject=None, due_on=day, message=message, details=result.details())
    return message


# ---------------------------------------------------------------------- the list
def default_jobs() -> list[Job]:
    return [
        Job("expire_holds", "Release payment holds that have lapsed (every 15 minutes).", _hold_slots,
            _expire_holds, coalesce=True, first_lookback=HOLD_SWEEP_EVERY),
        Job("funding_due", "Check each expected funding payment once its grace days are over.", _funding_due,
            _check_funding),
        Job("alert_checks", "Check every wallet for low balance, surplus and other alerts (daily).",
            _daily("alert_checks"), _alert_checks),
        *_payroll_jobs(),
        Job("monthly_statement", "Prepare each wallet's statement for the month before (on the 1st).",
            _statements_due, _monthly_statement),
        Job("data_retention", "Apply the retention policy (on the 1st): remove personal data past six years.",
            lambda ctx, after, upto: [Occurrence("data_retention", f"data_retention:{d:%Y-%m}", at(d),
                                                 {"day": d.isoformat()}) for d in _months(after, upto)],
            _data_retention),
        _stripe_reconcile_job(),
        _monthly_report_job(),
    ]


def _payroll_jobs() -> list[Job]:
    from wallet.scheduler.payroll_jobs import payroll_jobs   # imported late: it builds on this module

    return payroll_jobs()


def _monthly_report_job() -> Job:
    from wallet.reports.jobs import monthly_report_job   # imported late: the reports import this module

    return monthly_report_job()


def _stripe_reconcile_job() -> Job:
    from wallet.stripe_gateway.reconcile import reconcile_job   # due only where Stripe is configured

    return reconcile_job()

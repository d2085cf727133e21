"""The scheduler's payroll work: pay runs calculated before pay day, finalised runs posted to the books, the
FPS and EPS sent to HMRC, and the HMRC payment due by the 22nd.

What is automatic, and what stays with a person:

* ``pay_run_calculation`` (five working days before each projected pay day): creates the pay run for the
  period if there is none (one per employer and period: the payroll refuses a second, and a retry finds the
  first) and calculates it from the approved timesheets and the contracts. It stops there: a person reviews,
  approves and finalises the run (two people, as the payroll requires). A notice says so, naming the
  timesheets in the period still waiting for a decision. A run left a draft by a crash between creating and
  calculating is calculated on the retry. When an earlier run is still unfinished the next one is not
  created (the payroll works one run at a time from the year-to-date figures of the one before): a notice
  says which run to finish.
* ``payroll_posting`` (each tick, for runs finalised since): posts each finalised run into its wallet's books
  (``wallet.domain.payroll_posting``, idempotent by run id). The wallet is the one whose payroll employer is
  the run's employer, or the employer's owner. Paying the PAs and HMRC stays a person's decision.
* ``fps_submission`` (each tick, for runs finalised since, up to pay day): builds the run's FPS, checks it
  against HMRC's schema and rules as ``wallet hmrc fps`` does, and, when HMRC gateway credentials are
  configured (``wallet.config.hmrc_gateway``), submits it. Every submission is recorded in the database
  before it is sent, under the purpose ``fps:<run>`` which can be recorded once only, so an FPS is never sent
  twice. A submission left pending (a crash between sending and HMRC's answer) is finished by polling on the
  retry, never sent again; one recorded but never acknowledged may or may not have reached HMRC, so a
  person checks. A run finalised after its pay day needs a late reason, which a person gives.
* ``fps_reminder`` (the working day before pay day): a notice only when the FPS has not been accepted.
* ``eps_submission`` (three working days before the 19th): an EPS is due for a tax month in which no one was
  paid, and once a tax year to claim Employment Allowance (statutory pay recovery does not arise: the payroll
  pays SSP only, which is not recoverable). It is built, checked and sent like an FPS (purpose
  ``eps:<employer>:<tax year>:<month>``), or left to a person in a notice when no credentials are configured.
* ``hmrc_payment_reminder`` (three working days before the 22nd, moved to the working day before when the
  22nd is not one): a notice with the amount due for the tax month from the P32 of the finalised runs. A
  person makes the payment.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import select

from hmrc_export.gateway import GatewayClient, GatewayConfig, GatewayError, State, Submission
from hmrc_export.taxyear import TaxYear, tax_month
from ledger.clock import to_us
from payroll.model import PayRun, PayRunStatus, TimesheetStatus
from wallet import config
from wallet.domain.schedules import add_months
from wallet.domain.tables import pay_run_posting_t, wallet_t
from wallet.domain.unit_of_work import SYSTEM
from wallet.money import format_pence
from wallet.scheduler.jobs import (PAY_RUN_REMINDER_WORKING_DAYS, Job, JobContext, Occurrence, _before_pay_day,
                                   _employers, _long, _monthly_hmrc, _run_for, employer_runs, forget_tick_reads)
from wallet.scheduler.submissions import DatabaseSubmissionStore, PurposeTaken
from wallet.scheduler.tables import run_t

log = logging.getLogger("wallet.scheduler")

ACTOR = "scheduler"
"""Who the payroll records as creating and calculating the runs the scheduler makes."""
_UNFINISHED = (PayRunStatus.DRAFT, PayRunStatus.CALCULATED, PayRunStatus.REVIEWED, PayRunStatus.APPROVED)
_STEP_DAYS = {"weekly": 7, "fortnightly": 14, "four_weekly": 28}


class StillWaiting(Exception):
    """HMRC has acknowledged a submission but not answered yet: the run is tried again, and polls."""


# ---------------------------------------------------------------------- settings
def gateway_settings() -> GatewayConfig | None:
    """The HMRC gateway to submit to, read each time (so a restart is not needed to add credentials)."""
    return config.hmrc_gateway()


def _client(ctx: JobContext, gateway: GatewayConfig, purpose: str, employer_id: str,
            sleep: Callable[..., None] | None) -> tuple[GatewayClient, DatabaseSubmissionStore]:
    store = DatabaseSubmissionStore(ctx.uow.db, lambda: to_us(ctx.clock.now())).for_purpose(purpose, employer_id)
    if sleep is None:
        return GatewayClient(gateway, store), store
    return GatewayClient(gateway, store, sleep=sleep), store


def _regular(runs: Iterable[PayRun]) -> list[PayRun]:
    return [r for r in runs if r.corrects is None]


def _today(ctx: JobContext) -> date:
    return ctx.clock.now().date()


def _recorded_run_keys(ctx: JobContext, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    with ctx.uow.db.read() as conn:
        return set(conn.execute(select(run_t.c.run_key).where(run_t.c.run_key.in_(keys))).scalars())


# ---------------------------------------------------------------------- 1. calculating pay runs
def period_for(runs: Iterable[PayRun], nominal: date) -> tuple[date, date]:
    """The pay period paid on the projected (nominal) pay day: the first regular run of the current frequency
    moved on by whole pay periods (``jobs.pay_days`` projects the pay days from the same run)."""
    regular = _regular(runs)
    frequency = max(regular, key=lambda r: (r.payment_date, r.period_end)).frequency
    anchor = min((r for r in regular if r.frequency == frequency), key=lambda r: r.payment_date)
    if frequency in _STEP_DAYS:
        shift = timedelta(days=_STEP_DAYS[frequency] * ((nominal - anchor.payment_date).days // _STEP_DAYS[frequency]))
        return anchor.period_start + shift, anchor.period_end + shift
    months = (nominal.year - anchor.payment_date.year) * 12 + nominal.month - anchor.payment_date.month
    start = add_months(anchor.period_start, months, anchor_day=anchor.period_start.day)
    return start, add_months(anchor.period_end, months, anchor_day=anchor.period_end.day)


def _period_words(start: date, end: date) -> str:
    return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"


def _waiting_timesheets(ctx: JobContext, employer_id: str, start: date, end: date) -> list[str]:
    names = {e.id: e.full_name for e in ctx.payroll.list_employees(employer_id)}
    return [f"{names.get(t.employee_id, t.employee_id)}'s timesheet for {_period_words(t.period_start, t.period_end)}"
            f" ({t.status.value})"
            for t in ctx.payroll.list_timesheets(employer_id=employer_id, overlapping=(start, end))
            if t.status in (TimesheetStatus.DRAFT, TimesheetStatus.SUBMITTED)]


def _calculate_pay_run(ctx: JobContext, occ: Occurrence) -> str:
    from payroll.service import Duplicate, InvalidInput, WrongStatus

    forget_tick_reads(ctx)   # this run may create or calculate a pay run: later jobs this tick read afresh
    p = occ.params
    employer_id, name = p["employer"], p["employer_name"]
    day, nominal = date.fromisoformat(p["pay_day"]), date.fromisoformat(p["nominal"])
    runs = ctx.payroll.list_runs(employer_id)
    start, end = period_for(runs, nominal)
    run = _run_for(ctx, employer_id, day, nominal) or next(
        (r for r in _regular(runs) if (r.period_start, r.period_end) == (start, end)), None)

    paid_on = _long(day) + (f" (moved from {_long(nominal)}, not a working day)" if day != nominal else "")

    def notice(kind: str, message: str, **details: Any) -> str:
        ctx.notice(kind=kind, subject=employer_id, due_on=day, message=message,
                   details={"pay_day": day.isoformat(), **details})
        return message

    if run is None:
        busy = [r for r in runs if r.status in _UNFINISHED]
        if busy:
            b = busy[0]
            return notice("pay_run_blocked", (
                f"{name}'s pay run for {_period_words(start, end)}, paid on {paid_on}, was not started: the run "
                f"paid on {_long(b.payment_date)} is still {b.status.value}. Finish it, then create and calculate "
                "this one."), run=None, waiting_for=b.id)
        try:
            run = ctx.payroll.create_pay_run(employer_id, period_start=start, period_end=end, payment_date=day,
                                             frequency=p["frequency"], actor=ACTOR)
        except Duplicate:   # made meanwhile by a person, or by an earlier attempt of this run
            run = next(r for r in _regular(ctx.payroll.list_runs(employer_id))
                       if (r.period_start, r.period_end) == (start, end) or r.payment_date in (day, nominal))
    waiting = _waiting_timesheets(ctx, employer_id, run.period_start, run.period_end)
    waiting_words = (" These timesheets are still waiting for a decision: " + "; ".join(waiting) + "."
                     if waiting else "")
    if run.status is PayRunStatus.DRAFT:
        try:
            run = ctx.payroll.calculate(run.id, actor=ACTOR)
        except (InvalidInput, WrongStatus) as exc:
            return notice("pay_run_not_calculated", (
                f"{name}'s pay run for {_period_words(run.period_start, run.period_end)}, paid on {paid_on}, "
                f"could not be calculated: {exc}. Put it right, then calculate the run.{waiting_words}"),
                run=run.id, waiting=waiting)
    elif run.status is not PayRunStatus.CALCULATED:
        return (f"{name}'s pay run paid on {_long(run.payment_date)} is already {run.status.value}; "
                "nothing to calculate")
    summary = run.summary
    figures = (f" {summary.employees} payslip{'s' if summary.employees != 1 else ''}, "
               f"{format_pence(summary.total_cost)} to the employer, {format_pence(summary.net_pay)} net pay"
               if summary is not None else "")
    return notice("pay_run_calculated", (
        f"{name}'s pay run for {_period_words(run.period_start, run.period_end)}, paid on {paid_on}, is "
        f"calculated from the approved timesheets:{figures}. Review it, approve it and finalise it so the personal "
        f"assistants are paid on time (a bank payment takes three working days).{waiting_words}"),
        run=run.id, status=run.status.value, waiting=waiting)


# ---------------------------------------------------------------------- 2. posting finalised runs
def _wallet_of(ctx: JobContext, employer: Any) -> str | None:
    """The wallet whose books a run of this employer goes into: by its payroll employer, else the owner."""
    with ctx.uow.db.read() as conn:
        found = conn.execute(select(wallet_t.c.uuid).where(wallet_t.c.payroll_employer_id == employer.id)
                             .order_by(wallet_t.c.id)).first()
        if found is None and employer.owner_ref:
            found = conn.execute(select(wallet_t.c.uuid).where(wallet_t.c.uuid == employer.owner_ref)).first()
    return found.uuid if found is not None else None


def _finalised(ctx: JobContext) -> list[tuple[Any, PayRun]]:
    return [(e, r) for e in _employers(ctx) for r in employer_runs(ctx, e.id) if r.status is PayRunStatus.FINALISED]


def _posting_due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
    pending = _finalised(ctx)
    if not pending:
        return []
    with ctx.uow.db.read() as conn:
        posted = set(conn.execute(select(pay_run_posting_t.c.run_id).where(
            pay_run_posting_t.c.run_id.in_([r.id for _, r in pending]))).scalars())
    out = []
    wallets: dict[str, str | None] = {}
    # an adjustment is posted after the run it corrects: payment order, regular runs first
    for e, r in sorted(pending, key=lambda er: (er[1].payment_date, er[1].corrects is not None)):
        if r.id in posted:
            continue
        if e.id not in wallets:
            wallets[e.id] = _wallet_of(ctx, e)
        if wallets[e.id] is None:
            continue
        out.append(Occurrence("payroll_posting", f"payroll_posting:{r.id}", upto, {
            "employer": e.id, "employer_name": e.name, "wallet": wallets[e.id], "run": r.id,
            "pay_day": r.payment_date.isoformat()}))
    return out


def _post_run(ctx: JobContext, occ: Occurrence) -> str:
    from wallet.domain.payroll_posting import post_pay_run

    p = occ.params
    run = ctx.payroll.get_run(p["run"])
    posting = post_pay_run(ctx.uow, p["wallet"], run, actor=SYSTEM)
    return (f"posted {p['employer_name']}'s pay run paid on {_long(run.payment_date)} to the books: "
            f"{format_pence(posting.figures.wages_expense)} wages cost, {format_pence(posting.figures.net_pay)} "
            f"net pay and {format_pence(posting.figures.hmrc)} for HMRC owed")


# ---------------------------------------------------------------------- submitting (FPS and EPS)
def _submit(ctx: JobContext, *, purpose: str, employer_id: str, build: Callable[[], bytes],
            sleep: Callable[..., None] | None) -> tuple[Submission | None, list[str]]:
    """Send the message for ``purpose`` once, or finish the one recorded before. (submission, problems found
    in the message before sending); (None, []) when no gateway is configured."""
    from hmrc_export.validate import find_problems

    gateway = gateway_settings()
    if gateway is None:
        return None, []
    client, store = _client(ctx, gateway, purpose, employer_id, sleep)
    existing = store.by_purpose(purpose)
    if existing is None:
        message = build()
        problems = [str(pr) for pr in find_problems(message, today=_today(ctx))]
        if problems:
            return None, problems
        try:
            return client.submit(message), []
        except PurposeTaken:
            existing = store.by_purpose(purpose)
        except GatewayError as exc:
            log.warning("Submitting %s: %s", purpose, exc)
            existing = store.by_purpose(purpose)
            if existing is None:   # failed before it was recorded: nothing was sent
                raise
    if existing is None:
        raise RuntimeError(f"{purpose}: the submission record went missing")
    if existing.correlation_id and (existing.state is State.PENDING or not existing.deleted):
        return client.poll(existing.id), []     # resumed: polled, never sent again
    return existing, []


def _outcome(ctx: JobContext, sub: Submission, *, what: str, employer_id: str, due_on: date,
             key: str) -> str:
    """Say what became of a submission; a notice when a person must act. Raises StillWaiting while HMRC has not
    answered (the run is tried again, and polls)."""
    if sub.state is State.ACCEPTED:
        return f"{what} was accepted by HMRC (correlation id {sub.correlation_id})"
    if sub.state is State.REJECTED:
        message = (f"HMRC rejected {what}: " + "; ".join(sub.errors) + ". Put the figures or details right and "
                   "send it again (wallet hmrc fps / eps, then wallet hmrc submit).")
        ctx.notice(kind="hmrc_rejected", subject=employer_id, due_on=due_on, message=message,
                   details={"submission": sub.id, "errors": list(sub.errors)}, key=f"{key}:rejected")
        return message
    if not sub.correlation_id:
        message = (f"{what} was recorded as sent (submission {sub.id}) but HMRC's acknowledgement never came: it "
                   "may or may not have reached HMRC, so it is not sent again. Check HMRC's records.")
        ctx.notice(kind="hmrc_unconfirmed", subject=employer_id, due_on=due_on, message=message,
                   details={"submission": sub.id}, key=f"{key}:unconfirmed")
        return message
    raise StillWaiting(f"{what}: HMRC has acknowledged submission {sub.id} but not answered yet; polling again")


# ---------------------------------------------------------------------- 3. the FPS
def _fps_due(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
    if ctx.payroll is None or gateway_settings() is None:
        return []
    today = upto.date()
    candidates = [(e, r) for e, r in _finalised(ctx) if r.corrects is None and r.payment_date >= today]
    if not candidates:
        return []
    store = DatabaseSubmissionStore(ctx.uow.db, lambda: to_us(ctx.clock.now()))
    sent = store.purposes("fps:")
    keys = [f"fps_submission:{r.id}" for _, r in candidates]
    tried = _recorded_run_keys(ctx, keys)   # done, or failed: the engine retries what may be retried
    return [Occurrence("fps_submission", key, upto, {"employer": e.id, "employer_name": e.name, "run": r.id,
                                                     "pay_day": r.payment_date.isoformat()})
            for (e, r), key in zip(candidates, keys) if key not in tried and f"fps:{r.id}" not in sent]


def _earlier_payslips(ctx: JobContext, done: Any) -> dict[str, tuple]:
    run = done.run
    return {e: tuple(s for s in ctx.payroll.employee_payslips(e) if s.pay_run_id != run.id
                     and s.tax_year == run.tax_year and s.payment_date <= run.payment_date)
            for e in done.employees}


def _fps_message(ctx: JobContext, run_id: str) -> bytes:
    from hmrc_export.from_payroll import fps_for_run

    done = ctx.payroll.finalised_run(run_id)
    return fps_for_run(done.run, done.employer, done.employees, earlier=_earlier_payslips(ctx, done)).build()


def submit_fps(ctx: JobContext, occ: Occurrence, sleep: Callable[..., None] | None = None) -> str:
    p = occ.params
    day = date.fromisoformat(p["pay_day"])
    what = f"{p['employer_name']}'s Full Payment Submission for pay day {_long(day)}"
    try:
        sub, problems = _submit(ctx, purpose=f"fps:{p['run']}", employer_id=p["employer"], sleep=sleep,
                                build=lambda: _fps_message(ctx, p["run"]))
    except ValueError as exc:   # a detail HMRC needs is missing (an address, a gender...): say which
        problems, sub = [str(exc)], None
    if problems:
        message = (f"{what} was not sent: it has problems to put right first: " + "; ".join(problems)
                   + ". Then send it (wallet hmrc fps, then wallet hmrc submit).")
        ctx.notice(kind="fps_problems", subject=p["employer"], due_on=day, message=message,
                   details={"run": p["run"], "problems": problems})
        return message
    if sub is None:
        return f"{what}: no HMRC gateway is configured, so a person sends it"
    return _outcome(ctx, sub, what=what, employer_id=p["employer"], due_on=day, key=ctx.run_key)


def _fps_reminder(ctx: JobContext, occ: Occurrence) -> str:
    p = occ.params
    day, nominal = date.fromisoformat(p["pay_day"]), date.fromisoformat(p["nominal"])
    run = _run_for(ctx, p["employer"], day, nominal)
    sub = None
    if run is not None:
        sub = DatabaseSubmissionStore(ctx.uow.db, lambda: to_us(ctx.clock.now())).by_purpose(f"fps:{run.id}")
    if sub is not None and sub.state is State.ACCEPTED:
        return f"{p['employer_name']}'s FPS for pay day {_long(day)} was accepted by HMRC: no reminder needed"
    base = (f"{p['employer_name']}'s Full Payment Submission for pay day {_long(day)} must reach HMRC on or "
            "before that day.")
    if run is None or run.status is not PayRunStatus.FINALISED:
        state = f" Its pay run is {run.status.value if run else 'not made yet'}: finalise it, then the FPS can go."
    elif sub is None and gateway_settings() is None:
        state = " Sending it needs the employer's HMRC credentials, so a person sends it."
    elif sub is None:
        state = " It has not been sent: see the notices about it, put it right and send it."
    elif sub.state is State.REJECTED:
        state = " HMRC rejected it: put it right and send it again."
    else:
        state = " HMRC has not confirmed it yet: check HMRC's records."
    message = base + state
    ctx.notice(kind="fps_reminder", subject=p["employer"], due_on=day, message=message,
               details={"pay_day": p["pay_day"], "run": run.id if run else None})
    return message


# ---------------------------------------------------------------------- 4. the EPS
def _tax_year_of_month_end(end: date) -> TaxYear:
    return TaxYear.of(end)


def _eps_needed(ctx: JobContext, employer: Any, year: TaxYear, month: int) -> tuple[bool, bool]:
    """(no one paid in the tax month, Employment Allowance still to claim this tax year)."""
    runs = [r for r in ctx.payroll.list_runs(employer.id) if r.payment_date in year]
    paid = any(tax_month(r.payment_date) == month for r in runs)
    if not paid:
        from wallet.scheduler.jobs import pay_days

        start, end = year.month_start(month), year.month_end(month)
        paid = any(start <= d.pay_day <= end for d in pay_days(ctx.payroll.list_runs(employer.id), end,
                                                                 ctx.calendar))
    claim = False
    if employer.claims_employment_allowance:
        store = DatabaseSubmissionStore(ctx.uow.db, lambda: to_us(ctx.clock.now()))
        earlier = store.purposes(f"eps:{employer.id}:{year.label}:")
        claim = not any(s.state is not State.REJECTED for s in earlier.values())
    return not paid, claim


def _eps_message(employer: Any, year: TaxYear, month: int, no_payment: bool) -> bytes:
    from hmrc_export.eps import build_eps
    from hmrc_export.from_payroll import employer_from_payroll
    from hmrc_export.model import EmployerPaymentSummary

    period = {"no_payment_from": year.month_start(month), "no_payment_to": year.month_end(month)} if no_payment \
        else {}
    summary = EmployerPaymentSummary(tax_month=month,
                                     employment_allowance=True if employer.claims_employment_allowance else None,
                                     **period)
    return build_eps(employer_from_payroll(employer), summary, year)


def submit_eps(ctx: JobContext, occ: Occurrence, sleep: Callable[..., None] | None = None) -> str:
    p = occ.params
    due_on = date.fromisoformat(p["due_on"])
    employer = ctx.payroll.get_employer(p["employer"])
    year, month = TaxYear.parse(p["tax_year"]), p["tax_month"]
    no_payment, claim = _eps_needed(ctx, employer, year, month)
    if not (no_payment or claim):
        return (f"{p['employer_name']} needs no Employer Payment Summary for tax month {month} "
                f"({p['tax_month_words']}): its employees were paid and nothing is to be claimed")
    why = " and ".join(w for w, yes in (("no one was paid", no_payment),
                                        ("Employment Allowance is claimed", claim)) if yes)
    what = f"{p['employer_name']}'s Employer Payment Summary for tax month {month} ({p['tax_month_words']}; {why})"
    try:
        sub, problems = _submit(ctx, purpose=f"eps:{employer.id}:{year.label}:{month:02d}", employer_id=employer.id,
                                sleep=sleep, build=lambda: _eps_message(employer, year, month, no_payment))
    except ValueError as exc:
        sub, problems = None, [str(exc)]
    if problems or sub is None:
        state = (("it has problems to put right first: " + "; ".join(problems) + ". ") if problems
                 else "sending it needs the employer's HMRC credentials, so a person sends it ")
        message = (f"{what} must reach HMRC by {_long(due_on)}; {state}(wallet hmrc eps --tax-year {year.label} "
                   f"--tax-month {month}, then wallet hmrc submit).")
        ctx.notice(kind="eps_reminder", subject=employer.id, due_on=due_on, message=message,
                   details={"tax_month": month, "tax_year": year.label, "no_payment": no_payment,
                            "employment_allowance": claim, "problems": problems})
        return message
    return _outcome(ctx, sub, what=what, employer_id=employer.id, due_on=due_on, key=ctx.run_key)


# ---------------------------------------------------------------------- 5. paying HMRC
def _hmrc_payment_reminder(ctx: JobContext, occ: Occurrence) -> str:
    from hmrc_export.from_payroll import p32_for_runs

    p = occ.params
    due_on = date.fromisoformat(p["due_on"])
    year, month = TaxYear.parse(p["tax_year"]), p["tax_month"]
    employer = ctx.payroll.get_employer(p["employer"])
    runs = [r for r in ctx.payroll.list_runs(employer.id) if r.payment_date in year]
    finalised = [ctx.payroll.get_run(r.id) for r in runs if r.status is PayRunStatus.FINALISED]
    unfinished = [r for r in runs if r.status is not PayRunStatus.FINALISED and tax_month(r.payment_date) == month]
    amount = None
    if finalised:
        p32 = p32_for_runs(finalised, employer, year)
        amount = next((m.amount_due for m in p32.months if m.month == month), 0)
    owed = (f"{format_pence(amount)} is due" if amount else "Nothing is due" if amount == 0 and finalised
            else "Nothing is due yet")
    caveat = (" Pay runs paid this month are not finalised yet (" + ", ".join(
        f"{_long(r.payment_date)}: {r.status.value}" for r in unfinished) + "): finalise them and check the P32."
              if unfinished else "")
    message = (f"{p['employer_name']}'s PAYE and National Insurance for tax month {month} ({p['tax_month_words']}): "
               f"{owed} (from the P32 of the finalised pay runs), to reach HMRC by {_long(due_on)}; a bank payment "
               f"takes three working days. A person makes the payment.{caveat}")
    ctx.notice(kind="hmrc_payment_reminder", subject=employer.id, due_on=due_on, message=message,
               details={"tax_month": month, "tax_year": year.label, "amount_due": amount})
    return message


# ---------------------------------------------------------------------- the jobs
def _with_tax_year(due: Callable[[JobContext, datetime, datetime], list[Occurrence]]
                   ) -> Callable[[JobContext, datetime, datetime], list[Occurrence]]:
    """The monthly HMRC slots, each with the tax year of its tax month."""
    def with_year(ctx: JobContext, after: datetime, upto: datetime) -> list[Occurrence]:
        out = []
        for occ in due(ctx, after, upto):
            end = date.fromisoformat(occ.params["due_on"]).replace(day=5)   # the 5th that ends the tax month
            out.append(Occurrence(occ.job, occ.key, occ.due_at,
                                  {**occ.params, "tax_year": _tax_year_of_month_end(end).label}))
        return out

    return with_year


def payroll_jobs(*, sleep: Callable[..., None] | None = None) -> list[Job]:
    """The payroll jobs. ``sleep`` waits between polls of HMRC (the gateway's PollInterval; tests pass their own)."""
    return [
        Job("pay_run_calculation", "Create and calculate each employer's pay run before pay day, for a person to "
            "approve.", _before_pay_day("pay_run_calculation", PAY_RUN_REMINDER_WORKING_DAYS), _calculate_pay_run),
        Job("payroll_posting", "Post each finalised pay run into its wallet's books.", _posting_due, _post_run),
        Job("fps_submission", "Send each finalised pay run's FPS to HMRC before pay day (when configured).",
            _fps_due, lambda ctx, occ: submit_fps(ctx, occ, sleep)),
        Job("fps_reminder", "Remind each employer of an FPS not yet accepted, the working day before pay day.",
            _before_pay_day("fps_reminder", 1), _fps_reminder),
        Job("eps_submission", "Send an EPS where one is due (the 19th), or leave it to a person.",
            _with_tax_year(_monthly_hmrc("eps_submission", "eps")), lambda ctx, occ: submit_eps(ctx, occ, sleep)),
        Job("hmrc_payment_reminder", "Say what is due to HMRC for each tax month (the 22nd).",
            _with_tax_year(_monthly_hmrc("hmrc_payment_reminder", "payment")), _hmrc_payment_reminder),
    ]


__all__ = ["ACTOR", "StillWaiting", "gateway_settings", "payroll_jobs", "period_for", "submit_eps", "submit_fps"]

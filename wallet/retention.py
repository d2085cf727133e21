"""Data retention: how long each kind of record is kept, and what happens to it after (UK GDPR storage limitation).

The policy is the table :data:`POLICY`, one :class:`Rule` per kind of record: its table, the field that dates
it, how its keeping period is counted, and the action when the period is over.

* Financial records (ledger entries, pay runs, payslips, timesheets, payment batches, evidence, invoices,
  payment requests, bank lines, card transactions, monthly reports) are kept at least six years after the end
  of the tax year they belong to (HMRC asks for three years of payroll records; the Limitation Act allows six
  years for a claim, so six years for all). Their action is ``keep``: they are counted in the report and never
  removed here. Ledger entries and evidence are immutable and hash-chained: removing one would break every
  later hash, and the database refuses it.
* Personal data kept only to run the service (the access log, alerts and their dismissals, scheduler notices
  and run records, Stripe webhook events) is deleted six years after its date.
* A leaver PA's sealed NI number and bank details are erased six years after the end of the tax year they
  left; the payroll figures about them stay (they are financial records).

:func:`report` counts, and changes nothing. :func:`apply` works in bounded transactions of ``batch_size`` rows
each, logging its progress, and is idempotent: a second run on the same day finds nothing more to do.
Deleting access-log rows needs the database's consent as well (migration ``0015_retention``): each batch
opens the retention gate inside its own transaction, and the database checks the rows' age by its own clock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Any, Callable

from sqlalchemy import (and_, column, delete, func, insert, or_, select,
                        table, update)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ColumnElement, Select, TableClause

from ledger.clock import to_us
from ledger.db import Database
from wallet.domain.schedules import add_months, start_of
from wallet.domain.tables import retention_gate_t

log = logging.getLogger("wallet.retention")

KEEP_YEARS = 6
DEFAULT_BATCH_SIZE = 500


class Action(Enum):
    KEEP = "keep"
    """Counted in the report; never removed."""
    DELETE = "delete"
    """The row is deleted."""
    ERASE = "erase"
    """Named columns are cleared; the row and its other columns stay."""


class Basis(Enum):
    AGE = "six years from its date"
    TAX_YEAR = "six years from the end of its tax year"


@dataclass(frozen=True)
class Rule:
    kind: str
    """A short machine name: ``access_log``."""
    words: str
    """What the records are called in a report: "access log entries"."""
    table: str
    age_column: str
    age_unit: str
    """``us`` (microseconds since the epoch) or ``date``."""
    basis: Basis
    action: Action
    why: str
    columns: tuple[str, ...] = ()
    """Every column the rule reads or writes (the age column is added)."""
    erase: tuple[str, ...] = ()
    """For ERASE: the columns set to NULL."""
    only: Callable[[TableClause], ColumnElement] | None = None
    """A further condition a row must meet."""
    parent: tuple[str, str] | None = None
    """(parent table, this table's key to it): the row is dated by its parent's age column instead."""
    gated: bool = False
    """The database lets the row go only through the retention gate (migration 0015)."""

    def t(self) -> TableClause:
        dated_here = () if self.parent is not None else (self.age_column,)
        return table(self.table, column("id"), *(column(c) for c in sorted({*dated_here, *self.columns})))


def _not_running(t: TableClause) -> ColumnElement:
    return t.c.state != "started"


def _sealed(t: TableClause) -> ColumnElement:
    return and_(t.c.leaving_date.isnot(None),
                or_(t.c.nino_sealed.isnot(None), t.c.nino_fingerprint.isnot(None), t.c.bank_sealed.isnot(None)))


_FINANCIAL = "a financial record: kept at least six years after its tax year (HMRC, Limitation Act)"

POLICY: tuple[Rule, ...] = (
    # Financial records: report only.
    Rule("ledger_entries", "ledger entries", "ledger_entry", "effective_us", "us", Basis.TAX_YEAR, Action.KEEP,
         "immutable and hash-chained: never deleted (removing one would break every later hash)"),
    Rule("pay_runs", "pay runs", "payroll_pay_run", "payment_date", "date", Basis.TAX_YEAR, Action.KEEP, _FINANCIAL),
    Rule("payslips", "payslips", "payroll_payslip", "payment_date", "date", Basis.TAX_YEAR, Action.KEEP,
         _FINANCIAL),
    Rule("timesheets", "timesheets", "payroll_timesheet", "period_end", "date", Basis.TAX_YEAR, Action.KEEP,
         _FINANCIAL),
    Rule("payment_batches", "payment batches", "wallet_payment_batch", "created_us", "us", Basis.TAX_YEAR,
         Action.KEEP, _FINANCIAL),
    Rule("evidence", "evidence records", "wallet_evidence", "attached_us", "us", Basis.TAX_YEAR, Action.KEEP,
         "append-only and hash-chained: kept with the entries it supports"),
    Rule("invoices", "invoices", "wallet_invoice", "invoice_date", "date", Basis.TAX_YEAR, Action.KEEP, _FINANCIAL),
    Rule("payment_requests", "payment requests", "wallet_payment_request", "requested_us", "us", Basis.TAX_YEAR,
         Action.KEEP, _FINANCIAL),
    Rule("bank_lines", "bank statement lines", "bank_line", "booked_on", "date", Basis.TAX_YEAR, Action.KEEP,
         _FINANCIAL),
    Rule("card_transactions", "card transactions", "stripe_card_transaction", "recorded_us", "us", Basis.TAX_YEAR,
         Action.KEEP, _FINANCIAL),
    Rule("monthly_reports", "monthly reports", "report_monthly", "month", "date", Basis.TAX_YEAR, Action.KEEP,
         _FINANCIAL),
    # Personal data no longer needed: deleted (children before their parents).
    Rule("access_log", "access log entries", "wallet_access_log", "at_us", "us", Basis.AGE, Action.DELETE,
         "who saw or did what: evidence for six years, then no longer needed", gated=True),
    Rule("alert_dismissals", "alert dismissals", "wallet_alert_dismissal", "raised_us", "us", Basis.AGE,
         Action.DELETE, "go with the alert they dismissed", columns=("alert_id",),
         parent=("wallet_alert", "alert_id")),
    Rule("alerts", "alerts", "wallet_alert", "raised_us", "us", Basis.AGE, Action.DELETE,
         "each alert's cause is dated, so an alert this old is never raised again"),
    Rule("notices", "scheduler notices", "scheduler_notice", "created_us", "us", Basis.AGE, Action.DELETE,
         "reminders and statements already given"),
    Rule("scheduler_runs", "scheduler run records", "scheduler_run", "due_us", "us", Basis.AGE, Action.DELETE,
         "each job's watermark, not these rows, keeps an old run from running again",
         columns=("state",), only=_not_running),
    Rule("stripe_events", "Stripe webhook events", "stripe_event", "processed_us", "us", Basis.AGE, Action.DELETE,
         "Stripe retries a webhook for up to three days and its API lists events of the last 30 days only, so "
         "an event id this old is never needed for exactly-once again: the whole row goes"),
    Rule("leaver_sealed_details", "leavers' sealed NI numbers and bank details", "payroll_employee",
         "leaving_date", "date", Basis.TAX_YEAR, Action.ERASE,
         "no longer needed once the leaver's payroll records are past their keeping period; the figures stay",
         columns=("nino_sealed", "nino_fingerprint", "bank_sealed", "updated_us"),
         erase=("nino_sealed", "nino_fingerprint", "bank_sealed"), only=_sealed),
)

_GATE = retention_gate_t


# ---------------------------------------------------------------------- cutoffs
def age_cutoff(today: date) -> date:
    """Records dated before this day are over six years old."""
    return add_months(today, -12 * KEEP_YEARS)


def tax_year_cutoff(today: date) -> date:
    """The end (5 April) of the newest tax year that ended more than six years before ``today``: records dated
    on or before it are past their keeping period. On 5 April itself the year six years back is still kept."""
    year = today.year if today > date(today.year, 4, 5) else today.year - 1
    return date(year - KEEP_YEARS, 4, 5)


@dataclass(frozen=True)
class Cutoffs:
    today: date
    age: date
    """Rows dated before this day (UTC) are over six years old."""
    tax_year: date
    """Rows dated on or before this day (UTC) belong to a tax year that ended over six years ago."""

    @classmethod
    def on(cls, today: date) -> "Cutoffs":
        return cls(today, age_cutoff(today), tax_year_cutoff(today))

    def before(self, rule: Rule) -> Any:
        """The first value of ``rule``'s age column that is still kept."""
        first_kept = self.age if rule.basis is Basis.AGE else self.tax_year + timedelta(days=1)
        return to_us(start_of(first_kept)) if rule.age_unit == "us" else first_kept


def _eligible(rule: Rule, cutoffs: Cutoffs) -> tuple[TableClause, Select]:
    """The table and a query of the ids of its rows past their keeping period."""
    t = rule.t()
    limit = cutoffs.before(rule)
    if rule.parent is not None:
        parent_table, key = rule.parent
        p = table(parent_table, column("id"), column(rule.age_column))
        q = select(t.c.id).where(t.c[key].in_(select(p.c.id).where(p.c[rule.age_column] < limit)))
    else:
        q = select(t.c.id).where(t.c[rule.age_column] < limit)
    if rule.only is not None:
        q = q.where(rule.only(t))
    return t, q


# ---------------------------------------------------------------------- report
@dataclass(frozen=True)
class Line:
    rule: Rule
    count: int


@dataclass(frozen=True)
class Report:
    cutoffs: Cutoffs
    lines: tuple[Line, ...]

    def counts(self, action: Action) -> dict[str, int]:
        return {line.rule.kind: line.count for line in self.lines if line.rule.action is action}


def report(db: Database, today: date) -> Report:
    """How many records of each kind are past their keeping period (and so kept, deleted or erased). Reads only."""
    cutoffs = Cutoffs.on(today)
    with db.read() as conn:
        lines = []
        for rule in POLICY:
            _, q = _eligible(rule, cutoffs)
            lines.append(Line(rule, conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()))
    return Report(cutoffs, tuple(lines))


# ---------------------------------------------------------------------- apply
class RetentionRefused(Exception):
    """The database refused to let records go (its clock says they are not yet six years old)."""


@dataclass
class Result:
    cutoffs: Cutoffs
    removed: dict[str, int] = field(default_factory=dict)
    """Rows deleted, per kind."""
    erased: dict[str, int] = field(default_factory=dict)
    """Rows whose personal fields were cleared, per kind."""
    kept: dict[str, int] = field(default_factory=dict)
    """Financial records past their keeping period, kept (report only), per kind."""
    batches: int = 0

    @property
    def changed(self) -> int:
        return sum(self.removed.values()) + sum(self.erased.values())

    def details(self) -> dict[str, Any]:
        return {"today": self.cutoffs.today.isoformat(), "age_cutoff": self.cutoffs.age.isoformat(),
                "tax_year_cutoff": self.cutoffs.tax_year.isoformat(), "removed": dict(self.removed),
                "erased": dict(self.erased), "kept": dict(self.kept), "batches": self.batches}


def _batch(conn: Connection, rule: Rule, cutoffs: Cutoffs, size: int, now_us: int) -> int:
    t, q = _eligible(rule, cutoffs)
    ids = [r[0] for r in conn.execute(q.order_by(t.c.id).limit(size))]
    if not ids:
        return 0
    if rule.action is Action.ERASE:
        conn.execute(update(t).where(t.c.id.in_(ids)).values({**{c: None for c in rule.erase},
                                                               "updated_us": now_us}))
        return len(ids)
    gate = None
    if rule.gated:   # opened and closed inside this transaction: never committed, never seen by another
        gate = conn.execute(insert(_GATE).values(opened_us=now_us)).inserted_primary_key[0]
    conn.execute(delete(t).where(t.c.id.in_(ids)))
    if gate is not None:
        conn.execute(delete(_GATE).where(_GATE.c.id == gate))
    return len(ids)


def apply(db: Database, today: date, *, now_us: int, batch_size: int = DEFAULT_BATCH_SIZE) -> Result:
    """Delete or erase what the policy says is past its keeping period as of ``today``, ``batch_size`` rows a
    transaction; count the financial records kept. Running it again removes nothing more."""
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    cutoffs = Cutoffs.on(today)
    result = Result(cutoffs)
    log.info("Retention as of %s: deleting personal data dated before %s, erasing leavers' sealed details for "
             "tax years ended on or before %s.", today.isoformat(), cutoffs.age.isoformat(),
             cutoffs.tax_year.isoformat())
    for rule in POLICY:
        if rule.action is Action.KEEP:
            continue
        total = 0
        while True:
            try:
                n = db.write(lambda conn, rule=rule: _batch(conn, rule, cutoffs, batch_size, now_us))
            except DBAPIError as exc:
                if rule.gated and "append-only" in str(exc.orig):
                    raise RetentionRefused(
                        f"The database refused to delete {rule.words} dated before {cutoffs.age.isoformat()}: by "
                        "its own clock they are not yet six years old. Check the date the retention ran as.") \
                        from exc
                raise
            if n == 0:
                break
            total += n
            result.batches += 1
            log.info("Retention: %s %d %s so far.", "erased" if rule.action is Action.ERASE else "removed",
                     total, rule.words)
            if n < batch_size:
                break
        (result.erased if rule.action is Action.ERASE else result.removed)[rule.kind] = total
    result.kept = report(db, today).counts(Action.KEEP)
    log.info("Retention as of %s done: %d records removed or erased in %d batches.", today.isoformat(),
             result.changed, result.batches)
    return result


def words_for(kind: str) -> str:
    return next(rule.words for rule in POLICY if rule.kind == kind)


def summary(result: Result) -> str:
    """In plain words: what was removed and erased, and what is kept."""
    c = result.cutoffs

    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} {words_for(k)}" for k, n in counts.items() if n) or "none"

    return (f"Data retention as of {c.today.isoformat()}: removed personal data dated before {c.age.isoformat()}: "
            f"{listed(result.removed)}; erased the sealed NI numbers and bank details of PAs who left in tax years "
            f"ended on or before {c.tax_year.isoformat()}: {listed(result.erased)}. Financial records past six "
            f"years are kept (ledger entries stay in the chain): {listed(result.kept)}.")

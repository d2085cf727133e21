"""Alerts: worked out on demand from the plan, the schedules and the ledger; stored when raised; never raised
twice for the same cause.

Each alert has a cause, a key that names exactly what it is about (the funding date that was missed, the plan
period a line overspent in), unique per wallet. Checking again finds the same causes and raises nothing new; a
new period, a new missed date or a new renewal date is a new cause.

* ``low_balance``: the money available now, plus funding scheduled to arrive before the next plan period
  starts, is less than the spending planned for that next period (contingency lines aside).
* ``surplus``: the money available is more than the council's limit: ``surplus_weeks`` (default 8) weeks of
  planned spending (contingency lines aside) plus the wallet's agreed contingency reserve.
* ``missed_funding``: a payment a stream's schedule expects had not arrived within the stream's grace days.
  Receipts are read from the ledger (``funding:<s>``); payments in advance count, and one late payment covers
  its own date, not the next.
* ``overspend``: a plan line's actual spending in the current plan period is above its planned amount.
* ``insurance_renewal``: the wallet's insurance renews within 30 days (or should have already).
* ``bank_difference``: an imported bank statement's closing balance, allowing for payments not yet through the
  bank, differs from the books on the same day (raised when the statement is imported, see ``wallet.bank``).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update

from ledger.clock import from_us
from wallet.domain.chart import Category
from wallet.domain.errors import UnknownAlert
from wallet.domain.permissions import Action, require
from wallet.domain.plans import BudgetLine, load_lines, plan_figures
from wallet.domain.schedules import Period, funding_dates, period_number, plan_period, prorate, start_of
from wallet.domain.tables import alert_t, wallet_t
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.domain.wallets import Wallet, balance_of, load_wallet, statement_lines
from wallet.money import format_pence

INSURANCE_NOTICE_DAYS = 30


class AlertKind(str, enum.Enum):
    LOW_BALANCE = "low_balance"
    SURPLUS = "surplus"
    MISSED_FUNDING = "missed_funding"
    OVERSPEND = "overspend"
    INSURANCE_RENEWAL = "insurance_renewal"
    BANK_DIFFERENCE = "bank_difference"
    """Raised by ``wallet.bank.service`` when a statement's closing balance and the books disagree."""
    CARD_OVERSPEND = "card_overspend"
    """Raised by ``wallet.stripe_gateway`` when a card took more than the funder's money held."""
    MONEY_IN_SHORTFALL = "money_in_shortfall"
    """Raised by ``wallet.stripe_gateway`` when a payment in was refunded or disputed after it was spent."""


@dataclass(frozen=True)
class Finding:
    """An alert that the figures call for (stored only if its cause is new)."""

    kind: AlertKind
    cause: str
    message: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Alert:
    id: str
    wallet_id: str
    kind: AlertKind
    cause: str
    message: str
    details: dict[str, Any]
    raised_at: datetime
    dismissed_at: datetime | None
    dismissed_by: str | None


def _alert(row: Any, wallet_id: str) -> Alert:
    return Alert(row.uuid, wallet_id, AlertKind(row.kind), row.cause, row.message, dict(row.details),
                 from_us(row.raised_us), from_us(row.dismissed_us) if row.dismissed_us is not None else None,
                 row.dismissed_by)


def _planned(lines: list[BudgetLine], wallet: Wallet, span: Period) -> int:
    return sum(prorate(ln.planned_per_period, wallet.plan_period, wallet.plan_start, span)
               for ln in lines if ln.category is not Category.CONTINGENCY)


def find_alerts(tx: Tx, wallet_row: Any, today: date) -> list[Finding]:
    """Every alert the wallet's figures call for today."""
    wallet = load_wallet(tx, wallet_row)
    lines = load_lines(tx, wallet_row)
    ledger = tx.ledger
    money = balance_of(ledger, wallet, as_of=Period(today, today + timedelta(days=1)).closes_at)
    n = period_number(wallet.plan_period, wallet.plan_start, today)
    current, following = (plan_period(wallet.plan_period, wallet.plan_start, n),
                          plan_period(wallet.plan_period, wallet.plan_start, n + 1))
    found: list[Finding] = []

    planned_next = _planned(lines, wallet, following)
    coming_in = sum(s.amount for s in wallet.streams
                    for d in funding_dates(s.schedule, s.starts, following.start, s.ends) if d > today)
    if planned_next > 0 and money.available + coming_in < planned_next:
        found.append(Finding(
            AlertKind.LOW_BALANCE, f"low_balance:{following.start.isoformat()}",
            f"Money is running low: {format_pence(money.available)} available and {format_pence(coming_in)} "
            f"due in, but {format_pence(planned_next)} is planned for the period from {following.start:%d %B %Y}.",
            {"available": money.available, "coming_in": coming_in, "planned": planned_next,
             "period_start": following.start.isoformat()}))

    weeks = Period(today, today + timedelta(weeks=wallet.surplus_weeks))
    planned_weeks = _planned(lines, wallet, weeks)
    limit = planned_weeks + wallet.contingency_reserve
    if planned_weeks > 0 and money.available > limit:
        found.append(Finding(
            AlertKind.SURPLUS, f"surplus:{current.start.isoformat()}",
            f"There is more money than the council's limit: {format_pence(money.available)} available, "
            f"{format_pence(money.available - limit)} above {wallet.surplus_weeks} weeks of planned spending "
            f"and the contingency ({format_pence(limit)}). The council may ask for the surplus back.",
            {"available": money.available, "limit": limit, "weeks": wallet.surplus_weeks,
             "contingency": wallet.contingency_reserve, "period_start": current.start.isoformat()}))

    for stream in wallet.streams:
        if stream.amount <= 0:
            continue
        receipts = [(ln.effective_at.date(), ln.amount) for ln in statement_lines(
            ledger, wallet.chart.funding(stream.code), start_of(date(1970, 1, 1)), start_of(today + timedelta(days=1)))
            if ln.amount > 0]
        due = funding_dates(stream.schedule, stream.starts, today - timedelta(days=stream.grace_days + 1),
                            stream.ends)
        for k, expected_on in enumerate(due, start=1):
            deadline = expected_on + timedelta(days=stream.grace_days)
            received = sum(amount for day, amount in receipts if day <= deadline)
            if received < k * stream.amount:
                found.append(Finding(
                    AlertKind.MISSED_FUNDING, f"missed_funding:{stream.code}:{expected_on.isoformat()}",
                    f"{stream.label} was due to pay {format_pence(stream.amount)} on {expected_on:%d %B %Y}; "
                    f"it had not arrived {stream.grace_days} days later.",
                    {"stream": stream.id, "expected_on": expected_on.isoformat(), "amount": stream.amount,
                     "received_by_deadline": received, "expected_by_deadline": k * stream.amount}))

    report = plan_figures(tx, wallet_row, current)
    for figures in report.lines:
        if figures.line_id is not None and figures.actual > figures.planned:
            found.append(Finding(
                AlertKind.OVERSPEND, f"overspend:{figures.line_id}:{current.start.isoformat()}",
                f"{figures.category.label} ({figures.funder}) has spent {format_pence(figures.actual)} this period, "
                f"{format_pence(figures.actual - figures.planned)} more than the {format_pence(figures.planned)} "
                "planned.",
                {"line": figures.line_id, "category": figures.category.value, "stream": figures.stream_id,
                 "planned": figures.planned, "actual": figures.actual, "period_start": current.start.isoformat()}))

    renews = wallet.insurance_renews_on
    if renews is not None and renews <= today + timedelta(days=INSURANCE_NOTICE_DAYS):
        when = "was due" if renews < today else "is due"
        found.append(Finding(
            AlertKind.INSURANCE_RENEWAL, f"insurance_renewal:{renews.isoformat()}",
            f"Employer's liability insurance {when} for renewal on {renews:%d %B %Y}.",
            {"renews_on": renews.isoformat()}))
    return found


def check_alerts(uow: UnitOfWork, wallet_id: str, *, actor: str, today: date | None = None) -> list[Alert]:
    """Work out the wallet's alerts now and store the ones whose cause is new; returns only those."""

    def work(tx: Tx) -> list[Alert]:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.VIEW_BALANCE, row, "check alerts", system_allowed=True)
        day = today or tx.clock.now().date()
        known = set(tx.conn.execute(select(alert_t.c.cause).where(alert_t.c.wallet_id == row.id)).scalars())
        raised = []
        for finding in find_alerts(tx, row, day):
            if finding.cause in known:
                continue
            known.add(finding.cause)
            alert_id = tx.new_id()
            tx.conn.execute(alert_t.insert(), dict(
                uuid=alert_id, wallet_id=row.id, kind=finding.kind.value, cause=finding.cause,
                message=finding.message[:500], details=finding.details, raised_us=tx.now_us(),
                dismissed_by=None, dismissed_us=None))
            raised.append(_alert(tx.conn.execute(select(alert_t).where(alert_t.c.uuid == alert_id)).one(), row.uuid))
        return raised

    return uow.write(work)


def alerts(uow: UnitOfWork, wallet_id: str, *, actor: str, include_dismissed: bool = False) -> list[Alert]:
    def work(tx: Tx) -> list[Alert]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_BALANCE, row, "alerts", system_allowed=True)
        q = select(alert_t).where(alert_t.c.wallet_id == row.id).order_by(alert_t.c.id)
        if not include_dismissed:
            q = q.where(alert_t.c.dismissed_us.is_(None))
        return [_alert(r, row.uuid) for r in tx.conn.execute(q)]

    return uow.write(work)


def dismiss_alert(uow: UnitOfWork, alert_id: str, *, actor: str) -> Alert:
    """Mark an alert as seen and dealt with. It is not raised again: its cause stays on record."""

    def work(tx: Tx) -> Alert:
        found = tx.conn.execute(select(alert_t.c.wallet_id).where(alert_t.c.uuid == alert_id)).first()
        if found is None:
            raise UnknownAlert(f"there is no alert {alert_id}")
        wallet_uuid = tx.conn.execute(select(wallet_t.c.uuid).where(wallet_t.c.id == found.wallet_id)).scalar_one()
        row = tx.wallet_row(wallet_uuid, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"dismiss alert {alert_id}", system_allowed=True)
        tx.conn.execute(update(alert_t).where(and_(alert_t.c.uuid == alert_id, alert_t.c.dismissed_us.is_(None)))
                        .values(dismissed_by=actor, dismissed_us=tx.now_us()))
        return _alert(tx.conn.execute(select(alert_t).where(alert_t.c.uuid == alert_id)).one(), row.uuid)

    return uow.write(work)

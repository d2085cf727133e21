"""The support plan's budget lines, and planned against actual spending.

A line says how much is planned each plan period for one category (PA wages, agency, activities, transport,
equipment, short breaks, insurance, contingency...) from one funder's money. Actual spending is never stored
here: it is the movement of the ledger account ``spend:<category>:<stream>`` over the period, so the plan and
the books cannot disagree. Planned figures for a period that is not one plan period are pro-rated by days (see
``wallet.domain.schedules.prorate``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select, update

from ledger.service import Ledger
from wallet.domain.chart import Category
from wallet.domain.errors import InvalidRequest
from wallet.domain.permissions import Action, require
from wallet.domain.schedules import Period, period_containing, prorate
from wallet.domain.tables import budget_line_t, funding_stream_t, payment_request_t
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.domain.wallets import Wallet, change_in, check_pence, load_wallet, stream_pk


@dataclass(frozen=True)
class BudgetLine:
    id: str
    wallet_id: str
    category: Category
    stream_id: str
    planned_per_period: int
    label: str


@dataclass(frozen=True)
class LineFigures:
    line_id: str | None
    """None for spending in a category (from a funder) the plan has no line for: spending outside the plan."""
    category: Category
    stream_id: str
    funder: str
    planned: int
    actual: int
    awaiting_approval: int

    @property
    def remaining(self) -> int:
        return self.planned - self.actual - self.awaiting_approval

    @property
    def overspent(self) -> bool:
        return self.actual > self.planned


@dataclass(frozen=True)
class FunderFigures:
    stream_id: str
    funder: str
    planned: int
    actual: int
    """All spending from this funder's money in the period, in the plan or not."""


@dataclass(frozen=True)
class PlanReport:
    wallet_id: str
    period: Period
    lines: tuple[LineFigures, ...]
    funders: tuple[FunderFigures, ...]

    @property
    def planned(self) -> int:
        return sum(f.planned for f in self.funders)

    @property
    def actual(self) -> int:
        return sum(f.actual for f in self.funders)

    def line(self, category: Category | str, stream_id: str | None = None) -> LineFigures:
        for figures in self.lines:
            if figures.category == Category(category) and stream_id in (None, figures.stream_id):
                return figures
        raise KeyError(f"no figures for {category}")


def line_from_row(row: Any, wallet_id: str, stream_uuid: str) -> BudgetLine:
    return BudgetLine(row.uuid, wallet_id, Category(row.category), stream_uuid, row.planned_per_period, row.label)


def load_lines(tx: Tx, wallet_row: Any) -> list[BudgetLine]:
    rows = tx.conn.execute(
        select(budget_line_t, funding_stream_t.c.uuid.label("stream_uuid"))
        .join(funding_stream_t, funding_stream_t.c.id == budget_line_t.c.stream_id)
        .where(budget_line_t.c.wallet_id == wallet_row.id).order_by(budget_line_t.c.id))
    return [line_from_row(r, wallet_row.uuid, r.stream_uuid) for r in rows]


def set_budget_line(uow: UnitOfWork, wallet_id: str, *, category: Category | str, stream_id: str,
                    planned_per_period: int, actor: str, label: str | None = None) -> BudgetLine:
    """Plan ``planned_per_period`` for a category from one funder (adds the line, or changes its amount)."""
    cat = Category(category)
    check_pence(planned_per_period, "the planned amount", positive=False)

    def work(tx: Tx) -> BudgetLine:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"plan {cat.value} {planned_per_period}",
                system_allowed=True)
        wallet = load_wallet(tx, row)
        stream = wallet.stream(stream_id)
        stream_key = stream_pk(tx, stream.id)
        text = (label or cat.label).strip()
        existing = tx.conn.execute(select(budget_line_t).where(and_(
            budget_line_t.c.wallet_id == row.id, budget_line_t.c.category == cat.value,
            budget_line_t.c.stream_id == stream_key))).first()
        now = tx.now_us()
        if existing is None:
            line_id = tx.new_id()
            tx.conn.execute(budget_line_t.insert(), dict(
                uuid=line_id, wallet_id=row.id, category=cat.value, stream_id=stream_key,
                planned_per_period=planned_per_period, label=text, created_us=now, updated_us=now))
        else:
            line_id = existing.uuid
            tx.conn.execute(update(budget_line_t).where(budget_line_t.c.id == existing.id).values(
                planned_per_period=planned_per_period, label=text, updated_us=now))
        return BudgetLine(line_id, wallet.id, cat, stream.id, planned_per_period, text)

    return uow.write(work)


def budget_lines(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[BudgetLine]:
    def work(tx: Tx) -> list[BudgetLine]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_BALANCE, row, "support plan", system_allowed=True)
        return load_lines(tx, row)

    return uow.write(work)


def current_period(wallet: Wallet, today: date) -> Period:
    return period_containing(wallet.plan_period, wallet.plan_start, today)


def awaiting_approval(tx: Tx, wallet_row: Any) -> dict[tuple[str, str], int]:
    """Money held for payment requests awaiting approval, by (category, stream id)."""
    rows = tx.conn.execute(
        select(payment_request_t.c.category, funding_stream_t.c.uuid, func.sum(payment_request_t.c.amount))
        .join(funding_stream_t, funding_stream_t.c.id == payment_request_t.c.stream_id)
        .where(and_(payment_request_t.c.wallet_id == wallet_row.id,
                    payment_request_t.c.status == "awaiting_approval"))
        .group_by(payment_request_t.c.category, funding_stream_t.c.uuid))
    return {(cat, stream): int(total) for cat, stream, total in rows}


def plan_figures(tx: Tx, wallet_row: Any, period: Period) -> PlanReport:
    """Inside a transaction: planned and actual for every line, and for every funder, over ``period``."""
    wallet = load_wallet(tx, wallet_row)
    lines = load_lines(tx, wallet_row)
    pending = awaiting_approval(tx, wallet_row)
    return _report(tx.ledger, wallet, lines, pending, period)


def _report(ledger: Ledger, wallet: Wallet, lines: list[BudgetLine], pending: dict[tuple[str, str], int],
            period: Period) -> PlanReport:
    chart = wallet.chart
    planned_by_line = {ln.id: prorate(ln.planned_per_period, wallet.plan_period, wallet.plan_start, period)
                       for ln in lines}
    out: list[LineFigures] = []
    funders: list[FunderFigures] = []
    for stream in wallet.streams:
        stream_lines = {ln.category: ln for ln in lines if ln.stream_id == stream.id}
        actual_total = 0
        for cat in Category:
            actual = change_in(ledger, chart.spend(cat, stream.code), period)
            actual_total += actual
            waiting = pending.get((cat.value, stream.id), 0)
            line = stream_lines.get(cat)
            if line is not None:
                out.append(LineFigures(line.id, cat, stream.id, stream.label, planned_by_line[line.id], actual,
                                       waiting))
            elif actual or waiting:
                out.append(LineFigures(None, cat, stream.id, stream.label, 0, actual, waiting))
        funders.append(FunderFigures(stream.id, stream.label,
                                     sum(planned_by_line[ln.id] for ln in stream_lines.values()), actual_total))
    order = {c: i for i, c in enumerate(Category)}
    out.sort(key=lambda f: (order[f.category], f.line_id is None, f.stream_id))
    return PlanReport(wallet.id, period, tuple(out), tuple(funders))


def planned_vs_actual(uow: UnitOfWork, wallet_id: str, period: Period | None = None, *,
                      actor: str) -> PlanReport:
    """Planned and actual spending per budget line and per funder, over ``period`` (by default the plan period
    running today). Spending with no line in the plan is listed too, with nothing planned."""

    def work(tx: Tx) -> PlanReport:
        row = tx.wallet_row(wallet_id)
        span = period or current_period(load_wallet(tx, row), tx.clock.now().date())
        if span.end <= span.start:
            raise InvalidRequest("a period must end after it starts")
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, f"planned vs actual {span.start} to {span.end}",
                system_allowed=True)
        return plan_figures(tx, row, span)

    return uow.write(work)

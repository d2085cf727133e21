"""The monthly report of a wallet: money in by funder, money out by plan line against the plan, the balance
against the council's surplus limit, payments still without evidence, and bank lines nobody has reconciled.

Gathered in one read (:func:`gather`), shown in the portal, and rendered from the same figures to an accessible
tagged PDF through ``payroll.rendering`` (the renderer payslips use). On the 1st of each month the scheduler
sends the month before (:func:`send_monthly_report`): the figures are kept as sent (``report_monthly``) and a
notice is left for the holder and each appointee (there is no e-mail here: a notice is what "sent" records).

Figures come from the ledger as everywhere else: money in is the change in each ``funding:<s>`` over the month
(net of surplus reclaimed), money out the change in each ``spend:<category>:<s>`` (the plan's own figures,
pro-rated to the calendar month), the balance the cash accounts at the month's last moment. The surplus limit is
the alerts' rule: ``surplus_weeks`` weeks of planned spending (contingency lines aside) from the month's end,
plus the agreed contingency reserve.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, inspect, select

from ledger.clock import to_us
from ledger.tables import entry_t
from payroll.rendering import html_to_pdf, render_template
from wallet.bank.service import unreconciled_lines
from wallet.bank.tables import report_monthly_t
from wallet.domain.chart import Category
from wallet.domain.errors import InvalidRequest, PermissionDenied
from wallet.domain.permissions import Action, Role, can, load_access, load_user, require
from wallet.domain.plans import load_lines, plan_figures
from wallet.domain.schedules import Period, add_months, prorate
from wallet.domain.tables import relationship_t, user_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import Wallet, change_in, load_wallet, statement_lines
from wallet.money import format_pence
from wallet.scheduler.store import add_notice

TEMPLATES = Path(__file__).parent / "templates"
LIST_LIMIT = 200
"""Payments without evidence and unreconciled lines listed in full up to this many (all are counted)."""


@dataclass(frozen=True)
class MoneyIn:
    funder: str
    received: int


@dataclass(frozen=True)
class MoneyOut:
    line: str
    funder: str
    planned: int
    spent: int
    in_plan: bool

    @property
    def left(self) -> int:
        return self.planned - self.spent


@dataclass(frozen=True)
class MissingEvidence:
    entry_id: str
    on: date
    description: str
    amount: int
    """Pence paid out (positive)."""


@dataclass(frozen=True)
class OpenBankLine:
    booked_on: date
    description: str
    amount: int
    status: str


@dataclass(frozen=True)
class MonthlyReport:
    wallet_id: str
    wallet_name: str
    reference: str | None
    holder: str
    month: date
    """The first day of the month reported."""
    generated_at: datetime
    money_in: tuple[MoneyIn, ...]
    money_out: tuple[MoneyOut, ...]
    balance: int
    """Money held at the end of the month, every funder together."""
    surplus_limit: int
    surplus_weeks: int
    contingency: int
    evidence_recorded: bool
    """False where this service keeps no evidence records: every payment is then listed as without evidence."""
    payments: int
    missing_evidence: tuple[MissingEvidence, ...]
    missing_evidence_count: int
    unreconciled: tuple[OpenBankLine, ...]
    unreconciled_count: int
    unreconciled_total: int

    @property
    def period(self) -> Period:
        return month_period(self.month)

    @property
    def last_day(self) -> date:
        return self.period.end - timedelta(days=1)

    @property
    def title(self) -> str:
        return f"Monthly report for {self.wallet_name}, {self.month:%B %Y}"

    @property
    def money_in_total(self) -> int:
        return sum(m.received for m in self.money_in)

    @property
    def planned_total(self) -> int:
        return sum(m.planned for m in self.money_out)

    @property
    def spent_total(self) -> int:
        return sum(m.spent for m in self.money_out)

    @property
    def above_limit(self) -> int:
        """How much the balance is over the surplus limit (0 when it is not)."""
        return max(0, self.balance - self.surplus_limit) if self.surplus_limit > self.contingency else 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["month"] = self.month.isoformat()
        data["generated_at"] = self.generated_at.isoformat()
        for item in data["missing_evidence"]:
            item["on"] = item["on"].isoformat()
        for item in data["unreconciled"]:
            item["booked_on"] = item["booked_on"].isoformat()
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> "MonthlyReport":
        d = dict(data)
        d["month"] = date.fromisoformat(d["month"])
        d["generated_at"] = datetime.fromisoformat(d["generated_at"])
        d["money_in"] = tuple(MoneyIn(**m) for m in d["money_in"])
        d["money_out"] = tuple(MoneyOut(**m) for m in d["money_out"])
        d["missing_evidence"] = tuple(MissingEvidence(**{**m, "on": date.fromisoformat(m["on"])})
                                      for m in d["missing_evidence"])
        d["unreconciled"] = tuple(OpenBankLine(**{**m, "booked_on": date.fromisoformat(m["booked_on"])})
                                  for m in d["unreconciled"])
        return MonthlyReport(**d)


def month_period(month: date) -> Period:
    first = month.replace(day=1)
    return Period(first, add_months(first, 1))


def parse_month(text: str | None, today: date) -> date:
    """'2026-04' -> 1 April 2026; nothing -> the month before today's. Refuses other text and future months."""
    if not text:
        return add_months(today.replace(day=1), -1)
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError):
        raise InvalidRequest("choose a month like 2026-04") from None
    if first > today.replace(day=1) or first.year < 2000:
        raise InvalidRequest("choose a month that has begun")
    return first


# ---------------------------------------------------------------------- gathering
def _payments_out(tx: Tx, wallet: Wallet, period: Period) -> list[MissingEvidence]:
    """Money paid out of the wallet in the period: payments and payroll settlements (not money moved between
    funders, not surplus repaid, not corrections)."""
    moved: dict[str, list[Any]] = {}
    for s in wallet.streams:
        for line in statement_lines(tx.ledger, wallet.chart.cash(s.code), period.opens_at,
                                    period.closes_at + timedelta(microseconds=1)):
            got = moved.setdefault(line.entry, [line.effective_at, 0, line.description])
            got[1] += line.amount
    ids = [e for e, (_, amount, _) in moved.items() if amount < 0]
    meta: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), 500):
        for r in tx.conn.execute(select(entry_t.c.uuid, entry_t.c.meta, entry_t.c.reverses_entry_id)
                                 .where(entry_t.c.uuid.in_(ids[i:i + 500]))):
            meta[r.uuid] = {} if r.reverses_entry_id is not None else dict(r.meta or {})
    out = []
    for e in ids:
        info = meta.get(e, {})
        if "payment_request" in info or "settles" in info:
            at, amount, description = moved[e]
            out.append(MissingEvidence(e, at.date(), description, -amount))
    out.sort(key=lambda m: (m.on, m.entry_id))
    return out


def entries_with_evidence(tx: Tx, wallet: Wallet, period: Period) -> set[str] | None:
    """The entries of the period that have evidence, or None where no evidence is recorded in this database.
    Evidence lives in ``wallet_evidence`` (``wallet.evidence``); an invoice's evidence counts for the entry that
    paid it."""
    if not inspect(tx.conn).has_table("wallet_evidence"):
        return None
    try:
        from wallet.evidence.service import evidence_in_period
    except ImportError:
        return None
    codes = [wallet.chart.cash(s.code) for s in wallet.streams]
    return {e.entry_id for e in evidence_in_period(tx.conn, wallet.id, codes, to_us(period.opens_at),
                                                   to_us(period.closes_at) + 1)}


def _surplus_limit(tx: Tx, row: Any, wallet: Wallet, month_end: date) -> int:
    lines = load_lines(tx, row)
    weeks = Period(month_end, month_end + timedelta(weeks=wallet.surplus_weeks))
    planned = sum(prorate(ln.planned_per_period, wallet.plan_period, wallet.plan_start, weeks)
                  for ln in lines if ln.category is not Category.CONTINGENCY)
    return planned + wallet.contingency_reserve


def gather(tx: Tx, row: Any, month: date) -> MonthlyReport:
    """Inside a transaction: the month's report, every figure read now."""
    wallet = load_wallet(tx, row)
    period = month_period(month)
    money_in = tuple(MoneyIn(s.label, change_in(tx.ledger, wallet.chart.funding(s.code), period))
                     for s in wallet.streams)
    plan = plan_figures(tx, row, period)
    money_out = tuple(MoneyOut(f.category.label, f.funder, f.planned, f.actual, f.line_id is not None)
                      for f in plan.lines)
    balance = sum(tx.ledger.balance_as_of(wallet.chart.cash(s.code), period.closes_at) for s in wallet.streams)
    paid = _payments_out(tx, wallet, period)
    evidenced = entries_with_evidence(tx, wallet, period)
    missing = [p for p in paid if evidenced is None or p.entry_id not in evidenced]
    open_lines = unreconciled_lines(tx, row, period.end - timedelta(days=1))
    holder = tx.conn.execute(select(user_t.c.name).where(user_t.c.id == row.holder_user_id)).scalar_one()
    return MonthlyReport(
        wallet.id, wallet.name, wallet.reference, holder, period.start, tx.clock.now(), money_in, money_out,
        balance, _surplus_limit(tx, row, wallet, period.end), wallet.surplus_weeks, wallet.contingency_reserve,
        evidenced is not None, len(paid), tuple(missing[:LIST_LIMIT]), len(missing),
        tuple(OpenBankLine(r.booked_on, r.description, r.amount, r.status) for r in open_lines[:LIST_LIMIT]),
        len(open_lines), sum(r.amount for r in open_lines))


def _guard(tx: Tx, actor: str, row: Any) -> None:
    if actor == SYSTEM:
        return
    user = load_user(tx, actor)
    if user is None or not can(user, Action.VIEW_TRANSACTIONS, load_access(tx, row, user.id)):
        raise PermissionDenied(actor, Action.VIEW_TRANSACTIONS.value, row.uuid)


def monthly_report(uow: UnitOfWork, wallet_id: str, month: date, *, actor: str) -> MonthlyReport:
    """The report for ``month``, worked out now. Needs ``view_transactions`` (the page visit is logged by the
    view that asks)."""

    def work(tx: Tx) -> MonthlyReport:
        row = tx.wallet_row(wallet_id)
        _guard(tx, actor, row)
        return gather(tx, row, month.replace(day=1))

    return uow.read(work)


def sent_report(uow: UnitOfWork, wallet_id: str, month: date, *, actor: str) -> MonthlyReport | None:
    """The report as it was sent for ``month``, if it was."""

    def work(tx: Tx) -> MonthlyReport | None:
        row = tx.wallet_row(wallet_id)
        _guard(tx, actor, row)
        found = tx.conn.execute(select(report_monthly_t.c.figures).where(and_(
            report_monthly_t.c.wallet_id == row.id, report_monthly_t.c.month == month.replace(day=1)))).first()
        return MonthlyReport.from_json(found.figures) if found else None

    return uow.read(work)


def recipients(tx: Tx, row: Any) -> list[tuple[str, str, Role]]:
    """(user id, name, role) of the holder and every appointee with an active relationship."""
    rows = tx.conn.execute(
        select(user_t.c.uuid, user_t.c.name, relationship_t.c.role)
        .join(user_t, user_t.c.id == relationship_t.c.user_id)
        .where(and_(relationship_t.c.wallet_id == row.id, relationship_t.c.revoked_us.is_(None),
                    relationship_t.c.role.in_([Role.HOLDER.value, Role.APPOINTEE.value])))
        .order_by(relationship_t.c.id))
    seen: dict[str, tuple[str, str, Role]] = {}
    for r in rows:
        seen.setdefault(r.uuid, (r.uuid, r.name, Role(r.role)))
    return list(seen.values())


def summary_words(report: MonthlyReport) -> str:
    over = (f" That is {format_pence(report.above_limit)} above the council's limit of "
            f"{format_pence(report.surplus_limit)}." if report.above_limit else "")
    return (f"{report.month:%B %Y}: {format_pence(report.money_in_total)} came in and "
            f"{format_pence(report.spent_total)} was spent against {format_pence(report.planned_total)} planned; "
            f"{format_pence(report.balance)} was held at the end of the month.{over} "
            f"{report.missing_evidence_count} payment{'s' if report.missing_evidence_count != 1 else ''} without "
            f"evidence, {report.unreconciled_count} bank line{'s' if report.unreconciled_count != 1 else ''} "
            "not reconciled.")


def send_monthly_report(uow: UnitOfWork, wallet_id: str, month: date, *, actor: str = SYSTEM,
                        key: str | None = None) -> list[str]:
    """Keep the month's report as sent and leave a notice for the holder and each appointee, once each (a
    second send of the same month changes nothing). Returns the user ids a new notice was left for."""

    def work(tx: Tx) -> list[str]:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"send monthly report {month:%Y-%m}", system_allowed=True)
        first = month.replace(day=1)
        stored = tx.conn.execute(select(report_monthly_t.c.figures).where(and_(
            report_monthly_t.c.wallet_id == row.id, report_monthly_t.c.month == first))).first()
        if stored is None:
            report = gather(tx, row, first)
            tx.conn.execute(report_monthly_t.insert(), dict(
                uuid=tx.new_id(), wallet_id=row.id, month=first, figures=report.to_json(), generated_by=actor,
                generated_us=tx.now_us()))
        else:
            report = MonthlyReport.from_json(stored.figures)
        sent = []
        for user_id, name, role in recipients(tx, row):
            made = add_notice(
                tx.conn, key=f"{key or 'monthly_report'}:{row.uuid}:{first:%Y-%m}:{user_id}", kind="monthly_report",
                subject=row.uuid, due_on=month_period(first).end,
                message=f"For {name}: the monthly report for {report.wallet_name} is ready. {summary_words(report)}",
                details={"wallet": row.uuid, "month": first.isoformat(), "recipient": user_id,
                         "role": role.value}, now_us=tx.now_us())
            if made:
                sent.append(user_id)
        return sent

    return uow.write(work)


# ---------------------------------------------------------------------- documents
def render_html(report: MonthlyReport) -> str:
    return render_template(TEMPLATES, "monthly.html", r=report)


def render_pdf(report: MonthlyReport) -> bytes:
    """The report as a tagged PDF (PDF/UA-1): headings, table headers, title and language."""
    return html_to_pdf(render_html(report), base_url=TEMPLATES)


def months_to_offer(wallet: Wallet, today: date, count: int = 12) -> list[date]:
    """The months a person can choose: from this one back, not before the wallet's plan began."""
    first = today.replace(day=1)
    earliest = wallet.plan_start.replace(day=1)
    out = []
    for k in range(count):
        m = add_months(first, -k)
        if m < earliest:
            break
        out.append(m)
    return out


__all__ = ["MonthlyReport", "MoneyIn", "MoneyOut", "MissingEvidence", "OpenBankLine", "month_period", "parse_month",
           "gather", "monthly_report", "sent_report", "send_monthly_report", "render_html", "render_pdf",
           "entries_with_evidence", "recipients", "summary_words", "months_to_offer"]

"""A finalised pay run, turned into the wallet's ledger entries; then paying the PAs, HMRC and the pension.

Payroll computes figures and knows nothing of the ledger; this module is where they meet. Posting a run is one
entry in the wallet's book, dated the run's payment date::

    Dr spend:pa_wages:<s>   gross + expenses + employer NI (after Employment Allowance) + employer pension
    Cr wages-payable        net pay
    Cr hmrc-payable         tax + employee NI + employer NI after Employment Allowance + student loans
    Cr pension-payable      employee + employer pension contributions

so the wages expense counts against the plan's PA wages line (and its funder) when the run is final, and
the payables show what is owed until it is paid. Posting is idempotent by run id: posting the same run again
changes nothing (posting different figures under the same id is refused). An adjustment run (``corrects`` set)
carries the differences, as an RTI correction does: its figures (which may be negative) are posted as one more
entry, charged to the same funder as the run it corrects, which must have been posted first.

Settling moves money out of the funder's cash and clears a payable: net pay to each PA, the run's HMRC amount,
the run's pension contributions. Each is idempotent by (run, what, PA). A figure that is not above zero (an
adjustment that recovers an overpayment) has nothing to pay: it stays in the payable, to come off the next
payment.
"""
from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, select

from ledger.model import EntryRequest, Posting
from payroll.model import PayRun, PayRunStatus
from wallet.domain.chart import Category
from wallet.domain.errors import (Conflict, CorrectedRunNotPosted, FundingStreamNeeded, PayRunChanged,
                                  PayRunDoesNotBalance, PayRunNotFinalised, UnknownPayRun, WrongEmployer)
from wallet.domain.permissions import Action, require
from wallet.domain.plans import load_lines
from wallet.domain.schedules import start_of
from wallet.domain.tables import funding_stream_t, pay_run_line_t, pay_run_posting_t, settlement_t
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.domain.wallets import FundingStream, Wallet, key_part, load_wallet, spending_money, stream_pk


class SettlementKind(str, enum.Enum):
    NET_PAY = "net_pay"
    HMRC = "hmrc"
    PENSION = "pension"


@dataclass(frozen=True)
class PayRunFigures:
    """What a run puts in the books. ``wages_expense == net_pay + hmrc + pension`` always."""

    wages_expense: int
    net_pay: int
    hmrc: int
    pension: int
    net_pay_by_employee: dict[str, int]


@dataclass(frozen=True)
class Settlement:
    id: str
    run_id: str
    kind: SettlementKind
    employee_id: str | None
    amount: int
    entry_id: str
    paid_on: date


@dataclass(frozen=True)
class PayRunPosting:
    run_id: str
    wallet_id: str
    corrects: str | None
    stream_id: str
    payment_date: date
    entry_id: str | None
    """None when every figure of the run was zero (nothing to post)."""
    figures: PayRunFigures
    settlements: tuple[Settlement, ...] = ()


def pay_run_figures(run: PayRun) -> PayRunFigures:
    """The run's ledger figures from its payslips (and Employment Allowance from its summary). Refuses a run
    whose payslips, or whose summary, do not add up."""
    net_by_employee: dict[str, int] = {}
    gross = expenses = tax = ee_ni = er_ni = loans = ee_pension = er_pension = net = 0
    for p in run.payslips:
        deducted = p.tax + p.employee_ni + p.student_loan + p.postgraduate_loan + p.pension_employee
        if p.gross_pay + p.expenses - deducted != p.net_pay:
            raise PayRunDoesNotBalance(
                f"payslip {p.id}: gross pay {p.gross_pay} plus expenses {p.expenses} less deductions {deducted} "
                f"is {p.gross_pay + p.expenses - deducted}, not the net pay {p.net_pay}")
        gross += p.gross_pay
        expenses += p.expenses
        tax += p.tax
        ee_ni += p.employee_ni
        er_ni += p.employer_ni
        loans += p.student_loan + p.postgraduate_loan
        ee_pension += p.pension_employee
        er_pension += p.pension_employer
        net += p.net_pay
        net_by_employee[p.employee_id] = net_by_employee.get(p.employee_id, 0) + p.net_pay
    allowance = 0
    s = run.summary
    if s is not None:
        theirs = (s.gross_pay, s.expenses, s.tax, s.employee_ni, s.employer_ni, s.student_loans, s.employer_pension,
                  s.net_pay)
        ours = (gross, expenses, tax, ee_ni, er_ni, loans, er_pension, net)
        if theirs != ours:
            names = ("gross pay", "expenses", "tax", "employee NI", "employer NI", "student loans",
                     "employer pension", "net pay")
            wrong = [f"{n} {t} (payslips say {o})" for n, t, o in zip(names, theirs, ours) if t != o]
            raise PayRunDoesNotBalance(f"pay run {run.id}: its summary does not match its payslips: "
                                       + "; ".join(wrong))
        allowance = s.employment_allowance_used
        if allowance < 0 or (allowance > 0 and allowance > er_ni):
            raise PayRunDoesNotBalance(f"pay run {run.id}: Employment Allowance {allowance} is more than the "
                                       f"employer NI {er_ni} it is set against")
    hmrc = tax + ee_ni + loans + er_ni - allowance
    pension = ee_pension + er_pension
    expense = gross + expenses + er_ni - allowance + er_pension   # == net + hmrc + pension, as every payslip balances
    return PayRunFigures(expense, net, hmrc, pension, dict(sorted(net_by_employee.items())))


def _fingerprint(run: PayRun, figures: PayRunFigures) -> str:
    body = json.dumps({"run": run.id, "corrects": run.corrects, "payment_date": run.payment_date.isoformat(),
                       "figures": [figures.wages_expense, figures.net_pay, figures.hmrc, figures.pension],
                       "net": figures.net_pay_by_employee}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


# ---------------------------------------------------------------------- reading
def _posting_row(tx: Tx, wallet_row: Any, run_id: str) -> Any:
    row = tx.conn.execute(select(pay_run_posting_t).where(and_(
        pay_run_posting_t.c.run_id == run_id, pay_run_posting_t.c.wallet_id == wallet_row.id))).first()
    if row is None:
        raise UnknownPayRun(f"pay run {run_id} has not been posted to this wallet")
    return row


def _load_posting(tx: Tx, wallet: Wallet, row: Any) -> PayRunPosting:
    stream_uuid = tx.conn.execute(select(funding_stream_t.c.uuid)
                                  .where(funding_stream_t.c.id == row.stream_id)).scalar_one()
    nets = {r.employee_id: r.net_pay for r in tx.conn.execute(
        select(pay_run_line_t).where(pay_run_line_t.c.posting_id == row.id).order_by(pay_run_line_t.c.employee_id))}
    settled = tuple(
        Settlement(s.uuid, row.run_id, SettlementKind(s.kind), s.employee_id or None, s.amount, s.entry_id, s.paid_on)
        for s in tx.conn.execute(select(settlement_t).where(settlement_t.c.posting_id == row.id)
                                 .order_by(settlement_t.c.id)))
    return PayRunPosting(row.run_id, wallet.id, row.corrects, stream_uuid, row.payment_date, row.entry_id,
                         PayRunFigures(row.wages_expense, row.net_pay, row.hmrc, row.pension, nets), settled)


def pay_run_postings(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[PayRunPosting]:
    def work(tx: Tx) -> list[PayRunPosting]:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, "pay runs", system_allowed=True)
        wallet = load_wallet(tx, row)
        return [_load_posting(tx, wallet, r) for r in tx.conn.execute(
            select(pay_run_posting_t).where(pay_run_posting_t.c.wallet_id == row.id).order_by(pay_run_posting_t.c.id))]

    return uow.write(work)


# ---------------------------------------------------------------------- posting
def _payroll_stream(tx: Tx, wallet: Wallet, wallet_row: Any, stream_id: str | None,
                    corrected: Any | None) -> FundingStream:
    if stream_id is not None:
        return wallet.stream(stream_id)
    if corrected is not None:
        uuid = tx.conn.execute(select(funding_stream_t.c.uuid)
                               .where(funding_stream_t.c.id == corrected.stream_id)).scalar_one()
        return wallet.stream(uuid)
    for line in load_lines(tx, wallet_row):
        if line.category is Category.PA_WAGES:
            return wallet.stream(line.stream_id)
    if len(wallet.streams) == 1:
        return wallet.streams[0]
    raise FundingStreamNeeded("the plan has no PA wages line: say which funder pays for this pay run")


def post_pay_run(uow: UnitOfWork, wallet_id: str, run: PayRun, *, actor: str,
                 stream_id: str | None = None) -> PayRunPosting:
    """Post a finalised pay run (or an adjustment run) into the wallet's books. Idempotent by run id."""
    if PayRunStatus(run.status) is not PayRunStatus.FINALISED:
        raise PayRunNotFinalised(f"pay run {run.id} is {PayRunStatus(run.status).value}; only a finalised run "
                                 "is posted to the books")
    figures = pay_run_figures(run)
    fingerprint = _fingerprint(run, figures)

    def work(tx: Tx) -> PayRunPosting:
        wallet_row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.RUN_PAYROLL, wallet_row, f"post pay run {run.id}", system_allowed=True)
        wallet = load_wallet(tx, wallet_row)
        if wallet.payroll_employer_id and wallet.payroll_employer_id != run.employer_id:
            raise WrongEmployer(f"pay run {run.id} is for employer {run.employer_id}, not this wallet's "
                                f"employer {wallet.payroll_employer_id}")
        prior = tx.conn.execute(select(pay_run_posting_t).where(pay_run_posting_t.c.run_id == run.id)).first()
        if prior is not None:
            if prior.wallet_id != wallet_row.id:
                raise Conflict(f"pay run {run.id} was posted to another wallet")
            if prior.fingerprint != fingerprint:
                raise PayRunChanged(f"pay run {run.id} was posted before with different figures; correct it "
                                    "with an adjustment run")
            return _load_posting(tx, wallet, prior)
        corrected = None
        if run.corrects is not None:
            corrected = tx.conn.execute(select(pay_run_posting_t).where(and_(
                pay_run_posting_t.c.run_id == run.corrects, pay_run_posting_t.c.wallet_id == wallet_row.id))).first()
            if corrected is None:
                raise CorrectedRunNotPosted(f"adjustment run {run.id} corrects pay run {run.corrects}, which has "
                                            "not been posted to this wallet")
        stream = _payroll_stream(tx, wallet, wallet_row, stream_id, corrected)
        chart, cur = wallet.chart, wallet.currency
        signed = [(chart.spend(Category.PA_WAGES, stream.code), figures.wages_expense),
                  (chart.wages_payable, -figures.net_pay), (chart.hmrc_payable, -figures.hmrc),
                  (chart.pension_payable, -figures.pension)]
        postings = tuple(Posting(code, amount, cur) for code, amount in signed if amount)
        entry_id = None
        if postings:
            what = "Adjustment to pay run" if run.corrects else "Pay run"
            entry_id = tx.ledger.post(EntryRequest(
                key=f"{wallet.book}:payrun:{key_part(run.id)}", postings=postings,
                description=f"{what}: {run.tax_year} {run.frequency} period {run.period}, paid {run.payment_date}",
                reference=run.id, effective_at=start_of(run.payment_date), actor=actor,
                metadata={"wallet": wallet.id, "stream": stream.id, "pay_run": run.id, "corrects": run.corrects,
                          "tax_year": run.tax_year, "period": run.period})).id
        posting_pk = tx.conn.execute(pay_run_posting_t.insert().returning(pay_run_posting_t.c.id), dict(
            wallet_id=wallet_row.id, run_id=run.id, corrects=run.corrects, stream_id=stream_pk(tx, stream.id),
            payment_date=run.payment_date, entry_id=entry_id, wages_expense=figures.wages_expense,
            net_pay=figures.net_pay, hmrc=figures.hmrc, pension=figures.pension, fingerprint=fingerprint,
            posted_us=tx.now_us())).scalar_one()
        if figures.net_pay_by_employee:
            tx.conn.execute(pay_run_line_t.insert(), [
                dict(posting_id=posting_pk, employee_id=e, net_pay=n) for e, n in figures.net_pay_by_employee.items()])
        return _load_posting(tx, wallet, _posting_row(tx, wallet_row, run.id))

    return uow.write(work)


# ---------------------------------------------------------------------- paying out
def _settle_one(tx: Tx, wallet: Wallet, posting: Any, stream: FundingStream, kind: SettlementKind,
                employee_id: str, amount: int, paid_on: date, actor: str) -> None:
    if amount <= 0:
        return
    done = tx.conn.execute(select(settlement_t.c.id).where(and_(
        settlement_t.c.posting_id == posting.id, settlement_t.c.kind == kind.value,
        settlement_t.c.employee_id == employee_id))).first()
    if done is not None:
        return
    chart = wallet.chart
    payable = {SettlementKind.NET_PAY: chart.wages_payable, SettlementKind.HMRC: chart.hmrc_payable,
               SettlementKind.PENSION: chart.pension_payable}[kind]
    text = {SettlementKind.NET_PAY: f"Net pay to employee {employee_id}",
            SettlementKind.HMRC: "Tax and National Insurance paid to HMRC",
            SettlementKind.PENSION: "Pension contributions paid"}[kind]
    suffix = f":{key_part(employee_id)}" if employee_id else ""
    entry = spending_money(tx, wallet, stream, lambda: tx.ledger.transfer(
        f"{wallet.book}:settle:{key_part(posting.run_id)}:{kind.value}{suffix}", payable, chart.cash(stream.code),
        amount, currency=wallet.currency, description=f"{text} (pay run {posting.run_id})", reference=posting.run_id,
        effective_at=start_of(paid_on), actor=actor,
        metadata={"wallet": wallet.id, "stream": stream.id, "pay_run": posting.run_id, "settles": kind.value}))
    tx.conn.execute(settlement_t.insert(), dict(
        uuid=tx.new_id(), posting_id=posting.id, kind=kind.value, employee_id=employee_id, amount=amount,
        entry_id=entry.id, paid_on=paid_on, settled_by=actor, settled_us=tx.now_us()))


def _settle(uow: UnitOfWork, wallet_id: str, run_id: str, kinds: tuple[SettlementKind, ...], actor: str,
            paid_on: date | None, employee_id: str | None = None) -> PayRunPosting:
    def work(tx: Tx) -> PayRunPosting:
        wallet_row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.RUN_PAYROLL, wallet_row,
                f"pay {', '.join(k.value for k in kinds)} for pay run {run_id}", system_allowed=True)
        wallet = load_wallet(tx, wallet_row)
        posting = _posting_row(tx, wallet_row, run_id)
        stream_uuid = tx.conn.execute(select(funding_stream_t.c.uuid)
                                      .where(funding_stream_t.c.id == posting.stream_id)).scalar_one()
        stream = wallet.stream(stream_uuid)
        when = paid_on or tx.clock.now().date()
        for kind in kinds:
            if kind is SettlementKind.NET_PAY:
                lines = tx.conn.execute(select(pay_run_line_t).where(pay_run_line_t.c.posting_id == posting.id)
                                        .order_by(pay_run_line_t.c.employee_id)).all()
                if employee_id is not None:
                    lines = [ln for ln in lines if ln.employee_id == employee_id]
                    if not lines:
                        raise UnknownPayRun(f"employee {employee_id} is not paid in pay run {run_id}")
                for ln in lines:
                    _settle_one(tx, wallet, posting, stream, kind, ln.employee_id, ln.net_pay, when, actor)
            else:
                amount = posting.hmrc if kind is SettlementKind.HMRC else posting.pension
                _settle_one(tx, wallet, posting, stream, kind, "", amount, when, actor)
        return _load_posting(tx, wallet, posting)

    return uow.write(work)


def settle_net_pay(uow: UnitOfWork, wallet_id: str, run_id: str, *, actor: str, paid_on: date | None = None,
                   employee_id: str | None = None) -> PayRunPosting:
    """Pay each PA (or one) their net pay from the run's funder: wages payable down, cash down."""
    return _settle(uow, wallet_id, run_id, (SettlementKind.NET_PAY,), actor, paid_on, employee_id)


def settle_hmrc(uow: UnitOfWork, wallet_id: str, run_id: str, *, actor: str,
                paid_on: date | None = None) -> PayRunPosting:
    """Pay HMRC the run's tax, NI and student loans."""
    return _settle(uow, wallet_id, run_id, (SettlementKind.HMRC,), actor, paid_on)


def settle_pension(uow: UnitOfWork, wallet_id: str, run_id: str, *, actor: str,
                   paid_on: date | None = None) -> PayRunPosting:
    """Pay the pension provider both shares of the run's contributions."""
    return _settle(uow, wallet_id, run_id, (SettlementKind.PENSION,), actor, paid_on)


def settle_pay_run(uow: UnitOfWork, wallet_id: str, run_id: str, *, actor: str,
                   paid_on: date | None = None) -> PayRunPosting:
    """Net pay, HMRC and pension for a run, in one transaction: all paid, or (not enough money) none."""
    return _settle(uow, wallet_id, run_id, tuple(SettlementKind), actor, paid_on)

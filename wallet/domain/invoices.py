"""Provider invoices: an agency's or supplier's invoice, checked against what was agreed, approved, paid.

What was agreed lives in ``wallet_provider_rate``: for one payee and one support-plan line, the hourly rate
(pence) and the hours a plan period. An invoice names the payee, the plan line, its number and date, the days
it covers, the hours, the rate and the amount, and is checked (:func:`check_invoice`, pure) for:

* ``rate_rise``: a rate above the agreed one;
* ``hours_beyond_plan``: more hours than the plan allows for the days invoiced (the agreed hours a period,
  pro-rated day by day over the plan periods the invoice touches, as planned money is);
* ``no_agreed_rate``: nothing agreed to check against;
* ``amount_not_hours_times_rate``: the amount is not the hours times the rate (rounded half up to pence);
* ``overlaps_another_invoice``: another live invoice from the same payee on the same line covers some of the
  same days.

An invoice is paid the way every payment is (``wallet.domain.payments``): recording it asks for a payment, in
the same transaction, from the plan line's funder for the line's category. The ordinary rules decide whether a
second person must approve (on someone's behalf, a new payee, outside the plan, above the threshold) and an
invoice with any flag always waits (``ApprovalReason.INVOICE_CHECK``). While it waits the money is held; a
second person approves (never the person who recorded it) or rejects it with a reason, here or in the approvals
inbox. Approval posts the spending; then whoever pays providers marks the invoice paid, with the date and the
bank reference of the transfer. The invoice's state is read from its payment request, so the two never disagree.

The same payee, invoice number (compared on its letters and digits, any case) and amount are refused a second time with a
plain message, by a check here and by a unique constraint in the database.

The invoice document, if given, is kept as evidence (``wallet.evidence``) and its SHA-256 is written into the
payment's ledger metadata, so the ledger entry that pays the invoice carries the hash of the document it paid.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, BinaryIO

from sqlalchemy import and_, select, update

from ledger.clock import from_us
from wallet.domain import payments, supplier_payables
from wallet.domain.chart import Category
from wallet.domain.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from wallet.domain.payees import PayeeKind, payee_row
from wallet.domain.permissions import Action, can, load_access, load_user, require
from wallet.domain.schedules import PlanPeriod, Period, prorate
from wallet.domain.tables import (budget_line_t, funding_stream_t, invoice_t, payee_t, payment_request_t,
                                  provider_rate_t)
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork, _BoundDatabase
from wallet.domain.wallets import check_pence, load_wallet
from wallet.evidence.service import Evidence, EvidenceKind, append_record, invoice_evidence
from wallet.evidence.storage import EvidenceStore

MAX_HOURS = Decimal(5000)
MAX_DAYS = 366
_HUNDRED = Decimal(100)


class InvoiceFlag(str, enum.Enum):
    RATE_RISE = "rate_rise"
    HOURS_BEYOND_PLAN = "hours_beyond_plan"
    NO_AGREED_RATE = "no_agreed_rate"
    AMOUNT_NOT_HOURS_TIMES_RATE = "amount_not_hours_times_rate"
    OVERLAPS_ANOTHER_INVOICE = "overlaps_another_invoice"


class InvoiceStatus(str, enum.Enum):
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    """Approved and posted in the books; the transfer to the provider is still to be made."""
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class DuplicateInvoice(Conflict):
    def __init__(self, number: str, payee: str, recorded: date):
        super().__init__(f"invoice {number} from {payee} for this amount was already recorded on "
                         f"{recorded.day} {recorded:%B %Y}; the same invoice cannot be paid twice")


class UnknownInvoice(NotFound):
    pass


class InvoiceNotApproved(InvalidRequest):
    pass


@dataclass(frozen=True)
class ProviderRate:
    id: str
    wallet_id: str
    payee_id: str
    budget_line_id: str
    hourly_rate: int
    hours_per_period: Decimal


@dataclass(frozen=True)
class Invoice:
    id: str
    wallet_id: str
    payee_id: str
    payee_name: str
    budget_line_id: str
    category: Category
    number: str
    invoice_date: date
    period_start: date
    period_end: date
    """The last day invoiced (included)."""
    hours: Decimal
    hourly_rate: int
    amount: int
    agreed_rate: int | None
    allowed_hours: Decimal | None
    flags: tuple[InvoiceFlag, ...]
    status: InvoiceStatus
    payment_request_id: str
    approval_reasons: tuple[str, ...]
    entry_id: str | None
    """The ledger entry that posted the payment (once approved)."""
    recorded_by: str
    recorded_at: datetime
    paid_on: date | None
    paid_reference: str | None
    paid_by: str | None
    evidence: tuple[Evidence, ...] = ()

    @property
    def needs_approval(self) -> bool:
        return bool(self.approval_reasons)


# ---------------------------------------------------------------------- the checks, pure
def parse_hours(value: Any, what: str = "the hours") -> Decimal:
    """Hours as a Decimal of at most two places, more than zero, from text, a Decimal or a whole number (nothing
    inexact: a binary fraction is refused, not rounded)."""
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        raise InvalidRequest(f"{what} must be written as a number like 37.5")
    try:
        hours = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidRequest(f"{what} must be a number, like 37.5") from None
    if not hours.is_finite() or hours <= 0:
        raise InvalidRequest(f"{what} must be more than zero")
    if hours != hours.quantize(Decimal("0.01")):
        raise InvalidRequest(f"{what} can have at most two decimal places")
    if hours > MAX_HOURS:
        raise InvalidRequest(f"{what} must be {MAX_HOURS} or fewer")
    return hours.quantize(Decimal("0.01"))


def hours_text(hours: Decimal) -> str:
    """37.50 -> '37.5', 40.00 -> '40': how hours are stored and shown."""
    return format(hours.normalize(), "f")


def allowed_hours(hours_per_period: Decimal, plan_period: PlanPeriod, plan_start: date, first_day: date,
                  last_day: date) -> Decimal:
    """The plan's hours for the days invoiced: the agreed hours a period, pro-rated day by day over each plan
    period the days touch (rounded half up to hundredths of an hour, as ``prorate`` rounds pence)."""
    hundredths = int((hours_per_period * _HUNDRED).to_integral_value(rounding=ROUND_HALF_UP))
    return Decimal(prorate(hundredths, plan_period, plan_start, Period(first_day, last_day + timedelta(days=1)))) \
        / _HUNDRED


def expected_amount(hours: Decimal, hourly_rate: int) -> int:
    return int((hours * Decimal(hourly_rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check_invoice(*, hours: Decimal, hourly_rate: int, amount: int, agreed_rate: int | None,
                  allowance: Decimal | None, overlaps: bool) -> tuple[InvoiceFlag, ...]:
    """What is wrong with an invoice, against what was agreed (nothing: an empty tuple)."""
    flags = []
    if agreed_rate is None or allowance is None:
        flags.append(InvoiceFlag.NO_AGREED_RATE)
    else:
        if hourly_rate > agreed_rate:
            flags.append(InvoiceFlag.RATE_RISE)
        if hours > allowance:
            flags.append(InvoiceFlag.HOURS_BEYOND_PLAN)
    if amount != expected_amount(hours, hourly_rate):
        flags.append(InvoiceFlag.AMOUNT_NOT_HOURS_TIMES_RATE)
    if overlaps:
        flags.append(InvoiceFlag.OVERLAPS_ANOTHER_INVOICE)
    return tuple(flags)


def number_key(number: str) -> str:
    """How invoice numbers are compared for duplicates: letters and digits only, upper case ("inv 001",
    "INV-001" and "INV/001" are one number). The amount must match too, so a rare clash of two numbers that
    differ only in punctuation is not refused unless the amounts agree as well."""
    key = re.sub(r"[^0-9A-Za-z]", "", number).upper()
    return key or number.strip().upper()


# ---------------------------------------------------------------------- agreed rates
def _line_row(tx: Tx, wallet_row: Any, line_id: str) -> Any:
    row = tx.conn.execute(
        select(budget_line_t, funding_stream_t.c.uuid.label("stream_uuid"))
        .join(funding_stream_t, funding_stream_t.c.id == budget_line_t.c.stream_id)
        .where(and_(budget_line_t.c.uuid == line_id, budget_line_t.c.wallet_id == wallet_row.id))).first()
    if row is None:
        raise InvalidRequest("choose one of the lines of this wallet's support plan")
    return row


def _provider(tx: Tx, wallet_row: Any, payee_id: str) -> Any:
    payee = payee_row(tx, wallet_row, payee_id)
    if payee.kind == PayeeKind.PA.value:
        raise InvalidRequest(f"{payee.name} is a personal assistant, paid through payroll, not by invoice")
    return payee


def set_agreed_rate(uow: UnitOfWork, wallet_id: str, *, payee_id: str, budget_line_id: str, hourly_rate: int,
                    hours_per_period: Decimal | str, actor: str) -> ProviderRate:
    """Record (or change) the hourly rate and hours a plan period agreed with a provider for one plan line.
    Needs ``manage_payees``."""
    check_pence(hourly_rate, "the agreed hourly rate")
    hours = parse_hours(hours_per_period, "the agreed hours a plan period")

    def work(tx: Tx) -> ProviderRate:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_PAYEES, row,
                f"agree {hourly_rate}p an hour, {hours_text(hours)} hours a period with {payee_id}",
                system_allowed=True)
        payee = _provider(tx, row, payee_id)
        line = _line_row(tx, row, budget_line_id)
        existing = tx.conn.execute(select(provider_rate_t).where(and_(
            provider_rate_t.c.payee_id == payee.id, provider_rate_t.c.budget_line_id == line.id))).first()
        values = dict(hourly_rate=hourly_rate, hours_per_period=hours_text(hours), set_by=actor,
                      set_us=tx.now_us())
        if existing is None:
            rate_id = tx.new_id()
            tx.conn.execute(provider_rate_t.insert(), dict(uuid=rate_id, wallet_id=row.id, payee_id=payee.id,
                                                           budget_line_id=line.id, **values))
        else:
            rate_id = existing.uuid
            tx.conn.execute(update(provider_rate_t).where(provider_rate_t.c.id == existing.id).values(**values))
        return ProviderRate(rate_id, row.uuid, payee.uuid, line.uuid, hourly_rate, hours)

    return uow.write(work)


def agreed_rates(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[ProviderRate]:
    def work(tx: Tx) -> list[ProviderRate]:
        row = tx.wallet_row(wallet_id)
        _check_any(tx, actor, row, Action.VIEW_TRANSACTIONS, Action.REQUEST_PAYMENT)
        rows = tx.conn.execute(
            select(provider_rate_t, payee_t.c.uuid.label("payee_uuid"), budget_line_t.c.uuid.label("line_uuid"))
            .join(payee_t, payee_t.c.id == provider_rate_t.c.payee_id)
            .join(budget_line_t, budget_line_t.c.id == provider_rate_t.c.budget_line_id)
            .where(provider_rate_t.c.wallet_id == row.id).order_by(provider_rate_t.c.id))
        return [ProviderRate(r.uuid, row.uuid, r.payee_uuid, r.line_uuid, r.hourly_rate,
                             Decimal(r.hours_per_period)) for r in rows]

    return uow.read(work)


# ---------------------------------------------------------------------- recording an invoice
def _within(tx: Tx) -> UnitOfWork:
    """A unit of work whose writes are savepoints of ``tx``: another service's call joins this transaction
    (the payment request and the invoice are one fact)."""
    return UnitOfWork(_BoundDatabase(tx.conn), clock=tx.clock, ids=tx.ids)


def record_invoice(uow: UnitOfWork, wallet_id: str, *, actor: str, payee_id: str, budget_line_id: str,
                   number: str, invoice_date: date, period_start: date, period_end: date, hours: Decimal | str,
                   hourly_rate: int, amount: int, document: BinaryIO | bytes | None = None,
                   document_name: str | None = None, store: EvidenceStore | None = None,
                   key: str | None = None) -> Invoice:
    """Record a provider's invoice and ask for its payment (see the module's description). Needs
    ``request_payment``. ``key`` (the caller's idempotency key) makes a repeat by the same person return the
    first invoice instead of refusing it as a duplicate."""
    number = (number or "").strip()
    if not number or len(number) > 100:
        raise InvalidRequest("an invoice needs its number (at most 100 characters)")
    for value, what in ((invoice_date, "invoice date"), (period_start, "first day invoiced"),
                        (period_end, "last day invoiced")):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidRequest(f"the {what} must be a date")
    if period_end < period_start:
        raise InvalidRequest("the last day invoiced must be on or after the first")
    if (period_end - period_start).days >= MAX_DAYS:
        raise InvalidRequest("one invoice can cover at most a year")
    hours = parse_hours(hours)
    check_pence(hourly_rate, "the hourly rate")
    check_pence(amount, "the amount")
    if document is not None and store is None:
        raise InvalidRequest("there is nowhere to keep the invoice document")
    if document is not None and not _may_any(uow, actor, wallet_id, Action.REQUEST_PAYMENT):
        uow.write(lambda tx: require(tx, actor, Action.REQUEST_PAYMENT, tx.wallet_row(wallet_id),
                                     f"record invoice {number}"))
    stored = store.put(document) if document is not None and store is not None else None

    def work(tx: Tx) -> Invoice:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.REQUEST_PAYMENT, row, f"record invoice {number} for {amount} from {payee_id}")
        if invoice_date > tx.clock.now().date():
            raise InvalidRequest("the invoice date cannot be in the future")
        payee = _provider(tx, row, payee_id)
        line = _line_row(tx, row, budget_line_id)
        client_key = f"invoice-{key}"[:200] if key else None
        prior = tx.conn.execute(
            select(invoice_t, payment_request_t.c.client_key)
            .join(payment_request_t, payment_request_t.c.id == invoice_t.c.payment_request_id)
            .where(and_(invoice_t.c.payee_id == payee.id, invoice_t.c.number_key == number_key(number),
                        invoice_t.c.amount == amount))).first()
        if prior is not None:
            if client_key is not None and prior.client_key == client_key and prior.recorded_by == actor:
                return _load(tx, row, [prior.id])[0]
            raise DuplicateInvoice(number, payee.name, from_us(prior.recorded_us).date())
        agreed = tx.conn.execute(select(provider_rate_t).where(and_(
            provider_rate_t.c.payee_id == payee.id, provider_rate_t.c.budget_line_id == line.id))).first()
        wallet = load_wallet(tx, row)
        allowance = None
        if agreed is not None:
            allowance = allowed_hours(Decimal(agreed.hours_per_period), wallet.plan_period, wallet.plan_start,
                                      period_start, period_end)
        overlaps = _overlapping(tx, payee.id, line.id, period_start, period_end)
        flags = check_invoice(hours=hours, hourly_rate=hourly_rate, amount=amount,
                              agreed_rate=agreed.hourly_rate if agreed is not None else None,
                              allowance=allowance, overlaps=overlaps)
        invoice_id = tx.new_id()
        meta: dict[str, Any] = {"invoice": invoice_id, "invoice_number": number}
        if stored is not None:
            meta["evidence"] = [{"sha256": stored.sha256, "kind": EvidenceKind.INVOICE.value}]
        request = payments.request_payment(
            _within(tx), wallet.id, actor=actor, payee_id=payee.uuid, amount=amount,
            category=Category(line.category), description=f"Invoice {number}"[:500], stream_id=line.stream_uuid,
            reference=number[:200], key=client_key or f"invoice-{invoice_id}",
            needs_approval=[payments.ApprovalReason.INVOICE_CHECK] if flags else [], metadata=meta)
        request_pk = tx.conn.execute(select(payment_request_t.c.id)
                                     .where(payment_request_t.c.uuid == request.id)).scalar_one()
        tx.conn.execute(invoice_t.insert(), dict(
            uuid=invoice_id, wallet_id=row.id, payee_id=payee.id, budget_line_id=line.id,
            payment_request_id=request_pk, number=number, number_key=number_key(number),
            invoice_date=invoice_date, period_start=period_start, period_end=period_end, hours=hours_text(hours),
            hourly_rate=hourly_rate, amount=amount, agreed_rate=agreed.hourly_rate if agreed is not None else None,
            allowed_hours=hours_text(allowance) if allowance is not None else None,
            flags=[f.value for f in flags], recorded_by=actor, recorded_us=tx.now_us(), paid_on=None,
            paid_reference=None, paid_by=None, paid_us=None))
        invoice_pk = tx.conn.execute(select(invoice_t.c.id).where(invoice_t.c.uuid == invoice_id)).scalar_one()
        if stored is not None:
            append_record(tx, row, stored=stored, kind=EvidenceKind.INVOICE, file_name=document_name,
                          actor=actor, entry_id=request.entry_id, invoice_pk=invoice_pk, invoice_uuid=invoice_id,
                          note=f"Invoice {number}")
        return _load(tx, row, [invoice_pk])[0]

    return uow.write(work)


def _overlapping(tx: Tx, payee_pk: int, line_pk: int, first: date, last: date) -> bool:
    """Is there a live invoice (not rejected or withdrawn) from this payee on this line covering any of these
    days?"""
    found = tx.conn.execute(
        select(invoice_t.c.id).join(payment_request_t, payment_request_t.c.id == invoice_t.c.payment_request_id)
        .where(and_(invoice_t.c.payee_id == payee_pk, invoice_t.c.budget_line_id == line_pk,
                    invoice_t.c.period_start <= last, invoice_t.c.period_end >= first,
                    payment_request_t.c.status.in_(["awaiting_approval", "paid"]))).limit(1)).first()
    return found is not None


# ---------------------------------------------------------------------- deciding and paying
def _invoice_row(tx: Tx, invoice_id: str, wallet_id: str | None = None) -> Any:
    q = select(invoice_t, payment_request_t.c.uuid.label("request_uuid")).join(
        payment_request_t, payment_request_t.c.id == invoice_t.c.payment_request_id).where(
        invoice_t.c.uuid == invoice_id)
    found = tx.conn.execute(q).first()
    if found is None or (wallet_id is not None and tx.wallet_row(wallet_id).id != found.wallet_id):
        raise UnknownInvoice(f"there is no invoice {invoice_id}" + (" in this wallet" if wallet_id else ""))
    return found


def approve_invoice(uow: UnitOfWork, wallet_id: str, invoice_id: str, *, actor: str,
                    note: str | None = None) -> Invoice:
    """A second person approves the invoice's payment (``payments.approve_payment``: never the person who
    recorded it): the held money is posted as spending."""
    row = uow.read(lambda tx: _invoice_row(tx, invoice_id, wallet_id))
    payments.approve_payment(uow, row.request_uuid, actor=actor, note=note)
    return get_invoice(uow, wallet_id, invoice_id, actor=actor)


def reject_invoice(uow: UnitOfWork, wallet_id: str, invoice_id: str, *, actor: str, reason: str) -> Invoice:
    """A second person rejects the invoice, saying why: the held money is released."""
    row = uow.read(lambda tx: _invoice_row(tx, invoice_id, wallet_id))
    payments.reject_payment(uow, row.request_uuid, actor=actor, reason=reason)
    return get_invoice(uow, wallet_id, invoice_id, actor=actor)


def mark_invoice_paid(uow: UnitOfWork, wallet_id: str, invoice_id: str, *, actor: str, paid_on: date,
                      reference: str | None = None) -> Invoice:
    """Record that the approved invoice was paid to the provider: the day and the bank transfer's reference.
    Needs ``request_payment``."""
    reference = (reference or "").strip() or None
    if reference is not None and len(reference) > 100:
        raise InvalidRequest("the payment reference must be 100 characters or fewer")
    if not isinstance(paid_on, date) or isinstance(paid_on, datetime):
        raise InvalidRequest("the day it was paid must be a date")

    def work(tx: Tx) -> Invoice:
        wallet = tx.wallet_row(wallet_id, lock=True)
        row = _invoice_row(tx, invoice_id, wallet_id)
        require(tx, actor, Action.REQUEST_PAYMENT, wallet, f"mark invoice {row.number} paid")
        if paid_on > tx.clock.now().date():
            raise InvalidRequest("the day it was paid cannot be in the future")
        status = tx.conn.execute(select(payment_request_t.c.status)
                                 .where(payment_request_t.c.id == row.payment_request_id)).scalar_one()
        if row.paid_on is not None:
            raise InvoiceNotApproved(f"invoice {row.number} was already marked paid on "
                                     f"{row.paid_on.day} {row.paid_on:%B %Y}")
        if status != "paid":
            raise InvoiceNotApproved(f"invoice {row.number} is {status.replace('_', ' ')}: only an approved "
                                     "invoice can be marked paid")
        bank = supplier_payables.bank_payment(tx, row.payment_request_id)
        if bank is not None and bank.paid_at is None:
            # the provider is paid by bank through a payment batch: it is paid when its batch line is confirmed
            raise InvoiceNotApproved(f"invoice {row.number} is approved and awaiting its bank payment: confirm "
                                     "the payment batch line that pays it")
        if bank is not None:
            paid_at = bank.paid_at.date()
            raise InvoiceNotApproved(f"invoice {row.number} was already marked paid on {paid_at.day} "
                                     f"{paid_at:%B %Y}, by its payment batch")
        done = tx.conn.execute(update(invoice_t).where(and_(invoice_t.c.id == row.id, invoice_t.c.paid_on.is_(None)))
                               .values(paid_on=paid_on, paid_reference=reference, paid_by=actor,
                                       paid_us=tx.now_us()))
        if done.rowcount != 1:
            raise InvoiceNotApproved(f"invoice {row.number} was already marked paid")
        return _load(tx, wallet, [row.id])[0]

    return uow.write(work)


# ---------------------------------------------------------------------- reading
def invoices(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[Invoice]:
    """The wallet's invoices, newest first. Needs ``view_transactions`` or ``request_payment``; not logged (the
    page's guard logs the visit)."""

    def work(tx: Tx) -> list[Invoice]:
        row = tx.wallet_row(wallet_id)
        _check_any(tx, actor, row, Action.VIEW_TRANSACTIONS, Action.REQUEST_PAYMENT)
        ids = list(tx.conn.execute(select(invoice_t.c.id).where(invoice_t.c.wallet_id == row.id)
                                   .order_by(invoice_t.c.id.desc())).scalars())
        return _load(tx, row, ids)

    return uow.read(work)


def get_invoice(uow: UnitOfWork, wallet_id: str, invoice_id: str, *, actor: str) -> Invoice:
    def work(tx: Tx) -> Invoice:
        row = tx.wallet_row(wallet_id)
        _check_any(tx, actor, row, Action.VIEW_TRANSACTIONS, Action.REQUEST_PAYMENT)
        return _load(tx, row, [_invoice_row(tx, invoice_id, wallet_id).id])[0]

    return uow.read(work)


def _status(request_status: str, paid_on: date | None) -> InvoiceStatus:
    if request_status == "paid":
        return InvoiceStatus.PAID if paid_on is not None else InvoiceStatus.APPROVED
    return InvoiceStatus(request_status)


def _load(tx: Tx, wallet_row: Any, invoice_pks: list[int]) -> list[Invoice]:
    if not invoice_pks:
        return []
    rows = tx.conn.execute(
        select(invoice_t, payee_t.c.uuid.label("payee_uuid"), payee_t.c.name.label("payee_name"),
               budget_line_t.c.uuid.label("line_uuid"), budget_line_t.c.category,
               payment_request_t.c.uuid.label("request_uuid"), payment_request_t.c.status.label("request_status"),
               payment_request_t.c.approval_reasons, payment_request_t.c.entry_id)
        .join(payee_t, payee_t.c.id == invoice_t.c.payee_id)
        .join(budget_line_t, budget_line_t.c.id == invoice_t.c.budget_line_id)
        .join(payment_request_t, payment_request_t.c.id == invoice_t.c.payment_request_id)
        .where(invoice_t.c.id.in_(invoice_pks))).all()
    by_pk = {r.id: r for r in rows}
    out = []
    for pk in invoice_pks:
        r = by_pk[pk]
        paid_on, paid_by = r.paid_on, r.paid_by
        bank = supplier_payables.bank_payment(tx, r.payment_request_id) if r.request_status == "paid" else None
        if bank is not None and paid_on is None and bank.paid_at is not None:
            # paid by bank: its payment batch line was confirmed, which is the payment itself
            paid_on, paid_by = bank.paid_at.date(), "payment batch"
        out.append(Invoice(
            id=r.uuid, wallet_id=wallet_row.uuid, payee_id=r.payee_uuid, payee_name=r.payee_name,
            budget_line_id=r.line_uuid, category=Category(r.category), number=r.number,
            invoice_date=r.invoice_date, period_start=r.period_start, period_end=r.period_end,
            hours=Decimal(r.hours), hourly_rate=r.hourly_rate, amount=r.amount, agreed_rate=r.agreed_rate,
            allowed_hours=Decimal(r.allowed_hours) if r.allowed_hours is not None else None,
            flags=tuple(InvoiceFlag(f) for f in r.flags), status=_status(r.request_status, paid_on),
            payment_request_id=r.request_uuid, approval_reasons=tuple(r.approval_reasons), entry_id=r.entry_id,
            recorded_by=r.recorded_by, recorded_at=from_us(r.recorded_us), paid_on=paid_on,
            paid_reference=r.paid_reference, paid_by=paid_by,
            evidence=tuple(invoice_evidence(tx, wallet_row, r.id))))
    return out


def _check_any(tx: Tx, actor: str, wallet_row: Any, *actions: Action) -> None:
    user = load_user(tx, actor) if actor != SYSTEM else None
    access = load_access(tx, wallet_row, user.id) if user is not None else None
    if user is None or access is None or not any(can(user, a, access) for a in actions):
        raise PermissionDenied(actor, actions[0].value, wallet_row.uuid)


def _may_any(uow: UnitOfWork, actor: str, wallet_id: str, *actions: Action) -> bool:
    def work(tx: Tx) -> bool:
        try:
            _check_any(tx, actor, tx.wallet_row(wallet_id), *actions)
        except (PermissionDenied, NotFound):
            return False
        return True

    return uow.read(work)


__all__ = ["InvoiceFlag", "InvoiceStatus", "Invoice", "ProviderRate", "DuplicateInvoice", "UnknownInvoice",
           "InvoiceNotApproved", "set_agreed_rate", "agreed_rates", "record_invoice", "approve_invoice",
           "reject_invoice", "mark_invoice_paid", "invoices", "get_invoice", "check_invoice", "allowed_hours",
           "expected_amount", "parse_hours", "number_key"]

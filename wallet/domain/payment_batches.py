"""Payment batches kept in the database: a wallet's unpaid payables paid out through the bank.

A batch is made from a wallet's payables that are neither settled nor in another live batch: from pay runs, net
pay to each PA, the HMRC amount, the pension contributions; and approved payments to suppliers paid by bank
(``wallet.domain.supplier_payables``). One line each, naming the ledger entry of the payable and a key for the
debt itself (``<entry>:<kind>:<PA or payee>``), which the database keeps unique among live lines: one debt, one
batch line.

    created --export (once)--> exported --confirm (some lines)--> part_paid --confirm (the rest)--> paid
    created, or exported when the file was not sent --cancel (with a reason)--> cancelled

Cancelling releases the batch's lines, so their payables go into the next batch; a cancelled batch is never
exported or confirmed. The cancellation (who, when, why) is kept as a record of its own.

Export writes a Bacs Standard 18 file or a bank bulk-payment CSV with the writers in ``wallet.money_out`` and keeps
its format and SHA-256; a second export is refused. Confirming a line posts its settlement (payable down, the
funder's cash down) in the same transaction that marks the line paid, so a failure leaves neither. A line or a
batch already paid is refused, and nothing is posted twice.

Bank details are sealed with the configured ``FieldCipher`` as the line is made and opened only to write the file;
the line keeps a masked form to show. Every step needs RUN_PAYROLL or MANAGE_WALLET on the wallet and is written
to the access log.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import and_, select

from ledger.clock import from_us
from payroll.sealed import FieldCipher, SealedFieldError
from wallet.domain import payroll_posting, supplier_payables
from wallet.domain.errors import Conflict, InvalidRequest, NotFound
from wallet.domain.payroll_posting import SettlementKind
from wallet.domain.permissions import Action, can, load_access, load_user, require
from wallet.domain.tables import (funding_stream_t, pay_run_line_t, pay_run_posting_t, payee_t,
                                  payment_batch_cancellation_t, payment_batch_line_t, payment_batch_t,
                                  payment_request_t, settlement_t, supplier_payable_t, wallet_t)
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import load_wallet
from wallet.money_out import (AlreadyExported, AlreadyPaid, BankAccount, BatchCancelled, BatchStatus, CancelRefused,
                              MoneyOutError, NotExported, Originator, PaymentLine, bacs_text, check_cancellable,
                              export_bacs18, export_bulk_csv, new_batch)

FORMATS = ("bacs18", "csv")
HMRC_PAYEE = "hmrc"
PENSION_PAYEE = "pension"


def pa_payee(employee_id: str) -> str:
    """The key of a PA in the ``payees`` given to :func:`create_batch`."""
    return f"pa:{employee_id}"


# ---------------------------------------------------------------------- refusals
class UnknownPaymentBatch(NotFound):
    pass


class NothingToPay(InvalidRequest):
    pass


class BankDetailsMissing(InvalidRequest):
    pass


class BatchAlreadyExported(Conflict, AlreadyExported):
    pass


class BatchNotExported(Conflict, NotExported):
    pass


class BatchAlreadyPaid(Conflict, AlreadyPaid):
    pass


class BatchWasCancelled(Conflict, BatchCancelled):
    pass


class CancelNotAllowed(InvalidRequest, CancelRefused):
    pass


class ExportRefused(InvalidRequest):
    """The file cannot be written as asked (a Bacs field, the processing day, the format)."""


# ---------------------------------------------------------------------- what a service returns
@dataclass(frozen=True)
class Payee:
    """Who is paid and where. The account never shows in a repr."""

    name: str
    account: BankAccount


@dataclass(frozen=True)
class BatchLine:
    id: str
    kind: str
    payee_name: str
    account_masked: str
    amount: int
    reference: str
    run_id: str | None
    employee_id: str
    payable_entry_id: str
    """The ledger entry that put this debt in a payable account."""
    payable_key: str
    settlement_entry_id: str | None
    """The ledger entry that paid it, once confirmed."""
    paid_at: datetime | None
    request_id: str | None = None
    """For a supplier line: the payment request it pays."""
    released: bool = False
    """Its batch was cancelled: the debt is free to go into another batch."""


@dataclass(frozen=True)
class StoredBatch:
    id: str
    wallet_id: str
    status: str
    created_at: datetime
    created_by: str
    export_format: str | None
    export_digest: str | None
    exported_at: datetime | None
    paid_at: datetime | None
    lines: tuple[BatchLine, ...]
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def unpaid(self) -> tuple[BatchLine, ...]:
        return tuple(line for line in self.lines if line.paid_at is None)


@dataclass(frozen=True)
class ExportedFile:
    batch: StoredBatch
    content: bytes
    digest: str


# ---------------------------------------------------------------------- shared steps
def _require(tx: Tx, actor: str, wallet_row: Any, detail: str) -> None:
    """RUN_PAYROLL (the payroll bureau) or MANAGE_WALLET (the holder, an appointee, a support manager)."""
    if actor == SYSTEM:
        require(tx, actor, Action.RUN_PAYROLL, wallet_row, detail, system_allowed=True)
        return
    user = load_user(tx, actor)
    action = Action.RUN_PAYROLL
    if user is not None:
        access = load_access(tx, wallet_row, user.id)
        if not can(user, Action.RUN_PAYROLL, access) and can(user, Action.MANAGE_WALLET, access):
            action = Action.MANAGE_WALLET
    require(tx, actor, action, wallet_row, detail)   # logs the attempt; raises PermissionDenied if neither


def _batch_row(tx: Tx, batch_id: str) -> Any:
    row = tx.conn.execute(select(payment_batch_t).where(payment_batch_t.c.uuid == batch_id)).first()
    if row is None:
        raise UnknownPaymentBatch(f"there is no payment batch {batch_id}")
    return row


def _locked(tx: Tx, batch_id: str) -> tuple[Any, Any]:
    """The batch's wallet row (locked: the wallet lock comes first) and the batch row read after it."""
    row = _batch_row(tx, batch_id)
    wallet_uuid = tx.conn.execute(select(wallet_t.c.uuid).where(wallet_t.c.id == row.wallet_id)).scalar_one()
    wallet_row = tx.wallet_row(wallet_uuid, lock=True)
    return wallet_row, _batch_row(tx, batch_id)


def _lines(tx: Tx, batch_pk: int) -> list[Any]:
    q = (select(payment_batch_line_t, pay_run_posting_t.c.run_id, payment_request_t.c.uuid.label("request_uuid"))
         .select_from(payment_batch_line_t.outerjoin(
             pay_run_posting_t, pay_run_posting_t.c.id == payment_batch_line_t.c.posting_id).outerjoin(
             supplier_payable_t, supplier_payable_t.c.id == payment_batch_line_t.c.supplier_payable_id).outerjoin(
             payment_request_t, payment_request_t.c.id == supplier_payable_t.c.request_id))
         .where(payment_batch_line_t.c.batch_id == batch_pk).order_by(payment_batch_line_t.c.id))
    return list(tx.conn.execute(q))


def _load(tx: Tx, row: Any) -> StoredBatch:
    wallet_uuid = tx.conn.execute(select(wallet_t.c.uuid).where(wallet_t.c.id == row.wallet_id)).scalar_one()
    lines = tuple(
        BatchLine(r.uuid, r.kind, r.payee_name, r.account_masked, r.amount, r.reference, r.run_id, r.employee_id,
                  r.payable_entry_id, r.payable_key, r.settlement_entry_id,
                  from_us(r.paid_us) if r.paid_us is not None else None, r.request_uuid, r.released_us is not None)
        for r in _lines(tx, row.id))
    cancelled = _cancellation(tx, row.id)
    return StoredBatch(row.uuid, wallet_uuid, BatchStatus.CANCELLED.value if cancelled else row.status,
                       from_us(row.created_us), row.created_by, row.export_format, row.export_digest,
                       from_us(row.exported_us) if row.exported_us is not None else None,
                       from_us(row.paid_us) if row.paid_us is not None else None, lines,
                       from_us(cancelled.cancelled_us) if cancelled else None,
                       cancelled.cancelled_by if cancelled else None, cancelled.reason if cancelled else None)


def _cancellation(tx: Tx, batch_pk: int) -> Any:
    return tx.conn.execute(select(payment_batch_cancellation_t)
                           .where(payment_batch_cancellation_t.c.batch_id == batch_pk)).first()


def _refuse_if_cancelled(tx: Tx, row: Any, doing: str) -> None:
    cancelled = _cancellation(tx, row.id)
    if cancelled is not None:
        raise BatchWasCancelled(
            f"payment batch {row.uuid} was cancelled ({from_us(cancelled.cancelled_us).isoformat(timespec='seconds')}"
            f": {cancelled.reason}); it cannot be {doing}. Make a new batch for what is still owed.")


def _masked(account: BankAccount) -> str:
    return f"**-**-{account.sort_code[-2:]} ****{account.account_number[-4:]}"


def _seal(cipher: FieldCipher, account: BankAccount) -> str:
    return cipher.seal(f"{account.sort_code}:{account.account_number}")


def _open(cipher: FieldCipher, token: str) -> BankAccount:
    sort_code, account_number = cipher.open(token).split(":", 1)
    return BankAccount(sort_code, account_number)


# ---------------------------------------------------------------------- reading
def get_batch(uow: UnitOfWork, batch_id: str, *, actor: str) -> StoredBatch:
    def work(tx: Tx) -> StoredBatch:
        row = _batch_row(tx, batch_id)
        wallet_row = tx.conn.execute(select(wallet_t).where(wallet_t.c.id == row.wallet_id)).first()
        _require(tx, actor, wallet_row, f"view payment batch {batch_id}")
        return _load(tx, row)

    return uow.write(work)


def list_batches(uow: UnitOfWork, wallet_id: str, *, actor: str) -> list[StoredBatch]:
    def work(tx: Tx) -> list[StoredBatch]:
        wallet_row = tx.wallet_row(wallet_id)
        _require(tx, actor, wallet_row, "payment batches")
        return [_load(tx, r) for r in tx.conn.execute(
            select(payment_batch_t).where(payment_batch_t.c.wallet_id == wallet_row.id)
            .order_by(payment_batch_t.c.id))]

    return uow.write(work)


# ---------------------------------------------------------------------- making a batch
@dataclass(frozen=True)
class _Payable:
    posting_id: int
    run_id: str
    entry_id: str
    kind: SettlementKind
    employee_id: str
    amount: int

    @property
    def key(self) -> str:
        return f"{self.entry_id}:{self.kind.value}:{self.employee_id}"

    @property
    def payee(self) -> str:
        if self.kind is SettlementKind.NET_PAY:
            return pa_payee(self.employee_id)
        return HMRC_PAYEE if self.kind is SettlementKind.HMRC else PENSION_PAYEE


def _unpaid_payables(tx: Tx, wallet_row: Any) -> list[_Payable]:
    """Pay-run payables above zero that are neither settled nor already in a batch."""
    settled = {(s.posting_id, s.kind, s.employee_id) for s in tx.conn.execute(
        select(settlement_t.c.posting_id, settlement_t.c.kind, settlement_t.c.employee_id)
        .join(pay_run_posting_t, pay_run_posting_t.c.id == settlement_t.c.posting_id)
        .where(pay_run_posting_t.c.wallet_id == wallet_row.id))}
    batched = _batched(tx, wallet_row)
    out: list[_Payable] = []
    postings = tx.conn.execute(select(pay_run_posting_t).where(and_(
        pay_run_posting_t.c.wallet_id == wallet_row.id, pay_run_posting_t.c.entry_id.is_not(None)))
        .order_by(pay_run_posting_t.c.id)).all()
    for p in postings:
        found = [_Payable(p.id, p.run_id, p.entry_id, SettlementKind.NET_PAY, ln.employee_id, ln.net_pay)
                 for ln in tx.conn.execute(select(pay_run_line_t).where(pay_run_line_t.c.posting_id == p.id)
                                           .order_by(pay_run_line_t.c.employee_id))]
        found += [_Payable(p.id, p.run_id, p.entry_id, SettlementKind.HMRC, "", p.hmrc),
                  _Payable(p.id, p.run_id, p.entry_id, SettlementKind.PENSION, "", p.pension)]
        out += [f for f in found if f.amount > 0 and (p.id, f.kind.value, f.employee_id) not in settled
                and f.key not in batched]
    return out


def _batched(tx: Tx, wallet_row: Any) -> set[str]:
    """Keys of the debts in the wallet's live batch lines (a cancelled batch's lines are released)."""
    return set(tx.conn.execute(
        select(payment_batch_line_t.c.payable_key)
        .join(payment_batch_t, payment_batch_t.c.id == payment_batch_line_t.c.batch_id)
        .where(and_(payment_batch_t.c.wallet_id == wallet_row.id,
                    payment_batch_line_t.c.released_us.is_(None)))).scalars())


def _reference(payable: _Payable, references: Mapping[str, str]) -> str:
    given = references.get(payable.payee)
    if given is not None:
        return given
    what = {SettlementKind.NET_PAY: "PAY", SettlementKind.HMRC: "PAYE", SettlementKind.PENSION: "PENSION"}
    return bacs_text(f"{what[payable.kind]} {payable.run_id}", 18) or what[payable.kind]


def create_batch(uow: UnitOfWork, wallet_id: str, *, actor: str, payees: Mapping[str, Payee],
                 cipher: FieldCipher, references: Mapping[str, str] | None = None) -> StoredBatch:
    """A new batch of every unpaid payable of the wallet: pay runs' and suppliers' paid by bank.

    ``payees`` gives the name and bank account for each pay-run payee key: :func:`pa_payee` of each PA, ``"hmrc"``
    and ``"pension"``; ``references`` (by the same keys) the reference the payee sees (default: what and the pay
    run). A supplier's account and reference are the ones on file for it. Refused, with every missing payee named,
    unless all of them are known; refused when nothing is owed.
    """
    references = references or {}

    def work(tx: Tx) -> StoredBatch:
        wallet_row = tx.wallet_row(wallet_id, lock=True)
        _require(tx, actor, wallet_row, "create a payment batch")
        payables = _unpaid_payables(tx, wallet_row)
        suppliers = supplier_payables.unpaid(tx, wallet_row.id, _batched(tx, wallet_row))
        if not payables and not suppliers:
            raise NothingToPay("nothing is owed that is not already paid or in a payment batch")
        missing = sorted({p.payee for p in payables if p.payee not in payees})
        if missing:
            raise BankDetailsMissing("no bank details for " + ", ".join(missing)
                                     + ": add them before making the batch")
        names = {r.employee_id: r.name for r in tx.conn.execute(select(payee_t.c.employee_id, payee_t.c.name).where(
            and_(payee_t.c.wallet_id == wallet_row.id, payee_t.c.employee_id.is_not(None))))}
        batch_uuid = tx.new_id()
        rows: list[dict[str, Any]] = []
        checked: list[PaymentLine] = []
        for p in payables:
            payee = payees[p.payee]
            name = payee.name or names.get(p.employee_id, "")
            line_uuid = tx.new_id()
            # The money_out checks (Bacs name and reference, amount, one debt once), before anything is stored.
            try:
                checked.append(PaymentLine(line_uuid, p.kind.value, name, payee.account, p.amount,
                                           _reference(p, references), p.key))
            except MoneyOutError as exc:
                raise InvalidRequest(f"payment to {p.payee}: {exc}") from exc
            rows.append(dict(uuid=line_uuid, kind=p.kind.value, payee_name=name,
                             account_masked=_masked(payee.account), account_sealed=_seal(cipher, payee.account),
                             amount=p.amount, reference=checked[-1].reference, posting_id=p.posting_id,
                             employee_id=p.employee_id, payable_entry_id=p.entry_id, payable_key=p.key))
        for d in suppliers:
            line_uuid = tx.new_id()
            try:
                account = supplier_payables.open_sealed(cipher, d.account_sealed)
                checked.append(PaymentLine(line_uuid, "supplier", d.account_name, account, d.amount, d.reference,
                                           d.key))
            except SealedFieldError as exc:
                raise InvalidRequest(f"the bank details of payee {d.payee_id} cannot be opened: {exc}") from exc
            except MoneyOutError as exc:
                raise InvalidRequest(f"payment to payee {d.payee_id}: {exc}") from exc
            rows.append(dict(uuid=line_uuid, kind="supplier", payee_name=d.account_name,
                             account_masked=_masked(account), account_sealed=_seal(cipher, account),
                             amount=d.amount, reference=checked[-1].reference, posting_id=None, employee_id="",
                             payable_entry_id=d.entry_id, payable_key=d.key, supplier_payable_id=d.payable_pk))
        try:
            new_batch(batch_uuid, checked, created_at=tx.clock.now())
        except MoneyOutError as exc:
            raise InvalidRequest(str(exc)) from exc
        batch_pk = tx.conn.execute(payment_batch_t.insert().returning(payment_batch_t.c.id), dict(
            uuid=batch_uuid, wallet_id=wallet_row.id, status="created", created_by=actor,
            created_us=tx.now_us())).scalar_one()
        tx.conn.execute(payment_batch_line_t.insert(),
                        [dict({"supplier_payable_id": None}, **r, batch_id=batch_pk) for r in rows])
        tx.audit(wallet_row.id, actor, "payment_batch_created",
                 f"payment batch {batch_uuid}: {len(rows)} payments, {sum(r['amount'] for r in rows)} pence")
        return _load(tx, _batch_row(tx, batch_uuid))

    return uow.write(work)


# ---------------------------------------------------------------------- exporting
def export_batch(uow: UnitOfWork, batch_id: str, *, actor: str, cipher: FieldCipher, file_format: str,
                 originator: Originator | None = None, processing_day: date | None = None,
                 serial: str | None = None, deliver: Callable[[bytes], None] | None = None) -> ExportedFile:
    """Write the batch's bank file, once. ``bacs18`` needs ``originator``, ``processing_day`` and ``serial``.

    ``deliver`` (say, writing the file) runs inside the transaction: if it fails, the batch stays unexported.
    """
    if file_format not in FORMATS:
        raise ExportRefused(f"file format must be one of {', '.join(FORMATS)}, not {file_format!r}")
    if file_format == "bacs18" and (originator is None or processing_day is None or serial is None):
        raise ExportRefused("a Bacs file needs the service user (SUN, name, account), a processing day and a "
                            "submission serial number")

    def work(tx: Tx) -> ExportedFile:
        wallet_row, row = _locked(tx, batch_id)
        _require(tx, actor, wallet_row, f"export payment batch {batch_id} as {file_format}")
        _refuse_if_cancelled(tx, row, "sent to the bank")
        if row.status != "created":
            raise BatchAlreadyExported(
                f"payment batch {batch_id} was already exported ({row.export_format}, "
                f"{from_us(row.exported_us).isoformat(timespec='seconds')}) and is now {row.status}; it cannot "
                "be exported again")
        try:
            lines = [PaymentLine(r.uuid, r.kind, r.payee_name, _open(cipher, r.account_sealed), r.amount,
                                 r.reference, r.payable_key) for r in _lines(tx, row.id)]
        except SealedFieldError as exc:
            raise ExportRefused(f"the bank details of payment batch {batch_id} cannot be opened: {exc}") from exc
        now = tx.clock.now()
        batch = new_batch(batch_id, lines, created_at=from_us(row.created_us))
        try:
            if file_format == "bacs18" and originator is not None and processing_day is not None \
                    and serial is not None:
                export = export_bacs18(batch, originator, at=now, processing_day=processing_day, serial=serial)
                content = export.content.encode("ascii")
            else:
                export = export_bulk_csv(batch, at=now)
                content = export.content.encode("utf-8")
        except ValueError as exc:    # BacsFileError and the like: the file cannot be written as asked
            raise ExportRefused(str(exc)) from exc
        done = tx.conn.execute(payment_batch_t.update().where(and_(
            payment_batch_t.c.id == row.id, payment_batch_t.c.status == "created")).values(
            status="exported", export_format=file_format, export_digest=export.digest, exported_by=actor,
            exported_us=tx.now_us()))
        if done.rowcount != 1:
            raise BatchAlreadyExported(f"payment batch {batch_id} was exported at the same time by someone else")
        tx.audit(wallet_row.id, actor, "payment_batch_exported",
                 f"payment batch {batch_id} as {file_format}, sha256 {export.digest}")
        if deliver is not None:
            deliver(content)
        return ExportedFile(_load(tx, _batch_row(tx, batch_id)), content, export.digest)

    return uow.write(work)


# ---------------------------------------------------------------------- confirming
def confirm_paid(uow: UnitOfWork, batch_id: str, *, actor: str, line_ids: Sequence[str] | None = None,
                 paid_on: date | None = None) -> StoredBatch:
    """Record that the bank paid some lines (``line_ids``) or every unpaid one (``None``), posting each
    settlement in the same transaction. Nothing is recorded unless every named line can be."""
    if isinstance(line_ids, str):
        raise InvalidRequest("line ids must be a list, not one string")

    def work(tx: Tx) -> StoredBatch:
        wallet_row, row = _locked(tx, batch_id)
        _require(tx, actor, wallet_row, f"confirm payment batch {batch_id} paid")
        _refuse_if_cancelled(tx, row, "confirmed paid")
        if row.status == "created":
            raise BatchNotExported(f"payment batch {batch_id} has not been exported to the bank, so it cannot "
                                   "have been paid")
        if row.status == "paid":
            raise BatchAlreadyPaid(
                f"payment batch {batch_id} was already paid in full "
                f"({from_us(row.paid_us).isoformat(timespec='seconds')}); the same batch cannot be paid twice")
        lines = _lines(tx, row.id)
        by_id = {r.uuid: r for r in lines}
        if line_ids is None:
            wanted = [r for r in lines if r.paid_us is None]
        else:
            if not line_ids:
                raise InvalidRequest("name at least one line to confirm, or none at all for every unpaid line")
            wanted, seen = [], set()
            for line_id in line_ids:
                found = by_id.get(line_id)
                if found is None:
                    raise NotFound(f"payment batch {batch_id} has no line {line_id}")
                if found.paid_us is not None:
                    raise BatchAlreadyPaid(
                        f"line {line_id} of payment batch {batch_id} was already confirmed paid "
                        f"({from_us(found.paid_us).isoformat(timespec='seconds')}); it cannot be paid twice")
                if line_id in seen:
                    raise InvalidRequest(f"line {line_id} is named twice in one confirmation")
                seen.add(line_id)
                wanted.append(found)
        wallet = load_wallet(tx, wallet_row)
        when = paid_on or tx.clock.now().date()
        for line in wanted:
            if line.kind == "supplier":
                entry_id = supplier_payables.settle(tx, wallet, line.supplier_payable_id, when, actor)
            else:
                entry_id = _settle_line(tx, wallet, line, when, actor)
            done = tx.conn.execute(payment_batch_line_t.update().where(and_(
                payment_batch_line_t.c.id == line.id, payment_batch_line_t.c.paid_us.is_(None))).values(
                settlement_entry_id=entry_id, paid_by=actor, paid_us=tx.now_us()))
            if done.rowcount != 1:
                raise BatchAlreadyPaid(f"line {line.uuid} of payment batch {batch_id} was confirmed paid at the "
                                       "same time by someone else")
        all_paid = len(wanted) + sum(1 for r in lines if r.paid_us is not None) == len(lines)
        tx.conn.execute(payment_batch_t.update().where(payment_batch_t.c.id == row.id).values(
            status="paid" if all_paid else "part_paid", paid_us=tx.now_us() if all_paid else None))
        tx.audit(wallet_row.id, actor, "payment_batch_paid",
                 f"payment batch {batch_id}: {len(wanted)} line(s) confirmed paid on {when.isoformat()}")
        return _load(tx, _batch_row(tx, batch_id))

    return uow.write(work)


# ---------------------------------------------------------------------- cancelling
def cancel_batch(uow: UnitOfWork, batch_id: str, *, actor: str, reason: str,
                 bank_file_not_sent: bool = False) -> StoredBatch:
    """Cancel a batch nothing of which is paid, releasing its lines so their debts can go into a new batch.

    A batch already written to a bank file is cancelled only with ``bank_file_not_sent=True``: the person says
    the file never reached the bank (a file the bank received would still pay, and the debts would be paid
    twice). Needs the same permission as making the batch; written to the access log either way.
    """
    def work(tx: Tx) -> StoredBatch:
        wallet_row, row = _locked(tx, batch_id)
        _require(tx, actor, wallet_row, f"cancel payment batch {batch_id}")
        _refuse_if_cancelled(tx, row, "cancelled again")
        try:
            why = check_cancellable(batch_id, row.status, reason, bank_file_not_sent=bank_file_not_sent)
        except CancelRefused as exc:
            raise CancelNotAllowed(str(exc)) from None
        now = tx.now_us()
        tx.conn.execute(payment_batch_cancellation_t.insert(), dict(
            batch_id=row.id, reason=why, bank_file_not_sent=bool(bank_file_not_sent and row.status == "exported"),
            cancelled_by=actor, cancelled_us=now))
        released = tx.conn.execute(payment_batch_line_t.update().where(and_(
            payment_batch_line_t.c.batch_id == row.id, payment_batch_line_t.c.paid_us.is_(None),
            payment_batch_line_t.c.released_us.is_(None))).values(released_us=now)).rowcount
        sent = " (exported; the bank file was not sent)" if row.status == "exported" else ""
        tx.audit(wallet_row.id, actor, "payment_batch_cancelled",
                 f"payment batch {batch_id}{sent}: {released} line(s) released; reason: {why}")
        return _load(tx, _batch_row(tx, batch_id))

    return uow.write(work)


def _settle_line(tx: Tx, wallet: Any, line: Any, paid_on: date, actor: str) -> str:
    """Post the line's settlement through the pay-run settlement (idempotent by run, kind and PA) and return
    the settling ledger entry. The public ``settle_*`` functions open a transaction of their own; this one must
    share the batch's."""
    posting = tx.conn.execute(select(pay_run_posting_t).where(pay_run_posting_t.c.id == line.posting_id)).one()
    stream_uuid = tx.conn.execute(select(funding_stream_t.c.uuid)
                                  .where(funding_stream_t.c.id == posting.stream_id)).scalar_one()
    kind = SettlementKind(line.kind)
    payroll_posting._settle_one(tx, wallet, posting, wallet.stream(stream_uuid), kind, line.employee_id,
                                line.amount, paid_on, actor)
    return tx.conn.execute(select(settlement_t.c.entry_id).where(and_(
        settlement_t.c.posting_id == posting.id, settlement_t.c.kind == kind.value,
        settlement_t.c.employee_id == line.employee_id))).scalar_one()


__all__ = [
    "BankDetailsMissing", "BatchAlreadyExported", "BatchAlreadyPaid", "BatchLine", "BatchNotExported",
    "BatchWasCancelled", "CancelNotAllowed", "cancel_batch",
    "ExportRefused", "ExportedFile", "FORMATS", "HMRC_PAYEE", "NothingToPay", "PENSION_PAYEE", "Payee",
    "StoredBatch", "UnknownPaymentBatch", "confirm_paid", "create_batch", "export_batch",
    "get_batch", "list_batches", "pa_payee",
]

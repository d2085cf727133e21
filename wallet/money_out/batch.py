"""A payment batch as plain data, and its life as pure functions.

A batch is a list of payments out of one client account: net wages to personal assistants, PAYE and NI to HMRC,
pension contributions, supplier invoices. Each line says which ledger entry it settles, so that confirming a
line paid can clear exactly that payable in the wallet's books.

    created --export--> exported --confirm (some lines)--> part_paid --confirm (the rest)--> paid
                                 \\-----------confirm (all lines)------------------------------/
    created or exported --cancel (with a reason)--> cancelled

A batch not yet confirmed can be cancelled, so its payables can go into a new batch. One already written to a
bank file is cancelled only when the person says the file was not sent: a file that reached the bank pays.
A cancelled batch is never exported or confirmed.

Every step returns a new batch; nothing is changed in place. A batch is exported once and each line is paid
once: a second export or a second confirmation is refused with an error that says what happened before.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from wallet.money_out.bank_details import BankAccount, bacs_name, bacs_reference
from wallet.money_out.errors import (
    AlreadyExported, AlreadyPaid, BatchCancelled, BatchStateError, BatchValidationError, CancelRefused, LineProblem,
    NotExported, PaymentLineError,
)

BACS_ITEM_LIMIT = 2_000_000_000
"""£20 million: the most a single Bacs payment can carry. A sponsoring bank usually sets a lower item limit
for a service user; pass it as ``item_limit``."""
BACS_AMOUNT_FIELD_MAX = 99_999_999_999  # 11 digits of pence in a Standard 18 data record
BACS_TOTAL_FIELD_MAX = 9_999_999_999_999  # 13 digits of pence in the UTL1 totals


class PaymentKind(str, enum.Enum):
    NET_PAY = "net_pay"
    HMRC = "hmrc"
    PENSION = "pension"
    SUPPLIER = "supplier"


class BatchStatus(str, enum.Enum):
    CREATED = "created"
    EXPORTED = "exported"
    PART_PAID = "part_paid"
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class PaymentLine:
    """One payment. Bank details sit in ``account`` (a BankAccount), which never shows in a repr."""

    line_id: str
    kind: PaymentKind
    payee_name: str
    """The payee's name as the person wrote it; ``bacs_name`` is what the bank file carries."""
    account: BankAccount = field(repr=False)
    amount: int
    """Pence, more than zero."""
    reference: str
    """Bacs rules: upper case, at most 18 of A-Z 0-9 . & / - space."""
    settles_entry: str
    """The ledger entry (the payable posted by the pay run or the invoice) this payment settles."""

    def __post_init__(self) -> None:
        if not isinstance(self.line_id, str) or not self.line_id.strip():
            raise PaymentLineError("line_id", "line id is empty")
        who = dict(line_id=self.line_id, payee=self.payee_name if isinstance(self.payee_name, str) else None)
        try:
            object.__setattr__(self, "kind", PaymentKind(self.kind))
        except ValueError:
            raise PaymentLineError(
                "kind", f"kind must be one of {', '.join(k.value for k in PaymentKind)}", **who) from None
        try:
            bacs_name(self.payee_name)
            if not isinstance(self.account, BankAccount):
                raise PaymentLineError("account", "bank details must be a BankAccount")
            object.__setattr__(self, "reference", bacs_reference(self.reference))
            _check_amount(self.amount)
            if not isinstance(self.settles_entry, str) or not self.settles_entry.strip():
                raise PaymentLineError("settles_entry", "the ledger entry this payment settles is missing")
        except PaymentLineError as exc:
            raise PaymentLineError(exc.field, exc.problem, **who) from None

    @property
    def bacs_name(self) -> str:
        return bacs_name(self.payee_name)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "PaymentLine":
        """Build a line from plain data (as a form or an import gives it): sort_code and account_number loose."""
        who = dict(line_id=_str_or_none(data.get("line_id")), payee=_str_or_none(data.get("payee_name")))
        try:
            account = BankAccount(data.get("sort_code"), data.get("account_number"))  # type: ignore[arg-type]
        except PaymentLineError as exc:
            raise PaymentLineError(exc.field, exc.problem, **who) from None
        missing = [k for k in ("line_id", "kind", "payee_name", "amount", "reference", "settles_entry")
                   if k not in data]
        if missing:
            raise PaymentLineError(missing[0], f"{missing[0].replace('_', ' ')} is missing", **who)
        return cls(line_id=data["line_id"], kind=data["kind"], payee_name=data["payee_name"], account=account,
                   amount=data["amount"], reference=data["reference"], settles_entry=data["settles_entry"])


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _check_amount(amount: object, limit: int = BACS_ITEM_LIMIT) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise PaymentLineError("amount", f"amount must be a whole number of pence, not {type(amount).__name__}")
    if amount <= 0:
        raise PaymentLineError("amount", "amount must be more than zero")
    if amount > limit:
        raise PaymentLineError("amount", f"amount {_pounds(amount)} is over the limit of {_pounds(limit)} a payment")
    return amount


def _pounds(pence: int) -> str:
    pounds, rem = divmod(pence, 100)
    return f"£{pounds:,}.{rem:02d}"


@dataclass(frozen=True)
class PaymentBatch:
    batch_id: str
    lines: tuple[PaymentLine, ...]
    created_at: datetime
    description: str = ""
    status: BatchStatus = BatchStatus.CREATED
    exported_at: datetime | None = None
    export_format: str | None = None
    export_digest: str | None = None
    """SHA-256 of the exported file, so the file sent to the bank can be matched to the batch later."""
    paid: tuple[tuple[str, datetime], ...] = ()
    """(line_id, when its payment was confirmed), in confirmation order."""
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def count(self) -> int:
        return len(self.lines)

    def line(self, line_id: str) -> PaymentLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(f"batch {self.batch_id!r} has no line {line_id!r}")

    def paid_at(self, line_id: str) -> datetime | None:
        return dict(self.paid).get(line_id)

    @property
    def unpaid_lines(self) -> tuple[PaymentLine, ...]:
        done = {line_id for line_id, _ in self.paid}
        return tuple(line for line in self.lines if line.line_id not in done)

    def totals_by_kind(self) -> dict[PaymentKind, int]:
        out: dict[PaymentKind, int] = {}
        for line in self.lines:
            out[line.kind] = out.get(line.kind, 0) + line.amount
        return out


@dataclass(frozen=True)
class Export:
    """A written file and the batch it moved to exported."""

    batch: PaymentBatch
    content: str
    digest: str
    """SHA-256 (hex) of the file's bytes, also kept on the batch as ``export_digest``."""


def new_batch(batch_id: str, lines: Iterable[PaymentLine | Mapping[str, Any]], *, created_at: datetime,
              description: str = "", item_limit: int = BACS_ITEM_LIMIT) -> PaymentBatch:
    """Check every line and make a batch, or raise BatchValidationError listing every problem found.

    Refused: an empty batch, a line that fails its own checks, an amount over ``item_limit``, two lines with
    the same id, two lines settling the same ledger entry (that would pay one debt twice), a total too big for
    the bank file.
    """
    if not isinstance(batch_id, str) or not batch_id.strip():
        raise BatchValidationError(str(batch_id), [LineProblem(0, None, None, "batch_id", "batch id is empty")])
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    problems: list[LineProblem] = []
    made: list[PaymentLine] = []
    seen_ids: dict[str, int] = {}
    seen_entries: dict[str, int] = {}
    for position, raw in enumerate(lines, start=1):
        try:
            line = raw if isinstance(raw, PaymentLine) else PaymentLine.from_mapping(raw)
        except PaymentLineError as exc:
            problems.append(LineProblem(position, exc.line_id, exc.payee, exc.field, exc.problem))
            continue
        try:
            _check_amount(line.amount, item_limit)
        except PaymentLineError as exc:
            problems.append(LineProblem(position, line.line_id, line.payee_name, exc.field, exc.problem))
            continue
        if line.line_id in seen_ids:
            problems.append(LineProblem(position, line.line_id, line.payee_name, "line_id",
                                        f"line id is used already by line {seen_ids[line.line_id]}"))
            continue
        if line.settles_entry in seen_entries:
            problems.append(LineProblem(
                position, line.line_id, line.payee_name, "settles_entry",
                f"settles ledger entry {line.settles_entry!r}, which line {seen_entries[line.settles_entry]} "
                "already settles; the same debt would be paid twice"))
            continue
        seen_ids[line.line_id] = position
        seen_entries[line.settles_entry] = position
        made.append(line)
    if not problems and not made:
        problems.append(LineProblem(0, None, None, "lines", "a batch needs at least one payment"))
    total = sum(line.amount for line in made)
    if total > BACS_TOTAL_FIELD_MAX:
        problems.append(LineProblem(0, None, None, "lines", f"total {_pounds(total)} is too big for one file"))
    if problems:
        raise BatchValidationError(batch_id, problems)
    return PaymentBatch(batch_id=batch_id, lines=tuple(made), created_at=created_at, description=description)


def ensure_exportable(batch: PaymentBatch) -> None:
    """Raise AlreadyExported unless the batch has never been exported (BatchCancelled if it was cancelled)."""
    if batch.status is BatchStatus.CANCELLED:
        raise BatchCancelled(f"payment batch {batch.batch_id!r} was cancelled ({_when(batch.cancelled_at)}); "
                             "it cannot be sent to the bank. Make a new batch for what is still owed.")
    if batch.status is not BatchStatus.CREATED:
        raise AlreadyExported(
            f"payment batch {batch.batch_id!r} was already exported ({batch.export_format}, "
            f"{_when(batch.exported_at)}) and is now {batch.status.value}; it cannot be exported again. "
            "If the bank did not receive it, cancel this batch and make a new one.")


def mark_exported(batch: PaymentBatch, *, at: datetime, file_format: str, digest: str) -> PaymentBatch:
    """created -> exported. A batch goes to the bank once; any other state is refused."""
    ensure_exportable(batch)
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    return replace(batch, status=BatchStatus.EXPORTED, exported_at=at, export_format=file_format,
                   export_digest=digest)


def confirm_paid(batch: PaymentBatch, *, at: datetime, line_ids: Sequence[str] | None = None) -> PaymentBatch:
    """Record that the bank paid some lines (``line_ids``) or all those still unpaid (``None``).

    Refused: a batch not yet exported, a batch already paid in full, a line already confirmed, a line not in
    the batch. Nothing is recorded unless every named line can be.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    if batch.status is BatchStatus.CANCELLED:
        raise BatchCancelled(f"payment batch {batch.batch_id!r} was cancelled ({_when(batch.cancelled_at)}), so "
                             "nothing in it can be confirmed paid")
    if batch.status is BatchStatus.CREATED:
        raise NotExported(
            f"payment batch {batch.batch_id!r} has not been exported to the bank, so it cannot have been paid")
    if batch.status is BatchStatus.PAID:
        last = max(when for _, when in batch.paid)
        raise AlreadyPaid(
            f"payment batch {batch.batch_id!r} was already paid in full (last confirmed {_when(last)}); "
            "it cannot be paid again")
    if line_ids is None:
        wanted = [line.line_id for line in batch.unpaid_lines]
    else:
        if isinstance(line_ids, str):
            raise TypeError("line_ids must be a list of line ids, not one string")
        wanted = list(line_ids)
        if not wanted:
            raise ValueError("name at least one line to confirm, or None for all unpaid lines")
        known = {line.line_id for line in batch.lines}
        already = dict(batch.paid)
        seen: set[str] = set()
        for line_id in wanted:
            if line_id not in known:
                raise BatchStateError(f"payment batch {batch.batch_id!r} has no line {line_id!r}")
            if line_id in already:
                raise AlreadyPaid(
                    f"line {line_id!r} of payment batch {batch.batch_id!r} was already confirmed paid "
                    f"({_when(already[line_id])}); it cannot be paid again")
            if line_id in seen:
                raise AlreadyPaid(f"line {line_id!r} is named twice in one confirmation")
            seen.add(line_id)
    paid = batch.paid + tuple((line_id, at) for line_id in wanted)
    status = BatchStatus.PAID if len(paid) == len(batch.lines) else BatchStatus.PART_PAID
    return replace(batch, paid=paid, status=status)


MAX_CANCEL_REASON = 1000


def check_cancellable(batch_id: str, status: BatchStatus | str, reason: object, *,
                      bank_file_not_sent: bool = False) -> str:
    """The reason, trimmed, if a batch in ``status`` may be cancelled; otherwise the refusal, saying why.

    A batch with any line confirmed paid is not cancelled (the money went); an exported one only with
    ``bank_file_not_sent``: the person cancelling says the file never reached the bank.
    """
    status = BatchStatus(status)
    if status is BatchStatus.CANCELLED:
        raise BatchCancelled(f"payment batch {batch_id!r} was already cancelled")
    if status in (BatchStatus.PAID, BatchStatus.PART_PAID):
        raise CancelRefused(f"payment batch {batch_id!r} is {status.value.replace('_', ' ')}: the bank has paid "
                            "some of it, so it cannot be cancelled")
    if not isinstance(reason, str) or not reason.strip():
        raise CancelRefused("say why the payment batch is cancelled")
    if len(reason.strip()) > MAX_CANCEL_REASON:
        raise CancelRefused(f"the reason is too long: at most {MAX_CANCEL_REASON} characters")
    if status is BatchStatus.EXPORTED and bank_file_not_sent is not True:
        raise CancelRefused(
            f"payment batch {batch_id!r} was already written to a bank file. Cancel it only if that file was not "
            "sent to the bank (say so explicitly): a file the bank received will still pay")
    return reason.strip()


def cancel(batch: PaymentBatch, *, at: datetime, reason: str, bank_file_not_sent: bool = False) -> PaymentBatch:
    """created (or exported, with ``bank_file_not_sent``) -> cancelled; refused once any line is paid."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    why = check_cancellable(batch.batch_id, batch.status, reason, bank_file_not_sent=bank_file_not_sent)
    return replace(batch, status=BatchStatus.CANCELLED, cancelled_at=at, cancel_reason=why)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "at an unknown time"

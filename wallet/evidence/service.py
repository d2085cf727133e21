"""Evidence on ledger entries: receipts, invoices, timesheets and payslips, and the proof they are unaltered.

Ledger entries are immutable, and the ledger refuses an entry that is not postings summing to zero, so a file
cannot be "added to" an entry after the fact. Evidence is therefore recorded in one of two honest ways:

* **At the time the money moves**, the file's SHA-256 is written into the ledger entry's own metadata
  (``meta["evidence"] = [{"sha256", "kind"}]``). A provider invoice does this: the invoice document's hash goes
  into the payment's hold, and the ledger copies a hold's metadata into the entry that commits it
  (``wallet.domain.invoices``). The hash is then covered by the entry's hash and the book's hash chain, which
  ``wallet ledger verify`` recomputes.
* **Later** (a receipt photographed after paying, a timesheet found afterwards), a row is appended to
  ``wallet_evidence`` naming the entry and the file's SHA-256. Rows are append-only (database triggers refuse
  to change or delete them) and each wallet's rows form a hash chain of their own: each row's ``record_hash``
  is the SHA-256 of the previous row's hash, a newline and the row's content as canonical JSON (see
  :func:`record_hash`), so removing, reordering or editing a row breaks every hash after it.

Every file, either way, also has a ``wallet_evidence`` row (an invoice's row names the invoice; the entry that
paid it is found through its payment request), so one listing serves the entry page and the exports.

:func:`verify_evidence` (``wallet evidence verify``) recomputes each wallet's chain, re-hashes every stored file
against its recorded SHA-256, and checks that the hash of each invoice document is in the metadata of the
ledger hold or entry that pays it. It reports every mismatch it finds; a file altered on disk, a row edited in
the database, or a document swapped after payment all show.

Files live in :class:`~wallet.evidence.storage.EvidenceStore` (content-addressed, type checked by magic bytes,
size-limited). The file is stored before the record's transaction: if the transaction fails, the file is an
unreferenced copy of bytes someone sent, harmless and reused if they send it again.
"""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Iterable, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from ledger.chain import GENESIS, canonical
from ledger.clock import from_us
from ledger.db import Database
from ledger.errors import UnknownEntry
from ledger.model import Entry
from ledger.tables import account_t, entry_t, hold_t, posting_t
from wallet.domain.errors import InvalidRequest, NotFound, PermissionDenied
from wallet.domain.permissions import Action, can, load_access, load_user, require
from wallet.domain.tables import evidence_t, invoice_t, payment_request_t, wallet_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import load_wallet
from wallet.evidence.storage import MEDIA_TYPES, EvidenceMissing, EvidenceStore, StoredFile, safe_file_name


class EvidenceKind(str, enum.Enum):
    RECEIPT = "receipt"
    INVOICE = "invoice"
    TIMESHEET = "timesheet"
    PAYSLIP = "payslip"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"receipt": "Receipt", "invoice": "Invoice", "timesheet": "Timesheet", "payslip": "Payslip",
                "other": "Other evidence"}[self.value]


class UnknownEvidence(NotFound):
    pass


class UnknownLedgerEntry(NotFound):
    pass


@dataclass(frozen=True)
class Evidence:
    id: str
    wallet_id: str
    sequence: int
    entry_id: str | None
    """The entry it supports (for an invoice's document: the entry that paid it, once paid)."""
    invoice_id: str | None
    kind: EvidenceKind
    sha256: str
    media_type: str
    size: int
    file_name: str
    note: str | None
    attached_by: str
    attached_at: datetime
    record_hash: str
    in_entry_metadata: bool = False
    """The SHA-256 is also in the ledger entry's own metadata (covered by the book's hash chain)."""

    @property
    def type_words(self) -> str:
        return MEDIA_TYPES[self.media_type][1]


def record_hash(previous: str, *, wallet_id: str, sequence: int, evidence_id: str, entry_id: str | None,
                invoice_id: str | None, kind: str, sha256: str, media_type: str, size: int, file_name: str,
                note: str | None, attached_by: str, attached_us: int) -> str:
    """SHA-256 of the previous row's hash, a newline and this row's content as canonical JSON."""
    content = canonical({
        "wallet": wallet_id, "seq": sequence, "id": evidence_id, "entry": entry_id, "invoice": invoice_id,
        "kind": kind, "sha256": sha256, "media_type": media_type, "bytes": size, "file_name": file_name,
        "note": note, "by": attached_by, "at": attached_us})
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


# ---------------------------------------------------------------------- writing
def append_record(tx: Tx, wallet_row: Any, *, stored: StoredFile, kind: EvidenceKind | str, file_name: str | None,
                  actor: str, entry_id: str | None = None, invoice_pk: int | None = None,
                  invoice_uuid: str | None = None, note: str | None = None) -> str:
    """Inside a service's transaction (the wallet row already locked): append one evidence row to the
    wallet's chain; returns its id."""
    kind = EvidenceKind(kind)
    if entry_id is None and invoice_pk is None:
        raise InvalidRequest("evidence must name the entry or the invoice it supports")
    note = (note or "").strip() or None
    if note is not None and len(note) > 500:
        raise InvalidRequest("a note on evidence must be 500 characters or fewer")
    last = tx.conn.execute(select(evidence_t.c.sequence, evidence_t.c.record_hash)
                           .where(evidence_t.c.wallet_id == wallet_row.id)
                           .order_by(evidence_t.c.sequence.desc()).limit(1)).first()
    sequence, previous = (last.sequence + 1, last.record_hash) if last else (1, GENESIS)
    evidence_id = tx.new_id()
    name = safe_file_name(file_name, stored.media_type)
    now = tx.now_us()
    digest = record_hash(previous, wallet_id=wallet_row.uuid, sequence=sequence, evidence_id=evidence_id,
                         entry_id=entry_id, invoice_id=invoice_uuid, kind=kind.value, sha256=stored.sha256,
                         media_type=stored.media_type, size=stored.size, file_name=name, note=note,
                         attached_by=actor, attached_us=now)
    tx.conn.execute(evidence_t.insert(), dict(
        uuid=evidence_id, wallet_id=wallet_row.id, sequence=sequence, entry_id=entry_id, invoice_id=invoice_pk,
        kind=kind.value, sha256=stored.sha256, media_type=stored.media_type, size_bytes=stored.size,
        file_name=name, note=note, attached_by=actor, attached_us=now, previous_hash=previous,
        record_hash=digest))
    return evidence_id


def attach_evidence(uow: UnitOfWork, store: EvidenceStore, wallet_id: str, entry_id: str, *, actor: str,
                    kind: EvidenceKind | str, source: BinaryIO | bytes, file_name: str | None = None,
                    note: str | None = None) -> Evidence:
    """Keep a file as evidence for one of the wallet's ledger entries. Needs ``request_payment`` (the people
    who spend the money keep its receipts). The same file attached to the same entry again returns the first
    record."""
    kind = EvidenceKind(kind)
    # Ask first (without logging) so that nobody without the right can fill the store; the transaction below
    # asks again and logs the attempt either way.
    if not _may(uow, actor, Action.REQUEST_PAYMENT, wallet_id):
        uow.write(lambda tx: require(tx, actor, Action.REQUEST_PAYMENT, tx.wallet_row(wallet_id),
                                     f"attach evidence to entry {entry_id}"))
    stored = store.put(source)

    def work(tx: Tx) -> Evidence:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.REQUEST_PAYMENT, row,
                f"attach {kind.value} {stored.sha256[:12]} to entry {entry_id}")
        entry = _entry_of(tx, row, entry_id)
        prior = tx.conn.execute(select(evidence_t).where(and_(
            evidence_t.c.wallet_id == row.id, evidence_t.c.entry_id == entry.id,
            evidence_t.c.sha256 == stored.sha256))).first()
        evidence_id = prior.uuid if prior is not None else append_record(
            tx, row, stored=stored, kind=kind, file_name=file_name, actor=actor, entry_id=entry.id, note=note)
        return _load(tx, row, [evidence_id], entry)[0]

    return uow.write(work)


# ---------------------------------------------------------------------- reading
@dataclass(frozen=True)
class EntryEvidence:
    """One ledger entry of a wallet, with the evidence kept for it."""

    entry: Entry
    amount: int
    """What the entry moved into (positive) or out of (negative) the wallet's money, all funders together."""
    explanation: str
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    ledger_hashes: tuple[str, ...] = field(default_factory=tuple)
    """SHA-256s listed in the entry's own metadata."""


def entry_evidence(uow: UnitOfWork, wallet_id: str, entry_id: str, *, actor: str) -> EntryEvidence:
    """The entry and its evidence. Needs ``view_transactions``; not logged (the page's guard logs the visit)."""

    def work(tx: Tx) -> EntryEvidence:
        row = tx.wallet_row(wallet_id)
        _check(tx, actor, Action.VIEW_TRANSACTIONS, row)
        entry = _entry_of(tx, row, entry_id)
        wallet = load_wallet(tx, row)
        cash = {wallet.chart.cash(s.code): s.id for s in wallet.streams}
        streams: dict[str, int] = {}
        for p in entry.postings:
            if p.account in cash:
                streams[cash[p.account]] = streams.get(cash[p.account], 0) + p.amount   # cash is an asset
        explanation = _explain(tx, row, wallet, entry, streams)
        ids = _evidence_ids_for_entry(tx.conn, row.id, entry.id)
        return EntryEvidence(entry, sum(streams.values()), explanation, tuple(_load(tx, row, ids, entry)),
                             tuple(_ledger_hashes(entry.metadata)))

    return uow.read(work)


def evidence_for_download(uow: UnitOfWork, store: EvidenceStore, wallet_id: str, evidence_id: str, *,
                          actor: str) -> Evidence:
    """One evidence record, after checking its file is in the store and still hashes to what was recorded
    (an altered file is never handed out as evidence). Needs ``view_transactions``; the download is logged."""

    def work(tx: Tx) -> Evidence:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.VIEW_TRANSACTIONS, row, f"download evidence {evidence_id}")
        found = tx.conn.execute(select(evidence_t.c.uuid).where(and_(
            evidence_t.c.uuid == evidence_id, evidence_t.c.wallet_id == row.id))).first()
        if found is None:
            raise UnknownEvidence(f"this wallet has no evidence {evidence_id}")
        return _load(tx, row, [evidence_id])[0]

    evidence = uow.write(work)
    problem = store.check(evidence.sha256)
    if problem is not None:
        raise EvidenceMissing(f"{problem}; the file cannot be given out as evidence. Ask the support "
                              "organisation to check the evidence store")
    return evidence


def invoice_evidence(tx: Tx, wallet_row: Any, invoice_pk: int) -> list[Evidence]:
    """Inside a transaction: the documents kept for one invoice."""
    ids = list(tx.conn.execute(select(evidence_t.c.uuid).where(evidence_t.c.invoice_id == invoice_pk)
                               .order_by(evidence_t.c.sequence)).scalars())
    return _load(tx, wallet_row, ids)


def _may(uow: UnitOfWork, actor: str, action: Action, wallet_id: str) -> bool:
    def work(tx: Tx) -> bool:
        row = tx.conn.execute(select(wallet_t).where(wallet_t.c.uuid == wallet_id)).first()
        user = load_user(tx, actor) if actor != SYSTEM else None
        return row is not None and user is not None and can(user, action, load_access(tx, row, user.id))

    return uow.read(work)


def _check(tx: Tx, actor: str, action: Action, wallet_row: Any) -> None:
    user = load_user(tx, actor) if actor != SYSTEM else None
    if user is None or not can(user, action, load_access(tx, wallet_row, user.id)):
        raise PermissionDenied(actor, action.value, wallet_row.uuid)


def _entry_of(tx: Tx, wallet_row: Any, entry_id: str) -> Entry:
    """The ledger entry, if it is in this wallet's book (otherwise: not found, whoever's it is)."""
    if not isinstance(entry_id, str) or not 0 < len(entry_id) <= 64:
        raise UnknownLedgerEntry("there is no such entry")
    try:
        entry = tx.ledger.entry(entry_id)
    except UnknownEntry:
        raise UnknownLedgerEntry(f"this wallet has no entry {entry_id}") from None
    if entry.book != wallet_row.book:
        raise UnknownLedgerEntry(f"this wallet has no entry {entry_id}")
    return entry


def _ledger_hashes(metadata: Any) -> list[str]:
    listed = (metadata or {}).get("evidence") or []
    return [item["sha256"] for item in listed if isinstance(item, dict) and isinstance(item.get("sha256"), str)]


def _evidence_ids_for_entry(conn: Connection, wallet_pk: int, entry_uuid: str) -> list[str]:
    """Rows naming the entry, and rows of invoices paid by it (through their payment request)."""
    paid_invoices = (select(invoice_t.c.id)
                     .join(payment_request_t, payment_request_t.c.id == invoice_t.c.payment_request_id)
                     .where(and_(invoice_t.c.wallet_id == wallet_pk, payment_request_t.c.entry_id == entry_uuid)))
    return list(conn.execute(select(evidence_t.c.uuid).where(and_(
        evidence_t.c.wallet_id == wallet_pk,
        or_(evidence_t.c.entry_id == entry_uuid, evidence_t.c.invoice_id.in_(paid_invoices))))
        .order_by(evidence_t.c.sequence)).scalars())


def _load(tx: Tx, wallet_row: Any, evidence_ids: Sequence[str], entry: Entry | None = None) -> list[Evidence]:
    if not evidence_ids:
        return []
    rows = tx.conn.execute(
        select(evidence_t, invoice_t.c.uuid.label("invoice_uuid"), payment_request_t.c.entry_id.label("paid_by"))
        .outerjoin(invoice_t, invoice_t.c.id == evidence_t.c.invoice_id)
        .outerjoin(payment_request_t, payment_request_t.c.id == invoice_t.c.payment_request_id)
        .where(evidence_t.c.uuid.in_(list(evidence_ids))).order_by(evidence_t.c.sequence)).all()
    in_ledger = set(_ledger_hashes(entry.metadata)) if entry is not None else set()
    return [Evidence(
        id=r.uuid, wallet_id=wallet_row.uuid, sequence=r.sequence, entry_id=r.entry_id or r.paid_by,
        invoice_id=r.invoice_uuid, kind=EvidenceKind(r.kind), sha256=r.sha256, media_type=r.media_type,
        size=r.size_bytes, file_name=r.file_name, note=r.note, attached_by=r.attached_by,
        attached_at=from_us(r.attached_us), record_hash=r.record_hash, in_entry_metadata=r.sha256 in in_ledger)
        for r in rows]


def _explain(tx: Tx, wallet_row: Any, wallet: Any, entry: Entry, streams: dict[str, int]) -> str:
    """The entry in the same plain words as the transactions list."""
    from wallet.domain.directory import _Explainer

    info = dict(entry.metadata or {})
    info["_seq"] = entry.sequence
    info["_reverses"] = entry.reverses is not None
    return _Explainer(tx, wallet_row, wallet).explain(
        {"info": info, "description": entry.description, "streams": streams})[2]


# ---------------------------------------------------------------------- proof
@dataclass
class EvidenceReport:
    records: int = 0
    files: int = 0
    wallets: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_evidence(db: Database, store: EvidenceStore) -> EvidenceReport:
    """Recompute every wallet's evidence chain, re-hash every stored file, and check each invoice document's
    hash is in the metadata of the ledger hold or entry that pays it. Reports every problem found."""
    report = EvidenceReport()
    checked_files: dict[str, str | None] = {}
    with db.read() as conn:
        wallets = dict(conn.execute(select(wallet_t.c.id, wallet_t.c.uuid)).all())
        rows = conn.execute(
            select(evidence_t, invoice_t.c.uuid.label("invoice_uuid"),
                   payment_request_t.c.hold_id, payment_request_t.c.entry_id.label("paid_by"))
            .outerjoin(invoice_t, invoice_t.c.id == evidence_t.c.invoice_id)
            .outerjoin(payment_request_t, payment_request_t.c.id == invoice_t.c.payment_request_id)
            .order_by(evidence_t.c.wallet_id, evidence_t.c.sequence))
        current, previous, expected_seq = None, GENESIS, 1
        for r in rows:
            if r.wallet_id != current:
                current, previous, expected_seq = r.wallet_id, GENESIS, 1
                report.wallets += 1
            where = f"wallet {wallets.get(r.wallet_id, r.wallet_id)} evidence #{r.sequence} ({r.uuid})"
            report.records += 1
            if r.sequence != expected_seq:
                report.problems.append(f"{where}: expected record #{expected_seq}; a record is missing")
            if r.previous_hash != previous:
                report.problems.append(f"{where}: does not follow the record before it in the chain")
            digest = record_hash(r.previous_hash, wallet_id=wallets.get(r.wallet_id, ""), sequence=r.sequence,
                                 evidence_id=r.uuid, entry_id=r.entry_id, invoice_id=r.invoice_uuid, kind=r.kind,
                                 sha256=r.sha256, media_type=r.media_type, size=r.size_bytes,
                                 file_name=r.file_name, note=r.note, attached_by=r.attached_by,
                                 attached_us=r.attached_us)
            if digest != r.record_hash:
                report.problems.append(f"{where}: the record was changed after it was written (its hash differs)")
            previous, expected_seq = r.record_hash, r.sequence + 1
            if r.sha256 not in checked_files:
                checked_files[r.sha256] = store.check(r.sha256)
                report.files += 1
            if checked_files[r.sha256] is not None:
                report.problems.append(f"{where}: file {r.sha256}: {checked_files[r.sha256]}")
            if r.invoice_id is not None:
                listed = _paying_metadata_hashes(conn, r.hold_id, r.paid_by)
                if r.sha256 not in listed:
                    report.problems.append(f"{where}: the invoice document's SHA-256 is not in the metadata of "
                                           "the ledger entry (or hold) that pays it")
    return report


def _paying_metadata_hashes(conn: Connection, hold_uuid: str | None, entry_uuid: str | None) -> set[str]:
    found: set[str] = set()
    if entry_uuid is not None:
        meta = conn.execute(select(entry_t.c.meta).where(entry_t.c.uuid == entry_uuid)).scalar()
        found.update(_ledger_hashes(meta))
    if hold_uuid is not None:
        meta = conn.execute(select(hold_t.c.meta).where(hold_t.c.uuid == hold_uuid)).scalar()
        found.update(_ledger_hashes(meta))
    return found


# ---------------------------------------------------------------------- exports
@dataclass(frozen=True)
class ExportedEvidence:
    evidence_id: str
    entry_id: str
    kind: str
    sha256: str
    media_type: str
    size: int
    file_name: str
    attached_at: str
    record_hash: str

    @property
    def archive_name(self) -> str:
        return f"evidence/{self.sha256}.{MEDIA_TYPES[self.media_type][0]}"

    def as_dict(self) -> dict[str, Any]:
        return {"evidence_id": self.evidence_id, "entry_id": self.entry_id, "kind": self.kind,
                "sha256": self.sha256, "media_type": self.media_type, "bytes": self.size,
                "file_name": self.file_name, "attached_at": self.attached_at, "record_hash": self.record_hash}


def evidence_in_period(conn: Connection, wallet_uuid: str, cash_codes: Iterable[str], start_us: int,
                       end_us: int) -> list[ExportedEvidence]:
    """Evidence for the entries an export holds: entries that moved one of ``cash_codes`` in [start, end).
    Read on the export's own snapshot connection, so it agrees with the lines; oldest record first. The work
    is in proportion to the wallet's evidence records, not to the period's postings (an export of a million
    lines with no evidence costs one indexed lookup here)."""
    wallet_pk = conn.execute(select(wallet_t.c.id).where(wallet_t.c.uuid == wallet_uuid)).scalar()
    if wallet_pk is None:
        return []
    entry_of = func.coalesce(evidence_t.c.entry_id, payment_request_t.c.entry_id)
    rows = conn.execute(
        select(evidence_t, entry_of.label("for_entry"))
        .outerjoin(invoice_t, invoice_t.c.id == evidence_t.c.invoice_id)
        .outerjoin(payment_request_t, payment_request_t.c.id == invoice_t.c.payment_request_id)
        .where(evidence_t.c.wallet_id == wallet_pk).order_by(evidence_t.c.sequence)).all()
    wanted = sorted({r.for_entry for r in rows if r.for_entry is not None})
    accounts = select(account_t.c.id).where(account_t.c.code.in_(list(cash_codes)))
    moved: set[str] = set()
    for i in range(0, len(wanted), 500):
        moved.update(conn.execute(
            select(entry_t.c.uuid).join(posting_t, posting_t.c.entry_id == entry_t.c.id)
            .where(and_(entry_t.c.uuid.in_(wanted[i:i + 500]), posting_t.c.account_id.in_(accounts),
                        posting_t.c.effective_us >= start_us, posting_t.c.effective_us < end_us))).scalars())
    return [ExportedEvidence(r.uuid, r.for_entry, r.kind, r.sha256, r.media_type, r.size_bytes, r.file_name,
                             from_us(r.attached_us).isoformat(), r.record_hash)
            for r in rows if r.for_entry in moved]


__all__ = ["EvidenceKind", "Evidence", "EntryEvidence", "EvidenceReport", "ExportedEvidence", "UnknownEvidence",
           "UnknownLedgerEntry", "append_record", "attach_evidence", "entry_evidence", "evidence_for_download",
           "evidence_in_period", "invoice_evidence", "record_hash", "verify_evidence"]

"""Importing bank statements into a wallet, matching their lines to the books, and reconciling.

An import is one transaction: the file is read first (a file that cannot be read is refused with the line at
fault, and nothing is written), then the statement, its new lines and their matches are written together with
the access-log row. Each line's fingerprint (``wallet.bank.statement.fingerprints``) is unique per bank
account, so importing an overlapping statement again adds only the lines not seen before.

Matching (``wallet.bank.matching``) runs over the new lines and every line still unmatched or only suggested,
against the ledger entries that moved the account's money (the wallet's ``cash:<stream>`` accounts: all of
them, or one funder's when the bank account holds only that funder's money) and are not matched already.

Reconciliation, on a statement's closing day D::

    reconciled balance  = bank closing balance + what the books paid or received that is not through the bank yet
    difference          = reconciled balance - the books' balance on D

The difference is what the bank shows that the books do not: lines nobody matched yet (bank charges, money
nobody recorded), or balances that never agreed. Suggested pairs count as paired here (a person only has to
confirm them). A difference raises a ``bank_difference`` alert once for that account and day.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from ledger.clock import from_us
from ledger.errors import LedgerError
from wallet.bank import detect_format
from wallet.bank.camt053 import read_camt053
from wallet.bank.csv_layouts import (ColumnMapping, CsvShape, MappingNeeded, layout_named, read_csv, sniff)
from wallet.bank.matching import NEAR_DAYS, Candidate, LineToMatch, Outcome, match
from wallet.bank.ofx import read_ofx
from wallet.bank.statement import (MAX_FILE_BYTES, BankLine, ParsedStatement, StatementError, account_key,
                                   clean_text, decode, fingerprints, last_four)
from wallet.bank.tables import (bank_account_t, bank_csv_mapping_t, bank_line_t, bank_statement_t, bank_upload_t)
from wallet.domain.alerts import AlertKind
from wallet.domain.errors import InvalidRequest, NotFound, PermissionDenied
from wallet.domain.permissions import Action, can, load_access, load_user, require
from wallet.domain.tables import alert_t, funding_stream_t, payee_t
from wallet.domain.unit_of_work import SYSTEM, Tx, UnitOfWork
from wallet.domain.wallets import Wallet, load_wallet, statement_lines
from wallet.money import format_pence

UK = ZoneInfo("Europe/London")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PAID_TO = re.compile(r"\(([^()]+)\)\s*$")
"""A payment's description ends with the payee's name in brackets (``wallet.domain.payments``)."""
MANUAL_WINDOW_DAYS = 45
"""How far either side of a line's date the entries offered for matching it by hand are."""
NOTE_LIMIT = 500


class UnknownBankLine(NotFound):
    pass


class UnknownUpload(NotFound):
    pass


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class Reconciliation:
    account_id: str
    account_label: str
    on: date
    bank_balance: int
    ledger_balance: int
    not_through_bank: int
    """What the books paid (negative) or received (positive) by ``on`` that the bank had not shown by then."""
    not_in_books: int
    """What the bank shows by ``on`` that no ledger entry is paired with (unmatched or explained lines)."""
    not_in_books_count: int

    @property
    def reconciled_balance(self) -> int:
        return self.bank_balance + self.not_through_bank

    @property
    def difference(self) -> int:
        return self.reconciled_balance - self.ledger_balance

    @property
    def unexplained(self) -> int:
        """The part of the difference no bank line accounts for (balances that never agreed)."""
        return self.difference - self.not_in_books


@dataclass(frozen=True)
class ImportSummary:
    statement_id: str
    account_id: str
    account_label: str
    format: str
    bank: str
    lines_in_file: int
    new: int
    duplicate: int
    matched: int
    suggested: int
    unmatched: int
    ignored: int
    rematched: int
    """Older lines, unmatched before, that this import's matching paired."""
    reconciliation: Reconciliation | None
    alert_raised: bool
    warnings: tuple[str, ...] = ()

    def words(self) -> str:
        return (f"{self.lines_in_file} lines read: {self.new} new, {self.duplicate} already imported; "
                f"{self.matched} matched, {self.suggested} suggested, {self.unmatched} left to match")


@dataclass(frozen=True)
class BankLineView:
    id: str
    account_id: str
    account_label: str
    booked_on: date
    amount: int
    description: str
    reference: str | None
    payee: str | None
    status: str
    entry_id: str | None
    suggested_entry_id: str | None
    entry_on: date | None
    similarity: int | None
    match_kind: str | None
    note: str | None
    suggestion_text: str | None = None


@dataclass(frozen=True)
class EntryChoice:
    entry_id: str
    on: date
    amount: int
    description: str


@dataclass(frozen=True)
class StatementView:
    id: str
    account_label: str
    format: str
    bank: str
    filename: str
    period_start: date | None
    period_end: date | None
    closing_balance: int | None
    closing_on: date | None
    lines_in_file: int
    lines_new: int
    lines_duplicate: int
    lines_matched: int
    lines_suggested: int
    imported_at: datetime


@dataclass(frozen=True)
class AccountView:
    id: str
    label: str
    last4: str | None
    funder: str | None
    counts: dict[str, int]
    reconciliation: Reconciliation | None


@dataclass(frozen=True)
class BankOverview:
    accounts: tuple[AccountView, ...]
    statements: tuple[StatementView, ...]


# ---------------------------------------------------------------------- reading a file
@dataclass
class ReadFile:
    """A file read into a statement, or the CSV shape that still needs a person's column mapping."""

    parsed: ParsedStatement | None
    shape: CsvShape | None = None
    mapping_to_remember: tuple[str, ColumnMapping] | None = None
    file_sha256: str = ""
    warnings: list[str] = field(default_factory=list)


def _remembered(uow: UnitOfWork, sig: str, bank: str | None = None) -> tuple[str, ColumnMapping] | None:
    def work(tx: Tx) -> tuple[str, ColumnMapping] | None:
        q = select(bank_csv_mapping_t).where(bank_csv_mapping_t.c.signature == sig)
        row = tx.conn.execute(q).first()
        if row is None:
            return None
        if bank and row.bank.lower() != bank.strip().lower():
            return None
        return row.bank, ColumnMapping.from_json(row.mapping)

    return uow.read(work)


def read_file(uow: UnitOfWork, data: bytes, *, bank: str | None = None,
              mapping: ColumnMapping | None = None, remember_as: str | None = None) -> ReadFile:
    """Read the file: OFX and CAMT.053 by their content; a CSV by ``bank`` (a known layout's name, or the bank a
    mapping was remembered for), by its heading row, by a mapping remembered for that heading row, or by
    ``mapping`` (which is then remembered as ``remember_as``). Raises :class:`MappingNeeded` for a CSV whose
    layout nobody has said yet, and :class:`StatementError` for anything that cannot be read."""
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidRequest("a statement file is bytes")
    if len(data) > MAX_FILE_BYTES:
        raise StatementError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; a bank statement is "
                             "much smaller, so this is probably not one")
    digest = hashlib.sha256(data).hexdigest()
    kind = detect_format(bytes(data))
    if kind == "ofx":
        return ReadFile(read_ofx(bytes(data)), file_sha256=digest)
    if kind == "camt053":
        return ReadFile(read_camt053(bytes(data)), file_sha256=digest)
    text = decode(bytes(data))
    shape = sniff(text)
    if mapping is not None:
        name = clean_text(remember_as or bank or "", 100)
        if not name:
            raise StatementError("say which bank the file is from, so its layout can be remembered")
        parsed = read_csv(text, shape, mapping, name)
        return ReadFile(parsed, shape, (name, mapping), digest)
    if bank:
        layout = layout_named(bank)
        if layout is not None:
            if not layout.headers <= set(shape.headers):
                raise StatementError(f"the file does not have {layout.name}'s columns "
                                     f"({', '.join(sorted(layout.headers))})")
            return ReadFile(read_csv(text, shape, layout.mapping, layout.name), shape, file_sha256=digest)
        found = _remembered(uow, shape.signature, bank)
        if found is None:
            raise MappingNeeded(shape)
        return ReadFile(read_csv(text, shape, found[1], found[0]), shape, file_sha256=digest)
    if shape.layout is not None:
        return ReadFile(read_csv(text, shape, shape.layout.mapping, shape.layout.name), shape, file_sha256=digest)
    found = _remembered(uow, shape.signature)
    if found is None:
        raise MappingNeeded(shape)
    return ReadFile(read_csv(text, shape, found[1], found[0]), shape, file_sha256=digest)


# ---------------------------------------------------------------------- importing
def import_statement(uow: UnitOfWork, wallet_id: str, data: bytes, filename: str, *, actor: str,
                     bank: str | None = None, mapping: ColumnMapping | None = None, remember_as: str | None = None,
                     account_id: str | None = None, stream_id: str | None = None,
                     progress: Callable[[str], None] | None = None) -> ImportSummary:
    """Import a statement file into the wallet: new lines stored and matched, duplicates skipped, the balance
    reconciled. Needs ``manage_wallet``. ``account_id`` picks an existing bank account when the file does not
    name one; ``stream_id`` says, for a new account, that it holds only that funder's money."""
    say = progress or (lambda _text: None)
    say(f"Reading {filename}")
    read = read_file(uow, data, bank=bank, mapping=mapping, remember_as=remember_as)
    parsed = read.parsed
    assert parsed is not None
    say(f"Read {len(parsed.lines)} transactions ({parsed.bank})")
    prints = fingerprints(parsed.lines)
    name = clean_text(filename, 255) or "statement"

    def work(tx: Tx) -> ImportSummary:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"import bank statement {name}", system_allowed=True)
        wallet = load_wallet(tx, row)
        now = tx.now_us()
        if read.mapping_to_remember is not None and read.shape is not None:
            _remember(tx, read.shape, *read.mapping_to_remember, actor=actor, now=now)
        account = _account(tx, row, wallet, parsed, account_id, stream_id, now)
        existing = _existing(tx, account.id, prints)
        new = [(ln, fp) for ln, fp in zip(parsed.lines, prints) if fp not in existing]
        statement_id = tx.new_id()
        tx.conn.execute(bank_statement_t.insert(), dict(
            uuid=statement_id, wallet_id=row.id, account_id=account.id, format=parsed.format, bank=parsed.bank,
            filename=name, file_sha256=read.file_sha256, period_start=parsed.period_start,
            period_end=parsed.period_end, opening_balance=parsed.opening_balance,
            closing_balance=parsed.closing_balance, closing_on=parsed.closing_on, lines_in_file=len(parsed.lines),
            lines_new=len(new), lines_duplicate=len(parsed.lines) - len(new), lines_matched=0, lines_suggested=0,
            imported_by=actor, imported_us=now))
        statement_pk = tx.conn.execute(select(bank_statement_t.c.id).where(
            bank_statement_t.c.uuid == statement_id)).scalar_one()
        say(f"{len(new)} new lines, {len(parsed.lines) - len(new)} imported before; matching against the books")
        outcomes, older = _match_open_lines(tx, wallet, account, [ln for ln, _ in new])
        if new:
            tx.conn.execute(bank_line_t.insert(), [dict(
                uuid=tx.new_id(), wallet_id=row.id, account_id=account.id, statement_id=statement_pk,
                fingerprint=fp, booked_on=ln.booked_on, amount=ln.amount, description=ln.description[:500],
                reference=ln.reference, payee=ln.payee, bank_ref=ln.bank_ref, balance=ln.balance,
                note=None, decided_by=None, decided_us=None, created_us=now, **_outcome_columns(o))
                for (ln, fp), o in zip(new, outcomes)])
        say("Storing the lines and reconciling")
        counts = {"matched": 0, "suggested": 0, "unmatched": 0}
        for o in outcomes:
            counts[o.status] += 1
        rematched = sum(1 for before, o in older.values() if before != "matched" and o.status == "matched")
        tx.conn.execute(update(bank_statement_t).where(bank_statement_t.c.id == statement_pk).values(
            lines_matched=counts["matched"], lines_suggested=counts["suggested"]))
        recon = None
        raised = False
        if parsed.closing_balance is not None and parsed.closing_on is not None:
            recon = _reconcile(tx, wallet, account, parsed.closing_on, parsed.closing_balance)
            raised = _alert_if_different(tx, row, recon)
        tx.audit(row.id, actor, "bank_import",
                 f"{parsed.bank} {parsed.format}: {len(new)} new, {len(parsed.lines) - len(new)} duplicate, "
                 f"{counts['matched']} matched")
        return ImportSummary(statement_id, account.uuid, account.label, parsed.format, parsed.bank,
                             len(parsed.lines), len(new), len(parsed.lines) - len(new), counts["matched"],
                             counts["suggested"], counts["unmatched"], parsed.ignored, rematched, recon, raised,
                             tuple(parsed.warnings) + tuple(read.warnings))

    return uow.write(work)


def _remember(tx: Tx, shape: CsvShape, bank: str, mapping: ColumnMapping, *, actor: str, now: int) -> None:
    found = tx.conn.execute(select(bank_csv_mapping_t.c.id).where(
        bank_csv_mapping_t.c.signature == shape.signature)).first()
    values = dict(bank=bank, headers=list(shape.headers), mapping=mapping.to_json(), updated_us=now)
    if found is None:
        tx.conn.execute(bank_csv_mapping_t.insert(), dict(signature=shape.signature, created_by=actor,
                                                          created_us=now, **values))
    else:
        tx.conn.execute(update(bank_csv_mapping_t).where(bank_csv_mapping_t.c.id == found.id).values(**values))


def _account(tx: Tx, row: Any, wallet: Wallet, parsed: ParsedStatement, account_id: str | None,
             stream_id: str | None, now: int) -> Any:
    """The bank account the statement belongs to: the one its number names, the one chosen, or a new one."""
    if account_id:
        chosen = tx.conn.execute(select(bank_account_t).where(and_(
            bank_account_t.c.uuid == account_id, bank_account_t.c.wallet_id == row.id))).first()
        if chosen is None:
            raise NotFound("this wallet has no such bank account")
        if parsed.account_number and chosen.account_key not in ("unnamed", account_key(wallet.id,
                                                                                         parsed.account_number)):
            raise InvalidRequest(f"the statement is for another account (ending {last_four(parsed.account_number)}) "
                                 f"than {chosen.label}")
        return chosen
    key = account_key(wallet.id, parsed.account_number)
    found = tx.conn.execute(select(bank_account_t).where(and_(
        bank_account_t.c.wallet_id == row.id, bank_account_t.c.account_key == key))).first()
    if found is not None:
        return found
    stream_pk = None
    if stream_id:
        stream_pk = tx.conn.execute(select(funding_stream_t.c.id).where(and_(
            funding_stream_t.c.uuid == stream_id, funding_stream_t.c.wallet_id == row.id))).scalar()
        if stream_pk is None:
            raise NotFound("this wallet has no such funding stream")
    ending = last_four(parsed.account_number)
    label = f"{parsed.bank} account ending {ending}" if ending else f"{parsed.bank} account"
    tx.conn.execute(bank_account_t.insert(), dict(uuid=tx.new_id(), wallet_id=row.id, account_key=key,
                                                  label=label[:200], last4=ending, stream_id=stream_pk,
                                                  created_us=now))
    return tx.conn.execute(select(bank_account_t).where(and_(
        bank_account_t.c.wallet_id == row.id, bank_account_t.c.account_key == key))).one()


def _existing(tx: Tx, account_pk: int, prints: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(prints), 500):
        chunk = prints[i:i + 500]
        found.update(tx.conn.execute(select(bank_line_t.c.fingerprint).where(and_(
            bank_line_t.c.account_id == account_pk, bank_line_t.c.fingerprint.in_(chunk)))).scalars())
    return found


# ---------------------------------------------------------------------- the books' side
def _cash_codes(tx: Tx, wallet: Wallet, account: Any) -> list[str]:
    if account.stream_id is None:
        return [wallet.chart.cash(s.code) for s in wallet.streams]
    uuid = tx.conn.execute(select(funding_stream_t.c.uuid).where(
        funding_stream_t.c.id == account.stream_id)).scalar_one()
    return [wallet.chart.cash(wallet.stream(uuid).code)]


def uk_day(moment: datetime) -> date:
    return moment.astimezone(UK).date()


def uk_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(timezone.utc)


def _entries(tx: Tx, wallet: Wallet, account: Any, lo: date, hi: date) -> list[Candidate]:
    """Ledger entries that moved the account's money on UK days ``lo`` to ``hi``: the net movement across the
    account's cash accounts (an entry moving money between two funders held in the same account nets to nothing
    and is left out), with its description and reference; a PA's payroll id is read as their name."""
    moved: dict[str, list[Any]] = {}
    for code in _cash_codes(tx, wallet, account):
        for line in statement_lines(tx.ledger, code, uk_start(lo), uk_start(hi + timedelta(days=1))):
            got = moved.get(line.entry)
            if got is None:
                moved[line.entry] = [line.effective_at, line.amount, line.description, line.reference]
            else:
                got[1] += line.amount
    names = {r.employee_id: r.name for r in tx.conn.execute(
        select(payee_t.c.employee_id, payee_t.c.name).where(and_(
            payee_t.c.wallet_id == account.wallet_id, payee_t.c.employee_id.is_not(None))))}
    out = []
    for entry_id, (at, amount, description, reference) in moved.items():
        if amount == 0:
            continue
        if reference and _UUID.fullmatch(reference):
            reference = None      # a payment request's id: no bank shows it
        text = " ".join(t for t in (description, reference) if t)
        named = _PAID_TO.search(description or "")
        payee = named.group(1) if named else ""
        for employee, name in names.items():
            if employee in text:
                text, payee = f"{text} {name}", name
        out.append(Candidate(entry_id, uk_day(at), amount, text, payee))
    return out


def _match_open_lines(tx: Tx, wallet: Wallet, account: Any, new: Sequence[BankLine] = ()
                      ) -> tuple[list[Outcome], dict[int, tuple[str, Outcome]]]:
    """Match ``new`` lines (not stored yet) and every stored line of the account still unmatched or only
    suggested, in one pass. Stores the stored lines' new outcomes; returns the new lines' outcomes, in order,
    and for each stored line the status it had before and its outcome now."""
    open_lines = list(tx.conn.execute(
        select(bank_line_t.c.id, bank_line_t.c.booked_on, bank_line_t.c.amount, bank_line_t.c.description,
               bank_line_t.c.reference, bank_line_t.c.payee, bank_line_t.c.status, bank_line_t.c.suggested_entry_id,
               bank_line_t.c.similarity)
        .where(and_(bank_line_t.c.account_id == account.id,
                    bank_line_t.c.status.in_(["unmatched", "suggested"])))
        .order_by(bank_line_t.c.booked_on, bank_line_t.c.id)))
    if not open_lines and not new:
        return [], {}
    days = [r.booked_on for r in open_lines] + [ln.booked_on for ln in new]
    lo, hi = min(days) - timedelta(days=NEAR_DAYS), max(days) + timedelta(days=NEAR_DAYS)
    taken = set(tx.conn.execute(select(bank_line_t.c.entry_id).where(and_(
        bank_line_t.c.account_id == account.id, bank_line_t.c.entry_id.is_not(None)))).scalars())
    candidates = [c for c in _entries(tx, wallet, account, lo, hi) if c.entry_id not in taken]
    lines = [LineToMatch(("old", r.id), r.booked_on, r.amount,
                         " ".join(t for t in (r.payee, r.description, r.reference) if t)) for r in open_lines]
    lines += [LineToMatch(("new", k), ln.booked_on, ln.amount, ln.text) for k, ln in enumerate(new)]
    outcomes = match(lines, candidates)
    changes = []
    before = {}
    for r in open_lines:
        o = outcomes[("old", r.id)]
        before[r.id] = (r.status, o)
        unchanged = (o.status == r.status and o.status != "matched"
                     and (o.entry_id if o.status == "suggested" else None) == r.suggested_entry_id
                     and (o.similarity if o.status != "unmatched" else None) == r.similarity)
        if not unchanged:
            changes.append(dict(k=r.id, **_outcome_columns(o)))
    if changes:
        tx.conn.execute(update(bank_line_t).where(bank_line_t.c.id == bindparam("k")).values(
            status=bindparam("status"), entry_id=bindparam("entry_id"),
            suggested_entry_id=bindparam("suggested_entry_id"), entry_on=bindparam("entry_on"),
            similarity=bindparam("similarity"), match_kind=bindparam("match_kind")), changes)
    return [outcomes[("new", k)] for k in range(len(new))], before


def _outcome_columns(o: Outcome) -> dict[str, Any]:
    return dict(status=o.status, entry_id=o.entry_id if o.status == "matched" else None,
                suggested_entry_id=o.entry_id if o.status == "suggested" else None,
                entry_on=o.entry_on if o.status != "unmatched" else None,
                similarity=o.similarity if o.status != "unmatched" else None,
                match_kind="auto" if o.status == "matched" else None)


# ---------------------------------------------------------------------- reconciliation
def _reconcile(tx: Tx, wallet: Wallet, account: Any, on: date, bank_balance: int) -> Reconciliation:
    codes = _cash_codes(tx, wallet, account)
    start = tx.conn.execute(select(func.min(bank_line_t.c.booked_on)).where(
        bank_line_t.c.account_id == account.id)).scalar() or on
    start = min(start, on)
    end_us = uk_start(on + timedelta(days=1)) - timedelta(microseconds=1)
    before_us = uk_start(start) - timedelta(microseconds=1)
    ledger_now = sum(tx.ledger.balance_as_of(c, end_us) for c in codes)
    ledger_before = sum(tx.ledger.balance_as_of(c, before_us) for c in codes)
    c = bank_line_t.c
    paired = or_(c.entry_id.is_not(None), c.suggested_entry_id.is_not(None))
    on_bank_in_window = tx.conn.execute(select(func.coalesce(func.sum(c.amount), 0)).where(and_(
        c.account_id == account.id, paired, c.booked_on <= on, c.entry_on >= start, c.entry_on <= on))).scalar()
    not_in_books = tx.conn.execute(select(func.coalesce(func.sum(c.amount), 0), func.count()).where(and_(
        c.account_id == account.id, c.booked_on >= start, c.booked_on <= on,
        or_(~paired, c.entry_on > on)))).one()
    return Reconciliation(account.uuid, account.label, on, bank_balance, ledger_now,
                          (ledger_now - ledger_before) - int(on_bank_in_window), int(not_in_books[0]),
                          int(not_in_books[1]))


def _alert_if_different(tx: Tx, wallet_row: Any, recon: Reconciliation) -> bool:
    if recon.difference == 0:
        return False
    cause = f"bank_difference:{recon.account_id}:{recon.on.isoformat()}"
    known = tx.conn.execute(select(alert_t.c.id).where(and_(alert_t.c.wallet_id == wallet_row.id,
                                                           alert_t.c.cause == cause))).first()
    if known is not None:
        return False
    more = "more" if recon.difference > 0 else "less"
    lines = (f"{recon.not_in_books_count} line{'s' if recon.not_in_books_count != 1 else ''} on the statement "
             "are not in the books yet") if recon.not_in_books_count else "no single line explains it"
    message = (f"The bank statement for {recon.account_label} shows {format_pence(abs(recon.difference))} {more} "
               f"than the books on {recon.on.day} {recon.on:%B %Y}, allowing for payments not through the bank yet: "
               f"{lines}.")
    tx.conn.execute(alert_t.insert(), dict(
        uuid=tx.new_id(), wallet_id=wallet_row.id, kind=AlertKind.BANK_DIFFERENCE.value, cause=cause,
        message=message[:500], details={
            "account": recon.account_id, "on": recon.on.isoformat(), "bank_balance": recon.bank_balance,
            "ledger_balance": recon.ledger_balance, "not_through_bank": recon.not_through_bank,
            "not_in_books": recon.not_in_books, "difference": recon.difference},
        raised_us=tx.now_us(), dismissed_by=None, dismissed_us=None))
    return True


def _latest_reconciliation(tx: Tx, wallet: Wallet, account: Any) -> Reconciliation | None:
    latest = tx.conn.execute(
        select(bank_statement_t.c.closing_on, bank_statement_t.c.closing_balance)
        .where(and_(bank_statement_t.c.account_id == account.id, bank_statement_t.c.closing_balance.is_not(None),
                    bank_statement_t.c.closing_on.is_not(None)))
        .order_by(bank_statement_t.c.closing_on.desc(), bank_statement_t.c.id.desc()).limit(1)).first()
    if latest is None:
        return None
    return _reconcile(tx, wallet, account, latest.closing_on, latest.closing_balance)


# ---------------------------------------------------------------------- a person's decisions
def _guard(tx: Tx, actor: str, action: Action, row: Any) -> None:
    """The permission check for reads that a page visit has already logged (``wallet_for``)."""
    if actor == SYSTEM:
        return
    user = load_user(tx, actor)
    if user is None or not can(user, action, load_access(tx, row, user.id)):
        raise PermissionDenied(actor, action.value, row.uuid)


def _line(tx: Tx, row: Any, line_id: str) -> Any:
    found = tx.conn.execute(select(bank_line_t).where(and_(bank_line_t.c.uuid == line_id,
                                                           bank_line_t.c.wallet_id == row.id))).first()
    if found is None:
        raise UnknownBankLine("this wallet has no such bank statement line")
    return found


def _account_row(tx: Tx, account_pk: int) -> Any:
    return tx.conn.execute(select(bank_account_t).where(bank_account_t.c.id == account_pk)).one()


def _after_decision(tx: Tx, row: Any, account: Any) -> None:
    recon = _latest_reconciliation(tx, load_wallet(tx, row), account)
    if recon is not None:
        _alert_if_different(tx, row, recon)


def match_line(uow: UnitOfWork, wallet_id: str, line_id: str, entry_id: str, *, actor: str) -> BankLineView:
    """A person pairs a line with a ledger entry (confirming a suggestion, or choosing another): the entry must
    have moved this account's money by the same amount and not be paired with another line already."""

    def work(tx: Tx) -> BankLineView:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"match bank line {line_id}", system_allowed=True)
        line = _line(tx, row, line_id)
        account = _account_row(tx, line.account_id)
        wallet = load_wallet(tx, row)
        if line.status == "matched" and line.entry_id == entry_id:
            return _view(tx, line, account)
        found = [c for c in _entries(tx, wallet, account, line.booked_on - timedelta(days=MANUAL_WINDOW_DAYS),
                                     line.booked_on + timedelta(days=MANUAL_WINDOW_DAYS)) if c.entry_id == entry_id]
        if not found:
            raise InvalidRequest("that entry did not move this account's money within "
                                 f"{MANUAL_WINDOW_DAYS} days of the line")
        entry = found[0]
        if entry.amount != line.amount:
            raise InvalidRequest(f"the amounts differ: the bank line is {format_pence(line.amount)} and the entry "
                                 f"is {format_pence(entry.amount)}")
        other = tx.conn.execute(select(bank_line_t.c.uuid).where(and_(
            bank_line_t.c.account_id == account.id, bank_line_t.c.entry_id == entry_id))).first()
        if other is not None:
            raise InvalidRequest("that entry is already matched to another line of this statement's account")
        tx.conn.execute(update(bank_line_t).where(bank_line_t.c.id == line.id).values(
            status="matched", entry_id=entry_id, suggested_entry_id=None, entry_on=entry.on, match_kind="manual",
            note=None, decided_by=actor, decided_us=tx.now_us()))
        # A suggestion of this entry for another line is no longer open.
        tx.conn.execute(update(bank_line_t).where(and_(
            bank_line_t.c.account_id == account.id, bank_line_t.c.suggested_entry_id == entry_id,
            bank_line_t.c.status == "suggested")).values(status="unmatched", suggested_entry_id=None, entry_on=None,
                                                         similarity=None))
        _after_decision(tx, row, account)
        return _view(tx, _line(tx, row, line_id), account)

    return uow.write(work)


def explain_line(uow: UnitOfWork, wallet_id: str, line_id: str, note: str, *, actor: str) -> BankLineView:
    """A person says what a line is when no entry in the books is it (a bank charge, interest...)."""
    text = clean_text(note, NOTE_LIMIT + 1)
    if not text:
        raise InvalidRequest("say what this line is, in a few words")
    if len(text) > NOTE_LIMIT:
        raise InvalidRequest(f"the explanation must be {NOTE_LIMIT} characters or fewer")

    def work(tx: Tx) -> BankLineView:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"explain bank line {line_id}", system_allowed=True)
        line = _line(tx, row, line_id)
        tx.conn.execute(update(bank_line_t).where(bank_line_t.c.id == line.id).values(
            status="explained", entry_id=None, suggested_entry_id=None, entry_on=None, similarity=None,
            match_kind=None, note=text, decided_by=actor, decided_us=tx.now_us()))
        account = _account_row(tx, line.account_id)
        _after_decision(tx, row, account)
        return _view(tx, _line(tx, row, line_id), account)

    return uow.write(work)


def reopen_line(uow: UnitOfWork, wallet_id: str, line_id: str, *, actor: str) -> BankLineView:
    """Undo a match or an explanation: the line is open to be matched again."""

    def work(tx: Tx) -> BankLineView:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, f"reopen bank line {line_id}", system_allowed=True)
        line = _line(tx, row, line_id)
        tx.conn.execute(update(bank_line_t).where(bank_line_t.c.id == line.id).values(
            status="unmatched", entry_id=None, suggested_entry_id=None, entry_on=None, similarity=None,
            match_kind=None, note=None, decided_by=actor, decided_us=tx.now_us()))
        return _view(tx, _line(tx, row, line_id), _account_row(tx, line.account_id))

    return uow.write(work)


def rematch(uow: UnitOfWork, wallet_id: str, *, actor: str) -> int:
    """Match the open lines of every account again (entries recorded since may pair them); returns how many
    lines are matched now that were not."""

    def work(tx: Tx) -> int:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, "match bank lines again", system_allowed=True)
        wallet = load_wallet(tx, row)
        done = 0
        for account in tx.conn.execute(select(bank_account_t).where(bank_account_t.c.wallet_id == row.id)).all():
            for before, outcome in _match_open_lines(tx, wallet, account)[1].values():
                done += before != "matched" and outcome.status == "matched"
            _after_decision(tx, row, account)
        return done

    return uow.write(work)


# ---------------------------------------------------------------------- reading
def _view(tx: Tx, r: Any, account: Any, suggestion: str | None = None) -> BankLineView:
    return BankLineView(r.uuid, account.uuid, account.label, r.booked_on, r.amount, r.description, r.reference,
                        r.payee, r.status, r.entry_id, r.suggested_entry_id, r.entry_on, r.similarity, r.match_kind,
                        r.note, suggestion)


def bank_overview(uow: UnitOfWork, wallet_id: str, *, actor: str, limit: int = 50) -> BankOverview:
    """Every bank account of the wallet with its reconciliation on its latest statement and its lines by
    status, and the latest imports. Needs ``manage_wallet`` (the page visit is logged by the view)."""

    def work(tx: Tx) -> BankOverview:
        row = tx.wallet_row(wallet_id)
        _guard(tx, actor, Action.MANAGE_WALLET, row)
        wallet = load_wallet(tx, row)
        labels = {s.id: s.label for s in wallet.streams}
        stream_uuid = {r.id: r.uuid for r in tx.conn.execute(select(funding_stream_t.c.id, funding_stream_t.c.uuid)
                                                               .where(funding_stream_t.c.wallet_id == row.id))}
        accounts = []
        for account in tx.conn.execute(select(bank_account_t).where(bank_account_t.c.wallet_id == row.id)
                                       .order_by(bank_account_t.c.id)).all():
            counts = {s: n for s, n in tx.conn.execute(
                select(bank_line_t.c.status, func.count()).where(bank_line_t.c.account_id == account.id)
                .group_by(bank_line_t.c.status))}
            funder = labels.get(stream_uuid.get(account.stream_id, "")) if account.stream_id else None
            accounts.append(AccountView(account.uuid, account.label, account.last4, funder, counts,
                                        _latest_reconciliation(tx, wallet, account)))
        names = {a.id: a.label for a in tx.conn.execute(select(bank_account_t.c.id, bank_account_t.c.label)
                                                         .where(bank_account_t.c.wallet_id == row.id))}
        statements = tuple(
            StatementView(s.uuid, names[s.account_id], s.format, s.bank, s.filename, s.period_start, s.period_end,
                          s.closing_balance, s.closing_on, s.lines_in_file, s.lines_new, s.lines_duplicate,
                          s.lines_matched, s.lines_suggested, from_us(s.imported_us))
            for s in tx.conn.execute(select(bank_statement_t).where(bank_statement_t.c.wallet_id == row.id)
                                     .order_by(bank_statement_t.c.id.desc()).limit(limit)))
        return BankOverview(tuple(accounts), statements)

    return uow.read(work)


def open_lines(uow: UnitOfWork, wallet_id: str, *, actor: str, statuses: Iterable[str] = ("suggested", "unmatched"),
               limit: int = 500) -> list[BankLineView]:
    """Lines with the given statuses, oldest first, each suggestion with the suggested entry's description.
    Needs ``manage_wallet``."""
    wanted = [s for s in statuses if s in ("matched", "suggested", "unmatched", "explained")]

    def work(tx: Tx) -> list[BankLineView]:
        row = tx.wallet_row(wallet_id)
        _guard(tx, actor, Action.MANAGE_WALLET, row)
        accounts = {a.id: a for a in tx.conn.execute(select(bank_account_t).where(
            bank_account_t.c.wallet_id == row.id)).all()}
        rows = tx.conn.execute(select(bank_line_t).where(and_(
            bank_line_t.c.wallet_id == row.id, bank_line_t.c.status.in_(wanted)))
            .order_by(bank_line_t.c.booked_on, bank_line_t.c.id).limit(limit)).all()
        texts = _entry_texts(tx, [r.suggested_entry_id or r.entry_id for r in rows
                                  if r.suggested_entry_id or r.entry_id])
        return [_view(tx, r, accounts[r.account_id], texts.get(r.suggested_entry_id or r.entry_id or ""))
                for r in rows]

    return uow.read(work)


def _entry_texts(tx: Tx, entry_ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(entry_ids), 500):
        for e in entry_ids[i:i + 500]:
            try:
                out[e] = tx.ledger.entry(e).description
            except LedgerError:   # an id that does not resolve is shown without words, not as an error
                continue
    return out


def entry_choices(uow: UnitOfWork, wallet_id: str, line_id: str, *, actor: str) -> list[EntryChoice]:
    """Entries a person may pair the line with by hand: the same amount, within ``MANUAL_WINDOW_DAYS``, not
    matched to another line; nearest in date first."""

    def work(tx: Tx) -> list[EntryChoice]:
        row = tx.wallet_row(wallet_id)
        _guard(tx, actor, Action.MANAGE_WALLET, row)
        line = _line(tx, row, line_id)
        account = _account_row(tx, line.account_id)
        taken = set(tx.conn.execute(select(bank_line_t.c.entry_id).where(and_(
            bank_line_t.c.account_id == account.id, bank_line_t.c.entry_id.is_not(None)))).scalars())
        found = [c for c in _entries(tx, load_wallet(tx, row), account,
                                     line.booked_on - timedelta(days=MANUAL_WINDOW_DAYS),
                                     line.booked_on + timedelta(days=MANUAL_WINDOW_DAYS))
                 if c.amount == line.amount and c.entry_id not in taken]
        found.sort(key=lambda c: (abs((c.on - line.booked_on).days), c.on))
        return [EntryChoice(c.entry_id, c.on, c.amount, c.text) for c in found[:50]]

    return uow.read(work)


def unreconciled_lines(tx: Tx, wallet_row: Any, upto: date) -> list[Any]:
    """Inside a transaction: lines booked on or before ``upto`` still unmatched or only suggested (for the
    monthly report)."""
    return list(tx.conn.execute(select(bank_line_t).where(and_(
        bank_line_t.c.wallet_id == wallet_row.id, bank_line_t.c.booked_on <= upto,
        bank_line_t.c.status.in_(["unmatched", "suggested"]))).order_by(bank_line_t.c.booked_on, bank_line_t.c.id)))


# ---------------------------------------------------------------------- CSVs waiting for a mapping
def hold_upload(uow: UnitOfWork, wallet_id: str, data: bytes, filename: str, *, actor: str) -> str:
    """Keep a CSV while a person says which column is which; returns its id. Older ones of the wallet go."""
    if len(data) > MAX_FILE_BYTES:
        raise StatementError("the file is too large to be a bank statement")

    def work(tx: Tx) -> str:
        row = tx.wallet_row(wallet_id, lock=True)
        require(tx, actor, Action.MANAGE_WALLET, row, "bank statement waiting for its column mapping",
                system_allowed=True)
        tx.conn.execute(delete(bank_upload_t).where(and_(bank_upload_t.c.wallet_id == row.id,
                                                         bank_upload_t.c.uploaded_by == actor)))
        upload_id = tx.new_id()
        tx.conn.execute(bank_upload_t.insert(), dict(uuid=upload_id, wallet_id=row.id,
                                                     filename=clean_text(filename, 255) or "statement.csv",
                                                     content=bytes(data), uploaded_by=actor, created_us=tx.now_us()))
        return upload_id

    return uow.write(work)


def held_upload(uow: UnitOfWork, wallet_id: str, upload_id: str, *, actor: str) -> tuple[str, bytes]:
    """The file and its name, for the person who uploaded it."""

    def work(tx: Tx) -> tuple[str, bytes]:
        row = tx.wallet_row(wallet_id)
        _guard(tx, actor, Action.MANAGE_WALLET, row)
        found = tx.conn.execute(select(bank_upload_t).where(and_(
            bank_upload_t.c.uuid == upload_id, bank_upload_t.c.wallet_id == row.id,
            bank_upload_t.c.uploaded_by == actor))).first()
        if found is None:
            raise UnknownUpload("that upload is no longer waiting: upload the file again")
        return found.filename, bytes(found.content)

    return uow.read(work)


def drop_upload(uow: UnitOfWork, wallet_id: str, upload_id: str, *, actor: str) -> None:
    def work(tx: Tx) -> None:
        row = tx.wallet_row(wallet_id, lock=True)
        _guard(tx, actor, Action.MANAGE_WALLET, row)
        tx.conn.execute(delete(bank_upload_t).where(and_(bank_upload_t.c.uuid == upload_id,
                                                         bank_upload_t.c.wallet_id == row.id)))

    uow.write(work)


__all__ = ["Reconciliation", "ImportSummary", "BankLineView", "EntryChoice", "StatementView", "AccountView",
           "BankOverview", "ReadFile", "read_file", "import_statement", "match_line", "explain_line", "reopen_line",
           "rematch", "bank_overview", "open_lines", "entry_choices", "unreconciled_lines", "hold_upload",
           "held_upload", "drop_upload", "MappingNeeded", "StatementError", "UnknownBankLine", "UnknownUpload"]

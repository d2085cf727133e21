"""What an export reads: the plan (which wallet, which funder, which days), and the lines, read lazily.

:func:`plan_export` is the service call: one transaction that checks ``Action.EXPORT`` with the domain's single
deny-by-default check and writes the attempt to the wallet's access log (done or denied), then fixes everything
the export needs to know before the first line is read.

:class:`Snapshot` then reads the lines inside one read-only transaction (REPEATABLE READ on PostgreSQL; SQLite's
WAL gives a read transaction its own snapshot), so the book's head hash, the opening balances and every line
come from the same moment even while others keep posting. Lines come from the ledger's paged statement of each
funder's cash account (``cash:<stream>``), a page of 1,000 at a time, merged by date: memory stays constant
however long the history. Per page, one query adds what the statement does not carry: each entry's book
sequence and hash (for the chain check) and the other accounts it touched (for the category).
"""
from __future__ import annotations

import enum
import heapq
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Iterator, Sequence, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ledger.db import Database
from ledger.model import StatementLine
from ledger.service import Ledger
from ledger.tables import account_t, book_t, entry_t, posting_t
from wallet.domain.chart import Category
from wallet.domain.errors import InvalidRequest
from wallet.domain.permissions import Action, require
from wallet.domain.schedules import start_of
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.domain.wallets import FundingStream, Wallet, load_wallet

T = TypeVar("T")

PAGE = 1000
"""Statement lines read per query (per funder)."""
MAX_DAYS = 366 * 7
"""The longest period one export covers: records are kept six years, and a little more."""


class ExportFormat(str, enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"
    JSON = "json"

    @property
    def label(self) -> str:
        return _FORMAT_LABELS[self]


_FORMAT_LABELS = {
    ExportFormat.CSV: "CSV spreadsheet file (in a ZIP file with its manifest)",
    ExportFormat.XLSX: "Excel workbook (in a ZIP file with its manifest)",
    ExportFormat.PDF: "PDF statement (in a ZIP file with its manifest)",
    ExportFormat.JSON: "JSON bundle (data and manifest in one file)",
}


@dataclass(frozen=True)
class ExportPlan:
    """Everything fixed before the first line is read."""

    export_id: str
    format: ExportFormat
    wallet_id: str
    wallet_name: str
    wallet_reference: str | None
    book: str
    currency: str
    streams: tuple[FundingStream, ...]
    """The funders exported: one, or all of the wallet's."""
    stream_id: str | None
    """The funder chosen, or None for the whole wallet."""
    first_day: date
    last_day: date
    """The period, both days included."""
    generated_at: datetime
    generated_by: str

    @property
    def funder_label(self) -> str:
        return self.streams[0].label if self.stream_id else "All funders"

    @property
    def opens_at(self) -> datetime:
        return start_of(self.first_day)

    @property
    def ends_at(self) -> datetime:
        """The first moment after the period (statements run up to, not including, it)."""
        return start_of(self.last_day + timedelta(days=1))

    def file_stem(self) -> str:
        who = (self.wallet_reference or self.wallet_id[:8]).replace("/", "-")
        return f"wallet-{who}-{self.first_day.isoformat()}-to-{self.last_day.isoformat()}"


@dataclass(frozen=True)
class ExportLine:
    """One movement of money held, as every format writes it. Amounts are whole pence."""

    effective_at: datetime
    entry_id: str
    description: str
    reference: str | None
    funder: str
    category: str
    money_in: int
    money_out: int
    balance: int
    """Running balance after this line: of the funder's money, or of the whole wallet."""
    sequence: int
    """The entry's place in the wallet's book (its hash chain)."""
    entry_hash: str

    @property
    def day(self) -> date:
        return self.effective_at.date()


def check_period(first_day: date, last_day: date) -> None:
    if last_day < first_day:
        raise InvalidRequest("the period must end on or after the day it starts")
    if (last_day - first_day).days >= MAX_DAYS:
        raise InvalidRequest("one export can cover at most seven years")


def plan_export(uow: UnitOfWork, wallet_id: str, *, actor: str, fmt: ExportFormat | str, first_day: date,
                last_day: date, stream_id: str | None = None) -> ExportPlan:
    """Check that ``actor`` may export this wallet (logged either way) and fix what the export covers."""
    fmt = ExportFormat(fmt)
    check_period(first_day, last_day)

    def work(tx: Tx) -> ExportPlan:
        row = tx.wallet_row(wallet_id)
        require(tx, actor, Action.EXPORT, row,
                f"{fmt.value} export {first_day} to {last_day}" + (f" funder {stream_id}" if stream_id else ""))
        wallet: Wallet = load_wallet(tx, row)
        streams = (wallet.stream(stream_id),) if stream_id else wallet.streams
        return ExportPlan(
            export_id=tx.new_id(), format=fmt, wallet_id=wallet.id, wallet_name=wallet.name,
            wallet_reference=wallet.reference, book=wallet.book, currency=wallet.currency, streams=streams,
            stream_id=stream_id, first_day=first_day, last_day=last_day, generated_at=tx.clock.now(),
            generated_by=actor)

    return uow.write(work)


class _SnapshotDatabase(Database):
    """One open read transaction, lent to a Ledger so that all of its reads see the same snapshot."""

    def __init__(self, conn: Connection):
        self.engine = conn.engine
        self.dialect = conn.dialect.name
        self._conn = conn

    def write(self, work: Callable[[Connection], T], attempts: int = 1) -> T:
        raise RuntimeError("an export only reads")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        yield self._conn

    def dispose(self) -> None:
        """The engine belongs to the application's Database."""


@dataclass(frozen=True)
class ChainHead:
    book: str
    sequence: int
    hash: str


class Snapshot:
    """The books as they stood when the export began; use as ``with Snapshot.open(db, plan) as snap``."""

    def __init__(self, conn: Connection, plan: ExportPlan):
        self.conn = conn
        self.plan = plan
        self.ledger = Ledger(_SnapshotDatabase(conn))
        head = conn.execute(select(book_t.c.entry_count, book_t.c.head_hash)
                            .where(book_t.c.code == plan.book)).first()
        self.head = ChainHead(plan.book, head.entry_count if head else 0, head.head_hash if head else "0" * 64)
        self.opening = sum(self.ledger.balance_as_of(self._cash(s), plan.opens_at - timedelta(microseconds=1))
                           for s in plan.streams)

    @classmethod
    @contextmanager
    def open(cls, db: Database, plan: ExportPlan) -> Iterator["Snapshot"]:
        with db.engine.connect() as conn:
            with conn.begin():
                if db.is_postgres:
                    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield cls(conn, plan)

    def _cash(self, stream: FundingStream) -> str:
        return f"{self.plan.book}:cash:{stream.code}"

    def lines(self) -> Iterator[ExportLine]:
        """Every line of the period, oldest first (funders merged by date), with the running balance."""
        merged = heapq.merge(*(self._stream_lines(i, s) for i, s in enumerate(self.plan.streams)),
                             key=lambda item: (item[0], item[1]))
        running = self.opening
        for _, _, line in merged:
            running += line.money_in - line.money_out
            yield ExportLine(line.effective_at, line.entry_id, line.description, line.reference, line.funder,
                             line.category, line.money_in, line.money_out, running, line.sequence,
                             line.entry_hash)

    def _stream_lines(self, index: int, stream: FundingStream) -> Iterator[tuple[datetime, int, ExportLine]]:
        code = self._cash(stream)
        cursor = None
        while True:
            page = self.ledger.statement(code, self.plan.opens_at, self.plan.ends_at, limit=PAGE, cursor=cursor)
            facts = self._entry_facts([ln.entry for ln in page.lines])
            for ln in page.lines:
                yield ln.effective_at, index, self._line(ln, stream, code, facts[ln.entry])
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def _entry_facts(self, entry_ids: Sequence[str]) -> dict[str, tuple[int, str, list[str]]]:
        """For a page of entries: (book sequence, hash, codes of every account each touched)."""
        if not entry_ids:
            return {}
        out: dict[str, tuple[int, str, list[str]]] = {}
        q = (select(entry_t.c.uuid, entry_t.c.book_seq, entry_t.c.hash, account_t.c.code)
             .join(posting_t, posting_t.c.entry_id == entry_t.c.id)
             .join(account_t, account_t.c.id == posting_t.c.account_id)
             .where(entry_t.c.uuid.in_(list(set(entry_ids)))))
        for r in self.conn.execute(q):
            out.setdefault(r.uuid, (r.book_seq, r.hash, []))[2].append(r.code)
        return out

    def _line(self, ln: StatementLine, stream: FundingStream, cash: str,
              facts: tuple[int, str, list[str]]) -> ExportLine:
        sequence, digest, codes = facts
        return ExportLine(
            effective_at=ln.effective_at, entry_id=ln.entry, description=ln.description, reference=ln.reference,
            funder=stream.label, category=category_of(self.plan.book, [c for c in codes if c != cash], ln.amount),
            money_in=ln.amount if ln.amount > 0 else 0, money_out=-ln.amount if ln.amount < 0 else 0,
            balance=ln.balance, sequence=sequence, entry_hash=digest)


def category_of(book: str, other_codes: Sequence[str], amount: int) -> str:
    """What a movement of cash was for, named from the other side of its entry (see ``wallet.domain.chart``)."""
    for code in other_codes:
        rest = code[len(book) + 1:] if code.startswith(book + ":") else code
        kind = rest.split(":")
        if kind[0] == "spend" and len(kind) >= 2:
            try:
                return Category(kind[1]).label
            except ValueError:
                return "Other spending"
        if kind[0] == "funding":
            return "Funding received" if amount >= 0 else "Funding returned"
        if kind[0] == "owed":
            return "Surplus repaid to the funder"
        if kind[0] == "wages-payable":
            return "Wages paid to personal assistants"
        if kind[0] == "hmrc-payable":
            return "Tax and National Insurance paid to HMRC"
        if kind[0] == "pension-payable":
            return "Pension contributions paid"
        if kind[0] == "cash":
            return "Moved between funders"
    return "Other"


__all__ = ["ExportFormat", "ExportPlan", "ExportLine", "Snapshot", "ChainHead", "plan_export", "check_period",
           "category_of", "PAGE", "MAX_DAYS"]

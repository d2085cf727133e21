"""What an export reads: the plan (which wallet, which funder, which days), and the lines, read lazily.

:func:`plan_export` is the service call: one transaction that checks ``Action.EXPORT`` with the domain's single
deny-by-default check and writes the attempt to the wallet's access log (done or denied), then fixes everything
the export needs to know before the first line is read.

:class:`Snapshot` then reads the lines inside one read-only transaction (REPEATABLE READ on PostgreSQL; SQLite's
WAL gives a read transaction its own snapshot), so the book's head hash, the opening balances and every line
come from the same moment even while others keep posting. Lines come from each funder's cash account
(``cash:<stream>``) in one pass over the ledger's (account, effective time) index, as plain tuples with only the
columns an export writes (SQLAlchemy Core over ``ledger.tables``, run on the driver's own cursor: a server-side
cursor on PostgreSQL), merged by date: memory stays constant however long the history. The same query carries
each entry's book sequence and hash (for the chain check) and the first other account it touched (for the
category), so there is no query per line or per page. ``Snapshot.rows`` is that fast path (the CSV and JSON
writers use it); ``Snapshot.lines`` makes :class:`ExportLine` objects of the same rows (XLSX, PDF).
"""
from __future__ import annotations

import enum
import heapq
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterator, Sequence, TypeVar

from sqlalchemy import BigInteger, Integer, and_, literal, select, union_all
from sqlalchemy.engine import Connection

from ledger.clock import from_us, to_us
from ledger.db import Database
from ledger.errors import UnknownAccount
from ledger.model import Side
from ledger.service import Ledger
from ledger.tables import account_t, book_t, entry_t, posting_t
from wallet.domain.chart import Category
from wallet.domain.errors import InvalidRequest
from wallet.domain.permissions import Action, require
from wallet.domain.schedules import start_of
from wallet.domain.unit_of_work import Tx, UnitOfWork
from wallet.domain.wallets import FundingStream, Wallet, load_wallet

T = TypeVar("T")

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
        self.ledger = Ledger(_SnapshotDatabase(conn), group_commit=False)
        head = conn.execute(select(book_t.c.entry_count, book_t.c.head_hash)
                            .where(book_t.c.code == plan.book)).first()
        self.head = ChainHead(plan.book, head.entry_count if head else 0, head.head_hash if head else "0" * 64)
        self.opening = sum(self.ledger.balance_as_of(self._cash(s), plan.opens_at - timedelta(microseconds=1))
                           for s in plan.streams)
        self._codes: dict[int, str] = {}
        self._categories: dict[tuple[int | None, bool], str] = {}

    @classmethod
    @contextmanager
    def open(cls, db: Database, plan: ExportPlan) -> Iterator["Snapshot"]:
        with db.engine.connect() as conn:
            with conn.begin():
                if db.is_postgres:
                    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    # A cursor's plan costs enough to be JIT-compiled: a delay before the first row, for nothing.
                    conn.exec_driver_sql("SET LOCAL jit = off")
                yield cls(conn, plan)

    def _cash(self, stream: FundingStream) -> str:
        return f"{self.plan.book}:cash:{stream.code}"

    @property
    def funders(self) -> tuple[str, ...]:
        """The funder's label of each stream, by the stream's index in a :data:`Row`."""
        return tuple(s.label for s in self.plan.streams)

    # ------------------------------------------------------------------ the fast path
    def rows(self) -> Iterator[Row]:
        """Every line of the period as a plain tuple (see :data:`Row`), oldest first, funders merged by date.

        Inside this snapshot, each funder's cash account's lines come from the ledger's (account, effective
        time) index in order, and are merged as they come: by SQLite in one query (``UNION ALL ... ORDER BY``,
        its merge of ordered parts), by ``heapq`` over one server-side cursor per account on PostgreSQL. Nothing
        is held or sorted whole and memory stays constant. The order is that of
        :meth:`Ledger.statement` for each account (time, then posting), merged by time with the first funder
        first, as the statements merged by date were."""
        parts = []
        for index, stream in enumerate(self.plan.streams):
            code = self._cash(stream)
            acct = self.conn.execute(select(account_t.c.id, account_t.c.normal_side)
                                     .where(account_t.c.code == code)).first()
            if acct is None:
                raise UnknownAccount(code)
            parts.append(_stream_query(int(acct.id), Side(acct.normal_side).sign, index,
                                       to_us(self.plan.opens_at), to_us(self.plan.ends_at)))
        if len(parts) == 1:
            return self._cursor(self._compile(parts[0].order_by(posting_t.c.effective_us, posting_t.c.id)))
        if self.conn.dialect.name == "postgresql":
            # PostgreSQL plans the merged query of a long period as one big sort (seconds before the first row,
            # and temporary files); each account's query alone walks the index. Rows are tuples that compare
            # by (time, funder's index, posting id), so heapq merges them as they come.
            return heapq.merge(*(self._cursor(self._compile(part.order_by(posting_t.c.effective_us,
                                                                            posting_t.c.id)), n)
                                 for n, part in enumerate(parts)))
        merged = union_all(*parts)
        by = merged.selected_columns
        return self._cursor(self._compile(merged.order_by(by.effective_us, by.funder_index, by.posting_id)))

    def _cursor(self, sql: str, n: int = 0) -> Iterator[Row]:
        raw = self.conn.connection.dbapi_connection
        if self.conn.dialect.name == "postgresql":
            cursor = raw.cursor(name=f"wallet_export_{n}")     # server-side: ITERSIZE rows per round trip
            cursor.itersize = ITERSIZE
        else:
            cursor = raw.cursor()                          # SQLite steps one row at a time anyway
        try:
            cursor.execute(sql)
            yield from cursor
        finally:
            cursor.close()

    def lines(self) -> Iterator[ExportLine]:
        """Every line of the period, oldest first (funders merged by date), with the running balance."""
        running = self.opening
        funders = self.funders
        category = self.category
        for eff_us, index, _, amount, entry_id, description, reference, sequence, digest, other in self.rows():
            running += amount
            yield ExportLine(from_us(eff_us), entry_id, description, reference, funders[index],
                             category(entry_id, other, amount), amount if amount > 0 else 0,
                             -amount if amount < 0 else 0, running, sequence, digest)

    def _compile(self, query: Any) -> str:
        # Every value bound in these queries is an int worked out here (ids, times, signs): written inline.
        return str(query.compile(dialect=self.conn.dialect, compile_kwargs={"literal_binds": True}))

    def category(self, entry_id: str, other_account: int | None, amount: int) -> str:
        """The category of a line, from the first other account its entry touched (see :func:`category_of`).
        Cached by account and direction: a wallet's book has a few dozen accounts."""
        key = (other_account, amount >= 0)
        found = self._categories.get(key)
        if found is not None:
            return found
        code = self._code(other_account) if other_account is not None else None
        named = category_for(self.plan.book, code, amount) if code is not None else None
        if named is None:
            # The first other account names no category (an account outside the chart): look at all of them,
            # as category_of does. Not cached: it depends on the entry.
            return category_of(self.plan.book, self._other_codes(entry_id), amount)
        self._categories[key] = named
        return named

    def _code(self, account_id: int) -> str:
        code = self._codes.get(account_id)
        if code is None:
            code = self._codes[account_id] = self.conn.execute(
                select(account_t.c.code).where(account_t.c.id == account_id)).scalar_one()
        return code

    def _other_codes(self, entry_id: str) -> list[str]:
        cash = {self._cash(s) for s in self.plan.streams}
        q = (select(account_t.c.code).join(posting_t, account_t.c.id == posting_t.c.account_id)
             .join(entry_t, entry_t.c.id == posting_t.c.entry_id)
             .where(entry_t.c.uuid == entry_id).order_by(posting_t.c.id))
        return [c for c in self.conn.execute(q).scalars() if c not in cash]


Row = tuple
"""A line as :meth:`Snapshot.rows` reads it: ``(effective_us, funder index, posting id, amount (pence, + in,
- out), entry id, description, reference, entry's book sequence, entry hash, first other account id)``."""
ITERSIZE = 2_000
"""Rows a PostgreSQL server-side cursor sends per round trip."""


def _stream_query(account_id: int, sign: int, index: int, start_us: int, end_us: int) -> Any:
    """The lines of one cash account in [start, end): only the columns an export writes (see :data:`Row`).

    The other account of each entry (for the category) is the first posting of the entry not on this account,
    found through the index on the posting's entry."""
    other = posting_t.alias("other")
    first_other = (select(other.c.account_id)
                   .where(and_(other.c.entry_id == posting_t.c.entry_id,
                               other.c.account_id != posting_t.c.account_id))
                   .order_by(other.c.id).limit(1).scalar_subquery())
    amount = posting_t.c.amount if sign == 1 else posting_t.c.amount * literal(sign, BigInteger)
    return (select(posting_t.c.effective_us.label("effective_us"), literal(index, Integer).label("funder_index"),
                   posting_t.c.id.label("posting_id"), amount.label("amount"), entry_t.c.uuid,
                   entry_t.c.description, entry_t.c.reference, entry_t.c.book_seq, entry_t.c.hash,
                   first_other.label("other_account"))
            .join(entry_t, entry_t.c.id == posting_t.c.entry_id)
            .where(and_(posting_t.c.account_id == account_id, posting_t.c.effective_us >= start_us,
                        posting_t.c.effective_us < end_us)))


def category_for(book: str, code: str, amount: int) -> str | None:
    """The category one other account names, or None if it names none (see :func:`category_of`)."""
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
    return None


def category_of(book: str, other_codes: Sequence[str], amount: int) -> str:
    """What a movement of cash was for, named from the other side of its entry (see ``wallet.domain.chart``):
    the first of the other accounts that names a category."""
    for code in other_codes:
        named = category_for(book, code, amount)
        if named is not None:
            return named
    return "Other"


__all__ = ["ExportFormat", "ExportPlan", "ExportLine", "Snapshot", "ChainHead", "Row", "plan_export",
           "check_period", "category_of", "category_for", "ITERSIZE", "MAX_DAYS"]

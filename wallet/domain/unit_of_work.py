"""One service call, one database transaction: the wallet's tables and the ledger write together or not at all.

The ledger's own methods each open a transaction of their own. Inside a wallet service they must not: a payment
request's row and its ledger hold are one fact. So every call runs in :meth:`UnitOfWork.write`, which opens one
write transaction (retried whole on a PostgreSQL serialization failure, deadlock or key race) and hands the work
a :class:`Tx`: the connection, and a :class:`~ledger.service.Ledger` bound to that same connection. The bound
ledger runs each of its writes in a savepoint of the outer transaction, so its own refusals leave nothing behind,
and its reads see what this transaction has written.

Lock order, so writers never deadlock: the wallet row first (``Tx.wallet_row(..., lock=True)``), then the
ledger's accounts (the ledger locks them in id order), then its books.

The access log is written here too: a service records what it did with :meth:`Tx.audit`; the entries are written
with the transaction. When the transaction fails with a refusal (permission denied, not enough money...), the
entries are written afterwards in a transaction of their own, marked ``denied`` or ``refused``, so an attempt is
never lost with the work it attempted.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ledger.clock import Clock, IdFactory, SystemClock, random_ids, to_us
from ledger.db import Database
from ledger.errors import LedgerError
from ledger.group import GroupCommit, Unit
from ledger.service import Ledger
from wallet.domain.errors import PermissionDenied, UnknownWallet, WalletError
from wallet.domain.tables import access_log_t, wallet_t

T = TypeVar("T")

SYSTEM = "system"
"""The actor for work the service does by itself (the scheduler, a bank feed, setting up demo data)."""


class _BoundDatabase(Database):
    """A Database that is one open transaction: the ledger's writes become savepoints inside it."""

    def __init__(self, conn: Connection):
        self.engine = conn.engine
        self.dialect = conn.dialect.name
        self._conn = conn

    def write(self, work: Callable[[Connection], T], attempts: int = 1) -> T:
        with self._conn.begin_nested():
            return work(self._conn)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        yield self._conn

    def dispose(self) -> None:
        """The engine belongs to the UnitOfWork's Database, which disposes of it."""


@dataclass
class _AuditEntry:
    wallet_id: int | None
    actor: str
    action: str
    detail: str
    outcome: str = "done"


@dataclass
class Tx:
    """What a service sees inside its transaction."""

    conn: Connection
    ledger: Ledger
    clock: Clock
    ids: IdFactory
    audit_entries: list[_AuditEntry] = field(default_factory=list)

    def now_us(self) -> int:
        return to_us(self.clock.now())

    def new_id(self) -> str:
        return self.ids()

    def wallet_row(self, wallet_id: str, lock: bool = False) -> Any:
        """The wallet's row; ``lock`` takes the wallet's write lock first, before any ledger account."""
        q = select(wallet_t).where(wallet_t.c.uuid == wallet_id)
        if lock and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        if row is None:
            raise UnknownWallet(wallet_id)
        return row

    def audit(self, wallet_id: int | None, actor: str, action: str, detail: str = "",
              outcome: str = "done") -> None:
        self.audit_entries.append(_AuditEntry(wallet_id, actor, action, detail[:500], outcome))


class UnitOfWork:
    """Runs wallet services: ``uow.write(lambda tx: ...)``. Clock and ids are injectable, as in the ledger."""

    def __init__(self, db: Database | str, clock: Clock | None = None, ids: IdFactory = random_ids):
        self.db = db if isinstance(db, Database) else Database(db)
        self.clock = clock or SystemClock()
        self.ids = ids
        self.ledger = Ledger(self.db, clock=self.clock, ids=self.ids)
        """A ledger of its own transactions, for callers that only read the books."""
        self._visits = GroupCommit(self._write_visits)

    def _tx(self, conn: Connection) -> Tx:
        # The transaction is already open: the ledger posts in it, with no group commit of its own.
        return Tx(conn, Ledger(_BoundDatabase(conn), clock=self.clock, ids=self.ids, group_commit=False),
                  self.clock, self.ids)

    def log_visits(self, entries: list[_AuditEntry]) -> None:
        """Write access-log rows in a short transaction of their own, once they are committed.

        Concurrent callers in this process share one transaction (``ledger.group``): on SQLite every write
        queues for the one write lock and waits for its own durable commit, so a page view each would make
        page views wait on one another's commits."""
        if entries:
            self._visits.submit(Unit(entries))

    def _write_visits(self, units: list[Unit]) -> None:
        at_us = to_us(self.clock.now())
        try:
            self.db.write(lambda conn: _write_audit(conn, [e for u in units for e in u.entries], at_us))
        except Exception as exc:   # every caller gets the error: the rows were written together or not at all
            for u in units:
                u.settle(exc, None)
            return
        for u in units:
            u.settle(None, None)

    def write(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one write transaction with its access-log entries; a refusal's entries are kept."""
        attempt: list[Tx] = []

        def run(conn: Connection) -> T:
            tx = self._tx(conn)
            attempt[:] = [tx]
            result = work(tx)
            _write_audit(conn, tx.audit_entries, tx.now_us())
            return result

        try:
            return self.db.write(run)
        except (WalletError, LedgerError) as exc:
            entries = attempt[0].audit_entries if attempt else []
            if entries:
                denied = isinstance(exc, PermissionDenied)
                for e in entries:
                    if e.outcome == "done":
                        e.outcome = "denied" if denied else "refused"
                        e.detail = f"{e.detail} ({type(exc).__name__}: {exc})"[:500]
                self.db.write(lambda conn: _write_audit(conn, _still_there(conn, entries), to_us(self.clock.now())))
            raise

    def read(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in a read transaction: for questions that change nothing and are not logged."""
        with self.db.read() as conn:
            tx = self._tx(conn)
            result = work(tx)
            if tx.audit_entries:
                raise RuntimeError("a read cannot write to the access log; use UnitOfWork.write")
            return result


def _write_audit(conn: Connection, entries: list[_AuditEntry], at_us: int) -> None:
    if entries:
        conn.execute(access_log_t.insert(), [
            dict(wallet_id=e.wallet_id, actor=e.actor, action=e.action, outcome=e.outcome, detail=e.detail,
                 at_us=at_us) for e in entries])


def _still_there(conn: Connection, entries: list[_AuditEntry]) -> list[_AuditEntry]:
    """A wallet opened by the work that failed was rolled back with it: log those attempts without it."""
    ids = {e.wallet_id for e in entries if e.wallet_id is not None}
    found = set(conn.execute(select(wallet_t.c.id).where(wallet_t.c.id.in_(ids))).scalars()) if ids else set()
    for e in entries:
        if e.wallet_id is not None and e.wallet_id not in found:
            e.wallet_id = None
    return entries

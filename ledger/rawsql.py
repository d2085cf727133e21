"""The hot statements of a write, sent through the database driver itself.

SQLAlchemy Core builds parameters row by row, which was a fifth of a batched write's time; these statements
go to the driver as plain SQL with plain tuples.

SQLite: ``executemany`` of fixed statements (sqlite3 keeps them prepared), under the write lock that
``BEGIN IMMEDIATE`` already holds.

PostgreSQL: a write is two network round trips, each one message (simple query protocol, sent with libpq's
``PQexec`` through psycopg's ``pgconn``: psycopg's own per-statement machinery cost more than the round trip
on this machine). The first message is ``BEGIN`` and a call of ``ledger_lock_for_write``, which reads the
idempotency keys, locks every account the write touches (``SELECT ... FOR UPDATE``, id order, one
statement), then the books the entries go to (id order), and allocates the entry ids. The second is a call
of ``ledger_write_rows`` (postings, entries, balances, checkpoints and book heads: one INSERT or UPDATE each,
over a JSON array of rows) and ``COMMIT``; after an error the server runs nothing more of the message. Both
functions are created by migration 0001 and hold no rules of their own: every guard on the tables applies to
what they write. Values reach the server as literals escaped by libpq (``PQescapeLiteral``); numbers inside
the JSON are read back through their text, so they stay exact integers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy.engine import Connection

ACCOUNT_COLUMNS = ("id, code, book_id, normal_side, currency, floor, status, balance, held, posting_count, "
                   "last_day")
POSTING_COLUMNS = "entry_id, account_id, amount, currency, account_seq, balance_after, effective_us"
ENTRY_COLUMNS = ("id, uuid, idempotency_key, request_hash, book_id, book_seq, effective_us, recorded_us, "
                 "description, reference, actor, meta, reverses_entry_id, hold_id, prev_hash, hash")


@dataclass
class Found:
    """What the first step of a write read, under the locks it took."""

    prior: dict[str, tuple[int, str]]      # idempotency key -> (entry id, request hash)
    accounts: list[tuple]                  # ACCOUNT_COLUMNS, locked, in id order
    books: list[tuple]                     # (id, code, head_hash, entry_count), locked, in id order
    ids: list[int]                         # fresh entry ids


@dataclass
class Rows:
    """What the second step of a write writes: plain tuples in the column orders above."""

    postings: list[tuple]
    entries: list[tuple]
    accounts: list[tuple]                  # (id, balance, held, posting_count, last_day)
    days: list[tuple]                      # (account_id, day, closing)
    books: list[tuple]                     # (id, head_hash, entry_count)


def transaction(conn: Connection, postgres: bool, may_begin: bool) -> "SqliteTxn | PgTxn":
    """``may_begin``: nothing has been sent in this transaction yet, so on PostgreSQL the write may send its
    own BEGIN and COMMIT with its two messages."""
    return PgTxn(conn, may_begin) if postgres else SqliteTxn(conn)


# ---------------------------------------------------------------------------------------------- SQLite
_SQ_PRIOR = ("SELECT idempotency_key, id, request_hash FROM ledger_entry "
             "WHERE idempotency_key IN (SELECT value FROM json_each(?))")
_SQ_ACCOUNTS = (f"SELECT {ACCOUNT_COLUMNS} FROM ledger_account "
                "WHERE code IN (SELECT value FROM json_each(?)) ORDER BY id")
_SQ_BOOKS = ("SELECT id, code, head_hash, entry_count FROM ledger_book WHERE id IN ("
             "SELECT book_id FROM ledger_account WHERE code IN (SELECT value FROM json_each(?)) "
             "UNION SELECT id FROM ledger_book WHERE code IN (SELECT value FROM json_each(?))) ORDER BY id")
_SQ_TOP_ID = "SELECT coalesce(max(id), 0) FROM ledger_entry"
_SQ_POSTINGS = f"INSERT INTO ledger_posting ({POSTING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_SQ_ENTRIES = f"INSERT INTO ledger_entry ({ENTRY_COLUMNS}) VALUES ({', '.join(['?'] * 16)})"
_SQ_ACCOUNT_UPDATE = "UPDATE ledger_account SET balance = ?, held = ?, posting_count = ?, last_day = ? WHERE id = ?"
_SQ_DAYS = ("INSERT INTO ledger_account_day (account_id, day, closing) VALUES (?, ?, ?) "
            "ON CONFLICT (account_id, day) DO UPDATE SET closing = excluded.closing")
_SQ_BOOK_UPDATE = "UPDATE ledger_book SET head_hash = ?, entry_count = ? WHERE id = ?"


class SqliteTxn:
    """SQLite: the write lock is already held (``BEGIN IMMEDIATE``), so reads need no locking clause and the
    next entry id is simply one more than the largest."""

    def __init__(self, conn: Connection):
        self.raw = conn.connection.driver_connection
        import sqlite3

        self.errors = (sqlite3.IntegrityError,)

    def read_and_lock(self, keys: Sequence[str], codes: Sequence[str], first_codes: Sequence[str],
                      named_books: Sequence[str], n_ids: int) -> Found:
        raw = self.raw
        prior = {k: (i, h) for k, i, h in raw.execute(_SQ_PRIOR, (json.dumps(list(keys)),))} if keys else {}
        accounts = raw.execute(_SQ_ACCOUNTS, (json.dumps(list(codes)),)).fetchall() if codes else []
        books = raw.execute(_SQ_BOOKS, (json.dumps(list(first_codes)), json.dumps(list(named_books)))).fetchall()
        top = raw.execute(_SQ_TOP_ID).fetchone()[0] if n_ids else 0
        return Found(prior, accounts, books, list(range(top + 1, top + n_ids + 1)))

    def write(self, rows: Rows) -> None:
        raw = self.raw
        if rows.postings:
            raw.executemany(_SQ_POSTINGS, rows.postings)
        if rows.entries:
            raw.executemany(_SQ_ENTRIES, rows.entries)
        if rows.accounts:
            raw.executemany(_SQ_ACCOUNT_UPDATE, [(b, h, n, d, i) for i, b, h, n, d in rows.accounts])
        if rows.days:
            raw.executemany(_SQ_DAYS, rows.days)
        if rows.books:
            raw.executemany(_SQ_BOOK_UPDATE, [(h, n, i) for i, h, n in rows.books])

    def finish(self, conn: Connection, failed: bool) -> None:
        pass


# ---------------------------------------------------------------------------------------------- PostgreSQL
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def _text_array(values: Sequence[str]) -> str:
    """A text[] literal: every element quoted, so no value can read as NULL or break the list."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


class PgTxn:
    def __init__(self, conn: Connection, may_begin: bool):
        import psycopg
        from psycopg import pq

        self.raw = conn.connection.driver_connection
        self.pgconn = self.raw.pgconn
        self.encoding = self.raw.info.encoding
        # The database's own guards refuse with a constraint violation or a trigger's RAISE (P0001).
        self.errors = (psycopg.IntegrityError, psycopg.InternalError, psycopg.errors.RaiseException)
        self._escape = pq.Escaping(self.pgconn).escape_literal
        self._ok = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
        self._from_result = psycopg.errors.error_from_result
        self._lost = psycopg.OperationalError
        self._conn_ok = pq.ConnStatus.OK
        # Our own BEGIN and COMMIT only when the transaction has not started: holds, reversals and commits
        # of holds lock and read before they post, and leave the COMMIT to SQLAlchemy (whose commit, like
        # psycopg's, does nothing when the server says no transaction is open).
        self.own = may_begin and self.pgconn.transaction_status == pq.TransactionStatus.IDLE
        self.begun = False

    def _literal(self, text: str) -> bytes:
        return self._escape(text.encode(self.encoding))

    def _run(self, query: bytes) -> Any:
        """One message (simple query protocol), one round trip; the result of its last statement. After an
        error the rest of the message is not run."""
        result = self.pgconn.exec_(query)
        if result.status not in self._ok:
            if self.pgconn.status != self._conn_ok:
                # No SQLSTATE: Database.write retries on a fresh connection (finish() discards this one).
                detail = self.pgconn.error_message.decode(self.encoding, "replace").strip()
                raise self._lost(f"the connection to the database was lost: {detail}")
            raise self._from_result(result, self.encoding)
        return result

    def read_and_lock(self, keys: Sequence[str], codes: Sequence[str], first_codes: Sequence[str],
                      named_books: Sequence[str], n_ids: int) -> Found:
        lit = self._literal
        query = b"".join((
            b"BEGIN; " if self.own else b"", b"SELECT ledger_lock_for_write(",
            lit(_text_array(keys)), b"::text[], ", lit(_text_array(codes)), b"::text[], ",
            lit(_text_array(first_codes)), b"::text[], ", lit(_text_array(named_books)), b"::text[], ",
            str(int(n_ids)).encode(), b")"))
        self.begun = self.own
        prior, accounts, books, ids = json.loads(self._run(query).get_value(0, 0))
        return Found(prior={k: (i, h) for k, i, h in prior}, accounts=[tuple(a) for a in accounts],
                     books=[tuple(b) for b in books], ids=ids)

    def write(self, rows: Rows) -> None:
        lit, encode = self._literal, _JSON.encode
        self._run(b"".join((
            b"SELECT ledger_write_rows(", lit(encode(rows.postings)), b"::jsonb, ", lit(encode(rows.entries)),
            b"::jsonb, ", lit(encode(rows.accounts)), b"::jsonb, ", lit(encode(rows.days)), b"::jsonb, ",
            lit(encode(rows.books)), b"::jsonb)", b"; COMMIT" if self.begun else b"")))

    def finish(self, conn: Connection, failed: bool) -> None:
        """Nothing of ours may stay open: after a failure, roll back the transaction we began. A connection
        that is lost, or that cannot be put back in a known state, is never reused."""
        if not failed:
            return
        if self.pgconn.status != self._conn_ok:
            conn.invalidate()
            return
        if self.begun:
            try:
                self.raw.rollback()
            except Exception:
                conn.invalidate()

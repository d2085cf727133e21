"""What the live feed sends: a wallet's new ledger entries, read by their place in the wallet's book.

A wallet is one ledger book (``wallet-<uuid>``) and every entry in a book has a sequence number (``book_seq``:
1, 2, 3... with no gaps) given under the book's lock, so the numbers commit in order. That number is the event
id: "everything after 41" is one indexed query (``book_id, book_seq``), and a reconnecting browser that says
``Last-Event-ID: 41`` gets exactly 42, 43... with nothing missed and nothing twice.

Each event tells the money held: how much came in or went out of the wallet's cash (every funder's
``cash:<s>`` account; an entry that moves no cash, such as a pay run's wages becoming owed, says so) and the
cash balance after it, in total and for each funder touched. Amounts are pence; the ``*_text`` fields are the
same figures in pounds for people.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from ledger.clock import from_us
from ledger.model import Side
from ledger.tables import account_t, book_t, entry_t, posting_t
from wallet.domain.tables import funding_stream_t, wallet_t
from wallet.money import format_pence

UK = ZoneInfo("Europe/London")
PAGE = 200
"""Entries read per query while catching up: memory per client stays bounded however far behind it is."""


@dataclass(frozen=True)
class StreamLine:
    stream_id: str
    stream: str
    amount: int
    """Into (positive) or out of (negative) this funder's cash."""
    balance: int
    """This funder's cash after the entry."""


@dataclass(frozen=True)
class LiveEntry:
    sequence: int
    entry_id: str
    effective_us: int
    description: str
    reference: str | None
    amount: int
    """Net change in the wallet's cash: positive in, negative out, zero when no cash moved."""
    balance: int
    """The wallet's cash after this entry, all funders together."""
    lines: tuple[StreamLine, ...]
    currency: str = "GBP"

    @property
    def moves_cash(self) -> bool:
        return bool(self.lines)

    def text(self) -> str:
        """One plain sentence for a screen reader's announcement."""
        what = self.description.strip().rstrip(".") or "A transaction"
        balance = format_pence(self.balance, self.currency)
        if self.amount > 0:
            return f"New: {what}, {format_pence(self.amount, self.currency)} paid in. Balance now {balance}."
        if self.amount < 0:
            return f"New: {what}, {format_pence(-self.amount, self.currency)} paid out. Balance now {balance}."
        return f"New: {what}. Balance now {balance}."

    def as_json(self) -> dict[str, Any]:
        when = from_us(self.effective_us)
        local = when.astimezone(UK)
        fmt = lambda pence: format_pence(pence, self.currency)  # noqa: E731
        money_in = self.amount if self.amount > 0 else 0
        money_out = -self.amount if self.amount < 0 else 0
        return {
            "sequence": self.sequence, "id": self.entry_id, "when": when.isoformat(),
            "date": local.date().isoformat(), "date_text": f"{local.day} {local:%B %Y}",
            "description": self.description, "reference": self.reference, "currency": self.currency,
            "moves_cash": self.moves_cash,
            "amount_in": money_in, "amount_out": money_out,
            "amount_in_text": fmt(money_in) if money_in else "",
            "amount_out_text": fmt(money_out) if money_out else "",
            "balance": self.balance, "balance_text": fmt(self.balance),
            "lines": [{"stream_id": s.stream_id, "stream": s.stream, "amount": s.amount,
                       "amount_in_text": fmt(s.amount) if s.amount > 0 else "",
                       "amount_out_text": fmt(-s.amount) if s.amount < 0 else "",
                       "balance": s.balance, "balance_text": fmt(s.balance)} for s in self.lines],
            "text": self.text(),
        }

    def sse(self) -> str:
        """The entry as one Server-Sent Event."""
        return f"id: {self.sequence}\nevent: entry\ndata: {json.dumps(self.as_json(), separators=(',', ':'))}\n\n"


@dataclass(frozen=True)
class _Cash:
    account_id: int
    sign: int
    stream_id: str
    label: str


def book_position(conn: Connection, book: str) -> int:
    """The sequence number of the newest entry in the book (0 before the first)."""
    return int(conn.execute(select(book_t.c.entry_count).where(book_t.c.code == book)).scalar() or 0)


def _cash_accounts(conn: Connection, wallet_uuid: str, book: str) -> tuple[int | None, list[_Cash]]:
    """The book's id and the wallet's cash accounts, read afresh each time: a funder added while someone is
    watching is included from its first entry."""
    book_id = conn.execute(select(book_t.c.id).where(book_t.c.code == book)).scalar()
    if book_id is None:
        return None, []
    streams = {r.code: r for r in conn.execute(
        select(funding_stream_t.c.code, funding_stream_t.c.uuid, funding_stream_t.c.label)
        .join(wallet_t, wallet_t.c.id == funding_stream_t.c.wallet_id).where(wallet_t.c.uuid == wallet_uuid))}
    prefix = f"{book}:cash:"
    out = []
    for a in conn.execute(select(account_t.c.id, account_t.c.code, account_t.c.normal_side)
                          .where(and_(account_t.c.book_id == book_id, account_t.c.code.startswith(prefix)))
                          .order_by(account_t.c.id)):
        code = a.code[len(prefix):]
        s = streams.get(code)
        out.append(_Cash(a.id, Side(a.normal_side).sign, s.uuid if s else code, s.label if s else code))
    return book_id, out


def _balance_after_seq(conn: Connection, account_id: int, seq: int) -> int:
    """An account's balance just after the book's entry number ``seq`` (its newest posting at or before it)."""
    if seq <= 0:
        return 0
    row = conn.execute(
        select(posting_t.c.balance_after).join(entry_t, entry_t.c.id == posting_t.c.entry_id)
        .where(and_(posting_t.c.account_id == account_id, entry_t.c.book_seq <= seq))
        .order_by(posting_t.c.account_seq.desc()).limit(1)).first()
    return int(row.balance_after) if row else 0


def entries_after(conn: Connection, wallet_uuid: str, book: str, after: int, limit: int = PAGE,
                  currency: str = "GBP") -> list[LiveEntry]:
    """The book's entries numbered after ``after``, oldest first, at most ``limit``."""
    book_id, cash = _cash_accounts(conn, wallet_uuid, book)
    if book_id is None:
        return []
    rows = conn.execute(
        select(entry_t.c.id, entry_t.c.uuid, entry_t.c.book_seq, entry_t.c.effective_us, entry_t.c.description,
               entry_t.c.reference)
        .where(and_(entry_t.c.book_id == book_id, entry_t.c.book_seq > after))
        .order_by(entry_t.c.book_seq).limit(limit)).all()
    if not rows:
        return []
    by_account = {c.account_id: c for c in cash}
    moves: dict[int, list[tuple[int, int]]] = {}
    if cash:
        for p in conn.execute(select(posting_t.c.entry_id, posting_t.c.account_id, posting_t.c.amount)
                              .where(and_(posting_t.c.entry_id.in_([r.id for r in rows]),
                                          posting_t.c.account_id.in_(list(by_account))))
                              .order_by(posting_t.c.id)):
            moves.setdefault(p.entry_id, []).append((p.account_id, p.amount))
    running = {c.account_id: _balance_after_seq(conn, c.account_id, rows[0].book_seq - 1) for c in cash}
    out = []
    for r in rows:
        changed: dict[int, int] = {}
        for account_id, amount in moves.get(r.id, ()):
            delta = amount * by_account[account_id].sign
            running[account_id] += delta
            changed[account_id] = changed.get(account_id, 0) + delta
        lines = tuple(StreamLine(by_account[a].stream_id, by_account[a].label, d, running[a])
                      for a, d in changed.items())
        out.append(LiveEntry(sequence=int(r.book_seq), entry_id=r.uuid, effective_us=int(r.effective_us),
                             description=r.description, reference=r.reference, amount=sum(changed.values()),
                             balance=sum(running.values()), lines=lines, currency=currency))
    return out


def sse_comment(text: str) -> str:
    return f": {text}\n\n"


def sse_event(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


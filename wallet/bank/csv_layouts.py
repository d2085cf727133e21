"""CSV statements: the common UK bank layouts, recognised by their heading row, and any other layout through a
column mapping that a person chooses once and the service remembers (keyed by the heading row's signature).

Dates are day first. Amounts are either one signed column or a pair (money out, money in); a running balance,
when there is one, gives the statement's closing balance and shows which way the file is ordered (banks export
newest first or oldest first).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from wallet.bank.statement import (MAX_LINES, BankLine, ParsedStatement, StatementError, clean_text, parse_amount,
                                   parse_date)

HEADER_SEARCH_ROWS = 20
"""Some banks (Nationwide) put the account's name and balance above the heading row."""
SAMPLE_ROWS = 5
MAX_COLUMNS = 200
"""Banks export a dozen or so columns; a row with thousands is not a statement (and would be slow to sniff)."""


def norm(header: str) -> str:
    return " ".join((header or "").replace("\ufeff", "").strip().strip('"').lower().split())


@dataclass(frozen=True)
class ColumnMapping:
    """Which column holds what, by normalised heading. ``amount`` is one signed column; otherwise
    ``money_out`` and ``money_in`` (both) are a pair of unsigned columns."""

    date: str
    description: tuple[str, ...]
    amount: str | None = None
    money_out: str | None = None
    money_in: str | None = None
    reference: str | None = None
    payee: str | None = None
    balance: str | None = None
    bank_ref: str | None = None
    account: tuple[str, ...] = ()

    def columns(self) -> set[str]:
        named = {self.date, self.amount, self.money_out, self.money_in, self.reference, self.payee, self.balance,
                 self.bank_ref, *self.description, *self.account}
        return {c for c in named if c}

    def check(self, headers: Iterable[str]) -> None:
        """Refuse a mapping that does not fit the file's headings, in words a person can act on."""
        have = set(headers)
        if not self.date:
            raise StatementError("choose the column that holds the date")
        if not self.description:
            raise StatementError("choose at least one column that describes the transaction")
        if self.amount and (self.money_out or self.money_in):
            raise StatementError("choose either one amount column, or a money-out and a money-in column, not both")
        if not self.amount and not (self.money_out and self.money_in):
            raise StatementError("choose the amount column, or both the money-out and the money-in columns")
        missing = sorted(self.columns() - have)
        if missing:
            raise StatementError(f"the file has no column called {', '.join(repr(m) for m in missing)}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["description"] = list(self.description)
        data["account"] = list(self.account)
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> "ColumnMapping":
        known = {k: data.get(k) for k in ("date", "amount", "money_out", "money_in", "reference", "payee",
                                          "balance", "bank_ref")}
        return ColumnMapping(description=tuple(data.get("description") or ()), account=tuple(data.get("account") or ()),
                             **known)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Layout:
    name: str
    headers: frozenset[str]
    """The headings that identify the layout (normalised): all must be present."""
    mapping: ColumnMapping


def _layout(name: str, headers: Iterable[str], **mapping: Any) -> Layout:
    m = ColumnMapping(**mapping)
    hs = frozenset(norm(h) for h in headers)
    assert m.columns() <= hs, name
    return Layout(name, hs, m)


LAYOUTS: tuple[Layout, ...] = (
    _layout("Barclays", ["Number", "Date", "Account", "Amount", "Subcategory", "Memo"],
            date="date", description=("memo",), amount="amount", account=("account",)),
    _layout("HSBC", ["Date", "Description", "Amount"], date="date", description=("description",), amount="amount"),
    _layout("Lloyds", ["Transaction Date", "Transaction Type", "Sort Code", "Account Number",
                       "Transaction Description", "Debit Amount", "Credit Amount", "Balance"],
            date="transaction date", description=("transaction description",), money_out="debit amount",
            money_in="credit amount", balance="balance", account=("sort code", "account number")),
    _layout("NatWest", ["Date", "Type", "Description", "Value", "Balance", "Account Name", "Account Number"],
            date="date", description=("description",), amount="value", balance="balance",
            account=("account number",)),
    _layout("Santander", ["Date", "Description", "Money in", "Money out", "Balance"],
            date="date", description=("description",), money_out="money out", money_in="money in",
            balance="balance"),
    _layout("Nationwide", ["Date", "Transaction type", "Description", "Paid out", "Paid in", "Balance"],
            date="date", description=("description",), money_out="paid out", money_in="paid in",
            balance="balance"),
    _layout("Monzo", ["Transaction ID", "Date", "Time", "Type", "Name", "Category", "Amount", "Currency",
                      "Description"],
            date="date", description=("description",), payee="name", amount="amount", bank_ref="transaction id"),
    _layout("Starling", ["Date", "Counter Party", "Reference", "Type", "Amount (GBP)", "Balance (GBP)"],
            date="date", description=("type",), payee="counter party", reference="reference",
            amount="amount (gbp)", balance="balance (gbp)"),
)
ALIASES = {"halifax": "Lloyds", "bank of scotland": "Lloyds", "lloyds bank": "Lloyds", "rbs": "NatWest",
           "royal bank of scotland": "NatWest", "ulster bank": "NatWest", "first direct": "HSBC"}


def layout_named(name: str) -> Layout | None:
    wanted = ALIASES.get(norm(name), norm(name))
    return next((lay for lay in LAYOUTS if lay.name.lower() == wanted.lower()), None)


@dataclass(frozen=True)
class CsvShape:
    """What a CSV file looks like before it is read: its heading row and a few rows under it."""

    headers: tuple[str, ...]
    """Normalised headings, in file order."""
    raw_headers: tuple[str, ...]
    header_line: int
    signature: str
    samples: tuple[tuple[str, ...], ...]
    layout: Layout | None
    delimiter: str = ","


class MappingNeeded(StatementError):
    """The layout is not one we know and no mapping is remembered for it: a person must say which column is
    which (once; the mapping is remembered for the next file with the same headings)."""

    def __init__(self, shape: CsvShape):
        super().__init__("this CSV layout is not one we recognise: say which column holds the date, the "
                         "description and the amount")
        self.shape = shape


def signature(headers: Iterable[str]) -> str:
    return hashlib.sha256(json.dumps([norm(h) for h in headers]).encode()).hexdigest()


def _rows(text: str, delimiter: str) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise StatementError(f"the file is not valid CSV ({exc})", reader.line_num) from None


def _delimiter(text: str) -> str:
    head = text[:4096]
    counts = {d: head.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _looks_like_data(cell: str) -> bool:
    try:
        parse_amount(cell)
        return True
    except StatementError:
        pass
    try:
        parse_date(cell)
        return True
    except StatementError:
        return False


def sniff(text: str) -> CsvShape:
    """Find the heading row (the first row that names a known layout, or else the first row of two or more
    non-empty cells that are all words, not amounts or dates) and the layout it names, if any."""
    delimiter = _delimiter(text)
    rows = []
    for n, row in _rows(text, delimiter):
        if len(row) > MAX_COLUMNS:
            raise StatementError(f"this row has {len(row):,} columns; a bank statement has far fewer", n)
        rows.append((n, row))
        if len(rows) >= HEADER_SEARCH_ROWS + SAMPLE_ROWS:
            break
    if not rows:
        raise StatementError("the file is empty")
    fallback = None
    for i, (n, row) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [norm(c) for c in row]
        present = {c for c in cells if c}
        found = [lay for lay in LAYOUTS if lay.headers <= present]
        if found:
            best = max(found, key=lambda lay: len(lay.headers))
            return _shape(rows, i, best, delimiter)
        if fallback is None and len(present) >= 2 and not any(_looks_like_data(c) for c in row if c.strip()):
            fallback = i
    if fallback is None:
        raise StatementError("the file has no heading row (a first row naming the columns, like Date, "
                             "Description, Amount)")
    return _shape(rows, fallback, None, delimiter)


def _shape(rows: list[tuple[int, list[str]]], i: int, layout: Layout | None, delimiter: str) -> CsvShape:
    n, row = rows[i]
    while row and not row[-1].strip():
        row = row[:-1]      # a trailing comma on the heading row is not a column
    headers = tuple(norm(c) for c in row)
    if len(set(h for h in headers if h)) != len([h for h in headers if h]):
        raise StatementError("two columns have the same heading; rename one and try again", n)
    samples = tuple(tuple(r) for _, r in rows[i + 1:i + 1 + SAMPLE_ROWS] if any(c.strip() for c in r))
    return CsvShape(headers, tuple(c.strip() for c in row), n, signature(headers), samples, layout, delimiter)


def read_csv(text: str, shape: CsvShape, mapping: ColumnMapping, bank: str) -> ParsedStatement:
    """Every transaction of the file, read with ``mapping``; the first bad row stops it, named by its line."""
    mapping.check(shape.headers)
    index = {h: k for k, h in enumerate(shape.headers) if h}
    width = len(shape.headers)

    def cell(row: list[str], name: str | None) -> str:
        if not name:
            return ""
        k = index[name]
        return row[k].strip() if k < len(row) else ""

    lines: list[BankLine] = []
    account: str | None = None
    ignored = 0
    for n, row in _rows(text, shape.delimiter):
        if n <= shape.header_line or not any(c.strip() for c in row):
            continue
        if len(row) > width and any(c.strip() for c in row[width:]):
            raise StatementError(f"this row has {len(row)} columns but the heading row has {width}", n)
        if len(lines) >= MAX_LINES:
            raise StatementError(f"the file has more than {MAX_LINES:,} transactions; import it in parts")
        booked = parse_date(cell(row, mapping.date), "date", n)
        if mapping.amount:
            amount = parse_amount(cell(row, mapping.amount), "amount", n)
        else:
            out_text, in_text = cell(row, mapping.money_out), cell(row, mapping.money_in)
            if not out_text and not in_text:
                raise StatementError("there is no amount: both money out and money in are empty", n)
            out = abs(parse_amount(out_text, "money out", n)) if out_text else 0
            into = abs(parse_amount(in_text, "money in", n)) if in_text else 0
            if out and into:
                raise StatementError("both money out and money in have an amount; a line is one or the other", n)
            amount = into - out
        balance_text = cell(row, mapping.balance)
        balance = parse_amount(balance_text, "balance", n) if balance_text else None
        here = " ".join(cell(row, c) for c in mapping.account if cell(row, c)) or None
        if here:
            if account is not None and here != account:
                raise StatementError("the file holds more than one bank account; export one account at a time", n)
            account = here
        if amount == 0:
            ignored += 1
            continue
        description = clean_text(" ".join(cell(row, c) for c in mapping.description if cell(row, c)))
        lines.append(BankLine(n, booked, amount, description, clean_text(cell(row, mapping.reference), 200) or None,
                              clean_text(cell(row, mapping.payee), 200) or None,
                              clean_text(cell(row, mapping.bank_ref), 100) or None, balance))
    if not lines:
        raise StatementError("the file has no transactions under its heading row")
    return _with_balances(lines, account, bank, ignored)


def _with_balances(lines: list[BankLine], account: str | None, bank: str, ignored: int) -> ParsedStatement:
    """Put the lines oldest first and take the opening and closing balances from the running balance."""
    newest_first = lines[0].booked_on > lines[-1].booked_on
    if lines[0].booked_on == lines[-1].booked_on and all(ln.balance is not None for ln in lines) and len(lines) > 1:
        # One day only: the order whose running balances add up is the right one.
        newest_first = lines[0].balance != lines[1].balance - lines[1].amount  # type: ignore[operator]
    ordered = list(reversed(lines)) if newest_first else lines
    warnings: list[str] = []
    opening = closing = None
    if all(ln.balance is not None for ln in ordered):
        opening = ordered[0].balance - ordered[0].amount  # type: ignore[operator]
        closing = ordered[-1].balance
        broken = sum(1 for a, b in zip(ordered, ordered[1:])
                     if a.balance + b.amount != b.balance)  # type: ignore[operator]
        if broken:
            warnings.append(f"the running balance does not add up on {broken} line{'s' if broken != 1 else ''}; "
                            "the last balance is taken as the closing balance")
    days = [ln.booked_on for ln in ordered]
    return ParsedStatement("csv", bank, tuple(ordered), account_number=account, opening_balance=opening,
                           closing_balance=closing, closing_on=max(days) if closing is not None else None,
                           period_start=min(days), period_end=max(days), ignored=ignored, warnings=tuple(warnings))


def layout_choices(shape: CsvShape) -> dict[str, Any]:
    """The headings a person can choose from in the mapping step, and a first guess for each choice."""
    def guess(*words: str) -> str:
        return next((h for h in shape.headers
                     if h and any(w in h.replace("(", " ").split() or (len(w) > 3 and w in h) for w in words)), "")

    return {"date": guess("date"), "description": guess("description", "details", "narrative", "memo", "payee"),
            "amount": guess("amount", "value"), "money_out": guess("out", "debit", "withdraw"),
            "money_in": guess("in", "credit", "deposit"), "reference": guess("reference", "ref"),
            "balance": guess("balance")}


__all__ = ["ColumnMapping", "Layout", "LAYOUTS", "CsvShape", "MappingNeeded", "sniff", "read_csv", "layout_named",
           "signature", "layout_choices"]

"""OFX statements, version 1 (SGML, where a value's closing tag is optional) and version 2 (XML).

Read with a small tag reader rather than an XML parser: SGML OFX is not XML, and reading both the same way
means no entity or DTD processing ever happens. Aggregates (``<STMTTRN>``...``</STMTTRN>``) must be closed, as
the OFX specification requires; a value runs to the next tag. Each ``STMTTRN`` becomes a line: its ``FITID`` is
the bank's id for it (so a re-import is recognised), ``NAME``/``PAYEE`` and ``MEMO`` describe it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import unescape

from wallet.bank.statement import (MAX_LINES, BankLine, ParsedStatement, StatementError, clean_text, decode,
                                   parse_amount)

_TAG = re.compile(r"<(/?)([A-Za-z0-9_.]+)(?:\s[^<>]*)?>([^<]*)")
"""Attributes stop at the next '<', so a file full of unclosed tags is read in linear time, not quadratic."""
MAX_DEPTH = 32
"""A real statement nests aggregates about eight deep."""
_ENTITIES = {"&nbsp;": " "}


def looks_like_ofx(text: str) -> bool:
    head = text[:2000].upper()
    return "OFXHEADER" in head or "<OFX>" in head


@dataclass
class _Node:
    name: str
    line: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)
    children: list["_Node"] = field(default_factory=list)


def _parse_tree(text: str) -> _Node:
    start = text.upper().find("<OFX>")
    if start < 0:
        raise StatementError("this is not an OFX file: there is no <OFX> element")
    root = _Node("ROOT", 1)
    stack = [root]
    line_at = text.count("\n", 0, start) + 1
    pos = start
    for m in _TAG.finditer(text, start):
        line_at += text.count("\n", pos, m.start())
        pos = m.start()
        closing, name, value = m.group(1) == "/", m.group(2).upper(), m.group(3)
        if closing:
            if any(n.name == name for n in stack[1:]):
                while stack[-1].name != name:
                    stack.pop()          # an SGML aggregate left open inside: closed with its parent
                stack.pop()
            elif name not in stack[-1].values:
                raise StatementError(f"</{name}> closes something that was never opened", line_at)
            continue
        if value.strip():
            stack[-1].values.setdefault(name, (unescape(value.strip(), _ENTITIES), line_at))
        else:
            if len(stack) > MAX_DEPTH:
                raise StatementError(f"the OFX elements are nested more than {MAX_DEPTH} deep; this is not a bank "
                                     "statement", line_at)
            node = _Node(name, line_at)
            stack[-1].children.append(node)
            stack.append(node)
    if len(stack) > 2:   # a missing </OFX> alone is harmless; anything left open inside it means a cut-off file
        raise StatementError(f"the file ends inside <{stack[-1].name}>: it is cut short", stack[-1].line)
    return root


def _find(node: _Node, name: str) -> list[_Node]:
    out = []
    for child in node.children:
        if child.name == name:
            out.append(child)
        out.extend(_find(child, name))
    return out


def _value(node: _Node | None, name: str) -> str | None:
    if node is None:
        return None
    found = node.values.get(name)
    return found[0] if found else None


def _date(text: str, what: str, line: int) -> date:
    digits = text.strip()[:8]
    if not re.fullmatch(r"\d{8}", digits):
        raise StatementError(f"the {what} {text!r} is not an OFX date (YYYYMMDD...)", line)
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise StatementError(f"the {what} {text!r} is not a real date", line) from None


def read_ofx(data: bytes | str) -> ParsedStatement:
    text = decode(data) if isinstance(data, bytes) else data
    root = _parse_tree(text)
    statements = _find(root, "STMTRS") + _find(root, "CCSTMTRS")
    if not statements:
        raise StatementError("the OFX file has no bank statement in it (no <STMTRS>)")
    accounts = set()
    lines: list[BankLine] = []
    closing = closing_on = None
    starts, ends = [], []
    currency = "GBP"
    for stmt in statements:
        currency = (_value(stmt, "CURDEF") or "GBP").upper()
        if currency != "GBP":
            raise StatementError(f"the statement is in {currency}; only accounts in pounds (GBP) can be imported",
                                 stmt.line)
        acct = next(iter(_find(stmt, "BANKACCTFROM") + _find(stmt, "CCACCTFROM")), None)
        number = _value(acct, "ACCTID")
        if number:
            accounts.add(" ".join(x for x in (_value(acct, "BANKID"), number) if x))
        for tranlist in _find(stmt, "BANKTRANLIST"):
            if _value(tranlist, "DTSTART"):
                starts.append(_date(_value(tranlist, "DTSTART") or "", "statement start", tranlist.line))
            if _value(tranlist, "DTEND"):
                ends.append(_date(_value(tranlist, "DTEND") or "", "statement end", tranlist.line))
        for trn in _find(stmt, "STMTTRN"):
            if len(lines) >= MAX_LINES:
                raise StatementError(f"the file has more than {MAX_LINES:,} transactions; import it in parts")
            posted = trn.values.get("DTPOSTED")
            amount = trn.values.get("TRNAMT")
            if posted is None:
                raise StatementError("a transaction has no date posted (DTPOSTED)", trn.line)
            if amount is None:
                raise StatementError("a transaction has no amount (TRNAMT)", trn.line)
            pence = parse_amount(amount[0], "amount (TRNAMT)", amount[1])
            payee_node = next(iter(_find(trn, "PAYEE")), None)
            name = _value(trn, "NAME") or _value(payee_node, "NAME")
            memo = _value(trn, "MEMO")
            description = clean_text(" ".join(x for x in (name, memo) if x)) or clean_text(_value(trn, "TRNTYPE"))
            reference = _value(trn, "REFNUM") or _value(trn, "CHECKNUM")
            if pence == 0:
                continue
            lines.append(BankLine(trn.line, _date(posted[0], "date posted (DTPOSTED)", posted[1]), pence,
                                  description, clean_text(reference, 200) or None, clean_text(name, 200) or None,
                                  clean_text(_value(trn, "FITID"), 100) or None))
        bal = next(iter(_find(stmt, "LEDGERBAL")), None)
        if bal is not None and _value(bal, "BALAMT"):
            line = bal.values["BALAMT"][1]
            closing = parse_amount(_value(bal, "BALAMT") or "", "closing balance (BALAMT)", line)
            closing_on = _date(_value(bal, "DTASOF") or "", "balance date (DTASOF)", line) \
                if _value(bal, "DTASOF") else None
    if len(accounts) > 1:
        raise StatementError("the file holds more than one bank account; export one account at a time")
    if not lines:
        raise StatementError("the OFX file has no transactions (no <STMTTRN> with an amount)")
    lines.sort(key=lambda ln: (ln.booked_on, ln.line))
    days = [ln.booked_on for ln in lines]
    if closing is not None and closing_on is None:
        closing_on = max(ends) if ends else max(days)
    return ParsedStatement("ofx", "OFX", tuple(lines), account_number=next(iter(accounts), None), currency=currency,
                           closing_balance=closing, closing_on=closing_on,
                           period_start=min(starts) if starts else min(days),
                           period_end=max(ends) if ends else max(days))

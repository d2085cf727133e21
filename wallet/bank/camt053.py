"""ISO 20022 CAMT.053 bank-to-customer statements (any version: .001.02 to .001.13), read with defusedxml.

defusedxml refuses DTDs, entity declarations and external references, so a statement file cannot make the
service fetch anything or expand itself into gigabytes. Elements are found by their local names, so every
version of the namespace reads the same way. Only booked entries (``Sts`` BOOK) become lines; pending and
information-only entries are left out. ``AcctSvcrRef`` is the bank's id for an entry (a re-import is recognised
by it); the opening (OPBD) and closing (CLBD) booked balances give the statement's balances.
"""
from __future__ import annotations

from datetime import date
from typing import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from wallet.bank.statement import (MAX_FILE_BYTES, MAX_LINES, BankLine, ParsedStatement, StatementError, clean_text,
                                   parse_amount, parse_date)

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053"


def looks_like_camt053(text: str) -> bool:
    head = text[:4000]
    return NAMESPACE_PREFIX in head or ("BkToCstmrStmt" in head)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kids(el: Element | None, name: str) -> Iterator[Element]:
    if el is None:
        return iter(())
    return (c for c in el if _local(c.tag) == name)


def _at(el: Element | None, *path: str) -> Element | None:
    for name in path:
        if el is None:
            return None
        el = next(_kids(el, name), None)
    return el


def _text(el: Element | None, *path: str) -> str | None:
    found = _at(el, *path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _when(el: Element | None, what: str, where: str) -> date | None:
    raw = _text(el, "Dt") or _text(el, "DtTm")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise StatementError(f"{where}: the {what} {raw!r} is not an ISO date (YYYY-MM-DD)") from None


def _signed(el: Element, where: str) -> int:
    amt = _at(el, "Amt")
    if amt is None or not (amt.text or "").strip():
        raise StatementError(f"{where} has no amount (Amt)")
    currency = (amt.get("Ccy") or "GBP").upper()
    if currency != "GBP":
        raise StatementError(f"{where} is in {currency}; only accounts in pounds (GBP) can be imported")
    pence = parse_amount(amt.text or "", "amount (Amt)")
    if pence < 0:
        raise StatementError(f"{where}: an amount is never negative in CAMT.053 (the direction is CdtDbtInd)")
    sign = {"CRDT": 1, "DBIT": -1}.get((_text(el, "CdtDbtInd") or "").upper())
    if sign is None:
        raise StatementError(f"{where} does not say whether it is a credit or a debit (CdtDbtInd CRDT or DBIT)")
    return sign * pence


def read_camt053(data: bytes) -> ParsedStatement:
    if len(data) > MAX_FILE_BYTES:
        raise StatementError("the file is too large to be a bank statement")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise StatementError("the file declares a DTD or entities, which a bank statement never needs; it is "
                             "refused for safety") from None
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise StatementError(f"the file is not well-formed XML ({str(exc).split(':')[0]})", line) from None
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "Document" or _at(root, "BkToCstmrStmt") is None:
        kind = ns.rsplit(":", 1)[-1] if ns else _local(root.tag)
        raise StatementError(f"this XML file is not a CAMT.053 bank statement (it is {kind or 'something else'})")
    if ns and not ns.startswith(NAMESPACE_PREFIX):
        raise StatementError(f"this is {ns.rsplit(':', 1)[-1]}, not a CAMT.053 end-of-day statement")
    accounts: set[str] = set()
    lines: list[BankLine] = []
    opening = closing = None
    closing_on = None
    starts: list[date] = []
    ends: list[date] = []
    ignored = 0
    number = 0
    for stmt in _kids(_at(root, "BkToCstmrStmt"), "Stmt"):
        acct = _at(stmt, "Acct")
        currency = (_text(acct, "Ccy") or "GBP").upper()
        if currency != "GBP":
            raise StatementError(f"the statement is in {currency}; only accounts in pounds (GBP) can be imported")
        ident = _text(acct, "Id", "IBAN") or _text(acct, "Id", "Othr", "Id")
        if ident:
            accounts.add(ident)
        span = _at(stmt, "FrToDt")
        if span is not None:
            for tag, into in (("FrDtTm", starts), ("FrDt", starts), ("ToDtTm", ends), ("ToDt", ends)):
                raw = _text(span, tag)
                if raw:
                    into.append(parse_date(raw[:10], "statement period", formats=("%Y-%m-%d",)))
        for bal in _kids(stmt, "Bal"):
            code = (_text(bal, "Tp", "CdOrPrtry", "Cd") or "").upper()
            if code in ("OPBD", "PRCD") and opening is None:
                opening = _signed(bal, "the opening balance")
            elif code == "CLBD":
                closing = _signed(bal, "the closing balance")
                closing_on = _when(_at(bal, "Dt"), "closing balance date", "the closing balance") or closing_on
        for entry in _kids(stmt, "Ntry"):
            number += 1
            where = f"entry {number}"
            ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
            if ref:
                where += f" ({ref})"
            status = (_text(entry, "Sts") or _text(entry, "Sts", "Cd") or "BOOK").upper()
            if status != "BOOK":
                ignored += 1
                continue
            if len(lines) >= MAX_LINES:
                raise StatementError(f"the file has more than {MAX_LINES:,} transactions; import it in parts")
            try:
                amount = _signed(entry, where)
            except StatementError as exc:
                raise StatementError(f"{where}: {exc}" if not str(exc).startswith(where) else str(exc)) from None
            booked = _when(_at(entry, "BookgDt"), "booking date", where) or _when(_at(entry, "ValDt"), "value date",
                                                                                  where)
            if booked is None:
                raise StatementError(f"{where} has no booking date (BookgDt)")
            tx = _at(entry, "NtryDtls", "TxDtls")
            parties = _at(tx, "RltdPties")
            other = "Cdtr" if amount < 0 else "Dbtr"
            payee = _text(parties, other, "Nm") or _text(parties, other, "Pty", "Nm")
            remittance = " ".join(el.text.strip() for el in _kids(_at(tx, "RmtInf"), "Ustrd") if el.text)
            description = clean_text(" ".join(x for x in (payee, remittance, _text(entry, "AddtlNtryInf")) if x))
            reference = _text(tx, "Refs", "EndToEndId")
            if reference and reference.upper() == "NOTPROVIDED":
                reference = None
            reference = reference or _text(tx, "RmtInf", "Strd", "CdtrRefInf", "Ref")
            if amount == 0:
                ignored += 1
                continue
            lines.append(BankLine(number, booked, amount, description or "(no description)",
                                  clean_text(reference, 200) or None, clean_text(payee, 200) or None,
                                  clean_text(ref, 100) or None))
    if len(accounts) > 1:
        raise StatementError("the file holds more than one bank account; export one account at a time")
    if not lines:
        raise StatementError("the statement has no booked entries (Ntry with status BOOK)")
    lines.sort(key=lambda ln: (ln.booked_on, ln.line))
    days = [ln.booked_on for ln in lines]
    if closing is not None and closing_on is None:
        closing_on = max(ends) if ends else max(days)
    return ParsedStatement("camt053", "CAMT.053", tuple(lines), account_number=next(iter(accounts), None),
                           opening_balance=opening, closing_balance=closing, closing_on=closing_on,
                           period_start=min(starts) if starts else min(days),
                           period_end=max(ends) if ends else max(days), ignored=ignored)

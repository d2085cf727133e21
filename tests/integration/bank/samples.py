"""Statement files as banks write them, built from (day, description, pence) rows, for the bank tests."""
from __future__ import annotations

from datetime import date


def pounds(pence: int) -> str:
    whole, rem = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{rem:02d}"


def running(rows: list[tuple[date, str, int]], opening: int = 0) -> list[tuple[date, str, int, int]]:
    out, balance = [], opening
    for day, text, amount in rows:
        balance += amount
        out.append((day, text, amount, balance))
    return out


def lloyds_csv(rows: list[tuple[date, str, int]], opening: int = 0, account: str = "12345678") -> bytes:
    """Lloyds (and Halifax): newest first, debit and credit columns, a running balance."""
    lines = ["Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,Debit Amount,"
             "Credit Amount,Balance"]
    for day, text, amount, balance in reversed(running(rows, opening)):
        debit, credit = (pounds(-amount), "") if amount < 0 else ("", pounds(amount))
        lines.append(f"{day:%d/%m/%Y},{'DEB' if amount < 0 else 'FPI'},'30-94-57,{account},{text},{debit},{credit},"
                     f"{pounds(balance)}")
    return ("\n".join(lines) + "\n").encode()


def barclays_csv(rows: list[tuple[date, str, int]]) -> bytes:
    lines = ["Number,Date,Account,Amount,Subcategory,Memo"]
    for day, text, amount in rows:
        lines.append(f",{day:%d/%m/%Y},20-32-06 43218765,{pounds(amount)},Payment,{text}")
    return ("\n".join(lines) + "\n").encode()


def monzo_csv(rows: list[tuple[date, str, int]]) -> bytes:
    lines = ["Transaction ID,Date,Time,Type,Name,Emoji,Category,Amount,Currency,Local amount,Local currency,"
             "Notes and #tags,Address,Receipt,Description,Category split,Money Out,Money In"]
    for k, (day, text, amount) in enumerate(rows):
        out, into = (pounds(amount), "") if amount < 0 else ("", pounds(amount))
        lines.append(f"tx_{k:04d},{day:%d/%m/%Y},10:00:00,Faster payment,{text},,General,{pounds(amount)},GBP,"
                     f"{pounds(amount)},GBP,,,,{text},,{out},{into}")
    return ("\n".join(lines) + "\n").encode()


def nationwide_csv(rows: list[tuple[date, str, int]], opening: int = 0) -> bytes:
    lines = ['"Account Name:","FlexAccount ****1234"', '"Account Balance:","£0.00"', '"Available Balance: ","£0.00"',
             "", '"Date","Transaction type","Description","Paid out","Paid in","Balance"']
    for day, text, amount, balance in running(rows, opening):
        out, into = (f"£{pounds(-amount)}", "") if amount < 0 else ("", f"£{pounds(amount)}")
        lines.append(f'"{day:%d %b %Y}","Payment","{text}","{out}","{into}","£{pounds(balance)}"')
    return ("\n".join(lines) + "\n").encode("cp1252")


def custom_csv(rows: list[tuple[date, str, int]]) -> bytes:
    """A layout no built-in reader knows: it needs a column mapping."""
    lines = ["Posted,Narrative,Value (GBP),Our ref"]
    for k, (day, text, amount) in enumerate(rows):
        lines.append(f"{day:%d-%m-%Y},{text},{pounds(amount)},R{k}")
    return ("\n".join(lines) + "\n").encode()


def ofx_sgml(rows: list[tuple[date, str, int]], closing: int | None = None, account: str = "12345678") -> bytes:
    trns = "".join(
        f"<STMTTRN><TRNTYPE>{'DEBIT' if amount < 0 else 'CREDIT'}<DTPOSTED>{day:%Y%m%d}120000[0:GMT]"
        f"<TRNAMT>{pounds(amount)}<FITID>F{day:%Y%m%d}{k:03d}<NAME>{text[:32]}<MEMO>{text}</STMTTRN>\n"
        for k, (day, text, amount) in enumerate(rows))
    last = max(d for d, _, _ in rows)
    bal = (f"<LEDGERBAL><BALAMT>{pounds(closing)}<DTASOF>{last:%Y%m%d}</LEDGERBAL>" if closing is not None else "")
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
        "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260420<LANGUAGE>ENG"
        "</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        f"<STMTRS><CURDEF>GBP<BANKACCTFROM><BANKID>309457<ACCTID>{account}<ACCTTYPE>CHECKING</BANKACCTFROM>"
        f"<BANKTRANLIST><DTSTART>{min(d for d, _, _ in rows):%Y%m%d}<DTEND>{last:%Y%m%d}\n{trns}</BANKTRANLIST>"
        f"{bal}</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n").encode()


def ofx_xml(rows: list[tuple[date, str, int]], closing: int | None = None) -> bytes:
    trns = "".join(
        f"<STMTTRN><TRNTYPE>{'DEBIT' if amount < 0 else 'CREDIT'}</TRNTYPE><DTPOSTED>{day:%Y%m%d}</DTPOSTED>"
        f"<TRNAMT>{pounds(amount)}</TRNAMT><FITID>X{k}</FITID><PAYEE><NAME>{text}</NAME></PAYEE>"
        f"<MEMO></MEMO></STMTTRN>\n" for k, (day, text, amount) in enumerate(rows))
    bal = f"<LEDGERBAL><BALAMT>{pounds(closing)}</BALAMT><DTASOF>20260417</DTASOF></LEDGERBAL>" if closing else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" '
            'OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>GBP</CURDEF>'
            "<BANKACCTFROM><BANKID>309457</BANKID><ACCTID>87654321</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE>"
            f"</BANKACCTFROM><BANKTRANLIST>\n{trns}</BANKTRANLIST>{bal}</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
            ).encode()


def camt053(rows: list[tuple[date, str, int]], opening: int = 0, closing: int | None = None,
            version: str = "001.02", closing_on: date | None = None) -> bytes:
    def amt(pence: int) -> str:
        return (f'<Amt Ccy="GBP">{pounds(abs(pence))}</Amt><CdtDbtInd>{"DBIT" if pence < 0 else "CRDT"}'
                "</CdtDbtInd>")

    last = closing_on or max(d for d, _, _ in rows)
    closing = opening + sum(a for _, _, a in rows) if closing is None else closing
    entries = "".join(
        f"<Ntry>{amt(amount)}<Sts>BOOK</Sts><BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>"
        f"<ValDt><Dt>{day.isoformat()}</Dt></ValDt><AcctSvcrRef>REF{k:05d}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><RltdPties><{'Cdtr' if amount < 0 else 'Dbtr'}><Nm>{text}</Nm>"
        f"</{'Cdtr' if amount < 0 else 'Dbtr'}></RltdPties><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls>"
        "</NtryDtls></Ntry>\n" for k, (day, text, amount) in enumerate(rows))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.'
            f'{version}"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-04-20T06:00:00</CreDtTm></GrpHdr>'
            "<Stmt><Id>S1</Id><CreDtTm>2026-04-20T06:00:00</CreDtTm><Acct><Id><IBAN>GB33BUKB20201555555555</IBAN>"
            "</Id><Ccy>GBP</Ccy></Acct>"
            f"<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>{amt(opening)}<Dt><Dt>2026-04-01</Dt></Dt></Bal>"
            f"<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>{amt(closing)}<Dt><Dt>{last.isoformat()}</Dt></Dt>"
            f"</Bal>\n{entries}</Stmt></BkToCstmrStmt></Document>\n").encode()

"""Hostile bank statements (Hypothesis). Whatever bytes arrive, and however a valid statement in each layout
(every CSV layout, a column-mapped CSV, OFX 1 SGML, OFX 2 XML, CAMT.053) is mangled, the importer either reads
exact pence (ints, never a float) or refuses with its own ``StatementError``; never another exception. Through
``wallet.bank.service.import_statement`` on a real database (SQLite and PostgreSQL) a refused file writes nothing
and an accepted one writes exactly the lines it reported. Also: inputs that used to be slow or to crash."""
from __future__ import annotations

import time
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from tests.integration.bank import samples
from tests.integration.bank.conftest import statement_rows
from tests.integration.wallet.conftest import uow, world  # noqa: F401  (fixtures)
from wallet.bank import detect_format, service
from wallet.bank.camt053 import read_camt053
from wallet.bank.csv_layouts import ColumnMapping, read_csv, sniff
from wallet.bank.ofx import read_ofx
from wallet.bank.statement import MAX_AMOUNT_PENCE, ParsedStatement, StatementError, decode, parse_amount
from wallet.bank.tables import bank_account_t, bank_csv_mapping_t, bank_line_t, bank_statement_t
from wallet.domain.tables import access_log_t

ROWS = statement_rows()
MAPPING = ColumnMapping(date="posted", description=("narrative",), amount="value (gbp)", reference="our ref")


def _layout_csv(headers: str, row) -> bytes:
    """A file in one of the layouts the sample builders do not cover, from its heading row."""
    cells = {"date": "06/04/2026", "description": "JO SMITH WAGES", "amount": "-450.00", "value": "-450.00",
             "balance": "100.00", "money in": "", "money out": "450.00", "type": "FPO",
             "counter party": "JO SMITH", "reference": "WAGES", "amount (gbp)": "-450.00",
             "balance (gbp)": "100.00", "account name": "A KHAN", "account number": "12345678"}
    names = [h.strip().lower() for h in headers.split(",")]
    line = ",".join(cells.get(n, "") for n in names)
    return (headers + "\n" + line + "\n" + line.replace("06/04/2026", "07/04/2026") + "\n").encode()


SAMPLES = {
    "lloyds": samples.lloyds_csv(ROWS, opening=1_000), "barclays": samples.barclays_csv(ROWS),
    "monzo": samples.monzo_csv(ROWS), "nationwide": samples.nationwide_csv(ROWS),
    "natwest": _layout_csv("Date,Type,Description,Value,Balance,Account Name,Account Number", ROWS),
    "santander": _layout_csv("Date,Description,Money in,Money out,Balance", ROWS),
    "starling": _layout_csv("Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP)", ROWS),
    "hsbc": _layout_csv("Date,Description,Amount", ROWS),
    "mapped": samples.custom_csv(ROWS), "ofx1": samples.ofx_sgml(ROWS, closing=5_000),
    "ofx2": samples.ofx_xml(ROWS, closing=5_000), "camt053": samples.camt053(ROWS, opening=1_000),
}
TOKENS = [b",", b'"', b"\r\n", b"\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"<", b">", b"</STMTTRN>", b"<STMTTRN>",
          b"<TRNAMT>", b"</Ntry>", b"<Ntry>", b"<Amt Ccy=\"EUR\">", b"1e999999", b"9" * 30, b"NaN", b"-", b"(",
          b"31/02/2026", b"0.001", b"&amp;", b"&#0;", b"<!DOCTYPE x [<!ENTITY a \"b\">]>", b"\xa3", b"DR", b"CR",
          b"=HYPERLINK()", "\u2028\u00e9".encode()]


@st.composite
def mangled(draw) -> tuple[str, bytes]:
    """A valid statement of one format, then a few structure-aware cuts, insertions and swaps."""
    name = draw(st.sampled_from(sorted(SAMPLES)))
    data = bytearray(SAMPLES[name])
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(data)))
        move = draw(st.integers(0, 4))
        if move == 0:
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif move == 1:
            del data[at:at + draw(st.integers(1, 40))]
        elif move == 2:
            data[at:at] = draw(st.binary(min_size=1, max_size=12))
        elif move == 3:
            del data[at:]                                   # cut short, as a failed download is
        else:
            digit = draw(st.sampled_from(b"0123456789.-,"))
            if at < len(data) and chr(data[at]).isdigit():
                data[at] = digit                            # a figure changed
    return name, bytes(data)


def parse(name: str, data: bytes) -> ParsedStatement:
    """The reading ``service.read_file`` does, without a database (the mapped layout given its mapping)."""
    kind = detect_format(data)
    if kind == "ofx":
        return read_ofx(data)
    if kind == "camt053":
        return read_camt053(data)
    text = decode(data)
    shape = sniff(text)
    if shape.layout is not None:
        return read_csv(text, shape, shape.layout.mapping, shape.layout.name)
    return read_csv(text, shape, MAPPING, "Mapped")


def exact(parsed: ParsedStatement) -> None:
    assert parsed.lines
    for ln in parsed.lines:
        assert type(ln.amount) is int and ln.amount != 0 and abs(ln.amount) < MAX_AMOUNT_PENCE
        assert ln.balance is None or (type(ln.balance) is int and abs(ln.balance) < MAX_AMOUNT_PENCE)
        assert isinstance(ln.booked_on, date) and "\x00" not in ln.description
    for figure in (parsed.opening_balance, parsed.closing_balance):
        assert figure is None or (type(figure) is int and abs(figure) < 2 * MAX_AMOUNT_PENCE)


def test_every_sample_reads_before_it_is_mangled():
    for name, data in SAMPLES.items():
        exact(parse(name, data))


@settings(max_examples=200, deadline=None)
@given(mangled())
def test_fuzz_mangled_statements_read_exactly_or_are_refused(case):
    name, data = case
    try:
        parsed = parse(name, data)
    except StatementError as refused:
        assert str(refused)
        return
    exact(parsed)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2_000))
def test_fuzz_arbitrary_bytes_are_refused_or_read_exactly(data):
    try:
        parsed = parse("bytes", data)
    except StatementError:
        return
    exact(parsed)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_fuzz_amount_text_is_pence_or_refused(text):
    try:
        pence = parse_amount(text)
    except StatementError:
        return
    assert type(pence) is int and abs(pence) < MAX_AMOUNT_PENCE


@pytest.mark.parametrize("data,says", [
    (b"OFXHEADER:100\n<OFX>" + b"<A " * 2_000_000, "no bank statement"),               # was quadratic: hours
    (b"OFXHEADER:100\n<OFX>" + b"<X>" * 5_000, "nested more than"),                    # was a RecursionError
    ((",".join(f"w{k}" for k in range(100_000)) + "\n").encode(), "columns"),          # was 15 s of sniffing
    (b"Date,Description,Amount\n06/04/2026,A,1e999999\n", "is not an amount"),        # was decimal.Overflow
    (b"Date,Description,Amount\n06/04/2026,A," + b"9" * 5_000 + b"\n", "is not an amount"),  # was ValueError
    (b"Date,Description,Amount\n06/04/2026,A,99999999999999999999.00\n", "too large"),  # overflowed BIGINT
    (b"x" * (10 * 1024 * 1024 + 1), "larger than 10 MB"),
])
def test_hostile_files_are_refused_quickly(data, says):
    began = time.perf_counter()
    with pytest.raises(StatementError, match=says):
        parse("hostile", data)
    assert time.perf_counter() - began < 5


# ---------------------------------------------------------------------- through the service, on a database
TABLES = (bank_statement_t, bank_line_t, bank_account_t, bank_csv_mapping_t, access_log_t)


def counts(world) -> dict[str, int]:
    return world.uow.read(lambda tx: {t.name: tx.conn.execute(select(func.count()).select_from(t)).scalar_one()
                                      for t in TABLES})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mangled())
def test_fuzz_import_writes_all_or_nothing(world, case):  # noqa: F811
    name, data = case
    before = counts(world)
    try:
        summary = service.import_statement(world.uow, world.wallet.id, data, f"{name}.dat",
                                           actor=world.users["holder"], mapping=MAPPING if name == "mapped" else None,
                                           remember_as="Mapped" if name == "mapped" else None)
    except StatementError:
        assert counts(world) == before                  # refused: not a row anywhere, not even a log line
        return
    after = counts(world)
    assert after["bank_statement"] == before["bank_statement"] + 1
    assert after["bank_line"] == before["bank_line"] + summary.new
    stored = world.uow.read(lambda tx: tx.conn.execute(
        select(bank_line_t.c.amount).join(bank_statement_t, bank_line_t.c.statement_id == bank_statement_t.c.id)
        .where(bank_statement_t.c.uuid == summary.statement_id)).scalars().all())
    assert all(type(a) is int and a != 0 for a in stored) and len(stored) == summary.new

"""Reading statement files: each UK layout by its heading row, OFX (SGML and XML), CAMT.053; amounts in pence
through Decimal; clear refusals that name the line."""
from __future__ import annotations

from datetime import date

import pytest

from tests.integration.bank import samples
from tests.integration.bank.conftest import statement_rows
from wallet.bank import detect_format
from wallet.bank.camt053 import read_camt053
from wallet.bank.csv_layouts import LAYOUTS, MappingNeeded, layout_named, read_csv, sniff
from wallet.bank.ofx import read_ofx
from wallet.bank.statement import StatementError, decode, fingerprints, parse_amount, parse_date

ROWS = statement_rows()
AMOUNTS = [a for _, _, a in ROWS]


def read(data: bytes):
    text = decode(data)
    shape = sniff(text)
    return shape, read_csv(text, shape, shape.layout.mapping, shape.layout.name)


@pytest.mark.parametrize("text,pence", [("12.50", 1250), ("-12.5", -1250), ("£1,234.56", 123456), ("(3.00)", -300),
                                        ("7.25 DR", -725), ("7.25CR", 725), ("+3", 300), ("0.01", 1)])
def test_amounts_become_pence_exactly(text, pence):
    assert parse_amount(text) == pence


@pytest.mark.parametrize("text", ["", "abc", "1.234", "NaN", "Infinity", "1e400x"])
def test_amounts_that_are_not_money_are_refused(text):
    with pytest.raises(StatementError):
        parse_amount(text, line=7)


def test_dates_are_read_day_first():
    assert parse_date("06/04/2026") == date(2026, 4, 6)
    assert parse_date("06/04/26") == date(2026, 4, 6)
    assert parse_date("6 Apr 2026") == date(2026, 4, 6)
    assert parse_date("2026-04-06") == date(2026, 4, 6)
    with pytest.raises(StatementError, match="line 9: the date '04/31/2026' is not a date"):
        parse_date("04/31/2026", line=9)


def test_lloyds_newest_first_with_balances():
    shape, parsed = read(samples.lloyds_csv(ROWS, opening=1_000))
    assert (shape.layout.name, parsed.bank, parsed.format) == ("Lloyds", "Lloyds", "csv")
    assert [ln.amount for ln in parsed.lines] == AMOUNTS          # put oldest first
    assert (parsed.opening_balance, parsed.closing_balance) == (1_000, 1_000 + sum(AMOUNTS))
    assert parsed.closing_on == date(2026, 4, 17)
    assert parsed.account_number == "'30-94-57 12345678"
    assert not parsed.warnings


def test_barclays_monzo_and_nationwide():
    _, barclays = read(samples.barclays_csv(ROWS))
    assert barclays.bank == "Barclays" and [ln.amount for ln in barclays.lines] == AMOUNTS
    assert barclays.closing_balance is None                       # no running balance: nothing to reconcile
    shape, monzo = read(samples.monzo_csv(ROWS))
    assert shape.layout.name == "Monzo"
    assert monzo.lines[0].bank_ref == "tx_0000" and monzo.lines[2].payee == "JO SMITH WAGES"
    shape, nationwide = read(samples.nationwide_csv(ROWS))
    assert shape.layout.name == "Nationwide" and shape.header_line == 5   # below the account's details
    assert [ln.amount for ln in nationwide.lines] == AMOUNTS
    assert nationwide.closing_balance == sum(AMOUNTS)


@pytest.mark.parametrize("headers,name", [
    ("Date, Type, Description, Value, Balance, Account Name, Account Number", "NatWest"),
    ("Date,Description,Money in,Money out,Balance", "Santander"),
    ("Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category,Notes", "Starling"),
    ("Date,Description,Amount", "HSBC"),
])
def test_every_layout_is_known_by_its_heading_row(headers, name):
    shape = sniff(headers + "\n")
    assert shape.layout is not None and shape.layout.name == name
    assert layout_named(name) is shape.layout
    assert {lay.name for lay in LAYOUTS} >= {"Barclays", "HSBC", "Lloyds", "NatWest", "Santander", "Nationwide",
                                             "Monzo", "Starling"}
    assert layout_named("Halifax").name == "Lloyds" and layout_named("RBS").name == "NatWest"


def test_an_unknown_layout_needs_a_mapping():
    shape = sniff(decode(samples.custom_csv(ROWS)))
    assert shape.layout is None and shape.headers[0] == "posted"
    assert isinstance(MappingNeeded(shape), StatementError)


def test_ofx_sgml_and_xml():
    sgml = read_ofx(samples.ofx_sgml(ROWS, closing=120_000))
    assert [ln.amount for ln in sgml.lines] == AMOUNTS
    assert sgml.lines[0].bank_ref == "F20260406000" and sgml.lines[0].payee == "LEEDS CITY COUNCIL DP"
    assert (sgml.closing_balance, sgml.closing_on, sgml.account_number) == (120_000, date(2026, 4, 17),
                                                                            "309457 12345678")
    xml = read_ofx(samples.ofx_xml(ROWS, closing=120_000))
    assert [ln.amount for ln in xml.lines] == AMOUNTS and xml.lines[3].payee == "BRIGHT CARE LTD INV 1043"
    assert detect_format(samples.ofx_sgml(ROWS)) == "ofx" and detect_format(samples.ofx_xml(ROWS)) == "ofx"


def test_ofx_refusals_name_the_line():
    bad = samples.ofx_sgml(ROWS).replace(b"<TRNAMT>-450.00", b"<TRNAMT>lots")
    with pytest.raises(StatementError, match=r"line \d+: the amount \(TRNAMT\) 'lots' is not an amount"):
        read_ofx(bad)
    with pytest.raises(StatementError, match="cut short"):
        read_ofx(samples.ofx_sgml(ROWS).split(b"</BANKTRANLIST>")[0])
    with pytest.raises(StatementError, match="only accounts in pounds"):
        read_ofx(samples.ofx_sgml(ROWS).replace(b"<CURDEF>GBP", b"<CURDEF>EUR"))


@pytest.mark.parametrize("version", ["001.02", "001.08"])
def test_camt053(version):
    parsed = read_camt053(samples.camt053(ROWS, opening=500, version=version))
    assert [ln.amount for ln in parsed.lines] == AMOUNTS
    assert (parsed.opening_balance, parsed.closing_balance) == (500, 500 + sum(AMOUNTS))
    assert parsed.lines[2].payee == "JO SMITH WAGES" and parsed.lines[2].bank_ref == "REF00002"
    assert parsed.account_number == "GB33BUKB20201555555555"
    assert detect_format(samples.camt053(ROWS)) == "camt053"


def test_camt053_refusals():
    pending = samples.camt053(ROWS).replace(b"<Sts>BOOK</Sts>", b"<Sts>PDNG</Sts>", 1)
    assert len(read_camt053(pending).lines) == 5 and read_camt053(pending).ignored == 1
    with pytest.raises(StatementError, match="credit or a debit"):
        read_camt053(samples.camt053(ROWS).replace(b"<CdtDbtInd>DBIT</CdtDbtInd>", b"", 1).replace(
            b"<Cd>OPBD</Cd>", b"<Cd>XXXX</Cd>"))
    with pytest.raises(StatementError, match="not a CAMT.053"):
        read_camt053(b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02">'
                     b"<BkToCstmrAcctRpt/></Document>")


def test_fingerprints_are_stable_and_tell_identical_lines_apart():
    _, parsed = read(samples.barclays_csv([(date(2026, 4, 14), "CAFE", -350)] * 2))
    first = fingerprints(parsed.lines)
    assert len(set(first)) == 2
    assert fingerprints(parsed.lines) == first
    _, with_more = read(samples.barclays_csv([(date(2026, 4, 14), "CAFE", -350)] * 3))
    assert fingerprints(with_more.lines)[:2] == first

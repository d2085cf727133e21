"""Importing statements into the books: matched, suggested and unmatched lines, duplicates never stored twice,
malformed files refused with nothing written, the reconciliation and its alert."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.integration.bank import samples
from tests.integration.bank.conftest import statement_rows
from wallet.bank import service
from wallet.bank.csv_layouts import ColumnMapping, MappingNeeded
from wallet.bank.statement import StatementError
from wallet.bank.tables import bank_account_t, bank_csv_mapping_t, bank_line_t, bank_statement_t
from wallet.domain.alerts import AlertKind, alerts
from wallet.domain.errors import PermissionDenied
from wallet.domain.tables import access_log_t
from wallet.domain.unit_of_work import SYSTEM


def count(world, table) -> int:
    return world.uow.read(lambda tx: tx.conn.execute(select(func.count()).select_from(table)).scalar_one())


def lines_by_text(world) -> dict[str, object]:
    rows = world.uow.read(lambda tx: tx.conn.execute(select(bank_line_t)).all())
    return {r.description: r for r in rows}


def test_exact_near_and_no_match(books):
    w = books.world
    summary = service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(statement_rows()), "april.csv",
                                       actor=w.users["holder"])
    assert (summary.bank, summary.lines_in_file, summary.new, summary.duplicate) == ("Lloyds", 6, 6, 0)
    assert (summary.matched, summary.suggested, summary.unmatched) == (2, 3, 1)
    by = lines_by_text(w)
    # Exact: amount, date (within the bank's days) and payee agree.
    assert (by["JO SMITH WAGES"].status, by["JO SMITH WAGES"].entry_id) == ("matched", books.entries["wages"])
    assert by["BRIGHT CARE LTD INV 1043"].entry_id == books.entries["agency"]
    assert by["BRIGHT CARE LTD INV 1043"].match_kind == "auto"
    # Near: the payee agrees but the bank booked it four days later; the funder's words differ from the books'.
    assert (by["LEEDS LEISURE CENTRE"].status, by["LEEDS LEISURE CENTRE"].suggested_entry_id) == (
        "suggested", books.entries["swimming"])
    assert by["LEEDS CITY COUNCIL DP"].suggested_entry_id == books.entries["council"]
    assert by["A KHAN TFR"].suggested_entry_id == books.entries["own"]
    # None: nothing in the books is a £5 fee.
    fee = by["MONTHLY ACCOUNT FEE"]
    assert (fee.status, fee.entry_id, fee.suggested_entry_id) == ("unmatched", None, None)


def test_reconciliation_shows_the_difference_and_raises_one_alert(books):
    w = books.world
    summary = service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(statement_rows()), "april.csv",
                                       actor=w.users["holder"])
    recon = summary.reconciliation
    assert recon is not None and recon.on == date(2026, 4, 17)
    assert (recon.bank_balance, recon.ledger_balance) == (120_000, 120_500)
    assert (recon.not_through_bank, recon.not_in_books, recon.not_in_books_count) == (0, -500, 1)
    assert (recon.reconciled_balance, recon.difference, recon.unexplained) == (120_000, -500, 0)
    assert summary.alert_raised
    raised = [a for a in alerts(w.uow, w.wallet.id, actor=SYSTEM) if a.kind is AlertKind.BANK_DIFFERENCE]
    assert len(raised) == 1 and "£5.00 less than the books" in raised[0].message
    # Explaining the fee records why; the difference stays (the books still lack it) but is not raised again.
    fee = next(v for v in service.open_lines(w.uow, w.wallet.id, actor=w.users["holder"]) if v.amount == -500)
    service.explain_line(w.uow, w.wallet.id, fee.id, "Bank's monthly fee", actor=w.users["holder"])
    assert len([a for a in alerts(w.uow, w.wallet.id, actor=SYSTEM) if a.kind is AlertKind.BANK_DIFFERENCE]) == 1
    overview = service.bank_overview(w.uow, w.wallet.id, actor=w.users["holder"])
    assert overview.accounts[0].reconciliation.difference == -500
    assert overview.accounts[0].counts == {"matched": 2, "suggested": 3, "explained": 1}


def test_a_statement_that_agrees_raises_no_alert_and_payments_in_transit_are_allowed_for(books):
    w = books.world
    rows = [r for r in statement_rows() if r[2] != -500 and r[1] != "LEEDS LEISURE CENTRE"]
    # The swimming payment (13 April) is in the books but not through the bank by the 15th.
    summary = service.import_statement(w.uow, w.wallet.id, samples.camt053(rows, closing_on=date(2026, 4, 15)),
                                       "april.xml", actor=w.users["holder"])
    recon = summary.reconciliation
    assert (recon.on, recon.bank_balance, recon.ledger_balance) == (date(2026, 4, 15), 123_000, 120_500)
    assert (recon.not_through_bank, recon.reconciled_balance, recon.difference) == (-2_500, 120_500, 0)
    assert not summary.alert_raised
    assert not [a for a in alerts(w.uow, w.wallet.id, actor=SYSTEM) if a.kind is AlertKind.BANK_DIFFERENCE]


def test_reimporting_an_overlapping_statement_never_stores_a_line_twice(books):
    w = books.world
    rows = statement_rows()
    first = service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(rows[:4]), "first.csv",
                                     actor=w.users["holder"])
    assert (first.new, first.duplicate) == (4, 0)
    # The second statement overlaps the first by two lines (10 April onwards), with the running balance on.
    second = service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(rows[2:], opening=198_000),
                                      "second.csv", actor=w.users["holder"])
    assert (second.lines_in_file, second.new, second.duplicate) == (4, 2, 2)
    again = service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(rows[:4]), "first.csv",
                                     actor=w.users["holder"])
    assert (again.new, again.duplicate, again.matched) == (0, 4, 0)
    assert count(w, bank_line_t) == 6
    assert count(w, bank_statement_t) == 3
    assert count(w, bank_account_t) == 1


def test_identical_lines_in_one_statement_are_both_kept_and_recognised_again(books):
    w = books.world
    rows = [(date(2026, 4, 14), "CAFE", -350), (date(2026, 4, 14), "CAFE", -350)]
    first = service.import_statement(w.uow, w.wallet.id, samples.barclays_csv(rows), "coffee.csv",
                                     actor=w.users["holder"])
    again = service.import_statement(w.uow, w.wallet.id, samples.barclays_csv(rows + [(date(2026, 4, 15), "CAFE",
                                                                                       -350)]),
                                     "coffee2.csv", actor=w.users["holder"])
    assert (first.new, again.new, again.duplicate) == (2, 1, 2)


def test_ofx_and_camt053_import_and_recognise_their_own_lines_again(books):
    w = books.world
    rows = statement_rows()
    ofx = service.import_statement(w.uow, w.wallet.id, samples.ofx_sgml(rows, closing=120_000), "april.ofx",
                                   actor=w.users["holder"])
    assert (ofx.format, ofx.new, ofx.matched) == ("ofx", 6, 2)
    assert service.import_statement(w.uow, w.wallet.id, samples.ofx_sgml(rows, closing=120_000), "april.ofx",
                                    actor=w.users["holder"]).duplicate == 6
    camt = service.import_statement(w.uow, w.wallet.id, samples.camt053(rows), "april.xml", actor=w.users["holder"])
    # Another account (by its IBAN), so the same transactions are new there, and entries already matched in
    # the OFX account may match again in this one.
    assert (camt.format, camt.new, camt.matched) == ("camt053", 6, 2)
    assert camt.reconciliation.bank_balance == 120_000
    assert count(w, bank_account_t) == 2


@pytest.mark.parametrize("name,data,words", [
    ("bad amount", b"Date,Description,Amount\n06/04/2026,Shop,-12.50\n07/04/2026,Shop,twelve\n", "line 3"),
    ("bad date", b"Date,Description,Amount\n06/04/2026,Shop,-12.50\n31/02/2026,Shop,-1.00\n", "line 3"),
    ("too precise", b"Date,Description,Amount\n06/04/2026,Shop,-12.505\n", "more than two decimal places"),
    ("ofx without amount", b"OFXHEADER:100\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>GBP<BANKTRANLIST>\n"
                           b"<STMTTRN><DTPOSTED>20260406<FITID>1</STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS>"
                           b"</BANKMSGSRSV1></OFX>", "no amount (TRNAMT)"),
    ("camt with entities", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document xmlns="urn:iso:std:'
                           b'iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>', "refused for safety"),
    ("camt cut short", b'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
                       b"\n<BkToCstmrStmt><Stmt>", "not well-formed XML"),
    ("empty", b"", "empty"),
])
def test_a_malformed_file_is_refused_clearly_and_nothing_is_written(books, name, data, words):
    w = books.world
    before = count(w, access_log_t)
    with pytest.raises(StatementError) as refused:
        service.import_statement(w.uow, w.wallet.id, data, "bad.csv", actor=w.users["holder"])
    assert words in str(refused.value)
    for table in (bank_account_t, bank_statement_t, bank_line_t, bank_csv_mapping_t):
        assert count(w, table) == 0
    assert count(w, access_log_t) == before


def test_a_bad_row_deep_in_a_good_file_writes_nothing(books):
    w = books.world
    good = samples.lloyds_csv(statement_rows()).decode().splitlines()
    good.insert(4, "12/04/2026,DEB,'30-94-57,12345678,BROKEN,abc,,1.00")
    with pytest.raises(StatementError, match="line 5: the money out 'abc' is not an amount of money"):
        service.import_statement(w.uow, w.wallet.id, "\n".join(good).encode(), "bad.csv", actor=w.users["holder"])
    assert count(w, bank_line_t) == 0 and count(w, bank_statement_t) == 0


def test_an_unknown_layout_asks_for_a_mapping_once_and_it_is_remembered(books):
    w = books.world
    data = samples.custom_csv(statement_rows())
    with pytest.raises(MappingNeeded) as asked:
        service.import_statement(w.uow, w.wallet.id, data, "coop.csv", actor=w.users["holder"])
    assert asked.value.shape.headers == ("posted", "narrative", "value (gbp)", "our ref")
    mapping = ColumnMapping(date="posted", description=("narrative",), amount="value (gbp)", reference="our ref")
    first = service.import_statement(w.uow, w.wallet.id, data, "coop.csv", actor=w.users["holder"],
                                     mapping=mapping, remember_as="Co-operative Bank")
    assert (first.bank, first.new, first.matched) == ("Co-operative Bank", 6, 2)
    # The next file with the same headings is read with the remembered mapping, with or without naming the bank.
    later = samples.custom_csv([(date(2026, 4, 18), "LEEDS LEISURE", -1_000)])
    assert service.import_statement(w.uow, w.wallet.id, later, "coop2.csv", actor=w.users["holder"]).new == 1
    assert service.import_statement(w.uow, w.wallet.id, later, "coop2.csv", actor=w.users["holder"],
                                    bank="co-operative bank").duplicate == 1
    with pytest.raises(MappingNeeded):
        service.import_statement(w.uow, w.wallet.id, later, "coop2.csv", actor=w.users["holder"], bank="Triodos")


def test_a_mapping_that_does_not_fit_is_refused_and_not_remembered(books):
    w = books.world
    bad = ColumnMapping(date="posted", description=("narrative",), money_out="value (gbp)")
    with pytest.raises(StatementError, match="both the money-out and the money-in"):
        service.import_statement(w.uow, w.wallet.id, samples.custom_csv(statement_rows()), "x.csv",
                                 actor=w.users["holder"], mapping=bad, remember_as="Co-op")
    assert count(w, bank_csv_mapping_t) == 0


def test_people_match_explain_and_reopen_lines(books):
    w = books.world
    service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(statement_rows()), "april.csv",
                             actor=w.users["holder"])
    open_ = {v.description: v for v in service.open_lines(w.uow, w.wallet.id, actor=w.users["appointee"])}
    leisure = open_["LEEDS LEISURE CENTRE"]
    assert leisure.suggestion_text and "Swimming" in leisure.suggestion_text
    choices = service.entry_choices(w.uow, w.wallet.id, leisure.id, actor=w.users["appointee"])
    assert [c.entry_id for c in choices] == [books.entries["swimming"]]
    done = service.match_line(w.uow, w.wallet.id, leisure.id, books.entries["swimming"], actor=w.users["appointee"])
    assert (done.status, done.match_kind) == ("matched", "manual")
    # The same entry cannot be matched twice, nor an entry of another amount.
    council = open_["LEEDS CITY COUNCIL DP"]
    with pytest.raises(service.InvalidRequest, match="amounts differ"):
        service.match_line(w.uow, w.wallet.id, council.id, books.entries["own"], actor=w.users["appointee"])
    with pytest.raises(service.InvalidRequest, match="did not move this account"):
        service.match_line(w.uow, w.wallet.id, council.id, "00000000-0000-4000-8000-000000000000",
                           actor=w.users["appointee"])
    with pytest.raises(service.InvalidRequest, match="say what this line is"):
        service.explain_line(w.uow, w.wallet.id, council.id, "   ", actor=w.users["appointee"])
    reopened = service.reopen_line(w.uow, w.wallet.id, leisure.id, actor=w.users["appointee"])
    assert (reopened.status, reopened.entry_id) == ("unmatched", None)
    assert service.rematch(w.uow, w.wallet.id, actor=w.users["appointee"]) == 0
    assert lines_by_text(w)["LEEDS LEISURE CENTRE"].status == "suggested"


def test_only_people_who_manage_the_wallet_may_import_or_match(books):
    w = books.world
    for who in ("overseer", "auditor", "council_officer", "payroll_admin", "stranger"):
        with pytest.raises(PermissionDenied):
            service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(statement_rows()), "a.csv",
                                     actor=w.users[who])
    assert count(w, bank_line_t) == 0
    assert service.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(statement_rows()), "a.csv",
                                    actor=w.users["manager"]).new == 6
    line = service.open_lines(w.uow, w.wallet.id, actor=w.users["manager"])[0]
    with pytest.raises(PermissionDenied):
        service.explain_line(w.uow, w.wallet.id, line.id, "mine now", actor=w.users["overseer"])
    with pytest.raises(PermissionDenied):
        service.open_lines(w.uow, w.wallet.id, actor=w.users["overseer"])

"""The monthly report: money in by funder, out by plan line against the plan, balance against the surplus limit,
evidence missing, unreconciled bank lines; a tagged PDF; sent once to the holder and each appointee."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tests.integration.bank import samples
from tests.integration.bank.conftest import statement_rows
from tests.unit.hmrc import pdftext
from wallet.bank import service as bank
from wallet.domain import people
from wallet.domain.errors import InvalidRequest, PermissionDenied
from wallet.domain.permissions import Role
from wallet.domain.unit_of_work import SYSTEM
from wallet.reports import monthly
from wallet.scheduler.store import notices

APRIL = date(2026, 4, 1)


def test_the_months_figures(books):
    w = books.world
    bank.import_statement(w.uow, w.wallet.id, samples.lloyds_csv(statement_rows()), "april.csv",
                          actor=w.users["holder"])
    w.clock.set(datetime(2026, 5, 2, 9, 0, tzinfo=timezone.utc))
    r = monthly.monthly_report(w.uow, w.wallet.id, APRIL, actor=w.users["overseer"])
    assert [(m.funder, m.received) for m in r.money_in] == [("Leeds adult social care", 186_000),
                                                            ("Own contribution", 12_000)]
    out = {(m.line, m.funder): m for m in r.money_out}
    wages = out[("Personal assistant wages", "Leeds adult social care")]
    # £1,500 a four-weekly period from 6 April: 25 of its 28 days fall in April.
    assert (wages.planned, wages.spent, wages.in_plan) == (133_929, 45_000, True)
    agency = out[("Care agency", "Leeds adult social care")]
    assert (agency.planned, agency.spent, agency.in_plan) == (0, 30_000, False)
    assert out[("Activities", "Own contribution")].spent == 2_500
    assert r.spent_total == 77_500 and r.balance == 120_500
    # Eight weeks of planned spending (contingency aside: £1,500 + £80 + £100 each four weeks) from 1 May.
    assert r.surplus_limit == 2 * (150_000 + 8_000 + 10_000) and r.above_limit == 0
    assert r.payments == 3 and r.missing_evidence_count == 3
    assert {m.description.split(" (")[0] for m in r.missing_evidence} == {"Wages, first week", "Agency visits",
                                                                           "Swimming"}
    assert r.unreconciled_count == 4 and r.unreconciled_total == 186_000 + 12_000 - 500 - 2_500
    assert "£1,980.00 came in" in monthly.summary_words(r)


def test_the_pdf_is_tagged_and_holds_the_figures(books):
    w = books.world
    r = monthly.monthly_report(w.uow, w.wallet.id, APRIL, actor=w.users["holder"])
    html = monthly.render_html(r)
    assert "<title>Monthly report for Asha&#39;s budget, April 2026</title>" in html
    pdf = monthly.render_pdf(r)
    assert pdf.startswith(b"%PDF-")
    structure = pdftext.everything(pdf)
    for marker in (b"/StructTreeRoot", b"/MarkInfo", b"/Lang (en-GB)", b"/H1", b"/H2", b"/Table", b"/TH",
                   b"/Caption"):
        assert marker in structure, marker
    text = pdftext.text(pdf)
    for figure in ("£1,860.00", "£450.00", "£1,205.00", "£3,360.00"):
        assert figure in text, figure


def test_sent_once_to_the_holder_and_each_appointee(books):
    w = books.world
    people.revoke_role(w.uow, w.wallet.id, w.users["appointee2"], Role.APPOINTEE, actor=SYSTEM)
    sent = monthly.send_monthly_report(w.uow, w.wallet.id, APRIL)
    assert set(sent) == {w.users["holder"], w.users["appointee"]}
    assert monthly.send_monthly_report(w.uow, w.wallet.id, APRIL) == []
    left = notices(w.uow.db, kind="monthly_report", subject=w.wallet.id)
    assert sorted(n.details["recipient"] for n in left) == sorted(sent)
    assert all("April 2026" in n.message for n in left)
    kept = monthly.sent_report(w.uow, w.wallet.id, APRIL, actor=w.users["holder"])
    assert kept is not None and kept.balance == 120_500 and kept.month == APRIL


def test_who_may_read_it_and_which_months():
    assert monthly.parse_month("2026-04", date(2026, 5, 2)) == APRIL
    assert monthly.parse_month(None, date(2026, 5, 2)) == APRIL
    for bad in ("2026-13", "April", "2026-06"):
        with pytest.raises(InvalidRequest):
            monthly.parse_month(bad, date(2026, 5, 2))


def test_people_without_view_transactions_are_refused(books):
    w = books.world
    for who in ("auditor", "stranger", "other_council_officer"):
        with pytest.raises(PermissionDenied):
            monthly.monthly_report(w.uow, w.wallet.id, APRIL, actor=w.users[who])
    with pytest.raises(PermissionDenied):
        monthly.send_monthly_report(w.uow, w.wallet.id, APRIL, actor=w.users["overseer"])

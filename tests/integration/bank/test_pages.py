"""The portal's bank and report pages: import (with the mapping step), match or explain, reconcile, report."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from tests.integration.bank import samples
from tests.integration.bank.conftest import statement_rows
from tests.integration.web.conftest import csrf_token_from, portal  # noqa: F401  (fixtures)
from wallet.bank.tables import bank_line_t, bank_upload_t
from wallet.domain.tables import access_log_t


def upload(client, wallet_id: str, data: bytes, name: str, **fields):
    token = csrf_token_from(client, f"/wallets/{wallet_id}/bank/import")
    return client.post(f"/wallets/{wallet_id}/bank/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "statement": (io.BytesIO(data), name), **fields})


def test_import_match_and_explain_in_the_portal(books, portal):  # noqa: F811
    w = books.world
    client = portal.client("appointee")
    page = client.get(f"/wallets/{w.wallet.id}/bank").get_data(as_text=True)
    assert "No statements have been imported yet" in page and "Bank statements" in page
    response = upload(client, w.wallet.id, samples.lloyds_csv(statement_rows()), "april.csv")
    assert response.status_code == 302 and response.headers["Location"].endswith("/bank/lines")
    lines = client.get(f"/wallets/{w.wallet.id}/bank/lines").get_data(as_text=True)
    assert "Imported 6 new lines from Lloyds" in lines and "2 matched to the books, 3 with a suggested match" in lines
    assert "an alert has been raised" in lines
    assert lines.count('data-status="suggested"') == 3 and lines.count('data-status="unmatched"') == 1
    rows = {r.description: r for r in w.uow.read(lambda tx: tx.conn.execute(select(bank_line_t)).all())}
    token = csrf_token_from(client, f"/wallets/{w.wallet.id}/bank/lines")
    leisure = rows["LEEDS LEISURE CENTRE"]
    done = client.post(f"/wallets/{w.wallet.id}/bank/lines/{leisure.uuid}/match",
                       data={"csrf_token": token, "entry": leisure.suggested_entry_id})
    assert done.status_code == 302
    fee = rows["MONTHLY ACCOUNT FEE"]
    detail = client.get(f"/wallets/{w.wallet.id}/bank/lines/{fee.uuid}").get_data(as_text=True)
    assert "No entry in the books of -£5.00" in detail
    empty = client.post(f"/wallets/{w.wallet.id}/bank/lines/{fee.uuid}/explain", data={"csrf_token": token,
                                                                                      "note": " "})
    assert empty.status_code == 400 and "Say what this line is" in empty.get_data(as_text=True)
    client.post(f"/wallets/{w.wallet.id}/bank/lines/{fee.uuid}/explain",
                data={"csrf_token": token, "note": "Bank charge"})
    left = client.get(f"/wallets/{w.wallet.id}/bank/lines").get_data(as_text=True)
    assert left.count("data-line-id=") == 2
    overview = client.get(f"/wallets/{w.wallet.id}/bank").get_data(as_text=True)
    assert "Reconciliation on 17 April 2026" in overview and "differ by £5.00" in overview
    home = client.get(f"/wallets/{w.wallet.id}").get_data(as_text=True)
    assert 'data-alert-kind="bank_difference"' in home
    actions = {r.action for r in w.uow.read(lambda tx: tx.conn.execute(select(access_log_t.c.action)).all())}
    assert {"bank_import", "manage_wallet"} <= actions


def test_an_unknown_csv_layout_is_mapped_once_in_the_portal(books, portal):  # noqa: F811
    w = books.world
    client = portal.client("holder")
    data = samples.custom_csv(statement_rows())
    asked = upload(client, w.wallet.id, data, "coop.csv")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Which column is which?" in page and "LEEDS CITY COUNCIL DP" in page
    upload_id = re.search(r"/bank/import/([0-9a-f-]+)/mapping", page).group(1)
    token = csrf_token_from(client, f"/wallets/{w.wallet.id}/bank/import")
    wrong = client.post(f"/wallets/{w.wallet.id}/bank/import/{upload_id}/mapping",
                        data={"csrf_token": token, "bank_name": "", "kind": "one", "date": "posted",
                              "description": "narrative", "amount": ""})
    assert wrong.status_code == 400
    assert "Say which bank" in wrong.get_data(as_text=True) and "holds the amount" in wrong.get_data(as_text=True)
    done = client.post(f"/wallets/{w.wallet.id}/bank/import/{upload_id}/mapping",
                       data={"csrf_token": token, "bank_name": "Co-operative Bank", "kind": "one", "date": "posted",
                             "description": "narrative", "amount": "value (gbp)", "reference": "our ref"})
    assert done.status_code == 302
    assert "remembered as Co-operative Bank" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert w.uow.read(lambda tx: tx.conn.execute(select(bank_upload_t)).all()) == []
    # The same layout again goes straight in.
    again = upload(client, w.wallet.id, samples.custom_csv(statement_rows()[:2]), "coop2.csv")
    assert again.status_code == 302


def test_a_malformed_upload_is_refused_on_the_form(books, portal):  # noqa: F811
    w = books.world
    client = portal.client("holder")
    refused = upload(client, w.wallet.id, b"Date,Description,Amount\n06/04/2026,Shop,lots\n", "bad.csv")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Line 2: the amount &#39;lots&#39; is not an amount of money" in text
    none = client.post(f"/wallets/{w.wallet.id}/bank/import",
                       data={"csrf_token": csrf_token_from(client, f"/wallets/{w.wallet.id}/bank/import")})
    assert none.status_code == 400 and "Choose the statement file" in none.get_data(as_text=True)


def test_the_report_page_and_its_pdf(books, portal):  # noqa: F811
    w = books.world
    client = portal.client("overseer")
    page = client.get(f"/wallets/{w.wallet.id}/reports/monthly?month=2026-04")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Monthly report: April 2026" in html
    assert 'role="img"' in html and 'id="money-out"' in html          # the chart, and its figures as a table
    assert "£1,860.00" in html and "3 of 3 payments have no receipt" in html
    pdf = client.get(f"/wallets/{w.wallet.id}/reports/monthly.pdf?month=2026-04")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert "monthly-report-2026-04.pdf" in pdf.headers["Content-Disposition"]
    assert client.get(f"/wallets/{w.wallet.id}/reports/monthly?month=2030-01").status_code == 400
    # A family overseer reads the report but never sees the bank pages.
    assert "/bank" not in html
    assert client.get(f"/wallets/{w.wallet.id}/bank").status_code == 403

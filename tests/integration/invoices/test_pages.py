"""The invoice pages: record one with its document, see its checks, approve it (a second person), mark it paid;
a duplicate refused on the form; the agreed rates page."""
from __future__ import annotations

import io
import re

import pytest

from tests.integration.evidence import files
from tests.integration.web.conftest import portal  # noqa: F401  (fixture)
from wallet.domain import invoices
from wallet.domain.invoices import InvoiceStatus


@pytest.fixture
def site(portal, agency, tmp_path):  # noqa: F811
    portal.app.config["EVIDENCE_DIR"] = str(tmp_path / "portal-evidence")
    portal.agency = agency
    return portal


def _form(site, **changes):
    w = site.world
    form = {"payee": w.agency.id, "line": site.agency.line_id, "number": "BC-2026-04", "invoice_date": "2026-04-06",
            "period_start": "2026-04-06", "period_end": "2026-05-03", "hours": "10", "rate": "20.00",
            "amount": "200.00", "key": "form-key-1"}
    form.update(changes)
    return form


def _record(client, site, document: bytes | None = None, **changes):
    url = f"/wallets/{site.world.wallet.id}/invoices/new"
    data = {**_form(site, **changes), "csrf_token": client.csrf(url)}
    if document is not None:
        data["document"] = (io.BytesIO(document), "invoice.pdf", "application/pdf")
    return client.post(url, data=data, content_type="multipart/form-data")


def test_record_approve_and_mark_paid(site):
    w = site.world
    manager = site.client("manager")
    response = _record(manager, site, document=files.pdf("Bright Care BC-2026-04"), rate="22.00", amount="220.00")
    assert response.status_code == 302, response.get_data(as_text=True)
    invoice_url = response.headers["Location"]
    page = manager.get(invoice_url).get_data(as_text=True)
    assert "Invoice BC-2026-04 is recorded and waiting for approval" in page
    assert 'data-flag="rate_rise"' in page
    assert "The rate, £22.00 an hour, is more than the agreed £20.00." in page
    assert "invoice.pdf" in page
    assert "Approve" not in page.split("<h1>")[1]            # the manager may not approve payments
    listing = manager.get(f"/wallets/{w.wallet.id}/invoices").get_data(as_text=True)
    assert "BC-2026-04" in listing and "Waiting for approval" in listing

    appointee = site.client("appointee")
    page = appointee.get(invoice_url).get_data(as_text=True)
    approve = re.search(r'action="([^"]+/approve)"', page).group(1)
    response = appointee.post(approve, data={"csrf_token": appointee.csrf(invoice_url)})
    assert response.status_code == 302
    found = invoices.invoices(w.uow, w.wallet.id, actor=w.users["holder"])[0]
    assert found.status is InvoiceStatus.APPROVED

    page = manager.get(invoice_url).get_data(as_text=True)
    assert "Mark it paid" in page and "See the payment in the transactions" in page
    response = manager.post(invoice_url + "/paid", data={"csrf_token": manager.csrf(invoice_url),
                                                         "paid_on": "2026-04-06", "reference": "BACS 0042"})
    assert response.status_code == 302
    page = manager.get(invoice_url).get_data(as_text=True)
    assert "Marked paid." in page and "reference BACS 0042" in page
    # The document is on the payment's entry too, with its hash written into the entry.
    entry_page = manager.get(f"/wallets/{w.wallet.id}/entries/{found.entry_id}").get_data(as_text=True)
    assert "invoice.pdf" in entry_page and "Also written into this ledger entry" in entry_page


def test_the_person_who_recorded_it_is_not_offered_approval(site):
    holder = site.client("holder")
    response = _record(holder, site, hours="20", amount="400.00")
    page = holder.get(response.headers["Location"]).get_data(as_text=True)
    assert "You recorded this invoice, so someone else must approve or reject it." in page
    assert 'data-flag="hours_beyond_plan"' in page


def test_a_duplicate_is_refused_on_the_form(site):
    manager = site.client("manager")
    assert _record(manager, site).status_code == 302
    again = _record(manager, site, key="form-key-2", number="bc 2026 04")
    html = again.get_data(as_text=True)
    assert again.status_code == 400
    assert "Invoice bc 2026 04 from Bright Care for this amount was already recorded on 6 April 2026" in html
    # Sending the same form twice (the same key) is not a duplicate: it shows the first invoice.
    assert _record(manager, site).status_code == 302
    assert len(invoices.invoices(site.world.uow, site.world.wallet.id, actor=site.world.users["holder"])) == 1


def test_mistakes_are_shown_on_the_form(site):
    response = _record(site.client("manager"), site, payee="", hours="ten", amount="", period_end="2026-04-01",
                       document=files.HTML)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Choose the agency or supplier that sent the invoice", "The hours must be a number",
                    "Enter the amount", "The last day invoiced must be the same as or after the first"):
        assert message in html


def test_the_rates_page(site):
    w = site.world
    holder = site.client("holder")
    url = f"/wallets/{w.wallet.id}/invoices/rates"
    page = holder.get(url).get_data(as_text=True)
    assert "Bright Care" in page and "£20.00" in page
    response = holder.post(url, data={"csrf_token": holder.csrf(url), "payee": w.shop.id,
                                      "line": site.agency.line_id, "rate": "12.50", "hours": "6"})
    assert response.status_code == 302
    rates = invoices.agreed_rates(w.uow, w.wallet.id, actor=w.users["holder"])
    assert {(r.payee_id, r.hourly_rate) for r in rates} == {(w.agency.id, 2_000), (w.shop.id, 1_250)}


def test_a_document_that_is_too_large_is_refused_before_it_is_read(site):
    from wallet.web.views.evidence import UPLOAD_LIMIT

    response = _record(site.client("manager"), site, document=b"%PDF-1.4\n" + bytes(UPLOAD_LIMIT))
    assert response.status_code == 413
    assert "The file is larger than 10 MB" in response.get_data(as_text=True)
    assert invoices.invoices(site.world.uow, site.world.wallet.id, actor=site.world.users["holder"]) == []

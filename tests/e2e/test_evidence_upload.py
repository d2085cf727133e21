"""In a real browser: open a payment from the transactions list, upload a photo of its receipt, see it on the
entry and download it back; the entry and invoice pages pass axe-core."""
from __future__ import annotations

import hashlib
from pathlib import Path

from tests.e2e.conftest import axe_violations
from tests.e2e.test_portal_pages import server, sign_in  # noqa: F401  (fixture)
from tests.integration.evidence import files


def test_upload_a_receipt_and_see_it_on_the_entry(page, server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    server.app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence")
    w = server.world
    sign_in(page, server, "holder")
    page.get_by_role("navigation", name="Wallet").get_by_role("link", name="Transactions").click()
    page.get_by_role("link", name="Paid Leeds Leisure (supplier) for activities").click()
    expect(page.locator("h1")).to_have_text("Paid Leeds Leisure (supplier) for activities")
    expect(page.locator("#no-evidence")).to_be_visible()
    assert page.locator("#file").get_attribute("capture") == "environment"
    assert axe_violations(page) == []

    photo = files.image("JPEG", "orange")
    page.get_by_label("Receipt", exact=True).check()
    page.locator("#file").set_input_files(files=[{"name": "receipt.jpg", "mimeType": "image/jpeg",
                                                  "buffer": photo}])
    page.get_by_label("A note (optional)").fill("Swimming, April")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".notice-success")).to_have_text("Receipt kept with this entry: receipt.jpg.")
    row = page.locator("#evidence tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Receipt")
    expect(row).to_contain_text("Swimming, April")
    expect(row).to_contain_text(hashlib.sha256(photo).hexdigest())
    assert axe_violations(page) == []

    with page.expect_download() as info:
        page.get_by_role("link", name="receipt.jpg").click()
    download = info.value
    assert download.suggested_filename == "receipt.jpg"
    assert Path(download.path()).read_bytes() == photo

    # A page pretending to be a photo is refused, with the reason next to the field.
    page.get_by_label("Receipt", exact=True).check()
    page.locator("#file").set_input_files(files=[{"name": "photo.jpg", "mimeType": "image/jpeg",
                                                  "buffer": files.HTML}])
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".error-summary")).to_contain_text("This file is not a PDF, or a photo or picture")
    expect(page.locator("#evidence tbody tr")).to_have_count(1)
    assert axe_violations(page) == []

    for path in ("/invoices", "/invoices/new"):
        page.goto(f"{server.url}/wallets/{w.wallet.id}{path}")
        assert axe_violations(page) == [], path

"""The entry page: see a transaction's evidence, upload a receipt (a file or a phone photo), download it safely."""
from __future__ import annotations

import io
import re

import pytest

from tests.integration.evidence import files
from tests.integration.wallet.conftest import TODAY
from tests.integration.web.conftest import portal  # noqa: F401  (fixture)
from wallet.domain import wallets
from wallet.domain.unit_of_work import SYSTEM
from wallet.evidence import service as evidence
from wallet.web.views.evidence import UPLOAD_LIMIT, evidence_store


@pytest.fixture
def site(portal, paid, tmp_path):  # noqa: F811
    portal.app.config["EVIDENCE_DIR"] = str(tmp_path / "portal-evidence")
    portal.entry = paid
    return portal


def _entry_url(site) -> str:
    return f"/wallets/{site.world.wallet.id}/entries/{site.entry.id}"


def _upload(client, site, data: bytes, name: str, *, kind: str = "receipt", content_type: str = "image/jpeg",
            token: str | None = None):
    fields = {"kind": kind, "note": "Paid at the desk", "file": (io.BytesIO(data), name, content_type)}
    if token is not False:
        fields["csrf_token"] = token or client.csrf(_entry_url(site))
    return client.post(_entry_url(site) + "/evidence", data=fields, content_type="multipart/form-data")


def _store(site):
    with site.app.app_context():
        return evidence_store()


def test_the_transactions_list_links_to_each_entry(site):
    html = site.client("holder").get(f"/wallets/{site.world.wallet.id}/transactions").get_data(as_text=True)
    assert f'href="{_entry_url(site)}"' in html


def test_upload_a_phone_photo_and_see_it_on_the_entry(site):
    client = site.client("holder")
    page = client.get(_entry_url(site)).get_data(as_text=True)
    assert "No receipts or other evidence" in page
    assert re.search(r'<input type="file" id="file" name="file" accept="image/\*,application/pdf" '
                     r'capture="environment"', page)
    photo = files.image("JPEG")
    response = _upload(client, site, photo, "IMG_2041.JPG")
    assert response.status_code == 302 and response.headers["Location"].endswith(_entry_url(site))
    page = client.get(_entry_url(site)).get_data(as_text=True)
    kept = evidence.entry_evidence(site.world.uow, site.world.wallet.id, site.entry.id,
                                   actor=site.world.users["holder"]).evidence
    assert len(kept) == 1 and kept[0].file_name == "IMG_2041.jpg" and kept[0].note == "Paid at the desk"
    assert "Receipt kept with this entry: IMG_2041.jpg." in page
    assert kept[0].sha256 in page and "JPEG photo" in page

    download = client.get(f"/wallets/{site.world.wallet.id}/evidence/{kept[0].id}")
    assert download.status_code == 200 and download.get_data() == photo
    assert download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "IMG_2041.jpg" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in download.headers["Cache-Control"]
    # A family member shown the transactions sees the receipt but is not offered the upload form.
    overseer = site.client("overseer")
    page = overseer.get(_entry_url(site)).get_data(as_text=True)
    assert "IMG_2041.jpg" in page and 'enctype="multipart/form-data"' not in page
    assert overseer.get(f"/wallets/{site.world.wallet.id}/evidence/{kept[0].id}").status_code == 200


def test_a_page_pretending_to_be_a_photo_is_refused(site):
    client = site.client("holder")
    response = _upload(client, site, files.HTML, "receipt.jpg", content_type="image/jpeg")
    assert response.status_code == 400
    assert "This file is not a PDF, or a photo or picture (JPEG, PNG, HEIC or WebP)." in response.get_data(as_text=True)
    assert not evidence.entry_evidence(site.world.uow, site.world.wallet.id, site.entry.id,
                                       actor=site.world.users["holder"]).evidence
    root = _store(site).root
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_a_file_that_is_too_large_is_refused_before_it_is_read(site):
    client = site.client("holder")
    token = client.csrf(_entry_url(site))
    response = _upload(client, site, b"%PDF-1.4\n" + bytes(UPLOAD_LIMIT), "huge.pdf", token=token)
    assert response.status_code == 413
    assert "The file is larger than 10 MB" in response.get_data(as_text=True)
    root = _store(site).root
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_a_form_without_its_csrf_token_is_refused(site):
    response = _upload(site.client("holder"), site, files.pdf(), "r.pdf", token=False)
    assert response.status_code == 400 and "Your form had expired" in response.get_data(as_text=True)


def test_nothing_chosen_is_a_plain_error(site):
    client = site.client("manager")
    response = client.post(_entry_url(site) + "/evidence", data={"csrf_token": client.csrf(_entry_url(site))},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose what the file is" in html and "Choose a file to upload" in html


def test_people_who_only_look_cannot_upload(site):
    for who in ("overseer", "council_officer", "payroll_admin"):
        client = site.client(who)
        response = _upload(client, site, files.pdf(), "r.pdf", token=client.csrf(_entry_url(site)))
        assert response.status_code == 403, who


def test_an_altered_file_is_not_given_out(site):
    w = site.world
    kept = evidence.attach_evidence(w.uow, _store(site), w.wallet.id, site.entry.id, actor=w.users["holder"],
                                    kind="receipt", source=files.pdf())
    path = _store(site).path(kept.sha256)
    path.chmod(0o640)
    path.write_bytes(files.pdf("forged"))
    response = site.client("holder").get(f"/wallets/{w.wallet.id}/evidence/{kept.id}")
    assert response.status_code == 409
    assert "no longer matches" in response.get_data(as_text=True)


def test_an_entry_of_another_wallet_is_not_found_through_this_one(site):
    w = site.world
    other = wallets.open_wallet(w.uow, holder=w.users["holder"], name="Second budget", budget_kind="direct_payment",
                                plan_start=TODAY)
    stream = wallets.set_funding_stream(w.uow, other.id, kind="council_adult_services", funder_ref="council:leeds",
                                        label="Leeds", schedule="one_off", amount=5_000, starts=TODAY, actor=SYSTEM)
    theirs = wallets.record_funding(w.uow, other.id, stream.id, 5_000, TODAY, actor=SYSTEM, key="other-1")
    client = site.client("holder")
    assert client.get(f"/wallets/{other.id}/entries/{theirs.id}").status_code == 200
    assert client.get(f"/wallets/{w.wallet.id}/entries/{theirs.id}").status_code == 404
    assert client.get(f"/wallets/{w.wallet.id}/entries/not-an-entry").status_code == 404


def test_a_large_upload_by_someone_who_may_not_upload_is_still_refused_as_not_theirs(site):
    client = site.client("overseer")
    token = client.csrf(_entry_url(site))
    response = _upload(client, site, b"%PDF-1.4\n" + bytes(UPLOAD_LIMIT), "huge.pdf", token=token)
    assert response.status_code == 403

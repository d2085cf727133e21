"""Evidence in the auditor's exports: the files (ZIP) or their listing (JSON bundle), with their hashes in the
manifest, checked by the independent reader; evidence of entries outside the period or the funder is left out."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest

from tests.integration.evidence import files
from tests.integration.wallet.conftest import TODAY
from tests.support.export_reader import check_against_ledger, read_export
from wallet.domain import payments
from wallet.domain.chart import Category
from wallet.evidence import service as evidence
from wallet.exports import pdf_export, plan_export, stream_export


@pytest.fixture
def receipts(world, store, paid):
    """Two receipts on the swimming payment (paid from the holder's own money) and one on a later payment."""
    w = world
    photo, scan = files.image("JPEG"), files.pdf("Swimming receipt")
    a = evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["holder"], kind="receipt",
                                 source=photo, file_name="IMG_1.jpg")
    b = evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["holder"], kind="receipt",
                                 source=scan, file_name="scan.pdf")
    w.clock.advance(days=30)
    later = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id, amount=1_000,
                                     category=Category.ACTIVITIES, description="Climbing")
    assert later.status.value == "paid"      # the shop has been paid before: no second person needed
    c = evidence.attach_evidence(w.uow, store, w.wallet.id, later.entry_id, actor=w.users["holder"],
                                 kind="receipt", source=files.image("PNG"), file_name="climb.png")
    return {"swim": (a, b, photo, scan), "later": c}


def _plan(w, fmt, days=(0, 5), stream_id=None):
    return plan_export(w.uow, w.wallet.id, actor=w.users["auditor"], fmt=fmt,
                       first_day=TODAY + timedelta(days=days[0]), last_day=TODAY + timedelta(days=days[1]),
                       stream_id=stream_id)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_zip_holds_the_files_and_their_hashes(world, store, receipts, fmt):
    w = world
    a, b, photo, scan = receipts["swim"]
    data = b"".join(stream_export(w.uow.db, _plan(w, fmt), evidence_store=store))
    export = read_export(data, fmt)
    assert export.ok, export.problems                       # every file's SHA-256 and size agree with the manifest
    assert check_against_ledger(export, w.uow.db) == []
    names = {f"evidence/{a.sha256}.jpg": photo, f"evidence/{b.sha256}.pdf": scan}
    for name, content in names.items():
        assert export.files[name] == content
        listed = next(f for f in export.manifest["files"] if f["name"] == name)
        assert listed["sha256"] == hashlib.sha256(content).hexdigest()
    listing = json.loads(export.files["evidence.json"])["evidence"]
    assert [(i["evidence_id"], i["entry_id"], i["sha256"], i["matches_record"]) for i in listing] == [
        (a.id, a.entry_id, a.sha256, True), (b.id, b.entry_id, b.sha256, True)]
    assert export.manifest["evidence"] == {"count": 2, "files_included": True, "listing": "evidence.json",
                                           "problems": []}
    # The later payment's receipt is outside the period.
    assert receipts["later"].sha256 not in json.dumps(listing)


def test_the_json_bundle_lists_the_evidence_with_a_checksum(world, store, receipts):
    w = world
    a, b, _, _ = receipts["swim"]
    data = b"".join(stream_export(w.uow.db, _plan(w, "json"), evidence_store=store))
    export = read_export(data, "json")
    assert export.ok, export.problems
    bundle = json.loads(data)
    assert [(i["evidence_id"], i["sha256"], i["kind"], i["record_hash"]) for i in bundle["evidence"]] == [
        (a.id, a.sha256, "receipt", a.record_hash), (b.id, b.sha256, "receipt", b.record_hash)]
    text = "".join(json.dumps(i, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
                   for i in bundle["evidence"])
    assert bundle["manifest"]["evidence"] == {"count": 2, "files_included": False,
                                              "listing_sha256": hashlib.sha256(text.encode()).hexdigest()}


def test_the_pdf_zip_holds_the_files_too(world, store, receipts):
    w = world
    data = pdf_export(w.uow.db, _plan(w, "pdf"), evidence_store=store)
    export = read_export(data, "pdf")
    assert export.ok, export.problems
    assert export.manifest["evidence"]["count"] == 2
    assert sum(1 for n in export.files if n.startswith("evidence/")) == 2


def test_only_the_chosen_funders_evidence(world, store, receipts):
    w = world
    data = b"".join(stream_export(w.uow.db, _plan(w, "csv", stream_id=w.council.id), evidence_store=store))
    export = read_export(data, "csv")
    assert export.ok and export.manifest["evidence"] == {"count": 0, "files_included": True}
    assert not [n for n in export.files if n.startswith("evidence")]


def test_an_altered_file_is_exported_as_it_is_and_marked(world, store, receipts):
    w = world
    a, _, _, _ = receipts["swim"]
    path = store.path(a.sha256)
    path.chmod(0o640)
    path.write_bytes(files.image("JPEG", "red"))
    data = b"".join(stream_export(w.uow.db, _plan(w, "csv"), evidence_store=store))
    export = read_export(data, "csv")
    assert export.ok, export.problems            # the ZIP describes what it holds...
    listing = json.loads(export.files["evidence.json"])["evidence"]
    item = next(i for i in listing if i["evidence_id"] == a.id)
    assert item["matches_record"] is False       # ...and says the file is not the one recorded
    assert "no longer matches" in export.manifest["evidence"]["problems"][0]


def test_without_the_store_the_zip_lists_the_evidence(world, receipts):
    w = world
    data = b"".join(stream_export(w.uow.db, _plan(w, "csv")))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert not [n for n in archive.namelist() if n.startswith("evidence/")]
    listing = json.loads(archive.read("evidence.json"))["evidence"]
    assert len(listing) == 2 and all(not i["file_included"] for i in listing)

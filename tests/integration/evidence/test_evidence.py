"""Evidence on entries: stored by SHA-256, checked by its own bytes, chained, append-only, and verified."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.integration.evidence import files
from wallet.domain.errors import PermissionDenied
from wallet.evidence import service as evidence
from wallet.evidence.service import EvidenceKind, UnknownLedgerEntry, record_hash
from wallet.evidence.storage import EvidenceRefused, EvidenceStore, safe_file_name, sniff

GENESIS_HASH = "0" * 64


# ---------------------------------------------------------------------- the store
def test_a_file_is_kept_under_its_sha256(store):
    data = files.pdf()
    kept = store.put(data)
    assert kept.sha256 == hashlib.sha256(data).hexdigest()
    assert (kept.size, kept.media_type) == (len(data), "application/pdf")
    path = store.path(kept.sha256)
    assert path == store.root / kept.sha256[:2] / kept.sha256[2:4] / kept.sha256
    assert path.read_bytes() == data
    assert store.put(data) == kept                      # the same bytes are kept once
    assert [p.name for p in store.root.rglob("*") if p.is_file()] == [kept.sha256]
    assert store.check(kept.sha256) is None


@pytest.mark.parametrize("data, media_type", [
    (files.pdf(), "application/pdf"), (files.image("JPEG"), "image/jpeg"), (files.image("PNG"), "image/png"),
    (files.image("WEBP"), "image/webp"), (files.heic(), "image/heic"),
])
def test_the_type_comes_from_the_files_own_bytes(store, data, media_type):
    assert sniff(data[:64]) == media_type
    assert store.put(data).media_type == media_type


@pytest.mark.parametrize("data, words", [
    (files.HTML, "is not a PDF"), (files.SVG, "is not a PDF"), (b"", "empty"),
    (b"GIF89a" + bytes(100), "is not a PDF"),
])
def test_anything_else_is_refused_and_nothing_is_kept(store, data, words):
    with pytest.raises(EvidenceRefused, match=words):
        store.put(data)
    assert not [p for p in store.root.rglob("*") if p.is_file()]


def test_a_file_over_the_limit_is_refused_while_it_is_read(tmp_path):
    small = EvidenceStore(tmp_path / "small", max_bytes=1024 * 1024)
    with pytest.raises(EvidenceRefused, match="larger than 1 MB"):
        small.put(b"%PDF-1.4\n" + bytes(1024 * 1024))
    assert not [p for p in small.root.rglob("*") if p.is_file()]


def test_the_name_shown_keeps_the_persons_words_but_the_real_type():
    assert safe_file_name("C:\\Users\\asha\\receipt May.html", "application/pdf") == "receipt May.pdf"
    assert safe_file_name("../../etc/passwd", "image/jpeg") == "passwd.jpg"
    assert safe_file_name("<script>.png", "image/png") == "script.png"
    assert safe_file_name(None, "image/heic") == "evidence.heic"


def test_an_altered_file_is_found(store):
    kept = store.put(files.pdf())
    path = store.path(kept.sha256)
    path.chmod(0o640)
    path.write_bytes(files.pdf("Receipt for £9,999"))
    assert "altered" in store.check(kept.sha256)
    path.unlink()
    assert "missing" in store.check(kept.sha256)


# ---------------------------------------------------------------------- records
def test_evidence_attached_to_an_entry_is_listed_with_it(world, store, paid):
    w = world
    photo = files.image("JPEG")
    added = evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["holder"],
                                     kind="receipt", source=photo, file_name="IMG_0042.JPG", note="Till receipt")
    assert (added.entry_id, added.kind, added.media_type) == (paid.id, EvidenceKind.RECEIPT, "image/jpeg")
    assert added.sha256 == hashlib.sha256(photo).hexdigest() and added.size == len(photo)
    assert (added.file_name, added.sequence, added.in_entry_metadata) == ("IMG_0042.jpg", 1, False)
    page = evidence.entry_evidence(w.uow, w.wallet.id, paid.id, actor=w.users["overseer"])
    assert [e.id for e in page.evidence] == [added.id]
    assert page.amount == -2_500 and "Leeds Leisure" in page.explanation
    # The same file again on the same entry is the same record; a second file extends the chain.
    again = evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["holder"],
                                     kind="receipt", source=photo, file_name="copy.jpg")
    assert again.id == added.id
    second = evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["manager"],
                                      kind="other", source=files.pdf())
    assert second.sequence == 2
    with w.uow.db.read() as conn:
        rows = conn.execute(text("SELECT uuid, previous_hash, record_hash FROM wallet_evidence "
                                 "ORDER BY sequence")).all()
    assert rows[0].previous_hash == "0" * 64 and rows[1].previous_hash == rows[0].record_hash
    assert evidence.verify_evidence(w.uow.db, store).ok


def test_only_people_who_spend_the_money_may_attach(world, store, paid):
    w = world
    for who in ("overseer", "auditor", "payroll_admin", "council_officer", "stranger"):
        with pytest.raises(PermissionDenied):
            evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users[who], kind="receipt",
                                     source=files.pdf())
    assert not store.root.exists() or not [p for p in store.root.rglob("*") if p.is_file()]
    with w.uow.db.read() as conn:
        denied = conn.execute(text("SELECT count(*) FROM wallet_access_log WHERE outcome = 'denied' "
                                   "AND action = 'request_payment'")).scalar()
    assert denied == 5


def test_an_entry_of_another_wallet_is_not_found(world, store, paid):
    w = world
    from wallet.domain import wallets
    other = wallets.open_wallet(w.uow, holder=w.users["holder"], name="Another budget", budget_kind="direct_payment",
                                plan_start=w.wallet.plan_start)
    with pytest.raises(UnknownLedgerEntry):
        evidence.attach_evidence(w.uow, store, other.id, paid.id, actor=w.users["holder"], kind="receipt",
                                 source=files.pdf())
    with pytest.raises(UnknownLedgerEntry):
        evidence.entry_evidence(w.uow, w.wallet.id, "not-an-entry", actor=w.users["holder"])


def test_the_database_refuses_to_change_or_remove_evidence(world, store, paid):
    w = world
    evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["holder"], kind="receipt",
                             source=files.pdf())
    for statement in ("UPDATE wallet_evidence SET sha256 = 'x'", "DELETE FROM wallet_evidence"):
        with pytest.raises(DatabaseError, match="append-only"):
            with w.uow.db.engine.begin() as conn:
                conn.execute(text(statement))


def test_verify_names_an_altered_file_and_an_edited_record(world, store, paid):
    w = world
    first = evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["holder"], kind="receipt",
                                     source=files.pdf("first"))
    second = evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["holder"], kind="receipt",
                                      source=files.image("PNG"))
    path = store.path(first.sha256)
    path.chmod(0o640)
    path.write_bytes(files.pdf("forged"))
    # Someone with the database owner's rights switches the guard off and edits a row.
    with w.uow.db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE wallet_evidence DISABLE TRIGGER wallet_evidence_append_only"))
        else:
            conn.execute(text("DROP TRIGGER wallet_evidence_no_update"))
        conn.execute(text("UPDATE wallet_evidence SET note = 'edited' WHERE uuid = :u"), {"u": second.id})
    report = evidence.verify_evidence(w.uow.db, store)
    assert not report.ok
    assert (report.records, report.files) == (2, 2)
    assert any(f"#1 ({first.id})" in p and "altered" in p for p in report.problems), report.problems
    assert any(f"#2 ({second.id})" in p and "changed after it was written" in p for p in report.problems)


def test_the_record_hash_covers_every_field():
    base = dict(wallet_id="w", sequence=1, evidence_id="e", entry_id="n", invoice_id=None, kind="receipt",
                sha256="a" * 64, media_type="application/pdf", size=10, file_name="r.pdf", note=None,
                attached_by="u", attached_us=1)
    digest = record_hash(GENESIS_HASH, **base)
    for name, other in (("entry_id", "m"), ("sha256", "b" * 64), ("size", 11), ("note", "x"), ("sequence", 2),
                        ("attached_us", 2), ("kind", "invoice")):
        assert record_hash(GENESIS_HASH, **{**base, name: other}) != digest, name
    assert record_hash("1" * 64, **base) != digest


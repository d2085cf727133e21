"""IRmark: HMRC's official vectors, read as bytes in place, and round trips through the builders."""
from __future__ import annotations

import base64
import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hmrc_export.fps import build_fps
from hmrc_export.irmark import IRmarkError, canonical_body, compute_irmark, insert_irmark, stated_irmark, verify_irmark
from tests.unit.hmrc.sample_run import EMPLOYER, four_weekly_run

HMRC_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "hmrc"


def _vectors() -> list[dict[str, str]]:
    with open(HMRC_DATA / "irmark-vectors.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_vector_file_is_there_and_lists_eight_official_irmarks():
    rows = _vectors()
    assert len(rows) == 8
    for row in rows:  # base64 and base32 are two spellings of one SHA-1 digest
        assert base64.b32encode(base64.b64decode(row["irmark_base64"])).decode() == row["irmark_base32"]


@pytest.mark.parametrize("row", [r for r in _vectors() if r["sample_in_this_folder"]], ids=lambda r: r["file"])
def test_every_official_sample_present_verifies(row):
    sample = HMRC_DATA / row["sample_in_this_folder"]
    message = sample.read_bytes()  # fails the test if HMRC's sample is missing
    mark = compute_irmark(message)
    assert mark.base64 == row["irmark_base64"]
    assert mark.base32 == row["irmark_base32"]
    assert stated_irmark(message) == row["irmark_base64"]
    assert verify_irmark(message)


def test_two_official_samples_are_in_the_test_data():
    assert sum(1 for r in _vectors() if r["sample_in_this_folder"]) == 2


def test_the_digest_covers_the_figures_and_the_whitespace_in_body():
    message = (HMRC_DATA / "rti-samples" / "FPS-2014-15.xml").read_bytes()
    assert not verify_irmark(message.replace(b"<TaxablePay>815.00</TaxablePay>", b"<TaxablePay>815.01</TaxablePay>"))
    assert not verify_irmark(message.replace(b"<PayId>123-A03</PayId>", b"<PayId>123-A03</PayId> "))
    # The header is outside the digest: credentials and the test flag can change without a new IRmark.
    assert verify_irmark(message.replace(b"<GatewayTest>1</GatewayTest>", b"<GatewayTest>0</GatewayTest>"))


def test_canonical_body_is_in_the_envelope_namespace_without_the_irmark():
    canonical = canonical_body((HMRC_DATA / "rti-samples" / "EPS-2014-15.xml").read_bytes())
    assert canonical.startswith(b'<Body xmlns="http://www.govtalk.gov.uk/CM/envelope">')
    assert b"IRmark" not in canonical and canonical.endswith(b"</Body>")


def test_round_trip_build_irmark_verify():
    message = build_fps(EMPLOYER, four_weekly_run(), timestamp=datetime(2026, 5, 28, tzinfo=timezone.utc))
    assert verify_irmark(message)
    assert stated_irmark(message) == compute_irmark(message).base64
    emptied = message.replace(stated_irmark(message).encode(), b"")
    assert not verify_irmark(emptied)
    assert insert_irmark(emptied) == message


def test_messages_without_body_or_irmark_are_refused():
    with pytest.raises(IRmarkError):
        compute_irmark(b'<GovTalkMessage xmlns="http://www.govtalk.gov.uk/CM/envelope"/>')
    with pytest.raises(IRmarkError):
        insert_irmark(b'<GovTalkMessage xmlns="http://www.govtalk.gov.uk/CM/envelope"><Body/></GovTalkMessage>')


def test_builders_irmark_from_their_own_text_equals_the_general_canonical_path():
    from dataclasses import replace as _replace

    from hmrc_export.eps import build_eps
    from hmrc_export.model import Address, EmployerPaymentSummary, Name, RecoverableAmounts
    from hmrc_export.taxyear import TaxYear

    run = four_weekly_run()
    odd = _replace(run[0].employee, name=Name(("Siobhán",), "O'Neil & <Sons>"),
                   address=Address(("1 \"Quoted\" Row\r", "Tab\there > there"), "LS1 1AA"))
    run[0] = _replace(run[0], employee=odd)
    employer = _replace(EMPLOYER, name="A & B")
    for message in (build_fps(employer, run, timestamp=datetime(2026, 5, 28, tzinfo=timezone.utc), final_for_year=True),
                    build_eps(employer, EmployerPaymentSummary(tax_month=1, employment_allowance=True,
                                                               recoverable=RecoverableAmounts(smp_recovered=1)),
                              TaxYear(2026))):
        assert stated_irmark(message) == compute_irmark(message).base64

"""The Bacs Standard 18 file: record order and lengths, field positions, totals, the contra, Julian dates."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

import pytest

from tests.unit.money_out.samples import CREATED, ORIGINATOR, line, pay_day_batch
from wallet.calendar import WorkingDays
from wallet.money_out import (
    AlreadyExported, BacsFileError, BankAccount, BatchStatus, Originator, bacs_cycle, confirm_paid, export_bacs18,
    julian, new_batch, render_bacs18,
)

EXPORT_AT = datetime(2026, 4, 21, 10, 0, tzinfo=timezone.utc)  # Tuesday 21 April 2026
PROCESSING = date(2026, 4, 23)  # Thursday; money arrives Friday 24 April


def field(record: str, first: int, last: int) -> str:
    """The standard's 1-based, inclusive positions."""
    return record[first - 1:last]


@pytest.fixture
def exported():
    return export_bacs18(pay_day_batch(), ORIGINATOR, at=EXPORT_AT, processing_day=PROCESSING, serial="000417")


@pytest.fixture
def records(exported):
    assert exported.content.endswith("\r\n")
    return exported.content.split("\r\n")[:-1]


def test_records_come_in_the_standard_order(records):
    labels = [r[:4] for r in records]
    assert labels[:4] == ["VOL1", "HDR1", "HDR2", "UHL1"]
    assert labels[-3:] == ["EOF1", "EOF2", "UTL1"]
    assert len(records) == 4 + 5 + 1 + 3


def test_labels_are_80_characters_and_data_records_100(records):
    assert [len(r) for r in records] == [80] * 4 + [100] * 6 + [80] * 3
    assert all(r.isascii() and r == r.upper() for r in records)


def test_vol1(records):
    vol = records[0]
    assert field(vol, 1, 4) == "VOL1"
    assert field(vol, 5, 10) == "000417"  # submission serial number
    assert field(vol, 11, 41).strip() == ""
    assert field(vol, 42, 47) == "654321"  # owner: the service user number
    assert field(vol, 48, 79).strip() == ""
    assert field(vol, 80, 80) == "1"


def test_hdr1_and_eof1(records):
    hdr = records[1]
    assert field(hdr, 1, 4) == "HDR1"
    assert field(hdr, 5, 21) == "A654321S  1654321"  # file identifier
    assert field(hdr, 22, 27) == "000417"  # set identification = serial
    assert field(hdr, 28, 31) == "0001" and field(hdr, 32, 35) == "0001"
    assert field(hdr, 42, 47) == " 26111"  # created 21 April 2026, day 111
    assert field(hdr, 48, 53) == " 26111"
    assert field(hdr, 55, 60) == "000000"
    eof = records[-3]
    assert eof == "EOF1" + hdr[4:]


def test_hdr2_and_eof2(records):
    hdr = records[2]
    assert field(hdr, 1, 15) == "HDR2F0200000100"  # fixed format, block 2000, record length 100
    assert field(hdr, 51, 52) == "00"
    assert records[-2] == "EOF2" + hdr[4:]


def test_uhl1_carries_the_processing_day_in_julian(records):
    uhl = records[3]
    assert field(uhl, 1, 4) == "UHL1"
    assert field(uhl, 5, 10) == " 26113"  # Thursday 23 April 2026 is day 113
    assert field(uhl, 11, 20) == "999999    "
    assert field(uhl, 21, 22) == "00" and field(uhl, 23, 28) == "000000"
    assert field(uhl, 29, 37) == "1 DAILY  "
    assert field(uhl, 38, 40) == "001"


def test_a_credit_record(records):
    amira = records[4]
    assert field(amira, 1, 6) == "112233" and field(amira, 7, 14) == "44556677"
    assert field(amira, 15, 15) == "0"
    assert field(amira, 16, 17) == "99"  # bank giro credit
    assert field(amira, 18, 23) == "409876" and field(amira, 24, 31) == "13572468"  # the client account
    assert field(amira, 32, 35) == "    "
    assert field(amira, 36, 46) == "00000123456"  # £1,234.56 in pence, 11 digits
    assert field(amira, 47, 64) == "ASHDOWN SUPPORT CL"  # service user's name, cut to 18
    assert field(amira, 65, 82) == "ASHDOWN PAY APR26 "
    assert field(amira, 83, 100) == "AMIRA KHAN        "


def test_names_are_folded_and_cut_to_18_characters(records):
    assert field(records[5], 83, 100) == "TOM O NEILL-BRENNA"
    assert field(records[8], 83, 100) == "BRIGHTSIDE CARE &"[:18].ljust(18)


def test_hmrc_reference_goes_through_unchanged(records):
    paye = records[6]
    assert field(paye, 1, 14) == "08321012001039"
    assert field(paye, 65, 82) == "123PA001234562601 "


def test_the_contra_debits_the_client_account_with_the_total(exported, records):
    contra = records[9]
    total = exported.batch.total
    assert total == sum(int(field(r, 36, 46)) for r in records[4:9])
    assert field(contra, 1, 6) == "409876" and field(contra, 7, 14) == "13572468"
    assert field(contra, 16, 17) == "17"  # debit contra
    assert field(contra, 18, 31) == "40987613572468"
    assert int(field(contra, 36, 46)) == total
    assert field(contra, 47, 64) == "PB-2026-04-A      "  # narrative: the batch id
    assert field(contra, 65, 82) == "CONTRA            "
    assert field(contra, 83, 100) == "ASHDOWN SUPPORT CL"


def test_utl1_totals_and_counts(exported, records):
    utl = records[-1]
    total = exported.batch.total
    assert field(utl, 1, 4) == "UTL1"
    assert int(field(utl, 5, 17)) == total  # debits: the contra
    assert int(field(utl, 18, 30)) == total  # credits: the payments
    assert field(utl, 31, 37) == "0000001"
    assert field(utl, 38, 44) == "0000005"
    assert field(utl, 45, 80).strip() == ""


def test_export_moves_the_batch_on_and_keeps_the_files_digest(exported):
    assert exported.batch.status is BatchStatus.EXPORTED
    assert exported.batch.export_format == "bacs18"
    assert exported.batch.exported_at == EXPORT_AT
    assert exported.digest == hashlib.sha256(exported.content.encode("ascii")).hexdigest()
    assert exported.batch.export_digest == exported.digest


def test_an_exported_batch_cannot_be_exported_again(exported):
    with pytest.raises(AlreadyExported):
        export_bacs18(exported.batch, ORIGINATOR, at=EXPORT_AT, processing_day=PROCESSING, serial="000418")
    paid = confirm_paid(exported.batch, at=EXPORT_AT + timedelta(days=3))
    with pytest.raises(AlreadyExported):
        export_bacs18(paid, ORIGINATOR, at=EXPORT_AT, processing_day=PROCESSING, serial="000418")


def test_the_processing_day_must_be_a_working_day():
    batch = pay_day_batch()
    with pytest.raises(BacsFileError, match=r"day 2026-04-25 is not a working day .* next one is 2026-04-27"):
        render_bacs18(batch, ORIGINATOR, processing_day=date(2026, 4, 25), created_on=date(2026, 4, 21),
                      serial="000001")
    with pytest.raises(BacsFileError, match="2026-12-28 is not a working day"):
        render_bacs18(batch, ORIGINATOR, processing_day=date(2026, 12, 28), created_on=date(2026, 12, 21),
                      serial="000001")


def test_the_processing_day_must_be_after_the_file_is_made():
    with pytest.raises(BacsFileError, match="must be after the day the file is made"):
        render_bacs18(pay_day_batch(), ORIGINATOR, processing_day=date(2026, 4, 21), created_on=date(2026, 4, 21),
                      serial="000001")


def test_the_file_is_dated_by_the_uk_calendar():
    # 23:30 UTC on 30 June is 00:30 on 1 July in London
    late = datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)
    out = export_bacs18(pay_day_batch(), ORIGINATOR, at=late, processing_day=date(2026, 7, 2), serial="000001")
    hdr1 = out.content.split("\r\n")[1]
    assert field(hdr1, 42, 47) == julian(date(2026, 7, 1)) == " 26182"


@pytest.mark.parametrize("serial", ["00001", "0000001", "000000", "abc123", "12 345"])
def test_the_serial_number_is_six_upper_case_characters_not_all_zero(serial):
    with pytest.raises(BacsFileError, match="serial number"):
        render_bacs18(pay_day_batch(), ORIGINATOR, processing_day=PROCESSING, created_on=date(2026, 4, 21),
                      serial=serial)


def test_service_user_number_is_six_digits():
    with pytest.raises(BacsFileError, match="SUN"):
        Originator(service_user_number="65432", name="X", account=BankAccount("409876", "13572468"))


def test_a_single_line_file_balances():
    batch = new_batch("ONE", [line(1, amount=1)], created_at=CREATED)
    content = render_bacs18(batch, ORIGINATOR, processing_day=PROCESSING, created_on=date(2026, 4, 21),
                            serial="ABC123")
    recs = content.split("\r\n")[:-1]
    assert field(recs[5], 36, 46) == "00000000001"
    assert field(recs[-1], 5, 44) == "0000000000001" + "0000000000001" + "0000001" + "0000001"


@pytest.mark.parametrize("day, text", [
    (date(2026, 1, 1), " 26001"), (date(2026, 12, 31), " 26365"), (date(2028, 12, 31), " 28366"),
    (date(2027, 3, 1), " 27060"),
])
def test_julian_dates(day, text):
    assert julian(day) == text


def test_bacs_cycle_counts_back_working_days_from_pay_day():
    cycle = bacs_cycle(date(2026, 4, 24))  # Friday
    assert (cycle.input_day, cycle.processing_day, cycle.entry_day) == (
        date(2026, 4, 22), date(2026, 4, 23), date(2026, 4, 24))
    easter = bacs_cycle(date(2026, 4, 7))  # the Tuesday after Easter Monday
    assert (easter.input_day, easter.processing_day) == (date(2026, 4, 1), date(2026, 4, 2))
    christmas = bacs_cycle(date(2027, 12, 29))
    assert (christmas.input_day, christmas.processing_day) == (date(2027, 12, 23), date(2027, 12, 24))


def test_bacs_cannot_pay_on_a_bank_holiday():
    with pytest.raises(BacsFileError, match="2026-12-25 is not a working day.*2026-12-24"):
        bacs_cycle(date(2026, 12, 25))


def test_a_holiday_added_to_the_calendar_is_respected():
    calendar = WorkingDays(extra_holidays=[PROCESSING])
    with pytest.raises(BacsFileError, match="not a working day"):
        render_bacs18(pay_day_batch(), ORIGINATOR, processing_day=PROCESSING, created_on=date(2026, 4, 21),
                      serial="000001", calendar=calendar)

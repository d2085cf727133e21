"""A Bacs Standard 18 direct-credit file for one payment batch, single processing day.

The file, one record a line (CR LF between records):

    VOL1   volume header label              80 characters
    HDR1   file header label 1              80
    HDR2   file header label 2              80
    UHL1   user header label: processing day 80
    data   one per payment, code 99 credit  100
    contra one, code 17 debit of the total  100 (from the service user's own account)
    EOF1   end of file label 1              80
    EOF2   end of file label 2              80
    UTL1   user trailer label: totals       80

Dates are Julian, ``bYYDDD`` (a space, two-digit year, day of year). The processing day is the Bacs day 2 of
the three-day cycle: the file goes in on day 1 (input day), is processed on day 2 and the money reaches the
payee on day 3 (entry day). ``bacs_cycle(pay_day)`` works these out in England and Wales working days.

Field positions (1-based, inclusive) follow the published Standard 18 layout; each writer below lists them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from wallet.calendar import ENGLAND_AND_WALES, WorkingDays
from wallet.money_out.bank_details import BankAccount, bacs_text
from wallet.money_out.batch import (
    BACS_AMOUNT_FIELD_MAX, BACS_TOTAL_FIELD_MAX, Export, PaymentBatch, ensure_exportable, mark_exported,
)
from wallet.money_out.errors import BacsFileError

LABEL_LENGTH = 80
DATA_LENGTH = 100
CREDIT = "99"
DEBIT_CONTRA = "17"
FILE_FORMAT = "bacs18"


@dataclass(frozen=True)
class Originator:
    """The Bacs service user sending the file and the account the contra debits (the client account)."""

    service_user_number: str
    """SUN: six digits, issued by the sponsoring bank."""
    name: str
    """Service user's name as it appears on payees' statements; folded to 18 Bacs characters."""
    account: BankAccount = field(repr=False)

    def __post_init__(self) -> None:
        sun = self.service_user_number
        if not (isinstance(sun, str) and len(sun) == 6 and sun.isascii() and sun.isdigit()):
            raise BacsFileError("service user number (SUN) must be 6 digits")
        if not isinstance(self.account, BankAccount):
            raise BacsFileError("the originator's account must be a BankAccount")
        if not bacs_text(self.name, 18):
            raise BacsFileError("service user's name has no characters Bacs can carry")


@dataclass(frozen=True)
class BacsCycle:
    input_day: date
    """The working day the file must reach Bacs (by 22:30)."""
    processing_day: date
    """Day 2: the day written in UHL1."""
    entry_day: date
    """Day 3: the day the money is in the payee's account (the pay day)."""


def bacs_cycle(pay_day: date, calendar: WorkingDays = ENGLAND_AND_WALES) -> BacsCycle:
    """The three Bacs days for money to arrive on ``pay_day`` (which must be a working day)."""
    if not calendar.is_working_day(pay_day):
        raise BacsFileError(
            f"{pay_day.isoformat()} is not a working day, so Bacs cannot pay on it; the working day before is "
            f"{calendar.previous_working_day(pay_day).isoformat()}")
    processing = calendar.previous_working_day(pay_day)
    return BacsCycle(input_day=calendar.previous_working_day(processing), processing_day=processing,
                     entry_day=pay_day)


UK = ZoneInfo("Europe/London")


def uk_date(moment: datetime) -> date:
    """The calendar day in the UK at ``moment`` (a file made at 23:30 UTC in summer is made the next day)."""
    return moment.astimezone(UK).date()


def julian(day: date) -> str:
    """Bacs date: a space, the year's last two digits and the day of the year (``' 26091'`` is 1 April 2026)."""
    return f" {day.year % 100:02d}{day.timetuple().tm_yday:03d}"


def _alnum(value: str, length: int) -> str:
    return value.ljust(length)[:length]


def _num(value: int, length: int) -> str:
    text = str(value)
    if value < 0 or len(text) > length:
        raise BacsFileError(f"{value} does not fit {length} digits")
    return text.rjust(length, "0")


def _check(record: str, length: int, label: str) -> str:
    if len(record) != length:  # a programming error, never a user's: fail loudly
        raise AssertionError(f"{label} record is {len(record)} characters, not {length}")
    return record


def vol1(serial: str, sun: str) -> str:
    # 1-3 VOL | 4 1 | 5-10 serial | 11 accessibility | 12-31, 32-37 reserved | 38-41 blank
    # 42-47 owner id (SUN) | 48-51 blank | 52-79 reserved | 80 label standard level 1
    return _check(f"VOL1{serial} {' ' * 20}{' ' * 6}{' ' * 4}{sun}{' ' * 4}{' ' * 28}1", LABEL_LENGTH, "VOL1")


def hdr1(serial: str, sun: str, created: date, expires: date, label: str = "HDR1") -> str:
    # 1-4 HDR1 | 5-21 file identifier: A, SUN, S, 2 blanks, 1, SUN | 22-27 set identification (serial)
    # 28-31 file section 0001 | 32-35 file sequence 0001 | 36-39 generation, 40-41 version: blank
    # 42-47 creation date bYYDDD | 48-53 expiration date bYYDDD | 54 accessibility | 55-60 block count
    # 61-73 system code, 74-80 reserved: blank
    record = (f"{label}A{sun}S  1{sun}{serial}00010001{' ' * 4}{' ' * 2}{julian(created)}{julian(expires)}"
              f" 000000{' ' * 13}{' ' * 7}")
    return _check(record, LABEL_LENGTH, label)


def hdr2(label: str = "HDR2") -> str:
    # 1-4 HDR2 | 5 record format F | 6-10 block length 02000 | 11-15 record length 00100
    # 16-50 reserved | 51-52 buffer offset 00 | 53-80 reserved
    return _check(f"{label}F02000{DATA_LENGTH:05d}{' ' * 35}00{' ' * 28}", LABEL_LENGTH, label)


def uhl1(processing_day: date, file_number: int = 1) -> str:
    # 1-4 UHL1 | 5-10 processing day bYYDDD | 11-20 receiving party 999999 + 4 blanks | 21-22 currency 00
    # 23-28 country 000000 | 29-37 work code "1 DAILY  " | 38-40 file number | 41-47 reserved
    # 48-54 audit print identifier | 55-80 reserved
    record = (f"UHL1{julian(processing_day)}999999    00000000{'1 DAILY':<9}{_num(file_number, 3)}"
              f"{' ' * 7}{' ' * 7}{' ' * 26}")
    return _check(record, LABEL_LENGTH, "UHL1")


def data_record(*, destination: BankAccount, code: str, origin: BankAccount, amount: int, user_name: str,
                reference: str, destination_name: str) -> str:
    # 1-6 destination sort code | 7-14 destination account | 15 account type 0 | 16-17 transaction code
    # 18-23 originating sort code | 24-31 originating account | 32-35 free format (blank)
    # 36-46 amount in pence | 47-64 service user's name | 65-82 reference | 83-100 destination account name
    if amount > BACS_AMOUNT_FIELD_MAX:
        raise BacsFileError("amount does not fit the 11-digit Bacs amount field")
    record = (f"{destination.sort_code}{destination.account_number}0{code}{origin.sort_code}"
              f"{origin.account_number}{' ' * 4}{_num(amount, 11)}{_alnum(user_name, 18)}"
              f"{_alnum(reference, 18)}{_alnum(destination_name, 18)}")
    return _check(record, DATA_LENGTH, "data")


def utl1(debit_total: int, credit_total: int, debit_count: int, credit_count: int) -> str:
    # 1-4 UTL1 | 5-17 debit total | 18-30 credit total | 31-37 debit count | 38-44 credit count
    # 45-80 reserved
    if max(debit_total, credit_total) > BACS_TOTAL_FIELD_MAX:
        raise BacsFileError("file total does not fit the 13-digit Bacs total field")
    record = (f"UTL1{_num(debit_total, 13)}{_num(credit_total, 13)}{_num(debit_count, 7)}"
              f"{_num(credit_count, 7)}{' ' * 36}")
    return _check(record, LABEL_LENGTH, "UTL1")


def _check_serial(serial: str) -> str:
    if not (isinstance(serial, str) and len(serial) == 6 and serial.isascii() and serial.isalnum()
            and serial == serial.upper()):
        raise BacsFileError("submission serial number must be 6 upper-case letters or digits")
    if set(serial) == {"0"}:
        raise BacsFileError("submission serial number must not be all zeros")
    return serial


def render_bacs18(batch: PaymentBatch, originator: Originator, *, processing_day: date, created_on: date,
                  serial: str, file_number: int = 1, narrative: str | None = None,
                  calendar: WorkingDays = ENGLAND_AND_WALES, newline: str = "\r\n") -> str:
    """The Standard 18 text for ``batch`` (any state: this only writes; ``export_bacs18`` moves the state).

    ``processing_day`` must be a working day after ``created_on``; ``serial`` is the six-character submission
    serial number, unique for the service user; ``narrative`` (default: the batch id) goes in the contra.
    """
    _check_serial(serial)
    if not calendar.is_working_day(processing_day):
        raise BacsFileError(
            f"processing day {processing_day.isoformat()} is not a working day in England and Wales; the next "
            f"one is {calendar.next_working_day(processing_day).isoformat()}")
    if processing_day <= created_on:
        raise BacsFileError(
            f"processing day {processing_day.isoformat()} must be after the day the file is made "
            f"({created_on.isoformat()}); the earliest is {calendar.next_working_day(created_on).isoformat()}")
    sun = originator.service_user_number
    user_name = bacs_text(originator.name, 18)
    records = [vol1(serial, sun), hdr1(serial, sun, created_on, created_on), hdr2(),
               uhl1(processing_day, file_number)]
    for line in batch.lines:
        records.append(data_record(destination=line.account, code=CREDIT, origin=originator.account,
                                   amount=line.amount, user_name=user_name, reference=line.reference,
                                   destination_name=line.bacs_name))
    total = batch.total
    contra_narrative = bacs_text(narrative if narrative is not None else batch.batch_id, 18) or user_name
    # contra: 47-64 narrative of the user's choice | 65-82 CONTRA | 83-100 service user's name
    records.append(data_record(destination=originator.account, code=DEBIT_CONTRA, origin=originator.account,
                               amount=total, user_name=contra_narrative, reference="CONTRA",
                               destination_name=user_name))
    records += [hdr1(serial, sun, created_on, created_on, label="EOF1"), hdr2(label="EOF2"),
                utl1(debit_total=total, credit_total=total, debit_count=1, credit_count=batch.count)]
    return newline.join(records) + newline


def export_bacs18(batch: PaymentBatch, originator: Originator, *, at: datetime, processing_day: date,
                  serial: str, file_number: int = 1, narrative: str | None = None,
                  calendar: WorkingDays = ENGLAND_AND_WALES) -> Export:
    """Write the file and move the batch to exported, refusing a batch exported before (before writing)."""
    ensure_exportable(batch)
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    content = render_bacs18(batch, originator, processing_day=processing_day, created_on=uk_date(at),
                            serial=serial, file_number=file_number, narrative=narrative, calendar=calendar)
    digest = hashlib.sha256(content.encode("ascii")).hexdigest()
    return Export(batch=mark_exported(batch, at=at, file_format=FILE_FORMAT, digest=digest), content=content,
                  digest=digest)

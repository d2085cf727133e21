"""Cancelling a payment batch: allowed before anything is paid (after export only when the file was not sent),
with a reason; a cancelled batch is never exported or confirmed."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.money_out.samples import CREATED, ORIGINATOR, pay_day_batch
from wallet.money_out import (
    BatchCancelled, BatchStatus, CancelRefused, cancel, check_cancellable, confirm_paid, export_bacs18,
    export_bulk_csv, mark_exported,
)

LATER = CREATED + timedelta(hours=2)


def exported():
    return mark_exported(pay_day_batch(), at=LATER, file_format="bulk_csv", digest="0" * 64)


def test_a_new_batch_is_cancelled_with_its_reason_trimmed():
    done = cancel(pay_day_batch(), at=LATER, reason="  Wrong pay day  ")
    assert done.status is BatchStatus.CANCELLED
    assert (done.cancelled_at, done.cancel_reason) == (LATER, "Wrong pay day")
    assert done.lines == pay_day_batch().lines


def test_a_cancelled_batch_is_never_exported_confirmed_or_cancelled_again():
    done = cancel(pay_day_batch(), at=LATER, reason="Made twice")
    with pytest.raises(BatchCancelled, match="cannot be sent to the bank"):
        export_bulk_csv(done, at=LATER)
    with pytest.raises(BatchCancelled, match="cannot be sent to the bank"):
        export_bacs18(done, ORIGINATOR, at=LATER, processing_day=CREATED.date() + timedelta(days=2),
                      serial="000001")
    with pytest.raises(BatchCancelled, match="nothing in it can be confirmed"):
        confirm_paid(done, at=LATER)
    with pytest.raises(BatchCancelled, match="already cancelled"):
        cancel(done, at=LATER, reason="again")


def test_an_exported_batch_needs_the_word_that_the_file_was_not_sent():
    with pytest.raises(CancelRefused, match="not sent to the bank"):
        cancel(exported(), at=LATER, reason="Bank portal rejected it")
    with pytest.raises(CancelRefused, match="not sent to the bank"):
        cancel(exported(), at=LATER, reason="Bank portal rejected it",
               bank_file_not_sent="yes")  # type: ignore[arg-type]
    done = cancel(exported(), at=LATER, reason="Bank portal rejected it", bank_file_not_sent=True)
    assert done.status is BatchStatus.CANCELLED and done.export_digest == "0" * 64


def test_a_batch_with_any_line_paid_is_not_cancelled():
    part = confirm_paid(exported(), at=LATER, line_ids=[pay_day_batch().lines[0].line_id])
    assert part.status is BatchStatus.PART_PAID
    with pytest.raises(CancelRefused, match="part paid"):
        cancel(part, at=LATER, reason="Too late", bank_file_not_sent=True)
    paid = confirm_paid(part, at=LATER)
    with pytest.raises(CancelRefused, match="cannot be cancelled"):
        cancel(paid, at=LATER, reason="Too late", bank_file_not_sent=True)


@pytest.mark.parametrize("reason", ["", "   ", None, 42, "x" * 1001])
def test_a_reason_is_needed_and_kept_short(reason):
    with pytest.raises(CancelRefused, match="reason|say why"):
        check_cancellable("B1", BatchStatus.CREATED, reason)


def test_time_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        cancel(pay_day_batch(), at=LATER.replace(tzinfo=None), reason="x")

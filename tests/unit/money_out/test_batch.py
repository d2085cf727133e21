"""Payment batches: checks that name the line, and a life of created -> exported -> paid that cannot repeat."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.unit.money_out.samples import CREATED, line, pay_day_batch, pay_day_lines
from wallet.money_out import (
    BACS_ITEM_LIMIT, AlreadyExported, AlreadyPaid, BatchStateError, BatchStatus, BatchValidationError,
    NotExported, PaymentKind, PaymentLineError, confirm_paid, mark_exported, new_batch,
)

LATER = CREATED + timedelta(days=1)
PAID_AT = CREATED + timedelta(days=4)


def row(n: int, **over) -> dict:
    data = dict(line_id=f"R{n}", kind="net_pay", payee_name=f"Assistant {n}", sort_code="11-22-33",
                account_number="44556677", amount=5_000, reference=f"PAY {n}", settles_entry=f"e{n}")
    data.update(over)
    return data


def test_a_batch_holds_its_lines_totals_and_which_entries_they_settle():
    batch = pay_day_batch()
    assert batch.status is BatchStatus.CREATED
    assert batch.count == 5
    assert batch.total == 123_456 + 98_765 + 41_230 + 8_120 + 250_000
    assert batch.totals_by_kind() == {PaymentKind.NET_PAY: 222_221, PaymentKind.HMRC: 41_230,
                                      PaymentKind.PENSION: 8_120, PaymentKind.SUPPLIER: 250_000}
    assert [x.settles_entry for x in batch.lines] == ["e-net-amira", "e-net-tom", "e-paye", "e-pension", "e-agency"]
    assert batch.line("paye").reference == "123PA001234562601"


def test_lines_can_come_from_plain_data():
    batch = new_batch("B1", [row(1), row(2, kind="supplier", reference="inv 7")], created_at=CREATED)
    assert batch.lines[1].kind is PaymentKind.SUPPLIER
    assert batch.lines[1].reference == "INV 7"
    assert batch.lines[0].account.sort_code == "112233"


def test_every_problem_in_a_batch_is_reported_at_once_naming_the_line():
    rows = [row(1), row(2, sort_code="11-22"), row(3, amount=0), row(4, reference="PAY_4"),
            row(5, account_number="1234"), row(6, amount=12.5)]
    with pytest.raises(BatchValidationError) as caught:
        new_batch("B-7", rows, created_at=CREATED)
    problems = caught.value.problems
    assert [(p.position, p.line_id, p.field) for p in problems] == [
        (2, "R2", "sort_code"), (3, "R3", "amount"), (4, "R4", "reference"), (5, "R5", "account_number"),
        (6, "R6", "amount")]
    text = str(caught.value)
    assert text.startswith("payment batch 'B-7' has 5 problems: ")
    assert "line 2 (R2, Assistant 2): sort code must be 6 digits" in text
    assert "line 3 (R3, Assistant 3): amount must be more than zero" in text
    assert "line 4 (R4, Assistant 4): reference may only use" in text
    assert "line 6 (R6, Assistant 6): amount must be a whole number of pence, not float" in text


def test_a_missing_field_is_named():
    data = row(1)
    del data["reference"]
    with pytest.raises(BatchValidationError, match=r"line 1 \(R1, Assistant 1\): reference is missing"):
        new_batch("B", [data], created_at=CREATED)


def test_amounts_must_be_positive_whole_pence_within_the_bacs_limit():
    with pytest.raises(PaymentLineError, match="more than zero"):
        line(amount=-1)
    with pytest.raises(PaymentLineError, match="whole number of pence, not bool"):
        line(amount=True)
    with pytest.raises(PaymentLineError, match=r"over the limit of £20,000,000.00 a payment"):
        line(amount=BACS_ITEM_LIMIT + 1)
    assert line(amount=BACS_ITEM_LIMIT).amount == BACS_ITEM_LIMIT


def test_a_service_users_own_lower_item_limit_is_applied():
    with pytest.raises(BatchValidationError, match=r"line 2 \(L2, Personal Assistant 2\): amount £200.00 is over "
                                                   r"the limit of £150.00 a payment"):
        new_batch("B", [line(1), line(2)], created_at=CREATED, item_limit=15_000)


def test_a_line_error_names_the_line_and_payee():
    with pytest.raises(PaymentLineError) as caught:
        line(7, reference="")
    assert str(caught.value) == "line 'L7' payee 'Personal Assistant 7': reference is empty"
    assert caught.value.field == "reference"


def test_the_same_debt_cannot_be_paid_twice_in_one_batch():
    with pytest.raises(BatchValidationError) as caught:
        new_batch("B", [line(1), line(2, settles_entry="entry-1")], created_at=CREATED)
    assert "settles ledger entry 'entry-1', which line 1 already settles" in str(caught.value)


def test_line_ids_are_unique_in_a_batch():
    with pytest.raises(BatchValidationError, match="line id is used already by line 1"):
        new_batch("B", [line(1), line(2, line_id="L1")], created_at=CREATED)


def test_an_empty_batch_is_refused():
    with pytest.raises(BatchValidationError, match="at least one payment"):
        new_batch("B", [], created_at=CREATED)


def test_unknown_kind_is_refused():
    with pytest.raises(PaymentLineError, match="kind must be one of net_pay, hmrc, pension, supplier"):
        line(kind="gift")


# ---------------------------------------------------------------- the batch's life

def test_created_exported_paid_in_full():
    batch = pay_day_batch()
    exported = mark_exported(batch, at=LATER, file_format="bacs18", digest="abc")
    assert exported.status is BatchStatus.EXPORTED and exported.exported_at == LATER
    assert batch.status is BatchStatus.CREATED  # nothing changes in place
    paid = confirm_paid(exported, at=PAID_AT)
    assert paid.status is BatchStatus.PAID
    assert all(paid.paid_at(x.line_id) == PAID_AT for x in paid.lines)
    assert paid.unpaid_lines == ()


def test_lines_can_be_confirmed_one_at_a_time():
    exported = mark_exported(pay_day_batch(), at=LATER, file_format="bacs18", digest="abc")
    part = confirm_paid(exported, at=PAID_AT, line_ids=["paye", "net-amira"])
    assert part.status is BatchStatus.PART_PAID
    assert [x.line_id for x in part.unpaid_lines] == ["net-tom", "pension", "agency"]
    rest = confirm_paid(part, at=PAID_AT + timedelta(hours=1))
    assert rest.status is BatchStatus.PAID
    assert rest.paid_at("paye") == PAID_AT and rest.paid_at("agency") == PAID_AT + timedelta(hours=1)


def test_the_same_batch_cannot_be_exported_twice():
    exported = mark_exported(pay_day_batch(), at=LATER, file_format="bacs18", digest="abc")
    with pytest.raises(AlreadyExported) as caught:
        mark_exported(exported, at=LATER, file_format="bulk_csv", digest="def")
    assert "payment batch 'PB-2026-04-A' was already exported (bacs18, 2026-04-21T09:30:00+00:00)" in str(caught.value)
    assert "cannot be exported again" in str(caught.value)
    paid = confirm_paid(exported, at=PAID_AT)
    with pytest.raises(AlreadyExported):
        mark_exported(paid, at=LATER, file_format="bacs18", digest="abc")


def test_the_same_batch_cannot_be_paid_twice():
    paid = confirm_paid(mark_exported(pay_day_batch(), at=LATER, file_format="bacs18", digest="abc"), at=PAID_AT)
    with pytest.raises(AlreadyPaid) as caught:
        confirm_paid(paid, at=PAID_AT + timedelta(days=1))
    assert "was already paid in full (last confirmed 2026-04-24T09:30:00+00:00); it cannot be paid again" in str(
        caught.value)
    with pytest.raises(AlreadyPaid):
        confirm_paid(paid, at=PAID_AT, line_ids=["paye"])


def test_a_line_cannot_be_confirmed_twice_and_nothing_is_recorded_when_refused():
    exported = mark_exported(pay_day_batch(), at=LATER, file_format="bacs18", digest="abc")
    part = confirm_paid(exported, at=PAID_AT, line_ids=["paye"])
    with pytest.raises(AlreadyPaid, match="line 'paye' of payment batch 'PB-2026-04-A' was already confirmed paid"):
        confirm_paid(part, at=PAID_AT, line_ids=["net-tom", "paye"])
    assert part.paid_at("net-tom") is None
    with pytest.raises(AlreadyPaid, match="named twice"):
        confirm_paid(part, at=PAID_AT, line_ids=["net-tom", "net-tom"])


def test_a_batch_never_exported_cannot_be_paid():
    with pytest.raises(NotExported, match="has not been exported"):
        confirm_paid(pay_day_batch(), at=PAID_AT)


def test_an_unknown_line_cannot_be_confirmed():
    exported = mark_exported(pay_day_batch(), at=LATER, file_format="bacs18", digest="abc")
    with pytest.raises(BatchStateError, match="has no line 'nobody'"):
        confirm_paid(exported, at=PAID_AT, line_ids=["nobody"])


def test_times_must_be_timezone_aware():
    with pytest.raises(ValueError):
        new_batch("B", pay_day_lines(), created_at=datetime(2026, 4, 20))
    with pytest.raises(ValueError):
        mark_exported(pay_day_batch(), at=datetime(2026, 4, 21), file_format="bacs18", digest="x")
    exported = mark_exported(pay_day_batch(), at=datetime(2026, 4, 21, tzinfo=timezone.utc), file_format="bacs18",
                             digest="x")
    with pytest.raises(ValueError):
        confirm_paid(exported, at=datetime(2026, 4, 24))

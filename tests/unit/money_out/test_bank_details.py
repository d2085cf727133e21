"""Bank details: validation with clear messages, Bacs text rules, and digits that never show."""
from __future__ import annotations

import copy
import dataclasses
import logging
import pickle

import pytest

from tests.unit.money_out.samples import CREATED, ORIGINATOR, SECRET_DIGITS, pay_day_batch
from wallet.money_out import (
    BankAccount, BatchValidationError, PaymentLineError, bacs_name, bacs_reference, bacs_text, new_batch,
)


@pytest.mark.parametrize("typed", ["12-34-56", "12 34 56", "123456", " 12-34-56 "])
def test_sort_code_accepts_the_usual_ways_of_writing_it(typed):
    assert BankAccount(typed, "12345678").sort_code == "123456"


@pytest.mark.parametrize("typed", ["12-34-5", "1234567", "12-34-5A", "", "١٢٣٤٥٦"])
def test_sort_code_must_be_six_digits(typed):
    with pytest.raises(PaymentLineError) as caught:
        BankAccount(typed, "12345678")
    assert caught.value.field == "sort_code"
    assert "sort code must be 6 digits" in str(caught.value)


@pytest.mark.parametrize("typed", ["1234567", "123456789", "1234567X", ""])
def test_account_number_must_be_eight_digits(typed):
    with pytest.raises(PaymentLineError) as caught:
        BankAccount("123456", typed)
    assert caught.value.field == "account_number"
    assert "account number must be 8 digits" in str(caught.value)


def test_an_error_about_bank_details_never_repeats_them():
    with pytest.raises(PaymentLineError) as caught:
        BankAccount("123456", "9876543")
    assert "9876543" not in str(caught.value)
    assert "it has 7 digits" in str(caught.value)


def test_bank_account_never_shows_its_digits():
    account = BankAccount("40-98-76", "13572468")
    for shown in (repr(account), str(account), f"{account}", f"{account!r}", "%s" % (account,)):
        assert "409876" not in shown and "13572468" not in shown
        assert shown == "BankAccount(hidden)"
    assert account.sort_code == "409876" and account.account_number == "13572468"


def test_no_bank_details_in_reprs_or_log_lines_of_lines_batches_or_originator(caplog):
    batch = pay_day_batch()
    logger = logging.getLogger("test.money_out")
    with caplog.at_level(logging.INFO):
        logger.info("batch %s", batch)
        logger.info("batch %r line %r originator %r", batch, batch.lines[0], ORIGINATOR)
        for item in batch.lines:
            logger.info("line %s", item)
    texts = [repr(batch), str(batch), repr(ORIGINATOR), *(repr(x) for x in batch.lines), caplog.text]
    for text in texts:
        for digits in SECRET_DIGITS:
            assert digits not in text, f"{digits} leaked into: {text[:120]}"
    assert "Amira Khan" in caplog.text  # the log is still useful


def test_plain_data_copies_keep_the_digits_hidden():
    batch = pay_day_batch()
    as_data = dataclasses.asdict(batch)
    assert as_data["lines"][0]["account"] == batch.lines[0].account
    assert as_data["lines"][0]["account"].account_number == "44556677"
    text = repr(as_data) + repr(copy.deepcopy(batch)) + repr(pickle.loads(pickle.dumps(batch)))
    for digits in SECRET_DIGITS:
        assert digits not in text


def test_bank_account_cannot_be_changed():
    account = BankAccount("40-98-76", "13572468")
    with pytest.raises(AttributeError):
        account.sort_code = "000000"  # type: ignore[misc]
    assert account == BankAccount("409876", "1357 2468") and hash(account) == hash(BankAccount("409876", "13572468"))


def test_validation_errors_for_a_batch_never_repeat_bank_details():
    rows = [dict(line_id="L1", kind="net_pay", payee_name="Amira Khan", sort_code="11-22-3",
                 account_number="4455667", amount=100, reference="PAY", settles_entry="e1")]
    with pytest.raises(BatchValidationError) as caught:
        new_batch("B", rows, created_at=CREATED)
    assert "11223" not in str(caught.value) and "4455667" not in str(caught.value)


def test_bacs_text_folds_accents_and_punctuation_to_allowed_characters():
    assert bacs_text("Zoë O'Brien", 18) == "ZOE O BRIEN"
    assert bacs_text("Brightside Care & Support Ltd", 18) == "BRIGHTSIDE CARE &"
    assert bacs_text("  José   María  ", 18) == "JOSE MARIA"
    assert bacs_text("a.b/c-d", 18) == "A.B/C-D"


def test_names_are_cut_to_eighteen_characters():
    assert bacs_name("Personal Assistant Number Seventeen") == "PERSONAL ASSISTANT"
    assert len(bacs_name("Aaaaaaaaaaaaaaaaaaaaaaaaaaaaa Bbbbbbbbbbb")) == 18


def test_a_name_with_nothing_bacs_can_carry_is_refused():
    with pytest.raises(PaymentLineError, match="no letters or digits"):
        bacs_name("!!! ???")
    with pytest.raises(PaymentLineError, match="payee name is empty"):
        bacs_name("   ")


def test_reference_is_upper_cased_and_checked():
    assert bacs_reference("pay apr 2026") == "PAY APR 2026"
    assert bacs_reference(" inv/2026/04-17 & a ") == "INV/2026/04-17 & A"
    assert bacs_reference("123PA001234562601") == "123PA001234562601"


@pytest.mark.parametrize("reference, message", [
    ("", "reference is empty"),
    ("   ", "reference is empty"),
    ("PAY_APRIL", "not '_'"),
    ("PAY £100", "not '£'"),
    ("ABCDEFGHIJKLMNOPQRS", "reference is 19 characters; Bacs allows at most 18"),
    ("----", "at least one letter or digit"),
    ("AAAAAA", "one character repeated"),
])
def test_reference_rules(reference, message):
    with pytest.raises(PaymentLineError) as caught:
        bacs_reference(reference)
    assert caught.value.field == "reference"
    assert message in str(caught.value)

import pytest

from ledger.errors import (AccountClosed, AccountConflict, AccountNotEmpty, CurrencyMismatch, UnknownAccount,
                           ValidationError)
from ledger.model import AccountSpec, AccountType, Side

from .helpers import fund, open_wallet


def test_open_account_defaults_normal_side_from_type(ledger):
    cash, council, wages, hmrc = open_wallet(ledger)
    assert (cash.normal_side, wages.normal_side) == (Side.DEBIT, Side.DEBIT)
    assert (council.normal_side, hmrc.normal_side) == (Side.CREDIT, Side.CREDIT)
    assert cash.floor == 0 and cash.currency == "GBP" and cash.book == "w1" and cash.is_open


def test_opening_again_with_same_attributes_returns_the_same_account(ledger):
    first = open_wallet(ledger)
    again = open_wallet(ledger)
    assert [a.id for a in first] == [a.id for a in again]
    assert len(ledger.accounts(book="w1")) == 4


def test_opening_again_with_different_attributes_is_refused(ledger):
    open_wallet(ledger)
    with pytest.raises(AccountConflict):
        ledger.open_account(AccountSpec("w1:cash", AccountType.ASSET, floor=-5000, book="w1"))


def test_owner_metadata_and_lookup(ledger):
    ledger.open_account(AccountSpec("w9:cash", AccountType.ASSET, owner_ref="wallet-9",
                                    metadata={"label": "Cash held"}, book="w9"))
    [found] = ledger.accounts(owner_ref="wallet-9")
    assert found.metadata == {"label": "Cash held"} and found.owner_ref == "wallet-9"
    with pytest.raises(UnknownAccount):
        ledger.account("nope")


@pytest.mark.parametrize("spec", [
    AccountSpec("bad code with spaces", AccountType.ASSET),
    AccountSpec("w1:x", AccountType.ASSET, currency="pounds"),
    AccountSpec("w1:x", AccountType.ASSET, floor=1.5),
    AccountSpec("w1:x", AccountType.ASSET, metadata={"rate": 0.1}),
])
def test_bad_account_specs_are_refused(ledger, spec):
    with pytest.raises(ValidationError):
        ledger.open_account(spec)


def test_closed_account_refuses_postings_and_nonempty_cannot_close(ledger):
    open_wallet(ledger)
    fund(ledger, 1000)
    with pytest.raises(AccountNotEmpty):
        ledger.close_account("w1:cash")
    ledger.open_account(AccountSpec("w1:old", AccountType.EXPENSE, book="w1"))
    closed = ledger.close_account("w1:old")
    assert not closed.is_open
    with pytest.raises(AccountClosed):
        ledger.transfer("t", "w1:old", "w1:cash", 100)
    assert ledger.balance("w1:cash").posted == 1000


def test_currency_mismatch_is_refused(ledger):
    open_wallet(ledger)
    ledger.open_account(AccountSpec("w1:eur", AccountType.ASSET, currency="EUR", book="w1"))
    with pytest.raises(CurrencyMismatch):
        ledger.transfer("t", "w1:eur", "w1:council", 100)

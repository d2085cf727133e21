from datetime import timedelta

import pytest

from ledger.errors import (ExceedsHold, HoldExpired, HoldNotPending, IdempotencyConflict, InsufficientFunds,
                           ValidationError)
from ledger.model import HoldRequest, HoldStatus

from .helpers import fund, open_wallet


def wage_hold(key="h1", amount=30_000, **kw):
    return HoldRequest(key, debit="w1:wages", credit="w1:cash", amount=amount, description="Wages awaiting approval",
                       **kw)


@pytest.fixture
def funded(ledger):
    open_wallet(ledger)
    fund(ledger, 100_000)
    return ledger


def test_hold_lowers_available_not_posted(funded):
    h = funded.hold(wage_hold())
    b = funded.balance("w1:cash")
    assert (b.posted, b.held, b.available) == (100_000, 30_000, 70_000)
    assert h.status is HoldStatus.PENDING and funded.holds("w1:cash") == [h]
    # The debit side is an expense growing: nothing is reserved there.
    assert funded.balance("w1:wages").held == 0


def test_full_commit_posts_and_clears_the_reservation(funded):
    h = funded.hold(wage_hold())
    entry = funded.commit_hold(h.id, "h1-approved", actor="appointee:3")
    assert entry.hold == h.id and entry.actor == "appointee:3"
    b = funded.balance("w1:cash")
    assert (b.posted, b.held, b.available) == (70_000, 0, 70_000)
    done = funded.get_hold(h.id)
    assert done.status is HoldStatus.COMMITTED and done.committed_amount == 30_000 and done.commit_entry == entry.id
    assert funded.commit_hold(h.id, "h1-approved", actor="appointee:3") == entry  # replay


def test_partial_commit_releases_the_rest(funded):
    h = funded.hold(wage_hold())
    funded.commit_hold(h.id, "h1-part", 12_345)
    b = funded.balance("w1:cash")
    assert (b.posted, b.held, b.available) == (100_000 - 12_345, 0, 100_000 - 12_345)
    with pytest.raises(HoldNotPending):
        funded.commit_hold(h.id, "h1-again", 1)


def test_committing_more_than_held_is_refused(funded):
    h = funded.hold(wage_hold())
    with pytest.raises(ExceedsHold):
        funded.commit_hold(h.id, "too-much", 30_001)
    assert funded.balance("w1:cash").held == 30_000


def test_release_gives_the_money_back(funded):
    h = funded.hold(wage_hold())
    released = funded.release_hold(h.id, "h1-rejected")
    assert released.status is HoldStatus.RELEASED
    assert funded.release_hold(h.id, "h1-rejected").status is HoldStatus.RELEASED  # replay
    b = funded.balance("w1:cash")
    assert (b.posted, b.held, b.available) == (100_000, 0, 100_000)
    with pytest.raises(HoldNotPending):
        funded.commit_hold(h.id, "late-approval")


def test_hold_beyond_available_is_refused(funded):
    funded.hold(wage_hold(amount=80_000))
    with pytest.raises(InsufficientFunds):
        funded.hold(wage_hold("h2", amount=20_001))
    with pytest.raises(InsufficientFunds):  # postings respect holds too
        funded.transfer("spend", "w1:wages", "w1:cash", 20_001)
    funded.transfer("spend-ok", "w1:wages", "w1:cash", 20_000)


def test_expired_hold_cannot_be_committed_and_frees_the_money(funded, clock):
    h = funded.hold(wage_hold(expires_at=clock.now() + timedelta(hours=2)))
    clock.advance(hours=3)
    assert funded.balance("w1:cash").available == 100_000  # lapsed, even before the sweep
    with pytest.raises(HoldExpired):
        funded.commit_hold(h.id, "too-late")
    assert funded.get_hold(h.id).status is HoldStatus.EXPIRED
    assert funded.balance("w1:cash").held == 0


def test_expire_holds_sweeps_only_lapsed_holds(funded, clock):
    soon = funded.hold(wage_hold("soon", 1_000, expires_at=clock.now() + timedelta(minutes=5)))
    later = funded.hold(wage_hold("later", 2_000, expires_at=clock.now() + timedelta(days=5)))
    never = funded.hold(wage_hold("never", 3_000))
    clock.advance(hours=1)
    assert funded.expire_holds() == 1
    assert [funded.get_hold(h.id).status for h in (soon, later, never)] == [
        HoldStatus.EXPIRED, HoldStatus.PENDING, HoldStatus.PENDING]
    assert funded.balance("w1:cash").held == 5_000
    assert funded.expire_holds() == 0


def test_hold_idempotency(funded):
    h = funded.hold(wage_hold())
    assert funded.hold(wage_hold()) == h
    with pytest.raises(IdempotencyConflict):
        funded.hold(wage_hold(amount=1))
    assert funded.balance("w1:cash").held == 30_000


@pytest.mark.parametrize("request_", [
    HoldRequest("x", "w1:wages", "w1:cash", 0),
    HoldRequest("x", "w1:wages", "w1:cash", -5),
    HoldRequest("x", "w1:cash", "w1:cash", 5),
])
def test_bad_holds_are_refused(funded, request_):
    with pytest.raises(ValidationError):
        funded.hold(request_)


def test_hold_that_expires_in_the_past_is_refused(funded, clock):
    with pytest.raises(ValidationError):
        funded.hold(wage_hold(expires_at=clock.now() - timedelta(seconds=1)))

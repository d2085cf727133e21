"""Two people at once: the wallet's lock makes one decision win, and nobody spends the same money twice."""
from __future__ import annotations

import threading

from ledger.clock import seeded_ids
from wallet.domain import payments
from wallet.domain.errors import NotEnoughMoney, RequestNotPending
from wallet.domain.payments import PaymentStatus
from wallet.domain.unit_of_work import UnitOfWork


def race(world, *calls):
    """Run each call in its own thread with its own UnitOfWork, all starting together; returns results/errors."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i, call):
        uow = UnitOfWork(world.uow.db, clock=world.clock, ids=seeded_ids(100 + i))
        barrier.wait()
        try:
            results[i] = call(uow)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_approvers_at_once_pay_once(world):
    req = payments.request_payment(world.uow, world.wallet.id, actor=world.users["manager"],
                                   payee_id=world.agency.id, amount=5_000, category="transport",
                                   description="Taxis")
    results = race(world, *[
        (lambda uow, who=who: payments.approve_payment(uow, req.id, actor=world.users[who]))
        for who in ("holder", "appointee", "appointee2")])
    paid = [r for r in results if isinstance(r, payments.PaymentRequest)]
    assert len(paid) == 1 and paid[0].status is PaymentStatus.PAID
    assert all(isinstance(r, RequestNotPending) for r in results if r is not paid[0])
    cash = world.cash(world.council)
    assert (cash.posted, cash.held) == (186_000 - 5_000, 0)


def test_two_requests_for_the_last_money_cannot_both_hold_it(world):
    def ask(uow, n):
        return payments.request_payment(uow, world.wallet.id, actor=world.users["holder"], payee_id=world.shop.id,
                                         amount=8_000, category="activities", description=f"Request {n}")

    results = race(world, *[(lambda uow, n=n: ask(uow, n)) for n in range(2)])
    held = [r for r in results if isinstance(r, payments.PaymentRequest)]
    assert len(held) == 1 and isinstance([r for r in results if r is not held[0]][0], NotEnoughMoney)
    assert world.cash(world.own).held == 8_000

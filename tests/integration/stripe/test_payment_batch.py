"""Bank payments as a batch tied to ledger entries: a pay run's payables (net pay, HMRC) as payment lines that each
name what they settle, a bulk-payment CSV, confirmation posting the settlement, and no second payment of the
same batch or the same debt. Checks that wallet.money_out and the wallet's pay-run settlement fit together, on
SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tests.integration.wallet.helpers import pay_run, payslip
from wallet.domain import payroll_posting
from wallet.domain.unit_of_work import SYSTEM
from wallet.money_out import (AlreadyExported, AlreadyPaid, BankAccount, BatchStatus, BatchValidationError,
                              PaymentLine, confirm_paid, export_bulk_csv, new_batch)

AT = datetime(2026, 4, 29, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def posted(world):
    run = pay_run("run-1", payslip("run-1", "pa-jo", gross=100_000, tax=5_000, ee_ni=3_000, er_ni=4_000))
    return payroll_posting.post_pay_run(world.uow, world.wallet.id, run, actor=SYSTEM)


def lines_for(posting):
    entry = posting.entry_id
    return [
        PaymentLine("net-pa-jo", "net_pay", "Jo Smith", BankAccount("40-98-76", "13572468"),
                    posting.figures.net_pay_by_employee["pa-jo"], "PAY APR 2026", f"{entry}:net_pay:pa-jo"),
        PaymentLine("hmrc", "hmrc", "HMRC Cumbernauld", BankAccount("08-32-10", "12001039"), posting.figures.hmrc,
                    "123PA00012345", f"{entry}:hmrc"),
    ]


def test_a_pay_run_batch_is_exported_once_paid_once_and_posted_once(world, posted):
    assert posted.figures.net_pay == 92_000 and posted.figures.hmrc == 12_000
    batch = new_batch("batch-run-1", lines_for(posted), created_at=AT, description="Pay run 1")
    assert {line.settles_entry.split(":")[0] for line in batch.lines} == {posted.entry_id}
    export = export_bulk_csv(batch, at=AT)
    assert "920.00" in export.content and "120.00" in export.content
    with pytest.raises(AlreadyExported):
        export_bulk_csv(export.batch, at=AT)

    paid = confirm_paid(export.batch, at=AT)
    assert paid.status is BatchStatus.PAID
    for line in paid.lines:     # each confirmed line posts the settlement of the payable it names
        if line.kind.value == "net_pay":
            payroll_posting.settle_net_pay(world.uow, world.wallet.id, "run-1", actor=SYSTEM,
                                           paid_on=date(2026, 4, 30), employee_id="pa-jo")
        else:
            payroll_posting.settle_hmrc(world.uow, world.wallet.id, "run-1", actor=SYSTEM, paid_on=date(2026, 4, 30))
    assert world.cash(world.council).posted == 186_000 - 104_000
    assert world.ledger.balance(world.wallet.chart.wages_payable).posted == 0
    assert world.ledger.balance(world.wallet.chart.hmrc_payable).posted == 0

    with pytest.raises(AlreadyPaid, match="cannot be paid again"):
        confirm_paid(paid, at=AT)
    # settling the same payables again posts nothing more
    again = payroll_posting.settle_pay_run(world.uow, world.wallet.id, "run-1", actor=SYSTEM)
    assert len(again.settlements) == 2 and world.cash(world.council).posted == 186_000 - 104_000


def test_one_debt_cannot_be_put_twice_in_a_batch(world, posted):
    net, _ = lines_for(posted)
    twice = PaymentLine("net-again", "net_pay", "Jo Smith", BankAccount("40-98-76", "13572468"), net.amount,
                        "PAY APR 2026", net.settles_entry)
    with pytest.raises(BatchValidationError, match="the same debt would be paid twice"):
        new_batch("batch-2", [net, twice], created_at=AT)

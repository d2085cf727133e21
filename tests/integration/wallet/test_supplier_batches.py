"""Suppliers paid by bank through payment batches, and cancelling a batch, on SQLite and PostgreSQL.

An approved payment to a payee paid by bank is spent against its plan line and funder at once but owed (the
payee's payable) with the funder's cash held, until a batch line for it is confirmed paid: then the payable is
paid from cash, once. A batch not yet paid can be cancelled and its debts batched again."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import select

from ledger.verify import verify
from payroll.sealed import FieldCipher
from tests.integration.wallet.helpers import pay_run, payslip
from tests.integration.wallet.test_concurrency import race
from wallet.domain import payment_batches as pb
from wallet.domain import directory, payments, payroll_posting, supplier_payables
from wallet.domain.chart import Category
from wallet.domain.errors import InvalidRequest, NotEnoughMoney, PermissionDenied
from wallet.domain.payments import PaymentStatus
from wallet.domain.tables import (access_log_t, payee_bank_account_t, payment_batch_cancellation_t,
                                  payment_batch_line_t, supplier_payable_t)
from wallet.domain.unit_of_work import SYSTEM
from wallet.money_out import BankAccount, Originator

PAID_ON = date(2026, 4, 30)
ORIGIN = Originator("123456", "ASHA BUDGET", BankAccount("30-00-00", "87654321"))
JO = {pb.pa_payee("pa-jo"): pb.Payee("Jo Smith", BankAccount("40-98-76", "13572468")),
      pb.HMRC_PAYEE: pb.Payee("HMRC Cumbernauld", BankAccount("08-32-10", "12001039"))}


@pytest.fixture
def cipher():
    return FieldCipher([Fernet.generate_key()])


@pytest.fixture
def by_bank(world, cipher):
    """The agency is paid by bank."""
    return supplier_payables.set_bank_account(world.uow, world.wallet.id, world.agency.id,
                                              actor=world.users["holder"], cipher=cipher, sort_code="11-22-33",
                                              account_number="44556677", reference="asha-0042")


def approved(world, amount=12_345, category="transport", description="Taxi to the day centre"):
    """Asked for by the holder and, when it waits (the agency's first payment does), approved by an appointee."""
    req = payments.request_payment(world.uow, world.wallet.id, actor=world.users["holder"],
                                   payee_id=world.agency.id, amount=amount, category=category,
                                   description=description)
    if req.status is PaymentStatus.AWAITING_APPROVAL:
        req = payments.approve_payment(world.uow, req.id, actor=world.users["appointee"])
    return req


def payable(world) -> int:
    return world.ledger.balance(supplier_payables.payable_account(world.wallet, world.agency.id)).posted


def rows(world, table) -> list:
    return world.uow.read(lambda tx: tx.conn.execute(select(table).order_by(table.c.id)).all())


def exported(world, cipher, batch_id, fmt="bacs18"):
    if fmt == "bacs18":
        return pb.export_batch(world.uow, batch_id, actor=SYSTEM, cipher=cipher, file_format="bacs18",
                               originator=ORIGIN, processing_day=date(2026, 4, 8), serial="000001")
    return pb.export_batch(world.uow, batch_id, actor=SYSTEM, cipher=cipher, file_format="csv")


def test_bank_details_are_sealed_masked_and_checked(world, cipher, by_bank):
    assert (by_bank.account_masked, by_bank.reference, by_bank.account_name) == (
        "**-**-33 ****6677", "ASHA-0042", "Bright Care")
    stored = rows(world, payee_bank_account_t)
    assert len(stored) == 1 and "44556677" not in " ".join(str(v) for v in stored[0])
    assert cipher.open(stored[0].account_sealed) == "112233:44556677"
    assert supplier_payables.bank_account(world.uow, world.wallet.id, world.shop.id, actor=SYSTEM) is None
    with pytest.raises(InvalidRequest, match="sort code must be 6 digits") as bad:
        supplier_payables.set_bank_account(world.uow, world.wallet.id, world.shop.id, actor=SYSTEM, cipher=cipher,
                                           sort_code="12-34-5", account_number="98765432")
    assert "98765432" not in str(bad.value)
    with pytest.raises(InvalidRequest, match="at most 18"):
        supplier_payables.set_bank_account(world.uow, world.wallet.id, world.shop.id, actor=SYSTEM, cipher=cipher,
                                           sort_code="12-34-56", account_number="98765432",
                                           reference="A REFERENCE FAR TOO LONG")
    with pytest.raises(InvalidRequest, match="through payroll"):
        supplier_payables.set_bank_account(world.uow, world.wallet.id, world.pa.id, actor=SYSTEM, cipher=cipher,
                                           sort_code="12-34-56", account_number="98765432")
    with pytest.raises(PermissionDenied):
        supplier_payables.set_bank_account(world.uow, world.wallet.id, world.shop.id, actor=world.users["overseer"],
                                           cipher=cipher, sort_code="12-34-56", account_number="98765432")
    assert len(rows(world, payee_bank_account_t)) == 1


def test_approved_to_payable_to_bacs_line_to_paid(world, cipher, by_bank):
    cash_before = world.cash(world.council).posted
    req = approved(world)
    # spent against the plan line and funder now, owed to the agency, the funder's cash held for the bank
    assert req.status is PaymentStatus.AWAITING_BANK_PAYMENT
    assert req.bank_payment is not None and req.bank_payment.paid_at is None
    assert req.entry_id == req.bank_payment.payable_entry_id
    assert world.spent(Category.TRANSPORT, world.council) == 12_345
    assert payable(world) == 12_345
    cash = world.cash(world.council)
    assert (cash.posted, cash.held) == (cash_before, 12_345)
    assert payments.payment_requests(world.uow, world.wallet.id, actor=SYSTEM,
                                     status=PaymentStatus.AWAITING_BANK_PAYMENT) == [req]

    batch = pb.create_batch(world.uow, world.wallet.id, actor=world.users["holder"], payees={}, cipher=cipher)
    [line] = batch.lines
    assert (line.kind, line.amount, line.reference, line.request_id, line.payee_name) == (
        "supplier", 12_345, "ASHA-0042", req.id, "Bright Care")
    assert line.payable_entry_id == req.entry_id and line.payable_key == f"{req.entry_id}:supplier:{world.agency.id}"
    assert line.account_masked == "**-**-33 ****6677"

    out = exported(world, cipher, batch.id)
    data = [r for r in out.content.decode("ascii").split("\r\n") if r.startswith("112233")]
    assert len(data) == 1 and len(data[0]) == 100
    assert data[0][:17] == "112233" + "44556677" + "0" + "99"
    assert data[0][35:46] == "00000012345" and data[0][64:82] == "ASHA-0042".ljust(18)

    [shown] = directory.payment_views(world.uow, world.wallet.id, actor=world.users["holder"])
    assert shown.status == "awaiting_bank_payment"
    paid = pb.confirm_paid(world.uow, batch.id, actor=SYSTEM, paid_on=PAID_ON)
    assert paid.status == "paid" and paid.lines[0].settlement_entry_id is not None
    assert directory.payment_views(world.uow, world.wallet.id, actor=world.users["holder"])[0].status == "paid"
    done = payments.get_payment_request(world.uow, req.id, actor=SYSTEM)
    assert done.status is PaymentStatus.PAID
    assert done.bank_payment.settlement_entry_id == paid.lines[0].settlement_entry_id
    cash = world.cash(world.council)
    assert (cash.posted, cash.held, payable(world)) == (cash_before - 12_345, 0, 0)
    assert world.spent(Category.TRANSPORT, world.council) == 12_345
    settled = world.ledger.entry(paid.lines[0].settlement_entry_id)
    assert {(p.account, p.amount) for p in settled.postings} == {
        (supplier_payables.payable_account(world.wallet, world.agency.id), 12_345),
        (world.wallet.chart.cash(world.council.code), -12_345)}
    assert verify(world.uow.db).ok


def test_paid_at_once_when_no_approval_is_needed_still_waits_for_the_bank(world, cipher, by_bank):
    approved(world, amount=1_000)
    again = payments.request_payment(world.uow, world.wallet.id, actor=world.users["holder"],
                                     payee_id=world.agency.id, amount=2_000, category="transport",
                                     description="Taxi home")
    assert again.approval_reasons == () and again.status is PaymentStatus.AWAITING_BANK_PAYMENT
    assert payable(world) == 3_000 and world.cash(world.council).held == 3_000
    batch = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)
    assert sorted(line.amount for line in batch.lines) == [1_000, 2_000]


def test_a_payment_the_funder_cannot_cover_is_refused_and_writes_nothing(world, cipher, by_bank):
    approved(world, amount=1_000, category="activities", description="Swimming")   # own contribution: 12,000
    before = (world.cash(world.own).posted, world.cash(world.own).held, len(rows(world, supplier_payable_t)))
    with pytest.raises(NotEnoughMoney):
        payments.request_payment(world.uow, world.wallet.id, actor=world.users["holder"], payee_id=world.agency.id,
                                 amount=11_001, category="activities", description="Too much")
    assert (world.cash(world.own).posted, world.cash(world.own).held, len(rows(world, supplier_payable_t))) == before


def test_card_payees_are_paid_at_approval_as_before(world, cipher, by_bank):
    req = payments.request_payment(world.uow, world.wallet.id, actor=world.users["holder"], payee_id=world.shop.id,
                                   amount=500, category="activities", description="Cinema")
    done = payments.approve_payment(world.uow, req.id, actor=world.users["appointee"])
    assert done.status is PaymentStatus.PAID and done.bank_payment is None
    with pytest.raises(pb.NothingToPay):
        pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)


def test_supplier_and_payroll_payables_in_one_batch_and_never_in_two(world, cipher, by_bank):
    run = pay_run("run-1", payslip("run-1", "pa-jo", gross=100_000, tax=5_000, ee_ni=3_000, er_ni=4_000))
    payroll_posting.post_pay_run(world.uow, world.wallet.id, run, actor=SYSTEM)
    req = approved(world)
    batch = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees=JO, cipher=cipher)
    assert sorted(line.kind for line in batch.lines) == ["hmrc", "net_pay", "supplier"]
    with pytest.raises(pb.NothingToPay):
        pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees=JO, cipher=cipher)
    supplier = next(r for r in rows(world, payment_batch_line_t) if r.kind == "supplier")
    with pytest.raises(sa.exc.IntegrityError):     # the database refuses a second live line for the same debt
        with world.uow.db.engine.begin() as conn:
            conn.execute(payment_batch_line_t.insert(), dict(
                {c: getattr(supplier, c) for c in supplier._fields if c != "id"}, uuid="another-line"))
    exported(world, cipher, batch.id, "csv")
    pb.confirm_paid(world.uow, batch.id, actor=SYSTEM, paid_on=PAID_ON)
    assert payments.get_payment_request(world.uow, req.id, actor=SYSTEM).status is PaymentStatus.PAID
    assert (payable(world), world.ledger.balance(world.wallet.chart.wages_payable).posted) == (0, 0)
    assert verify(world.uow.db).ok


def test_never_paid_twice_even_by_two_confirmations_at_once(world, cipher, by_bank):
    cash_before = world.cash(world.council).posted
    approved(world)
    batch = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)
    exported(world, cipher, batch.id, "csv")
    results = race(world, *[(lambda uow: pb.confirm_paid(uow, batch.id, actor=SYSTEM, paid_on=PAID_ON))] * 2)
    won = [r for r in results if isinstance(r, pb.StoredBatch)]
    assert len(won) == 1 and won[0].status == "paid"
    assert isinstance([r for r in results if r is not won[0]][0], pb.BatchAlreadyPaid)
    with pytest.raises(pb.BatchAlreadyPaid):
        pb.confirm_paid(world.uow, batch.id, actor=SYSTEM)
    assert world.cash(world.council).posted == cash_before - 12_345 and payable(world) == 0
    paid = [r for r in rows(world, supplier_payable_t) if r.paid_us is not None]
    assert len(paid) == 1
    assert verify(world.uow.db).ok


def test_cancel_then_batch_again(world, cipher, by_bank):
    req = approved(world)
    first = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)
    cancelled = pb.cancel_batch(world.uow, first.id, actor=world.users["holder"], reason="Wrong invoice date")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "Wrong invoice date"
    assert cancelled.cancelled_by == world.users["holder"] and all(line.released for line in cancelled.lines)
    with pytest.raises(pb.BatchWasCancelled, match="cannot be sent to the bank"):
        exported(world, cipher, first.id)
    with pytest.raises(pb.BatchWasCancelled, match="cannot be confirmed paid"):
        pb.confirm_paid(world.uow, first.id, actor=SYSTEM)
    with pytest.raises(pb.BatchWasCancelled):
        pb.cancel_batch(world.uow, first.id, actor=SYSTEM, reason="again")

    second = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)
    assert [line.payable_key for line in second.lines] == [line.payable_key for line in first.lines]
    exported(world, cipher, second.id)
    pb.confirm_paid(world.uow, second.id, actor=SYSTEM, paid_on=PAID_ON)
    assert payments.get_payment_request(world.uow, req.id, actor=SYSTEM).status is PaymentStatus.PAID
    assert payable(world) == 0 and world.cash(world.council).held == 0
    assert pb.get_batch(world.uow, first.id, actor=SYSTEM).status == "cancelled"
    logged = world.uow.read(lambda tx: [(r.actor, r.action, r.outcome) for r in tx.conn.execute(
        select(access_log_t).order_by(access_log_t.c.id))])
    assert (world.users["holder"], "payment_batch_cancelled", "done") in logged
    assert verify(world.uow.db).ok


def test_an_exported_batch_is_cancelled_only_when_the_file_was_not_sent(world, cipher, by_bank):
    approved(world)
    batch = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)
    exported(world, cipher, batch.id)
    with pytest.raises(pb.CancelNotAllowed, match="was not sent"):
        pb.cancel_batch(world.uow, batch.id, actor=SYSTEM, reason="Bank rejected the file")
    assert pb.get_batch(world.uow, batch.id, actor=SYSTEM).status == "exported"
    assert rows(world, payment_batch_cancellation_t) == []
    done = pb.cancel_batch(world.uow, batch.id, actor=SYSTEM, reason="Bank rejected the file",
                           bank_file_not_sent=True)
    assert done.status == "cancelled" and rows(world, payment_batch_cancellation_t)[0].bank_file_not_sent
    assert len(pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher).lines) == 1


def test_refused_cancellations_write_nothing(world, cipher, by_bank):
    approved(world, amount=1_000)
    approved(world, amount=2_000, description="Second taxi")
    batch = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)
    exported(world, cipher, batch.id, "csv")
    pb.confirm_paid(world.uow, batch.id, actor=SYSTEM, line_ids=[batch.lines[0].id], paid_on=PAID_ON)
    lines_before = rows(world, payment_batch_line_t)
    for actor, reason, error in ((world.users["overseer"], "no", PermissionDenied),
                                 (world.users["holder"], "   ", pb.CancelNotAllowed),
                                 (world.users["holder"], "Paid in part", pb.CancelNotAllowed)):
        with pytest.raises(error):
            pb.cancel_batch(world.uow, batch.id, actor=actor, reason=reason, bank_file_not_sent=True)
    assert rows(world, payment_batch_line_t) == lines_before and rows(world, payment_batch_cancellation_t) == []
    assert pb.get_batch(world.uow, batch.id, actor=SYSTEM).status == "part_paid"
    outcomes = world.uow.read(lambda tx: [(r.actor, r.outcome) for r in tx.conn.execute(
        select(access_log_t).where(access_log_t.c.detail.like(f"cancel payment batch {batch.id}%")))])
    assert (world.users["overseer"], "denied") in outcomes
    assert outcomes.count((world.users["holder"], "refused")) == 2


def test_the_command_line_sets_bank_details_and_cancels_a_batch(world, cipher, by_bank, database_url,
                                                                  monkeypatch, tmp_path):
    from click.testing import CliRunner

    from wallet.cli import cli

    approved(world)
    batch = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)

    def run(*args):
        return CliRunner().invoke(cli, ["--database-url", database_url, "payments", "batch", *args])

    account = tmp_path / "account.txt"
    account.write_text("11-22-33,99887766\n")
    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    bank = CliRunner().invoke(cli, ["--database-url", database_url, "payments", "payee-bank", world.wallet.id,
                                    world.shop.id, "--account-file", str(account), "--reference", "inv 7"])
    assert bank.exit_code == 0 and "**-**-33 ****7766" in bank.output and "INV 7" in bank.output, bank.output
    assert "99887766" not in bank.output
    pa = CliRunner().invoke(cli, ["--database-url", database_url, "payments", "payee-bank", world.wallet.id,
                                  world.pa.id, "--account-file", str(account)])
    assert pa.exit_code != 0 and "through payroll" in pa.output

    no_reason = run("cancel", batch.id)
    assert no_reason.exit_code != 0 and "--reason" in no_reason.output
    done = run("cancel", batch.id, "--reason", "Made by mistake")
    assert done.exit_code == 0 and "cancelled" in done.output, done.output
    again = run("cancel", batch.id, "--reason", "Twice")
    assert again.exit_code != 0 and "cannot be cancelled again" in again.output
    assert pb.get_batch(world.uow, batch.id, actor=SYSTEM).status == "cancelled"


def test_the_migration_goes_down_and_up_again_with_batches_in_it(world, cipher, by_bank, database_url):
    from alembic import command

    from ledger.db import make_engine
    from wallet import database

    approved(world)
    first = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees={}, cipher=cipher)
    pb.cancel_batch(world.uow, first.id, actor=SYSTEM, reason="Made by mistake")
    payroll_posting.post_pay_run(world.uow, world.wallet.id, pay_run(
        "run-1", payslip("run-1", "pa-jo", gross=100_000, tax=5_000, ee_ni=3_000, er_ni=4_000)), actor=SYSTEM)
    kept = pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees=JO, cipher=cipher)
    assert sorted(line.kind for line in kept.lines) == ["hmrc", "net_pay", "supplier"]
    engine = make_engine(database_url)
    try:
        for target in ("0013_stripe_mandates", "head"):
            with engine.begin() as conn:
                cfg = database.alembic_config(database_url)
                cfg.attributes["connection"] = conn
                (command.downgrade if target != "head" else command.upgrade)(cfg, target)
            if target != "head":   # before 0014: only the payroll lines stay, under the old unique key
                found = inspect_lines(engine)
                assert sorted(k for k, in found) == sorted(line.kind for line in kept.lines if line.kind != "supplier")
    finally:
        engine.dispose()
    # The payroll lines came through; supplier payables are this migration's, and went with its downgrade.
    after = pb.get_batch(world.uow, kept.id, actor=SYSTEM)
    assert after.status == "created" and sorted(line.kind for line in after.lines) == ["hmrc", "net_pay"]
    assert rows(world, supplier_payable_t) == [] and rows(world, payment_batch_cancellation_t) == []
    with pytest.raises(pb.NothingToPay):
        pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, payees=JO, cipher=cipher)
    line = rows(world, payment_batch_line_t)[0]
    with pytest.raises(sa.exc.IntegrityError):     # one debt, one live line, as before
        with world.uow.db.engine.begin() as conn:
            conn.execute(payment_batch_line_t.insert(), dict(
                {c: getattr(line, c) for c in line._fields if c != "id"}, uuid="another-line"))


def inspect_lines(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT kind FROM wallet_payment_batch_line")).all()

"""Payment batches kept in the database, on SQLite and PostgreSQL: made from a posted pay run's payables, exported
once, confirmed paid with each settlement posted in the same transaction, never paid twice, and the ledger still
verifying afterwards."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import select

from ledger.verify import verify
from payroll.sealed import FieldCipher
from tests.integration.wallet.helpers import pay_run, payslip
from wallet.domain import payment_batches as pb
from wallet.domain import payroll_posting
from wallet.domain.errors import InvalidRequest, PermissionDenied, WalletError
from wallet.domain.tables import access_log_t, payment_batch_line_t, settlement_t
from wallet.domain.unit_of_work import SYSTEM
from wallet.money_out import BankAccount, Originator

JO = BankAccount("40-98-76", "13572468")
KIM = BankAccount("20-00-00", "55779911")
HMRC = BankAccount("08-32-10", "12001039")
PENSION = BankAccount("60-70-80", "10203040")
PAYEES = {pb.pa_payee("pa-jo"): pb.Payee("Jo Smith", JO), pb.pa_payee("pa-kim"): pb.Payee("Kim Lee", KIM),
          pb.HMRC_PAYEE: pb.Payee("HMRC Cumbernauld", HMRC), pb.PENSION_PAYEE: pb.Payee("Nest Pensions", PENSION)}
PAID_ON = date(2026, 4, 30)


@pytest.fixture
def cipher():
    return FieldCipher([Fernet.generate_key()])


@pytest.fixture
def posted(world):
    run = pay_run("run-1",
                  payslip("run-1", "pa-jo", gross=100_000, tax=5_000, ee_ni=3_000, er_ni=4_000, ee_pension=2_000,
                          er_pension=1_500),
                  payslip("run-1", "pa-kim", gross=40_000, tax=0, ee_ni=0, er_ni=0))
    return payroll_posting.post_pay_run(world.uow, world.wallet.id, run, actor=SYSTEM)


def balances(world) -> tuple[int, int, int, int]:
    chart = world.wallet.chart
    return (world.cash(world.council).posted, world.ledger.balance(chart.wages_payable).posted,
            world.ledger.balance(chart.hmrc_payable).posted, world.ledger.balance(chart.pension_payable).posted)


def settlement_count(world) -> int:
    return world.uow.read(lambda tx: tx.conn.execute(select(sa.func.count()).select_from(settlement_t)).scalar())


def made(world, cipher, actor=SYSTEM):
    return pb.create_batch(world.uow, world.wallet.id, actor=actor, payees=PAYEES, cipher=cipher)


def test_a_batch_is_made_from_the_unpaid_payables_of_a_posted_pay_run(world, cipher, posted):
    batch = made(world, cipher)
    assert batch.status == "created" and batch.wallet_id == world.wallet.id
    by_key = {(line.kind, line.employee_id): line for line in batch.lines}
    assert {k: line.amount for k, line in by_key.items()} == {
        ("net_pay", "pa-jo"): 90_000, ("net_pay", "pa-kim"): 40_000, ("hmrc", ""): 12_000, ("pension", ""): 3_500}
    assert batch.total == posted.figures.wages_expense
    assert {line.payable_entry_id for line in batch.lines} == {posted.entry_id}
    assert all(line.run_id == "run-1" and line.settlement_entry_id is None for line in batch.lines)
    assert by_key[("net_pay", "pa-jo")].account_masked == "**-**-76 ****2468"
    # bank details are stored sealed: the account number is nowhere in the row in clear
    rows = world.uow.read(lambda tx: tx.conn.execute(select(payment_batch_line_t)).all())
    assert rows and all("13572468" not in " ".join(str(v) for v in row) for row in rows)
    assert cipher.open(next(r.account_sealed for r in rows if r.employee_id == "pa-jo")) == "409876:13572468"


def test_export_once_then_refused(world, cipher, posted):
    batch = made(world, cipher)
    out = pb.export_batch(world.uow, batch.id, actor=SYSTEM, cipher=cipher, file_format="csv")
    text = out.content.decode()
    assert "409876,13572468" in text and "900.00" in text and "120.00" in text
    assert out.digest == hashlib.sha256(out.content).hexdigest() == out.batch.export_digest
    assert out.batch.status == "exported" and out.batch.export_format == "csv"
    with pytest.raises(pb.BatchAlreadyExported, match="cannot be exported again"):
        pb.export_batch(world.uow, batch.id, actor=SYSTEM, cipher=cipher, file_format="csv")
    assert pb.get_batch(world.uow, batch.id, actor=SYSTEM).export_digest == out.digest


def test_bacs18_export_and_a_failed_delivery_leaves_the_batch_unexported(world, cipher, posted):
    batch = made(world, cipher)
    origin = Originator("123456", "ASHA BUDGET", BankAccount("30-00-00", "87654321"))

    def broken(content: bytes) -> None:
        raise InvalidRequest("the disk is full")

    with pytest.raises(InvalidRequest, match="disk is full"):
        pb.export_batch(world.uow, batch.id, actor=SYSTEM, cipher=cipher, file_format="bacs18", originator=origin,
                        processing_day=date(2026, 4, 8), serial="000001", deliver=broken)
    assert pb.get_batch(world.uow, batch.id, actor=SYSTEM).status == "created"
    out = pb.export_batch(world.uow, batch.id, actor=SYSTEM, cipher=cipher, file_format="bacs18",
                          originator=origin, processing_day=date(2026, 4, 8), serial="000001")
    assert out.content.startswith(b"VOL1000001") and b"13572468" in out.content
    assert out.batch.export_format == "bacs18"


def test_confirm_posts_settlements_clears_payables_and_is_never_paid_twice(world, cipher, posted):
    before = balances(world)
    assert before[1:] == (130_000, 12_000, 3_500)
    batch = made(world, cipher)
    with pytest.raises(pb.BatchNotExported):
        pb.confirm_paid(world.uow, batch.id, actor=SYSTEM)
    pb.export_batch(world.uow, batch.id, actor=SYSTEM, cipher=cipher, file_format="csv")
    jo = next(line for line in batch.lines if line.employee_id == "pa-jo")
    part = pb.confirm_paid(world.uow, batch.id, actor=SYSTEM, line_ids=[jo.id], paid_on=PAID_ON)
    assert part.status == "part_paid"
    assert balances(world) == (before[0] - 90_000, 40_000, 12_000, 3_500)
    with pytest.raises(pb.BatchAlreadyPaid, match="cannot be paid twice"):
        pb.confirm_paid(world.uow, batch.id, actor=SYSTEM, line_ids=[jo.id])

    paid = pb.confirm_paid(world.uow, batch.id, actor=SYSTEM, paid_on=PAID_ON)
    assert paid.status == "paid" and paid.paid_at is not None
    assert balances(world) == (before[0] - posted.figures.wages_expense, 0, 0, 0)
    settled = payroll_posting.pay_run_postings(world.uow, world.wallet.id, actor=SYSTEM)[0].settlements
    assert {s.entry_id for s in settled} == {line.settlement_entry_id for line in paid.lines}
    assert all(line.paid_at is not None for line in paid.lines)

    count = settlement_count(world)
    with pytest.raises(pb.BatchAlreadyPaid, match="the same batch cannot be paid twice"):
        pb.confirm_paid(world.uow, batch.id, actor=SYSTEM)
    # settling the run directly afterwards posts nothing more either
    payroll_posting.settle_pay_run(world.uow, world.wallet.id, "run-1", actor=SYSTEM)
    assert settlement_count(world) == count == 4
    assert balances(world) == (before[0] - posted.figures.wages_expense, 0, 0, 0)
    assert verify(world.uow.db).ok


def test_a_payable_cannot_be_in_two_batches(world, cipher, posted):
    first = made(world, cipher)
    with pytest.raises(pb.NothingToPay):
        made(world, cipher)
    # and the database itself refuses a second line for the same debt
    line = world.uow.read(lambda tx: tx.conn.execute(select(payment_batch_line_t)).first())
    with pytest.raises(sa.exc.IntegrityError):
        with world.uow.db.engine.begin() as conn:
            conn.execute(payment_batch_line_t.insert(), dict(
                {c: getattr(line, c) for c in line._fields if c != "id"}, uuid="another-line"))
    assert len(first.lines) == 4 and pb.get_batch(world.uow, first.id, actor=SYSTEM).status == "created"


def test_a_settled_payable_is_left_out_and_missing_bank_details_are_named(world, cipher, posted):
    payroll_posting.settle_hmrc(world.uow, world.wallet.id, "run-1", actor=SYSTEM, paid_on=PAID_ON)
    with pytest.raises(pb.BankDetailsMissing, match="pa:pa-kim"):
        pb.create_batch(world.uow, world.wallet.id, actor=SYSTEM, cipher=cipher,
                        payees={k: v for k, v in PAYEES.items() if k != pb.pa_payee("pa-kim")})
    batch = made(world, cipher)
    assert sorted(line.kind for line in batch.lines) == ["net_pay", "net_pay", "pension"]


def test_a_failure_mid_confirm_leaves_nothing_half_written(world, cipher, posted, monkeypatch):
    batch = made(world, cipher)
    pb.export_batch(world.uow, batch.id, actor=SYSTEM, cipher=cipher, file_format="csv")
    before = balances(world)
    real = payroll_posting._settle_one
    calls = []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise InvalidRequest("the bank feed went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(payroll_posting, "_settle_one", second_fails)
    with pytest.raises(InvalidRequest, match="went away"):
        pb.confirm_paid(world.uow, batch.id, actor=SYSTEM, paid_on=PAID_ON)
    monkeypatch.setattr(payroll_posting, "_settle_one", real)
    assert len(calls) == 2
    assert balances(world) == before and settlement_count(world) == 0
    again = pb.get_batch(world.uow, batch.id, actor=SYSTEM)
    assert again.status == "exported" and all(line.paid_at is None for line in again.lines)
    assert pb.confirm_paid(world.uow, batch.id, actor=SYSTEM, paid_on=PAID_ON).status == "paid"
    assert verify(world.uow.db).ok


def test_permissions_and_the_access_log(world, cipher, posted):
    with pytest.raises(PermissionDenied):
        made(world, cipher, actor=world.users["overseer"])
    with pytest.raises(PermissionDenied):
        made(world, cipher, actor=world.users["auditor"])
    batch = made(world, cipher, actor=world.users["holder"])             # MANAGE_WALLET
    pb.export_batch(world.uow, batch.id, actor=world.users["payroll_admin"], cipher=cipher, file_format="csv")
    with pytest.raises(PermissionDenied):
        pb.confirm_paid(world.uow, batch.id, actor=world.users["stranger"])
    logged = world.uow.read(lambda tx: [(r.actor, r.action, r.outcome) for r in tx.conn.execute(
        select(access_log_t).order_by(access_log_t.c.id))])
    assert (world.users["overseer"], "run_payroll", "denied") in logged
    assert (world.users["holder"], "manage_wallet", "done") in logged
    assert (world.users["holder"], "payment_batch_created", "done") in logged
    assert (world.users["payroll_admin"], "payment_batch_exported", "done") in logged
    assert (world.users["stranger"], "run_payroll", "denied") in logged
    assert not any("13572468" in str(r) for r in logged)


def test_refusals_are_wallet_errors(world, cipher):
    with pytest.raises(pb.NothingToPay):
        made(world, cipher)
    with pytest.raises(pb.UnknownPaymentBatch):
        pb.get_batch(world.uow, "no-such-batch", actor=SYSTEM)
    with pytest.raises(pb.ExportRefused, match="format"):
        pb.export_batch(world.uow, "x", actor=SYSTEM, cipher=cipher, file_format="pdf")
    assert issubclass(pb.BatchAlreadyPaid, WalletError)


def test_the_command_line_creates_exports_once_and_confirms_once(world, posted, database_url, tmp_path,
                                                                 monkeypatch):
    from click.testing import CliRunner

    from wallet.cli import cli

    monkeypatch.setenv("WALLET_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    payees = tmp_path / "payees.csv"
    payees.write_text("payee,name,sort_code,account_number\npa:pa-jo,Jo Smith,40-98-76,13572468\n"
                      "pa:pa-kim,Kim Lee,20-00-00,55779911\npension,Nest Pensions,60-70-80,10203040\n")

    def run(*args):
        return CliRunner().invoke(cli, ["--database-url", database_url, "payments", "batch", *args])

    made = run("create", "case-1", "--payees", str(payees))
    assert made.exit_code == 0, made.output
    assert "created, 4 payment(s)" in made.output and "**-**-76 ****2468" in made.output
    assert "13572468" not in made.output
    batch_id = made.output.split()[2].rstrip(":")
    out = tmp_path / "batch.csv"
    exported = run("export", batch_id, "--format", "csv", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() in exported.output
    again = run("export", batch_id, "--format", "csv", "--out", str(tmp_path / "again.csv"))
    assert again.exit_code != 0 and "cannot be exported again" in again.output
    assert not (tmp_path / "again.csv").exists() and not (tmp_path / "again.csv.part").exists()

    line_id = next(line.id for line in pb.get_batch(world.uow, batch_id, actor=SYSTEM).lines if line.kind == "hmrc")
    part = run("confirm", batch_id, "--line", line_id)
    assert part.exit_code == 0 and "part_paid" in part.output, part.output
    paid = run("confirm", batch_id)
    assert paid.exit_code == 0 and "paid, 4 payment(s)" in paid.output, paid.output
    twice = run("confirm", batch_id)
    assert twice.exit_code != 0 and "the same batch cannot be paid twice" in twice.output
    assert balances(world)[1:] == (0, 0, 0) and settlement_count(world) == 4
    assert verify(world.uow.db).ok


def test_export_with_the_wrong_key_is_refused_and_logged(world, cipher, posted):
    batch = made(world, cipher)
    with pytest.raises(pb.ExportRefused, match="cannot be opened"):
        pb.export_batch(world.uow, batch.id, actor=SYSTEM, cipher=FieldCipher([Fernet.generate_key()]),
                        file_format="csv")
    assert pb.get_batch(world.uow, batch.id, actor=SYSTEM).status == "created"
    outcomes = world.uow.read(lambda tx: [r.outcome for r in tx.conn.execute(
        select(access_log_t).where(access_log_t.c.detail.like(f"export payment batch {batch.id}%")))])
    assert outcomes == ["refused"]

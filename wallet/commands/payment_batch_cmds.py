"""`wallet payments batch ...`: bank payments out of a wallet, as a stored batch.

    wallet payments batch create WALLET
    wallet payments batch export BATCH_ID --format bacs18|csv --out FILE
    wallet payments batch confirm BATCH_ID [--line LINE_ID ...]
    wallet payments batch cancel BATCH_ID --reason TEXT [--bank-file-not-sent]
    wallet payments payee-bank WALLET PAYEE_ID --account-file FILE [--reference REF]

Suppliers paid by bank (``wallet.domain.supplier_payables``) go into a batch with the account and reference on
file for them; approved payments to them wait in the batch as ``supplier`` lines.

Bank details come from payroll (each PA's sealed details), HMRC's published PAYE account, and a ``--payees`` CSV
file (``payee,name,sort_code,account_number``; payee is ``pa:<employee id>``, ``hmrc`` or ``pension``) that
overrides both. They are never taken on the command line and never printed except masked.
"""
from __future__ import annotations

import csv
from pathlib import Path

import click

from wallet.commands.bank_cmds import _uow, _wallet_id

HMRC_PAYE_ACCOUNT = ("HMRC Cumbernauld", "083210", "12001039")
"""HMRC's published account for PAYE and NI payments (GOV.UK, 'Pay employers' PAYE')."""

ACTOR = click.option("--by", "actor", envvar="WALLET_ACTOR", default="system", show_default=True,
                     help="Who is doing this (a user id); default from WALLET_ACTOR.")


def _cipher():
    from payroll.sealed import FieldCipher, SealedFieldError
    from wallet.config import encryption_keys

    try:
        return FieldCipher(encryption_keys())
    except (SealedFieldError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _refused(work):
    from payroll.sealed import SealedFieldError
    from wallet.domain.errors import WalletError

    try:
        return work()
    except (WalletError, SealedFieldError) as exc:
        raise click.ClickException(str(exc)) from None


def _payroll_payees(ctx: click.Context, uow, wallet_id: str, cipher) -> dict:
    """Each PA's bank details as payroll holds them, for the wallet's payroll employer (if it has one)."""
    from payroll.service import PayrollError, PayrollService
    from wallet.domain import payment_batches as pb
    from wallet.domain.unit_of_work import SYSTEM
    from wallet.domain.wallets import get_wallet
    from wallet.money_out import BankAccount, MoneyOutError

    employer = get_wallet(uow, wallet_id, actor=SYSTEM).payroll_employer_id
    if not employer:
        return {}
    try:
        employees = PayrollService(uow.db.engine, cipher).list_employees(employer)
    except PayrollError:
        return {}
    out = {}
    for e in employees:
        if e.bank_details is not None:
            try:
                account = BankAccount(e.bank_details.sort_code, e.bank_details.account_number)
            except MoneyOutError:
                continue
            out[pb.pa_payee(e.id)] = pb.Payee(e.bank_details.account_name or e.full_name, account)
    return out


def _file_payees(path: Path) -> dict:
    from wallet.domain import payment_batches as pb
    from wallet.money_out import BankAccount, MoneyOutError

    out = {}
    with path.open(newline="", encoding="utf-8") as f:
        for number, row in enumerate(csv.DictReader(f), start=2):
            try:
                key = (row.get("payee") or "").strip()
                if not key:
                    raise click.ClickException(f"{path}, line {number}: the payee column is empty")
                out[key] = pb.Payee((row.get("name") or "").strip(),
                                    BankAccount(row.get("sort_code") or "", row.get("account_number") or ""))
            except MoneyOutError as exc:   # the message names the field, never the digits
                raise click.ClickException(f"{path}, line {number}: {exc}") from None
    return out


@click.group(help="Payments out of a wallet's bank account.")
def payments() -> None:
    pass


@payments.group(help="Payment batches: make one from what is owed, export it to the bank once, confirm it paid.")
def batch() -> None:
    pass


def _show(b) -> None:
    from wallet.money import format_pence

    click.echo(f"Payment batch {b.id}: {b.status}, {len(b.lines)} payment(s), {format_pence(b.total)}")
    for line in b.lines:
        paid = f" paid {line.paid_at.date().isoformat()}" if line.paid_at else ""
        click.echo(f"  {line.id}  {line.kind:8} {line.payee_name[:30]:30} {line.account_masked:18} "
                   f"{format_pence(line.amount):>12}{paid}")


@batch.command("create", help="Make a batch of everything WALLET (its id or reference) owes and has not paid.")
@click.argument("wallet")
@click.option("--payees", "payees_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="CSV of payee,name,sort_code,account_number (pension provider, other PAs).")
@ACTOR
@click.pass_context
def create_cmd(ctx: click.Context, wallet: str, payees_file: Path | None, actor: str) -> None:
    from wallet.domain import payment_batches as pb
    from wallet.money_out import BankAccount

    uow = _uow(ctx)
    wallet_id = _wallet_id(uow, wallet)
    cipher = _cipher()
    name, sort_code, account = HMRC_PAYE_ACCOUNT
    payees = {pb.HMRC_PAYEE: pb.Payee(name, BankAccount(sort_code, account))}
    payees.update(_refused(lambda: _payroll_payees(ctx, uow, wallet_id, cipher)))
    if payees_file is not None:
        payees.update(_file_payees(payees_file))
    made = _refused(lambda: pb.create_batch(uow, wallet_id, actor=actor, payees=payees, cipher=cipher))
    _show(made)


@batch.command("export", help="Write BATCH_ID's bank file, once.")
@click.argument("batch_id")
@click.option("--format", "file_format", type=click.Choice(["bacs18", "csv"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--sun", default=None, help="Bacs service user number (bacs18).")
@click.option("--service-user-name", default=None, help="Service user's name (bacs18).")
@click.option("--account-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The client account to debit (bacs18): a file holding SORT_CODE,ACCOUNT_NUMBER.")
@click.option("--processing-day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Bacs processing day, a working day after today (bacs18).")
@click.option("--serial", default=None, help="Six-character submission serial number (bacs18).")
@ACTOR
@click.pass_context
def export_cmd(ctx: click.Context, batch_id: str, file_format: str, out: Path, sun: str | None,
               service_user_name: str | None, account_file: Path | None, processing_day, serial: str | None,
               actor: str) -> None:
    from wallet.domain import payment_batches as pb
    from wallet.money_out import BankAccount, MoneyOutError, Originator

    if out.exists():
        raise click.ClickException(f"{out} exists already; choose a new file name")
    uow = _uow(ctx)
    originator = day = None
    if file_format == "bacs18":
        if not (sun and service_user_name and account_file and serial and processing_day):
            raise click.ClickException("a Bacs file needs --sun, --service-user-name, --account-file, --serial "
                                       "and --processing-day")
        try:
            sort_code, _, number = account_file.read_text(encoding="utf-8").strip().partition(",")
            originator = Originator(sun, service_user_name, BankAccount(sort_code, number))
        except MoneyOutError as exc:
            raise click.ClickException(str(exc)) from None
        day = processing_day.date()
    part = out.with_name(out.name + ".part")

    def deliver(content: bytes) -> None:
        part.write_bytes(content)   # inside the export's transaction: no file, no export

    try:
        done = _refused(lambda: pb.export_batch(uow, batch_id, actor=actor, cipher=_cipher(),
                                                file_format=file_format, originator=originator, processing_day=day,
                                                serial=serial, deliver=deliver))
    except BaseException:
        part.unlink(missing_ok=True)   # the export was rolled back: leave no file that looks sent
        raise
    part.replace(out)
    click.echo(f"Payment batch {batch_id} exported as {file_format} to {out} (sha256 {done.digest}).")


@batch.command("confirm", help="Record BATCH_ID paid by the bank (every unpaid line, or those named by --line).")
@click.argument("batch_id")
@click.option("--line", "line_ids", multiple=True, help="A line id; repeat for more. Default: every unpaid line.")
@click.option("--paid-on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today.")
@ACTOR
@click.pass_context
def confirm_cmd(ctx: click.Context, batch_id: str, line_ids: tuple[str, ...], paid_on, actor: str) -> None:
    from wallet.domain import payment_batches as pb

    uow = _uow(ctx)
    done = _refused(lambda: pb.confirm_paid(uow, batch_id, actor=actor, line_ids=list(line_ids) or None,
                                            paid_on=paid_on.date() if paid_on else None))
    _show(done)


@batch.command("cancel", help="Cancel BATCH_ID before it is paid, so what it owes can go into a new batch.")
@click.argument("batch_id")
@click.option("--reason", required=True, help="Why it is cancelled (kept with the batch).")
@click.option("--bank-file-not-sent", is_flag=True, default=False,
              help="Needed for a batch already exported: you are sure its file never reached the bank.")
@ACTOR
@click.pass_context
def cancel_cmd(ctx: click.Context, batch_id: str, reason: str, bank_file_not_sent: bool, actor: str) -> None:
    from wallet.domain import payment_batches as pb

    uow = _uow(ctx)
    done = _refused(lambda: pb.cancel_batch(uow, batch_id, actor=actor, reason=reason,
                                            bank_file_not_sent=bank_file_not_sent))
    _show(done)
    click.echo(f"Cancelled: {done.cancel_reason}. Its payments can go into a new batch.")


@payments.command("payee-bank", help="Pay PAYEE_ID (an agency or supplier of WALLET) by bank from now on: its "
                                     "approved payments then wait for a payment batch.")
@click.argument("wallet")
@click.argument("payee_id")
@click.option("--account-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="A file holding SORT_CODE,ACCOUNT_NUMBER (bank details never go on the command line).")
@click.option("--account-name", default=None, help="Name on the account (default: the payee's name).")
@click.option("--reference", default=None, help="What the payee sees on their statement (18 Bacs characters).")
@ACTOR
@click.pass_context
def payee_bank_cmd(ctx: click.Context, wallet: str, payee_id: str, account_file: Path, account_name: str | None,
                   reference: str | None, actor: str) -> None:
    from wallet.domain import supplier_payables

    uow = _uow(ctx)
    wallet_id = _wallet_id(uow, wallet)
    sort_code, _, number = account_file.read_text(encoding="utf-8").strip().partition(",")
    done = _refused(lambda: supplier_payables.set_bank_account(
        uow, wallet_id, payee_id, actor=actor, cipher=_cipher(), sort_code=sort_code.strip(),
        account_number=number.strip(), account_name=account_name, reference=reference))
    click.echo(f"Payee {payee_id} is paid by bank to {done.account_masked} ({done.account_name}), "
               f"reference {done.reference}.")

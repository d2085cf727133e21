"""`wallet bank import` (a statement file into a wallet, with progress and a summary) and `wallet report monthly`
(a wallet's monthly report as a PDF, or sent to its holder and appointees)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from wallet.commands.files import write_whole


def _uow(ctx: click.Context):
    from wallet.config import database_url
    from wallet.database import open_database
    from wallet.domain.unit_of_work import UnitOfWork

    root = ctx.find_root()
    database = open_database((root.obj or {}).get("database_url") or database_url())
    root.call_on_close(database.dispose)
    return UnitOfWork(database)


def _wallet_id(uow, text: str) -> str:
    """A wallet named by its id or by its outside reference (a case number)."""
    from sqlalchemy import or_, select

    from wallet.domain.tables import wallet_t

    found = uow.read(lambda tx: tx.conn.execute(select(wallet_t.c.uuid).where(
        or_(wallet_t.c.uuid == text, wallet_t.c.reference == text))).scalar())
    if found is None:
        raise click.ClickException(f"there is no wallet with the id or reference {text!r}")
    return found


@click.group(help="Bank statements: import them into a wallet and match them to its books.")
def bank() -> None:
    pass


@bank.command("import", help="Import a statement file (CSV, OFX or CAMT.053) into WALLET (its id or reference).")
@click.argument("wallet")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_name", default=None,
              help="For a CSV: the bank's layout (Barclays, HSBC, Lloyds, NatWest, Santander, Nationwide, Monzo, "
                   "Starling) or a bank whose layout was mapped in the portal.")
@click.option("--account", default=None, help="The bank account's id, when the file does not name the account.")
@click.pass_context
def import_(ctx: click.Context, wallet: str, file: Path, bank_name: str | None, account: str | None) -> None:
    from wallet.bank import service
    from wallet.bank.csv_layouts import MappingNeeded
    from wallet.domain.errors import WalletError
    from wallet.domain.unit_of_work import SYSTEM
    from wallet.money import format_pence

    uow = _uow(ctx)
    wallet_id = _wallet_id(uow, wallet)
    try:
        summary = service.import_statement(uow, wallet_id, file.read_bytes(), file.name, actor=SYSTEM,
                                           bank=bank_name, account_id=account, progress=click.echo)
    except MappingNeeded as needed:
        click.echo(f"Error: {needed}. The columns are: {', '.join(h for h in needed.shape.raw_headers if h)}. "
                   "Map them once in the portal (Bank statements, Import), then name that bank with --bank.",
                   err=True)
        sys.exit(2)
    except WalletError as refused:
        click.echo(f"Error: {refused}. Nothing was imported.", err=True)
        sys.exit(2)
    click.echo(f"Imported {file.name} into {summary.account_label} ({summary.bank}, {summary.format}).")
    click.echo(f"  lines in the file: {summary.lines_in_file}")
    click.echo(f"  new:               {summary.new}")
    click.echo(f"  duplicate:         {summary.duplicate}")
    click.echo(f"  matched:           {summary.matched}")
    click.echo(f"  suggested:         {summary.suggested}")
    click.echo(f"  unmatched:         {summary.unmatched}")
    if summary.ignored:
        click.echo(f"  ignored (no money moved, or not booked): {summary.ignored}")
    if summary.rematched:
        click.echo(f"  older lines matched now: {summary.rematched}")
    for warning in summary.warnings:
        click.echo(f"Warning: {warning}", err=True)
    r = summary.reconciliation
    if r is not None:
        click.echo(f"Reconciliation on {r.on.isoformat()}: bank {format_pence(r.bank_balance)}, not through the "
                   f"bank yet {format_pence(r.not_through_bank)}, reconciled {format_pence(r.reconciled_balance)}, "
                   f"books {format_pence(r.ledger_balance)}, difference {format_pence(r.difference)}.")
        if summary.alert_raised:
            click.echo("The bank and the books differ: an alert has been raised.")


@click.group(help="Reports for budget holders and appointees.")
def report() -> None:
    pass


@report.command("monthly", help="WALLET's monthly report (its id or reference) for --month (default: last month).")
@click.argument("wallet")
@click.option("--month", default=None, help="YYYY-MM")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report as a PDF here.")
@click.option("--send", is_flag=True, help="Keep it as sent and leave a notice for the holder and each appointee.")
@click.pass_context
def monthly_cmd(ctx: click.Context, wallet: str, month: str | None, out: Path | None, send: bool) -> None:
    from wallet.domain.errors import WalletError
    from wallet.domain.unit_of_work import SYSTEM
    from wallet.reports import monthly

    uow = _uow(ctx)
    wallet_id = _wallet_id(uow, wallet)
    try:
        first = monthly.parse_month(month, uow.clock.now().date())
        r = monthly.monthly_report(uow, wallet_id, first, actor=SYSTEM)
    except WalletError as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"{r.title}\n{monthly.summary_words(r)}")
    if out is not None:
        write_whole(out, monthly.render_pdf(r))
        click.echo(f"Written to {out}.")
    if send:
        sent = monthly.send_monthly_report(uow, wallet_id, first)
        click.echo(f"Sent to {len(sent)} {'person' if len(sent) == 1 else 'people'} (notices left).")

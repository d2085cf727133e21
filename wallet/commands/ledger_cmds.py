"""`wallet ledger ...` commands: balances, statements and the integrity check."""
from __future__ import annotations

import sys

import click

from ledger.errors import LedgerError
from ledger.service import Ledger
from ledger.verify import verify as verify_books
from wallet.config import database_url
from wallet.database import open_database
from wallet.money import format_pence
from wallet.timeparse import end_of, last_moment_of, start_of


def _ledger(ctx: click.Context) -> Ledger:
    return Ledger(open_database(ctx.obj.get("database_url") or database_url()))


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@click.group(help="The double-entry ledger.")
def ledger() -> None:
    pass


@ledger.command(help="Recompute every balance and the hash chains; exit 1 on the first fault found.")
@click.pass_context
def verify(ctx: click.Context) -> None:
    report = verify_books(_ledger(ctx).db)
    counts = (f"{report.books} books, {report.entries} entries, {report.postings} postings, "
              f"{report.accounts} accounts, {report.holds} holds")
    if report.ok:
        click.echo(f"OK: {counts} checked; every balance and hash agrees.")
        return
    click.echo(f"FAULT: {report.fault}", err=True)
    click.echo(f"Checked before the fault: {counts}.", err=True)
    sys.exit(1)


@ledger.command(help="Show an account's balance now, or as of a past date or time (UK time).")
@click.argument("account")
@click.option("--as-of", "as_of", help="YYYY-MM-DD (end of that day) or YYYY-MM-DDTHH:MM")
@click.pass_context
def balance(ctx: click.Context, account: str, as_of: str | None) -> None:
    book = _ledger(ctx)
    try:
        if as_of:
            moment = last_moment_of(as_of)
            acct = book.account(account)
            click.echo(f"{account} as of {as_of}: {format_pence(book.balance_as_of(account, moment), acct.currency)}")
            return
        b = book.balance(account)
    except (LedgerError, ValueError) as exc:
        _fail(str(exc))
        return
    click.echo(f"{account}\n  posted:    {format_pence(b.posted, b.currency)}\n"
               f"  held:      {format_pence(b.held, b.currency)}\n"
               f"  available: {format_pence(b.available, b.currency)}")


@ledger.command(help="List an account's postings between two dates with running balances.")
@click.argument("account")
@click.option("--from", "start", required=True, help="first day, YYYY-MM-DD")
@click.option("--to", "end", required=True, help="last day, YYYY-MM-DD (included)")
@click.option("--page-size", default=500, show_default=True)
@click.pass_context
def statement(ctx: click.Context, account: str, start: str, end: str, page_size: int) -> None:
    book = _ledger(ctx)
    try:
        page = book.statement(account, start_of(start), end_of(end), limit=page_size)
    except (LedgerError, ValueError) as exc:
        _fail(str(exc))
        return
    cur = page.currency
    click.echo(f"Statement for {account}, {start} to {end}")
    click.echo(f"Opening balance: {format_pence(page.opening_balance, cur)}")
    closing = page.opening_balance
    while True:
        for line in page.lines:
            click.echo(f"{line.effective_at:%Y-%m-%d %H:%M}  {format_pence(line.amount, cur):>14}  "
                       f"{format_pence(line.balance, cur):>14}  {line.description}")
            closing = line.balance
        if not page.next_cursor:
            break
        page = book.statement(account, start_of(start), end_of(end), limit=page_size, cursor=page.next_cursor)
    click.echo(f"Closing balance: {format_pence(closing, cur)}")

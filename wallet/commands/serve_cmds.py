"""`wallet serve`: prepare the embedded database with demo data and show it."""
from __future__ import annotations

import click

from ledger.service import Ledger
from ledger.verify import verify
from wallet import database
from wallet.config import database_url
from wallet.demo import HOLDER, demo_accounts, load_demo
from wallet.money import format_pence


@click.command(help="Migrate the database, load the demo wallet and show its balances.")
@click.pass_context
def serve(ctx: click.Context) -> None:
    url = ctx.obj.get("database_url") or database_url()
    database.upgrade(url)
    ledger = Ledger(database.open_database(url))
    new = load_demo(ledger)
    click.echo(f"Demo wallet ready ({new} new entries). Balances for {HOLDER}:")
    for spec in demo_accounts():
        b = ledger.balance(spec.code)
        click.echo(f"  {spec.metadata['label']:<28} {format_pence(b.posted):>12}   ({spec.code})")
    report = verify(ledger.db)
    click.echo(f"Ledger check: {'OK' if report.ok else report.fault} ({report.entries} entries).")
    click.echo("\nTry:\n"
               f"  .venv/bin/wallet ledger statement {HOLDER}:cash --from 2025-04-01 --to 2026-03-31\n"
               f"  .venv/bin/wallet ledger balance {HOLDER}:cash --as-of 2025-12-25\n"
               "  .venv/bin/wallet ledger verify\n"
               "(The web portal comes in a later release; today this command prepares the database.)")

"""`wallet stripe ...`: the Stripe side of the books."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta, timezone

import click

from wallet.config import database_url
from wallet.database import open_database
from wallet.domain.unit_of_work import UnitOfWork
from wallet.stripe_gateway.client import StripeGateway
from wallet.stripe_gateway.errors import StripeGatewayError
from wallet.stripe_gateway.reconcile import reconcile as run_reconcile
from wallet.stripe_gateway.settings import stripe_config


@click.group(help="Stripe: cards, payments in, and reconciliation with the ledger.")
def stripe() -> None:
    pass


@stripe.command(help="Compare Stripe's balance transactions with the ledger for the days FROM up to (not "
                     "including) TO, and list every difference. Exit 1 if there is any.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (UTC), YYYY-MM-DD; default yesterday.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Day after the last (UTC), YYYY-MM-DD; default the day after FROM.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def reconcile(ctx: click.Context, start: datetime | None, end: datetime | None, as_json: bool) -> None:
    config = stripe_config()
    if config is None:
        click.echo("Error: Stripe is not configured (set WALLET_STRIPE_SECRET_KEY).", err=True)
        sys.exit(2)
    first = start.date() if start else date.today() - timedelta(days=1)
    last = end.date() if end else first + timedelta(days=1)
    if last <= first:
        click.echo("Error: --to must be after --from.", err=True)
        sys.exit(2)
    db = open_database(ctx.obj.get("database_url") or database_url())
    try:
        report = run_reconcile(UnitOfWork(db), StripeGateway(config),
                               start=datetime.combine(first, datetime.min.time(), tzinfo=timezone.utc),
                               end=datetime.combine(last, datetime.min.time(), tzinfo=timezone.utc))
    except StripeGatewayError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo("\n".join(report.lines()))
    sys.exit(0 if report.ok else 1)

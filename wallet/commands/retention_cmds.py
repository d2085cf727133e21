"""`wallet retention report|apply`: the data-retention policy (``wallet.retention``) for an operator.

The scheduler applies the policy on the 1st of each month by itself; these commands show what it would do on a
given day, or do it now.
"""
from __future__ import annotations

import sys
from datetime import date, datetime, timezone

import click

from ledger.clock import to_us


def _today(text: str | None) -> date:
    if text is None:
        return datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (use YYYY-MM-DD)", param_hint="--today") from None


def _database(ctx: click.Context):
    from wallet.config import database_url
    from wallet.database import open_database

    root = ctx.find_root()
    database = open_database((root.obj or {}).get("database_url") or database_url())
    root.call_on_close(database.dispose)
    return database


_TODAY = click.option("--today", "today_text", default=None,
                      help="The day to apply the policy as (YYYY-MM-DD; default: today, UTC).")


@click.group(help="Data retention: what is kept, deleted or erased once its keeping period is over.")
def retention() -> None:
    pass


@retention.command(help="Show what the policy keeps, deletes and erases as of a day. Changes nothing.")
@_TODAY
@click.pass_context
def report(ctx: click.Context, today_text: str | None) -> None:
    from wallet import retention as policy

    today = _today(today_text)
    found = policy.report(_database(ctx), today)
    c = found.cutoffs
    click.echo(f"Retention as of {today.isoformat()}:")
    click.echo(f"  personal data dated before {c.age.isoformat()} is over six years old;")
    click.echo(f"  tax years ended on or before {c.tax_year.isoformat()} are past their six-year keeping period.")
    verbs = {policy.Action.KEEP: "kept", policy.Action.DELETE: "to delete", policy.Action.ERASE: "to erase"}
    for line in found.lines:
        click.echo(f"{line.count:>10}  {verbs[line.rule.action]:<9}  {line.rule.words} "
                   f"({line.rule.basis.value})")


@retention.command(help="Delete and erase what the policy says is past its keeping period (in batches).")
@_TODAY
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1),
              help="Rows changed per transaction.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def apply(ctx: click.Context, today_text: str | None, batch_size: int, yes: bool) -> None:
    from wallet import retention as policy

    today = _today(today_text)
    if not yes:
        click.confirm(f"Delete personal data dated before {policy.age_cutoff(today).isoformat()} and erase "
                      "leavers' sealed details past their keeping period? This cannot be undone", abort=True)
    try:
        result = policy.apply(_database(ctx), today, now_us=to_us(datetime.now(timezone.utc)),
                              batch_size=batch_size)
    except policy.RetentionRefused as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(policy.summary(result))

"""The `wallet` console command.

Each area contributes a click group from ``wallet/commands/``; this module only assembles them.
"""
from __future__ import annotations

import errno
import sys

import click

from wallet.commands import backup_cmds, db_cmds, hmrc_cmds, ledger_cmds, payroll_cmds, serve_cmds
from wallet.commands import scheduler_cmds
from wallet.commands import bank_cmds
from wallet.commands import evidence_cmds
from wallet.commands import stripe_cmds
from wallet.commands import keys_cmds
from wallet.commands import payment_batch_cmds
from wallet.commands import retention_cmds


@click.group(help="Care wallet: personal budgets, payroll and HMRC reporting.")
@click.option("--database-url", envvar="WALLET_DATABASE_URL", default=None,
              help="SQLAlchemy URL of the database (default: SQLite file in ./instance).")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url


cli.add_command(db_cmds.db)
cli.add_command(ledger_cmds.ledger)
cli.add_command(payroll_cmds.payroll)
cli.add_command(hmrc_cmds.hmrc)
cli.add_command(serve_cmds.serve)
cli.add_command(backup_cmds.backup)
cli.add_command(backup_cmds.restore)
cli.add_command(serve_cmds.demo_code)
cli.add_command(scheduler_cmds.scheduler)
cli.add_command(bank_cmds.bank)
cli.add_command(bank_cmds.report)
cli.add_command(evidence_cmds.evidence)
cli.add_command(stripe_cmds.stripe)
cli.add_command(keys_cmds.keys)
cli.add_command(payment_batch_cmds.payments)
cli.add_command(retention_cmds.retention)


# A full disk (or a quota, or a file-size limit) is the machine's state, not a fault of the command: say so plainly.
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def main() -> None:
    try:
        cli(prog_name="wallet")
    except OSError as failed:
        if failed.errno not in _NO_ROOM:
            raise
        where = f" to {failed.filename}" if failed.filename else ""
        click.echo(f"Error: there is no room on the disk to write{where} ({failed.strerror}). Free some space, "
                   "then run the command again; any file it had begun is incomplete.", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

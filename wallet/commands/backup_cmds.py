"""`wallet backup FILE` and `wallet restore FILE`."""
from __future__ import annotations

from pathlib import Path

import click

from wallet.config import database_url


@click.command(help="Back up the whole database to FILE (with FILE.manifest.json beside it).")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, file: Path) -> None:
    from wallet import backup as backups

    try:
        manifest = backups.backup(ctx.obj.get("database_url") or database_url(), file)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up {manifest.entries} ledger entries in {manifest.books} books to {file} "
               f"({manifest.bytes:,} bytes, SHA-256 {manifest.sha256[:16]}...).")


@click.command(help="Replace the database with the backup FILE, then verify the ledger. Stop the service first.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore(ctx: click.Context, file: Path, yes: bool) -> None:
    from wallet import backup as backups

    if not yes:
        click.confirm("This replaces everything in the database with the backup. Continue?", abort=True)
    try:
        manifest, report = backups.restore(ctx.obj.get("database_url") or database_url(), file)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if not report.ok:
        raise click.ClickException(f"restored, but the ledger check failed: {report.fault}")
    click.echo(f"Restored {manifest.entries} ledger entries in {manifest.books} books from {file}; "
               "ledger check: OK.")

"""`wallet db ...` commands."""
from __future__ import annotations

import click

from wallet import database
from wallet.config import database_url


@click.group(help="Database set-up and migrations.")
def db() -> None:
    pass


@db.command("upgrade", help="Create the database or migrate it to the newest schema.")
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    url = ctx.obj.get("database_url") or database_url()
    database.upgrade(url)
    click.echo(f"Database is up to date ({_redact(url)}).")


def _redact(url: str) -> str:
    """Never print a password: keep the scheme, host and database name only."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)

"""`wallet serve`: migrate the database, load the demo wallets with a sign-in per role, and serve the portal.

`wallet demo-code EMAIL` prints the current two-step sign-in code of a demo account, so a newcomer can sign in
as an appointee, staff member or auditor without an authenticator app.
"""
from __future__ import annotations

import click

from wallet import database
from wallet.config import database_url


def _app(ctx: click.Context):
    from wallet.web import create_app

    return create_app({"DATABASE_URL": ctx.obj.get("database_url") or database_url()})


@click.command(help="Migrate the database, load the demo wallets (with one sign-in per role) and serve the portal "
                    "on this machine. For production, serve wallet.web:create_app() with gunicorn on PostgreSQL.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="Do not load the demo wallets.")
@click.option("--prepare-only", is_flag=True, help="Migrate and load the demo, then stop (do not serve).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_demo: bool, prepare_only: bool) -> None:
    from ledger.verify import verify
    from wallet.web.auth import credentials
    from wallet.web.context import uow
    from wallet.web.demo_logins import DEMO_PASSWORD, load_demo_with_logins

    url = ctx.obj.get("database_url") or database_url()
    database.upgrade(url)
    app = _app(ctx)
    with app.app_context():
        if not no_demo:
            click.echo("Loading the demo wallets (the first time takes a few seconds)...")
            summary, logins = load_demo_with_logins(uow(), credentials())
            _print_logins(logins, DEMO_PASSWORD)
            wallet_id = summary.wallets["asha"]
            click.echo("\nThe books, from the command line:")
            click.echo(f"  .venv/bin/wallet ledger statement wallet-{wallet_id}:cash:s1 --from 2025-04-01 "
                       "--to 2026-03-31")
            click.echo(f"  .venv/bin/wallet ledger balance wallet-{wallet_id}:cash:s1 --as-of 2025-12-25")
        report = verify(uow().db)
        click.echo(f"  .venv/bin/wallet ledger verify      "
                   f"(now: {'OK' if report.ok else report.fault}, {report.entries} entries)")
    if prepare_only:
        return
    click.echo(f"\nThe portal is at http://{host}:{port}/ (press Ctrl+C to stop).")
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)


def _print_logins(logins, password: str) -> None:
    click.echo(f"\nSign in at the portal as any of these people; the password is: {password}")
    width = max(len(l.email) for l in logins)
    role_width = max(len(l.role) for l in logins)
    for login in logins:
        code = "  + code: .venv/bin/wallet demo-code " + login.email if login.two_factor else ""
        click.echo(f"  {login.role.replace('_', ' '):<{role_width}} {login.email:<{width}}{code}")


@click.command("demo-code", help="Print the current two-step sign-in code of a demo account.")
@click.argument("email")
@click.pass_context
def demo_code(ctx: click.Context, email: str) -> None:
    from wallet.web.auth import credentials
    from wallet.web.auth.credentials import SignInRefused

    with _app(ctx).app_context():
        try:
            click.echo(credentials().current_code(email))
        except SignInRefused as exc:
            raise click.ClickException(str(exc)) from exc

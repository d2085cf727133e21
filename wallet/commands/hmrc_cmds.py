"""`wallet hmrc ...` commands."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click


@click.group(help="HMRC Real Time Information submissions and year-end documents.")
def hmrc() -> None:
    pass


@hmrc.command("irmark", help="Show the IRmark of an RTI message FILE and whether the one it carries is right.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--write", is_flag=True, help="Put the computed IRmark into the file.")
def irmark_cmd(file: Path, write: bool) -> None:
    from hmrc_export.irmark import IRmarkError, compute_irmark, insert_irmark, stated_irmark

    message = file.read_bytes()  # bytes: whitespace inside Body is part of the IRmark
    try:
        mark = compute_irmark(message)
    except IRmarkError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"IRmark (base64, as in the message): {mark.base64}")
    click.echo(f"IRmark (base32, to show people):    {mark.base32}")
    if write:
        file.write_bytes(insert_irmark(message))
        click.echo(f"written into {file}")
        return
    stated = stated_irmark(message)
    if stated is None:
        click.echo("the message carries no IRmark element")
        sys.exit(1)
    if stated != mark.base64:
        click.echo(f"the message carries {stated!r}: WRONG")
        sys.exit(1)
    click.echo("the message's IRmark is correct")


@hmrc.command("validate", help="Check an RTI message FILE against HMRC's schema and business rules.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date the rules treat as today (default: today).")
def validate_cmd(file: Path, today) -> None:
    from hmrc_export.validate import find_problems

    problems = find_problems(file.read_bytes(), today=today.date() if today else date.today())
    if not problems:
        click.echo(f"{file}: no problems found")
        return
    click.echo(f"{file}: {len(problems)} problem(s) to fix before sending:")
    for problem in problems:
        click.echo(f"  - {problem}")
    sys.exit(1)


@hmrc.command("submit", help="Send an RTI message FILE to HMRC and wait for the answer. The gateway address and "
                             "credentials come from HMRC_GATEWAY_URL, HMRC_SENDER_ID, HMRC_PASSWORD and "
                             "HMRC_TEST_IN_LIVE.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("instance/hmrc"),
              show_default=True, help="Folder where submissions and HMRC's answers are recorded.")
def submit_cmd(file: Path, store_dir: Path) -> None:
    from hmrc_export.gateway import FileStore, GatewayClient, GatewayConfig
    from hmrc_export.validate import find_problems

    message = file.read_bytes()
    problems = find_problems(message)
    if problems:
        raise click.ClickException("not sent:\n" + "\n".join(f"  - {p}" for p in problems))
    client = GatewayClient(GatewayConfig.from_env(), FileStore(store_dir))
    done = client.submit(message)
    click.echo(f"{done.id}: {done.state.value} (correlation id {done.correlation_id})")
    for error in done.errors:
        click.echo(f"  HMRC: {error}")


@hmrc.command("resume", help="Finish submissions left pending (for example after a crash) by polling HMRC.")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("instance/hmrc"),
              show_default=True)
def resume_cmd(store_dir: Path) -> None:
    from hmrc_export.gateway import FileStore, GatewayClient, GatewayConfig

    for done in GatewayClient(GatewayConfig.from_env(), FileStore(store_dir)).resume_pending():
        click.echo(f"{done.id}: {done.state.value} (correlation id {done.correlation_id or 'unknown: check with HMRC'})")

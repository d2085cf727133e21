"""`wallet keys`: make a new encryption key, re-seal everything under it, and retire the old ones.

What is sealed at rest: PAs' NI numbers and bank details (payroll), people's two-factor secrets (sign-in), and
the bank accounts of suppliers paid by bank and of payment batch lines (``wallet.domain.sealed_columns``).
Keys are Fernet keys, newest first, from WALLET_ENCRYPTION_KEYS or, on the embedded default, from
``instance/encryption.key``. Rotation is three steps, each safe to repeat: ``new`` puts a fresh key first
(new values are sealed with it at once, old ones still open with the keys after it), ``rotate`` re-seals every
stored value under it, and ``retire`` drops the older keys once ``check`` finds nothing that needs them.
"""
from __future__ import annotations

import os
import sys

import click

from wallet import config
from wallet.domain import sealed_columns


@click.group(help="Encryption keys for NI numbers, bank details and two-factor secrets.")
def keys() -> None:
    pass


@keys.command("new", help="Make a new key and put it first (the embedded default's key file), or print one "
                          "to put first in WALLET_ENCRYPTION_KEYS.")
def new_key() -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    if os.environ.get("WALLET_ENCRYPTION_KEYS"):
        click.echo(key.decode("ascii"))
        click.echo("Put this key first in WALLET_ENCRYPTION_KEYS, keep the present keys after it, restart the "
                   "service and the scheduler, then run `wallet keys rotate`.", err=True)
        return
    path = config.key_file()
    _write_keys(path, [key, *config.encryption_keys()])
    click.echo(f"A new key is first in {path}; the older keys still open what they sealed. "
               "Next: `wallet keys rotate`.")


@keys.command("rotate", help="Re-seal every stored secret under the newest key.")
@click.pass_context
def rotate(ctx: click.Context) -> None:
    payroll, credentials = _stores(ctx)
    employees = payroll.rotate_encryption(actor="wallet keys rotate")
    secrets = credentials.rotate_sealed()
    accounts = sealed_columns.rotate_sealed(credentials.engine, credentials.cipher)
    others = "".join(f", {n} {words}" for words, n in accounts.items())
    click.echo(f"Re-sealed under the newest key: {employees} PAs' NI numbers and bank details, "
               f"{secrets} two-factor secrets{others}.")
    _report(payroll, credentials)


@keys.command("check", help="Exit 0 when every stored secret opens with the newest key alone.")
@click.pass_context
def check(ctx: click.Context) -> None:
    payroll, credentials = _stores(ctx)
    if not _report(payroll, credentials):
        sys.exit(1)


@keys.command("retire", help="Remove the older keys from the embedded default's key file, once nothing "
                             "needs them.")
@click.pass_context
def retire(ctx: click.Context) -> None:
    if os.environ.get("WALLET_ENCRYPTION_KEYS"):
        _fail("the keys come from WALLET_ENCRYPTION_KEYS: when `wallet keys check` says OK, remove every key but "
              "the first from it and restart")
    payroll, credentials = _stores(ctx)
    if not _report(payroll, credentials):
        _fail("older keys are still needed: run `wallet keys rotate` first")
    keys_now = config.encryption_keys()
    _write_keys(config.key_file(), keys_now[:1])
    click.echo(f"Retired {len(keys_now) - 1} older key(s); {config.key_file()} holds the newest only.")


def _report(payroll, credentials) -> bool:
    waiting = (payroll.sealed_with_older_keys() + credentials.sealed_with_older_keys()
               + sealed_columns.sealed_with_older_keys(credentials.engine, credentials.cipher))
    if waiting:
        click.echo(f"{waiting} stored secrets still need an older key: keep every key until "
                   "`wallet keys rotate` has run.")
        return False
    click.echo("OK: every stored secret opens with the newest key; older keys may be retired.")
    return True


def _stores(ctx: click.Context):
    from payroll.sealed import FieldCipher, SealedFieldError
    from payroll.service import PayrollService
    from wallet.database import open_database
    from wallet.web.auth.credentials import Credentials

    root = ctx.find_root()
    try:
        cipher = FieldCipher(config.encryption_keys())
    except (SealedFieldError, ValueError) as exc:
        _fail(str(exc))
    database = open_database((root.obj or {}).get("database_url") or config.database_url())
    root.call_on_close(database.dispose)
    return PayrollService(database.engine, cipher), Credentials(database.engine, cipher)


def _write_keys(path, keys_newest_first: list[bytes]) -> None:
    """Replace the key file whole (a private temporary file, then a rename), so a reader never sees half."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"".join(k + b"\n" for k in keys_newest_first))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)

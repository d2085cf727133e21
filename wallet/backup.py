"""Back up and restore the whole database, and prove the restored books are intact.

SQLite: SQLite's online backup API copies a consistent snapshot while the service runs. PostgreSQL: ``pg_dump``
in its custom format (consistent by snapshot), restored with ``pg_restore``. Each backup gets a manifest beside
it (``<file>.manifest.json``: engine, size, SHA-256, schema revision, ledger counts) and a restore refuses a file
whose checksum no longer matches. After a restore the ledger is verified (balances and hash chains) before the
command reports success. Passwords go to the PostgreSQL tools through the environment, never the command line.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from ledger.db import Database
from ledger.verify import VerifyReport, verify


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class Manifest:
    engine: str
    file: str
    bytes: int
    sha256: str
    schema: str | None
    entries: int
    books: int
    made_at: str

    @classmethod
    def read(cls, backup: Path) -> "Manifest":
        path = manifest_path(backup)
        if not path.exists():
            raise BackupError(f"{path.name} is missing: a backup without its manifest cannot be checked")
        return cls(**json.loads(path.read_text()))


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".manifest.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_tool(name: str) -> str:
    bin_dir = os.environ.get("PG_BIN")
    found = str(Path(bin_dir) / name) if bin_dir else shutil.which(name)
    if not found or not Path(found).exists():
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools; the password only in the child's environment."""
    args = ["--dbname", url.database or "", "--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _counts(db: Database) -> tuple[str | None, int, int]:
    with db.engine.connect() as conn:
        schema = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        entries = conn.execute(text("SELECT count(*) FROM ledger_entry")).scalar_one()
        books = conn.execute(text("SELECT count(*) FROM ledger_book")).scalar_one()
    return schema, entries, books


def backup(url: str, destination: Path) -> Manifest:
    """Write a consistent backup of the database at ``url`` to ``destination``, with its manifest."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    parsed = make_url(url)
    db = Database(url)
    try:
        schema, entries, books = _counts(db)
        if parsed.get_backend_name() == "sqlite":
            source = sqlite3.connect(parsed.database)
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            args, env = _pg_args(parsed)
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), *args], env,
                 "pg_dump")
    finally:
        db.dispose()
    partial.replace(destination)   # a backup file is whole or absent
    manifest = Manifest(parsed.get_backend_name(), destination.name, destination.stat().st_size,
                        _sha256(destination), schema, entries, books,
                        datetime.now(timezone.utc).isoformat(timespec="seconds"))
    manifest_path(destination).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def restore(url: str, source: Path) -> tuple[Manifest, VerifyReport]:
    """Replace the database at ``url`` with the backup ``source``, then verify the ledger.

    The service must be stopped first. SQLite: the file is replaced in one rename. PostgreSQL: the objects in the
    target database are dropped and recreated from the dump (in one transaction).
    """
    source = Path(source)
    manifest = Manifest.read(source)
    if _sha256(source) != manifest.sha256:
        raise BackupError(f"{source.name} does not match its manifest's checksum: it was changed or damaged; "
                          "nothing was restored")
    parsed = make_url(url)
    if parsed.get_backend_name() != manifest.engine:
        raise BackupError(f"this is a {manifest.engine} backup; it cannot be restored into {parsed.get_backend_name()}")
    if manifest.engine == "sqlite":
        target = Path(parsed.database)
        staging = target.with_name(target.name + ".restoring")
        shutil.copyfile(source, staging)
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        staging.replace(target)
    else:
        args, env = _pg_args(parsed)
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", *args, str(source)], env, "pg_restore")
    db = Database(url)
    try:
        report = verify(db)
        schema, entries, books = _counts(db)
    finally:
        db.dispose()
    if (schema, entries, books) != (manifest.schema, manifest.entries, manifest.books):
        raise BackupError(f"the restored database has {entries} entries in {books} books (schema {schema}); the "
                          f"backup recorded {manifest.entries} in {manifest.books} (schema {manifest.schema})")
    return manifest, report


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        # The tools' own message, which names no password (it was never on the command line).
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")

"""A throwaway PostgreSQL cluster for tests and benchmarks.

PostgreSQL refuses to run as root, and CI runs as root, so the server is started as an unprivileged user
(``postgres`` if the Debian package made one, otherwise ``nobody``) in a private temporary directory,
listening only on 127.0.0.1 and a Unix socket inside that directory.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def server_bin_dir() -> Path | None:
    """Where initdb and pg_ctl live, or None when no PostgreSQL server is installed."""
    env = os.environ.get("PG_BIN")
    candidates = [Path(env)] if env else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists() and (c / "postgres").exists():
            return c
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self, bin_dir: Path, durable: bool = False):
        self.bin_dir = bin_dir
        self.durable = durable
        self.port = _free_port()
        self.base = Path(tempfile.mkdtemp(prefix="wallet-pg-"))
        self.data = self.base / "data"
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.base, user=self.user)
            os.chmod(self.base, 0o700)

    def _run(self, *args: str) -> None:
        result = subprocess.run(args, user=self.user, cwd=self.base, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stderr or result.stdout}")

    def start(self) -> "PostgresCluster":
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        return self._serve()

    def follow(self, primary: "PostgresCluster") -> "PostgresCluster":
        """Start as a hot standby of ``primary``: a base backup, then streaming replication (read-only)."""
        self._run(str(self.bin_dir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                  "-D", str(self.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        return self._serve()

    def query(self, sql: str) -> object:
        """The first value of the first row of ``sql``, run on the ``postgres`` database."""
        with self._connect() as conn:
            return conn.execute(sql).fetchone()[0]

    def _serve(self) -> "PostgresCluster":
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.base}",
                   "-c max_connections=200", "-c shared_buffers=256MB"]
        if not self.durable:
            # Tests need no crash safety from a cluster that is deleted afterwards.
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"),
                  "-o", " ".join(options), "-w", "-t", "60", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        with self._connect() as conn:
            conn.execute(sql)

    def _connect(self):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True)

    def restart(self) -> None:
        # With its log file named: otherwise the new server keeps this call's output pipe open, and waits on it.
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"),
                  "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False

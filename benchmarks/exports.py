"""The CSV (and JSON) export of one big wallet: rows per second and peak memory. Prints one JSON document.

    .venv/bin/python -m benchmarks.exports                                  # builds a throwaway SQLite database
    .venv/bin/python -m benchmarks.exports --database /tmp/exports.db       # builds it once, reuses it after
    .venv/bin/python -m benchmarks.exports --postgres                       # a throwaway PostgreSQL cluster
    .venv/bin/python -m benchmarks.exports --database postgresql+psycopg://user@host:port/db   # build/reuse
    .venv/bin/python -m benchmarks.exports --rows 100000                    # smaller: checks it runs

The wallet: one holder, two funders (``s1``, ``s2``), ``--rows`` entries (default 1,000,000) posted straight into
the ledger with ``post_batch_fast``, each moving money in or out of one funder's cash account, so the export of
the whole wallet has ``--rows`` lines and the ledger ``2 × --rows`` postings. Four entries share each moment (two
funders: the export merges them), spread over three years; one description in a hundred starts with ``=`` or
``-`` (the CSV's formula protection has work to do); every entry has a reference.

Measured, each alone in this process:

* ``writer``: ``stream_export`` (the bytes the portal sends: a ZIP with the CSV and its manifest) consumed
  directly, for CSV and for the JSON bundle;
* ``http``: ``GET /wallets/<id>/exports/download?format=csv`` through the Flask test client, streamed
  (``buffered=False``), as the auditor's browser would download it, signed in as the holder.

For each: rows per second (lines of the period ÷ seconds from the request to the last byte), time to the first
byte, peak Python allocations (tracemalloc, in a separate pass: tracing slows Python down, so the timed pass runs
without it) and the process's resident set (peak over a baseline, sampled every 10 ms, plus ``VmHWM``). Each
download is then opened and checked: the CSV's line count and SHA-256 against its manifest.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.parse
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import func, select

from ledger.db import Database
from ledger.model import EntryRequest, Posting
from ledger.tables import account_t, posting_t
from wallet import database as wallet_database
from wallet.domain import people, wallets
from wallet.domain.chart import Category, WalletChart
from wallet.domain.tables import user_t, wallet_t
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork

REFERENCE = "bench-exports"
EMAIL = "exports-holder@example.org"
PASSWORD = "benchmark password 1"
ENCRYPTION_KEY = base64.urlsafe_b64encode(b"exports-benchmark-not-a-secret!!").decode()
"""A fixed key, so that a database built once can be reused by later runs (benchmark data only)."""
BATCH = 5_000
YEARS = 3


# ---------------------------------------------------------------------------------------------- building
def _find(db: Database) -> dict | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(wallet_t.c.uuid, wallet_t.c.plan_start, user_t.c.uuid.label("user"))
                           .join(user_t, user_t.c.id == wallet_t.c.holder_user_id)
                           .where(wallet_t.c.reference == REFERENCE)).first()
        if row is None:
            return None
        book = WalletChart.book_for(row.uuid)
        cash = conn.execute(select(account_t.c.id).where(account_t.c.code.like(f"{book}:cash:%"))).scalars().all()
        rows = conn.execute(select(func.count()).select_from(posting_t)
                            .where(posting_t.c.account_id.in_(cash))).scalar_one()
    return {"wallet": row.uuid, "user": row.user, "plan_start": row.plan_start.isoformat(), "rows": rows}


def _requests(chart: WalletChart, start: datetime, lo: int, hi: int, n: int) -> list[EntryRequest]:
    span_us = 365 * YEARS * 86_400_000_000
    out = []
    for i in range(lo, hi):
        when = start + timedelta(microseconds=span_us * (i // 4) * 4 // n)   # four entries at each moment
        kind = i % 4
        if kind in (0, 2):
            s, amount = ("s1", 2_000) if kind == 0 else ("s2", 700)
            postings = (Posting.debit(chart.cash(s), amount), Posting.credit(chart.funding(s), amount))
            what = "Money received from Leeds adult social care" if s == "s1" else "Own contribution"
        else:
            s, amount, cat = ("s1", 1_234 + i % 500, Category.ACTIVITIES) if kind == 1 else \
                ("s2", 450, Category.TRANSPORT)
            postings = (Posting.debit(chart.spend(cat, s), amount), Posting.credit(chart.cash(s), amount))
            what = ("=Taxi to the day centre" if i % 200 == 1 else "-Bus pass" if i % 200 == 3
                    else f"Payment to Leeds Leisure, booking {i}")
        out.append(EntryRequest(f"{chart.book}:bench:{i}", postings, description=what, effective_at=when,
                                reference=f"INV-{i:07d}"))
    return out


def build(url: str, rows: int) -> dict:
    """The wallet and its history; returns what ``_find`` finds. Resumes a build that was cut short."""
    wallet_database.upgrade(url)
    db = Database(url, sqlite_synchronous="OFF")       # a bulk load: durability is not what is measured
    uow = UnitOfWork(db)
    found = _find(db)
    t0 = time.perf_counter()
    if found is None:
        today = datetime.now(timezone.utc).date()
        user = people.create_user(uow, name="Export Holder", email=EMAIL)
        w = wallets.open_wallet(uow, holder=user.id, name="Big export", budget_kind="direct_payment",
                                plan_start=today - timedelta(days=365 * YEARS), reference=REFERENCE)
        for kind, ref, label in (("council_adult_services", "council:leeds", "Leeds adult social care"),
                                 ("client_contribution", "holder", "Own contribution")):
            wallets.set_funding_stream(uow, w.id, kind=kind, funder_ref=ref, label=label, schedule="four_weekly",
                                       amount=1, starts=w.plan_start, actor=SYSTEM)
        found = _find(db)
    assert found is not None
    chart = WalletChart(WalletChart.book_for(found["wallet"]))
    start = datetime.combine(date.fromisoformat(found["plan_start"]), datetime.min.time(), tzinfo=timezone.utc)
    done = found["rows"]
    for lo in range(done - done % BATCH, rows, BATCH):
        uow.ledger.post_batch_fast(_requests(chart, start, lo, min(lo + BATCH, rows), rows))
        if lo // BATCH % 20 == 0:
            print(f"built {lo + BATCH:,} of {rows:,} entries ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    found = _find(db)
    assert found is not None
    found["build_seconds"] = round(time.perf_counter() - t0, 1)
    db.dispose()
    return found


# ---------------------------------------------------------------------------------------------- measuring
def _status_kib(field: str) -> int | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets the process's peak resident set (VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _consume(chunks: Callable[[], Iterable[bytes]], out: Any, trace: bool) -> dict:
    """Drain an export into ``out``: seconds, first byte, bytes, chunks, and memory."""
    rss_before = _status_kib("VmRSS") or 0
    peak_reset = _reset_peak_rss()
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    t0 = time.perf_counter()
    first = None
    size = n = 0
    try:
        for chunk in chunks():
            if first is None:
                first = time.perf_counter() - t0
            out.write(chunk)
            size += len(chunk)
            n += 1
        took = time.perf_counter() - t0
        traced = tracemalloc.get_traced_memory()[1] if trace else None
    finally:
        if trace:
            tracemalloc.stop()
    hwm = _status_kib("VmHWM") if peak_reset else None
    return {"seconds": took, "first_byte_ms": round((first or 0) * 1000), "bytes": size, "chunks": n,
            "python_peak_mib": None if traced is None else round(traced / 2**20, 1),
            "rss_before_mib": round(rss_before / 1024, 1),
            "rss_peak_mib": None if hwm is None else round(hwm / 1024, 1),
            "rss_growth_mib": None if hwm is None else round((hwm - rss_before) / 1024, 1)}


def _check(path: Path, fmt: str) -> dict:
    """Open the download as a reader would: the CSV's lines and SHA-256 (streamed) against the manifest."""
    if fmt == "json":
        manifest = None
        with path.open("rb") as f:     # the manifest is on the bundle's last line
            f.seek(max(0, path.stat().st_size - (1 << 16)))
            tail = f.read().decode("utf-8")
        m = json.loads(re.search(r',"manifest":(\{.*\})\}\s*$', tail).group(1))
        return {"manifest_rows": m["row_count"], "closing_balance": m["closing_balance"]}
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        digest, lines = hashlib.sha256(), 0
        with z.open("transactions.csv") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
                lines += block.count(b"\n")
    facts = manifest["files"][0]
    return {"manifest_rows": manifest["row_count"], "csv_rows": lines - 1,
            "sha256_matches": digest.hexdigest() == facts["sha256"], "csv_mib": round(facts["bytes"] / 2**20, 1),
            "zip_mib": round(path.stat().st_size / 2**20, 1)}


def _measure(name: str, fmt: str, chunks: Callable[[], Iterable[bytes]], rows: int, trace: bool) -> dict:
    with tempfile.NamedTemporaryFile(prefix=f"exports-{name}-", delete=False) as out:
        path = Path(out.name)
        timed = _consume(chunks, out, trace=False)
    try:
        checked = _check(path, fmt)
    finally:
        path.unlink()
    result = {"format": fmt, "rows": rows, "rows_per_second": round(rows / timed["seconds"]),
              "seconds": round(timed["seconds"], 2), **{k: v for k, v in timed.items() if k != "seconds"},
              "check": checked}
    result.pop("python_peak_mib")
    if trace:
        with tempfile.TemporaryFile() as out:
            traced = _consume(chunks, out, trace=True)
        result["python_peak_mib"] = traced["python_peak_mib"]
        result["seconds_with_tracemalloc"] = round(traced["seconds"], 2)
    print(f"{name} {fmt}: {result['rows_per_second']:,} rows/s", file=sys.stderr)
    return result


def _period(found: dict) -> tuple[date, date]:
    return date.fromisoformat(found["plan_start"]), datetime.now(timezone.utc).date()


def measure_writer(url: str, found: dict, fmt: str, trace: bool) -> dict:
    from wallet.exports import plan_export, stream_export

    db = Database(url)
    uow = UnitOfWork(db)
    first, last = _period(found)

    def chunks() -> Iterable[bytes]:
        plan = plan_export(uow, found["wallet"], actor=found["user"], fmt=fmt, first_day=first, last_day=last)
        return stream_export(db, plan)

    try:
        return _measure("writer", fmt, chunks, found["rows"], trace)
    finally:
        db.dispose()


def measure_http(url: str, found: dict, trace: bool) -> dict:
    """The portal's download route through Flask's test client, streamed chunk by chunk as a server sends it."""
    from wallet.web import create_app
    from wallet.web.auth import credentials

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "exports-benchmark", "ENCRYPTION_KEYS": [ENCRYPTION_KEY],
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        creds = credentials()
        if not creds.exists(EMAIL):
            creds.create(found["user"], EMAIL, PASSWORD, two_factor_required=False)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed = client.post("/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    if signed.status_code != 302:
        raise RuntimeError(f"sign-in failed: {signed.status_code}")
    first, last = _period(found)
    query = urllib.parse.urlencode({"format": "csv", "start": first.isoformat(), "end": last.isoformat()})

    def chunks() -> Iterable[bytes]:
        response = client.get(f"/wallets/{found['wallet']}/exports/download?{query}", buffered=False)
        if response.status_code != 200:
            raise RuntimeError(f"download failed: {response.status_code}")
        try:
            yield from response.response
        finally:
            response.close()

    result = _measure("http", "csv", chunks, found["rows"], trace)
    result["endpoint"] = "GET /wallets/<id>/exports/download?format=csv (Flask test client, buffered=False)"
    return result


def run(url: str, engine: str, rows: int, formats: list[str], trace: bool, http: bool) -> dict:
    found = build(url, rows)
    out: dict[str, Any] = {"engine": engine, "rows": found["rows"], "postings": found["rows"] * 2,
                           "build_seconds": found["build_seconds"], "writer": {}}
    for fmt in formats:
        out["writer"][fmt] = measure_writer(url, found, fmt, trace)
    if http:
        out["http"] = measure_http(url, found, trace)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database", help="a SQLite file or a PostgreSQL URL: built on first use, reused after")
    ap.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster (built each run)")
    ap.add_argument("--rows", type=int, default=1_000_000, help="entries, and so lines of the export")
    ap.add_argument("--formats", default="csv,json", help="formats through the writer (csv, json, xlsx)")
    ap.add_argument("--no-http", action="store_true", help="skip the download through the portal's route")
    ap.add_argument("--no-tracemalloc", action="store_true", help="skip the (slow) traced pass of each")
    args = ap.parse_args()
    cluster = None
    workdir = None
    if args.postgres:
        from tests.support.postgres import PostgresCluster, server_bin_dir

        bin_dir = server_bin_dir()
        if bin_dir is None:
            sys.exit("no PostgreSQL server installed")
        cluster = PostgresCluster(bin_dir).start()
        cluster.execute("CREATE DATABASE exports")
        url = cluster.url("exports")
    elif args.database:
        url = args.database if "://" in args.database else f"sqlite:///{Path(args.database).resolve()}"
    else:
        workdir = Path(tempfile.mkdtemp(prefix="exports-bench-"))
        url = f"sqlite:///{workdir / 'exports.db'}"
    engine = "postgresql" if url.startswith("postgresql") else "sqlite"
    try:
        result = run(url, engine, args.rows, [f for f in args.formats.split(",") if f],
                     trace=not args.no_tracemalloc, http=not args.no_http)
    finally:
        if cluster is not None:
            cluster.stop()
        if workdir is not None:
            for p in workdir.iterdir():
                p.unlink()
            workdir.rmdir()
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                         "platform": platform.platform(), "load_average": os.getloadavg()}
    result["targets"] = {"rows_per_second": 100_000, "memory_mib": 200}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""The portal under load, served by gunicorn on loopback. Prints one JSON document.

    .venv/bin/python -m benchmarks.portal            # 1,000 wallets with 3 years of history (several minutes)
    .venv/bin/python -m benchmarks.portal --quick    # 60 wallets, 1 year, a smaller export: checks it runs
    .venv/bin/python -m benchmarks.portal --keep     # keep the SQLite file; later runs: --database FILE
    .venv/bin/python -m benchmarks.portal --postgres postgresql://... --manifest pg.json   # PostgreSQL

What it does:
1. Builds a SQLite database: wallets opened through the domain service (two funders each), then their
   history posted straight into the ledger with ``post_batch_fast`` (four-weekly funding from each funder, two
   payments a week), plus one wallet with ``--export-postings`` postings for the export figure.
2. Starts ``gunicorn -k gthread`` (threads: the live feed holds one per open stream) on 127.0.0.1.
3. Signs in ``--clients`` holders (50), each of their own wallet, and drives them as threads with
   ``http.client`` (keep-alive) over the pages in ``ROUTES``, twice:
   - closed loop (``pages_closed_loop_saturation``), for ``--seconds``: no pause, each client sends its next
     request as soon as the last answer arrives, so the server is saturated and the latency is mostly queueing;
   - paced (``pages_paced_people``), for ``--paced-seconds``: each client waits ``--pause`` (1 s) ±
     ``--jitter`` (0.5 s) after each answer, as people reading pages do: about 50 / (1 s + latency) requests/s.
   Pages not in the app yet (404) are left out and listed under ``skipped_routes``.
4. Meanwhile, a browser-like client holds ``/wallets/<id>/live`` open, and payments are recorded through the
   domain service from this process: the time from the start of each write to its event reaching the
   client is the live-update delay.
5. Downloads the big wallet's CSV export and counts rows per second while sampling the gunicorn workers'
   memory (resident set). Without the export endpoint, it times the ledger's statement streaming instead.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.parse
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from cryptography.fernet import Fernet

from ledger.db import Database
from ledger.model import EntryRequest, Posting
from wallet import database as wallet_database
from wallet.domain import people, wallets
from wallet.domain.chart import Category, WalletChart
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork

ROUTES = [
    ("home", "/wallets/{wallet}"),
    ("transactions", "/wallets/{wallet}/transactions"),
    ("api_transactions", "/api/v1/wallets/{wallet}/transactions"),
]
"""Pages each client asks for in turn. A route the app does not have yet (404) is skipped and reported."""

PASSWORD = "benchmark password 1"
TODAY = datetime.now(timezone.utc).date()


# ---------------------------------------------------------------------------------------------- building
def _history(chart: WalletChart, wallet_id: str, first_day: date, days: int, rng: random.Random,
             payments_per_week: int = 2) -> list[EntryRequest]:
    """Chronological: funding every 28 days from each funder, payments from the council's money."""
    out: list[EntryRequest] = []
    for day in range(days):
        when = datetime.combine(first_day + timedelta(days=day), datetime.min.time(), tzinfo=timezone.utc)
        if day % 28 == 0:
            for s, amount, label in (("s1", 186_000, "Leeds adult social care"), ("s2", 12_000, "Own contribution")):
                out.append(EntryRequest(
                    f"{chart.book}:bench:f{s}:{day}",
                    (Posting.debit(chart.cash(s), amount), Posting.credit(chart.funding(s), amount)),
                    description=f"Money received from {label}", effective_at=when,
                    metadata={"wallet": wallet_id, "kind": "funding"}))
        if day % 7 < payments_per_week:
            amount = rng.randint(1_000, 20_000)
            out.append(EntryRequest(
                f"{chart.book}:bench:p:{day}",
                (Posting.debit(chart.spend(Category.ACTIVITIES, "s1"), amount), Posting.credit(chart.cash("s1"), amount)),
                description="Payment to Leeds Leisure", effective_at=when,
                metadata={"wallet": wallet_id, "kind": "payment"}))
    return out


def _open(uow: UnitOfWork, n: int) -> tuple[str, str, str]:
    user = people.create_user(uow, name=f"Holder {n}", email=f"holder{n}@example.org")
    w = wallets.open_wallet(uow, holder=user.id, name=f"Budget {n}", budget_kind="direct_payment",
                            plan_start=TODAY - timedelta(days=365 * 3), reference=f"bench-{n}")
    council = wallets.set_funding_stream(uow, w.id, kind="council_adult_services", funder_ref="council:leeds",
                                         label="Leeds adult social care", schedule="four_weekly", amount=186_000,
                                         starts=w.plan_start, actor=SYSTEM)
    wallets.set_funding_stream(uow, w.id, kind="client_contribution", funder_ref="holder", label="Own contribution",
                               schedule="four_weekly", amount=12_000, starts=w.plan_start, actor=SYSTEM)
    return user.id, w.id, council.id


def build(url: str, n_wallets: int, years: int, export_postings: int, seed: int) -> dict:
    t0 = time.perf_counter()
    wallet_database.upgrade(url)
    db = Database(url, sqlite_synchronous="OFF")       # a bulk load: durability is not what is measured
    uow = UnitOfWork(db)
    rng = random.Random(seed)
    days = 365 * years
    first_day = TODAY - timedelta(days=days)
    made = []
    batch: list[EntryRequest] = []
    entries = 0
    for n in range(n_wallets):
        user_id, wallet_id, council_id = _open(uow, n)
        made.append({"user": user_id, "email": f"holder{n}@example.org", "wallet": wallet_id, "council": council_id})
        batch += _history(WalletChart(WalletChart.book_for(wallet_id)), wallet_id, first_day, days, rng)
        if len(batch) >= 5_000:
            entries += uow.ledger.post_batch_fast(batch)
            batch = []
    entries += uow.ledger.post_batch_fast(batch) if batch else 0
    opened_s = time.perf_counter() - t0
    # The export wallet: held by the first client's holder; each entry is two postings, one on its cash.
    big_user = made[0]
    big = wallets.open_wallet(uow, holder=big_user["user"], name="Big export", budget_kind="direct_payment",
                              plan_start=TODAY - timedelta(days=365 * 3), reference="bench-big")
    for kind, ref, label in (("council_adult_services", "council:leeds", "Leeds adult social care"),
                             ("client_contribution", "holder", "Own contribution")):
        wallets.set_funding_stream(uow, big.id, kind=kind, funder_ref=ref, label=label, schedule="four_weekly",
                                   amount=1, starts=big.plan_start, actor=SYSTEM)
    chart = WalletChart(WalletChart.book_for(big.id))
    n_entries = export_postings // 2
    span_us = 365 * 3 * 86_400_000_000
    start = datetime.combine(TODAY - timedelta(days=365 * 3), datetime.min.time(), tzinfo=timezone.utc)
    for lo in range(0, n_entries, 5_000):
        reqs = []
        for i in range(lo, min(lo + 5_000, n_entries)):
            when = start + timedelta(microseconds=span_us * i // n_entries)
            if i % 2 == 0:
                p = (Posting.debit(chart.cash("s1"), 2_000), Posting.credit(chart.funding("s1"), 2_000))
                what = "Money received from Leeds adult social care"
            else:
                p = (Posting.debit(chart.spend(Category.ACTIVITIES, "s1"), 1_500), Posting.credit(chart.cash("s1"), 1_500))
                what = "Payment to Leeds Leisure"
            reqs.append(EntryRequest(f"{chart.book}:bench:{i}", p, description=what, effective_at=when))
        entries += uow.ledger.post_batch_fast(reqs)
    db.dispose()
    return {"wallets": made, "big_wallet": big.id, "big_entries": n_entries, "entries": entries,
            "build_seconds": round(time.perf_counter() - t0, 1), "open_wallets_and_history_seconds": round(opened_s, 1)}


def make_credentials(url: str, people_: list[dict], env: dict) -> None:
    os.environ.update(env)
    from wallet.web import create_app
    from wallet.web.auth import credentials

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        creds = credentials()
        for p in people_:
            if not creds.exists(p["email"]):
                creds.create(p["user"], p["email"], PASSWORD, two_factor_required=False)


# ---------------------------------------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, workers: int, threads: int, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--workers", str(workers), "--threads", str(threads),
           "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--keep-alive", "30", "wallet.web:create_app()"]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start; see {log_path}")


def worker_pids(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------------------------------------- clients
class Client:
    """One signed-in person: a keep-alive connection and the session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for value in resp.headers.get_all("Set-Cookie") or []:
            if value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return resp.status, data

    def sign_in(self, email: str) -> None:
        status, page = self.request("GET", "/sign-in")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
        status, _ = self.request("POST", "/sign-in", form)
        if status != 302:
            raise RuntimeError(f"sign-in failed for {email}: {status}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> dict:
    if not values:
        return {"requests": 0}
    return {"requests": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p95_ms": round(percentile(values, 95) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def sign_in_all(port: int, people_: list[dict]) -> tuple[list[tuple[Client, dict]], list[str]]:
    clients: list[tuple[Client, dict]] = []
    errors: list[str] = []

    # One at a time: concurrent sign-ins on SQLite fail ("database is locked": the credential check reads, then
    # writes, in one deferred transaction), a fault of the sign-in code reported with these figures.
    gate = threading.Semaphore(1)

    def sign(p: dict) -> None:
        with gate:
            for attempt in range(5):
                c = Client(port)
                try:
                    c.sign_in(p["email"])
                except RuntimeError as refused:
                    errors.append(str(refused))
                    continue
                clients.append((c, p))
                return

    threads = [threading.Thread(target=sign, args=(p,)) for p in people_]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return clients, errors


def drive(clients: list[tuple[Client, dict]], routes: list[tuple[str, str]], seconds: float,
          pause: float = 0.0, jitter: float = 0.0, seed: int = 1) -> tuple[dict, float]:
    """Each client asks for the routes in turn for ``seconds``. ``pause`` 0: the next request as soon as the
    last answer arrives (a closed loop: the server at saturation). Otherwise each client waits ``pause`` ±
    ``jitter`` seconds (uniform) after each answer, as a person reading the page would, and starts at a random
    moment within the first ``pause`` so that the clients do not arrive in step."""
    errors: list[str] = []
    timings: dict[str, list[float]] = {name: [] for name, _ in routes}
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def run(c: Client, p: dict, rng: random.Random) -> None:
        i = 0
        mine: dict[str, list[float]] = {name: [] for name, _ in routes}
        if pause:
            time.sleep(rng.uniform(0, pause))
        while time.monotonic() < stop:
            name, path = routes[i % len(routes)]
            i += 1
            t0 = time.perf_counter()
            status, _ = c.request("GET", path.format(wallet=p["wallet"]))
            took = time.perf_counter() - t0
            if status != 200:
                errors.append(f"{name} {status}")
            else:
                mine[name].append(took)
            if pause:
                time.sleep(max(0.0, min(pause + rng.uniform(-jitter, jitter), stop - time.monotonic())))
        with lock:
            for k, v in mine.items():
                timings[k] += v

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(c, p, random.Random(seed * 1000 + n)))
               for n, (c, p) in enumerate(clients)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.monotonic() - started
    out = {name: summary_ms(v) for name, v in timings.items()}
    total = sum(len(v) for v in timings.values())
    out["all"] = {**summary_ms([x for v in timings.values() for x in v]), "per_second": round(total / elapsed, 1),
                  "errors": len(errors), "first_errors": errors[:3], "clients": len(clients), "seconds": round(elapsed, 1)}
    out["load"] = ("closed loop: each client sends its next request as soon as the last answer arrives (saturation)"
                   if not pause else f"paced: each client waits {pause:g} s ± {jitter:g} s (uniform) after each answer")
    return out, elapsed


class LiveWatcher:
    """A browser-like EventSource: records when each entry event arrives."""

    def __init__(self, port: int, email: str, wallet: str):
        self.client = Client(port)
        self.client.sign_in(email)
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self.stop = False
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", f"/wallets/{wallet}/live", headers={"Cookie": self.client.cookie,
                                                                     "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            raise RuntimeError(f"live feed refused: {self.resp.status}")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.stop:
            line = self.resp.fp.readline()
            if not line:
                return
            self.ready.set()
            if line.startswith(b"data: "):
                data = json.loads(line[6:])
                self.arrived[data["id"]] = time.perf_counter()

    def close(self) -> None:
        self.stop = True
        self.conn.close()


def measure_live(url: str, port: int, person: dict, posts: int, interval: float,
                 watcher: LiveWatcher | None = None) -> dict:
    watcher = watcher or LiveWatcher(port, person["email"], person["wallet"])
    watcher.ready.wait(5)
    time.sleep(0.5)
    uow = UnitOfWork(Database(url))
    delays = []
    missing = 0
    try:
        for i in range(posts):
            t0 = time.perf_counter()
            entry = wallets.record_funding(uow, person["wallet"], person["council"], 100 + i, TODAY, actor=SYSTEM,
                                           key=f"live-bench-{time.time_ns()}-{i}")
            deadline = time.perf_counter() + 5
            while entry.id not in watcher.arrived and time.perf_counter() < deadline:
                time.sleep(0.002)
            if entry.id in watcher.arrived:
                delays.append(watcher.arrived[entry.id] - t0)
            else:
                missing += 1
            time.sleep(interval)
    finally:
        watcher.close()
        uow.db.dispose()
    return {**summary_ms(delays), "posts": posts, "missing": missing,
            "note": "from the start of the domain write (its commit included) to the event on the client"}


def measure_export(port: int, person: dict, big_wallet: str, master: int, rows_expected: int) -> dict:
    client = Client(port)
    client.sign_in(person["email"])
    first = (TODAY - timedelta(days=365 * 3 + 5)).isoformat()
    query = urllib.parse.urlencode({"format": "csv", "start": first, "end": TODAY.isoformat(), "funder": ""})
    path = f"/wallets/{big_wallet}/exports/download?{query}"
    pids = worker_pids(master)
    base = {pid: rss_kib(pid) for pid in pids}
    peak = dict(base)
    sampling = True

    def sample() -> None:
        while sampling:
            for pid in pids:
                peak[pid] = max(peak[pid], rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    client.conn.request("GET", path, headers={"Cookie": client.cookie})
    resp = client.conn.getresponse()
    size = 0
    first_byte = None
    saved = Path(tempfile.mkstemp(prefix="portal-export-")[1])
    with saved.open("wb") as out:
        while True:
            chunk = resp.read(1 << 16)
            if not chunk:
                break
            if first_byte is None:
                first_byte = time.perf_counter() - t0
            out.write(chunk)
            size += len(chunk)
    took = time.perf_counter() - t0
    sampling = False
    sampler.join()
    lines, csv_name = _csv_lines(saved)
    saved.unlink()
    if resp.status != 200:
        return {"status": resp.status, "skipped": "the export endpoint refused the download"}
    growth = max((peak[p] - base[p]) for p in pids) if pids else 0
    return {"endpoint": "/wallets/<id>/exports/download?format=csv", "status": resp.status, "lines": lines,
            "bytes": size, "seconds": round(took, 2), "rows_per_second": round(lines / took),
            "first_byte_ms": round((first_byte or 0) * 1000), "entries_in_wallet": rows_expected,
            "postings_in_wallet": rows_expected * 2,
            "worker_peak_rss_mib": round(max(peak.values()) / 1024, 1) if peak else None,
            "worker_rss_growth_mib": round(growth / 1024, 1), "csv": csv_name,
            "note": "lines = CSV lines (header included) in the download; the zip is counted after it arrives"}


def _csv_lines(path: Path) -> tuple[int, str]:
    """Lines of the CSV: the download is a zip (the CSV and a manifest) or the CSV itself."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.endswith(".csv"))
            with z.open(name) as f:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")), name
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")), path.name


def measure_statement(url: str, big_wallet: str) -> dict:
    """Fallback without the export endpoint: the ledger's statement of the big wallet's cash, streamed."""
    db = Database(url)
    uow = UnitOfWork(db)
    code = WalletChart(WalletChart.book_for(big_wallet)).cash("s1")
    tracemalloc.start()
    t0 = time.perf_counter()
    n = sum(1 for _ in wallets.statement_lines(uow.ledger, code, datetime(1970, 1, 1, tzinfo=timezone.utc),
                                                datetime(9999, 1, 1, tzinfo=timezone.utc)))
    took = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    db.dispose()
    return {"endpoint": None, "note": "no export endpoint: ledger statement streaming measured instead",
            "lines": n, "rows_per_second": round(n / took), "python_peak_mib": round(peak / 2**20, 1)}


# ---------------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--wallets", type=int)
    ap.add_argument("--years", type=int)
    ap.add_argument("--export-postings", type=int)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--database", help="reuse a SQLite file built by an earlier run (kept with --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the database and its manifest")
    ap.add_argument("--postgres", metavar="URL",
                    help="use this (empty, or built by an earlier run) PostgreSQL database instead of SQLite; "
                         "the manifest is kept in --manifest")
    ap.add_argument("--manifest", help="with --postgres: the manifest file (built if missing)")
    ap.add_argument("--pause", type=float, default=1.0, help="paced run: seconds each client waits between requests")
    ap.add_argument("--jitter", type=float, default=0.5, help="paced run: ± this many seconds, uniform")
    ap.add_argument("--paced-seconds", type=float)
    ap.add_argument("--no-export", action="store_true", help="leave out the export download")
    args = ap.parse_args()
    n_wallets = args.wallets or (60 if args.quick else 1000)
    years = args.years or (1 if args.quick else 3)
    export_postings = args.export_postings or (100_000 if args.quick else 1_000_000)
    seconds = args.seconds or (10 if args.quick else 30)
    paced_seconds = args.paced_seconds or (15 if args.quick else 40)

    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {"WALLET_SECRET_KEY": "portal-benchmark", "WALLET_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "WALLET_RATELIMIT_ENABLED": "false"}
    if args.postgres:
        url = args.postgres
        manifest_path = Path(args.manifest or workdir / "portal-pg.json")
        db_path = manifest_path
    else:
        db_path = Path(args.database) if args.database else workdir / "portal.db"
        url = f"sqlite:///{db_path}"
        manifest_path = db_path.with_suffix(".json")
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        env["WALLET_ENCRYPTION_KEYS"] = manifest["encryption_keys"]
    else:
        manifest = build(url, n_wallets, years, export_postings, seed=5)
        manifest["encryption_keys"] = env["WALLET_ENCRYPTION_KEYS"]
        manifest["years"] = years
        manifest_path.write_text(json.dumps(manifest))
    env["WALLET_DATABASE_URL"] = url
    people_ = manifest["wallets"][:args.clients]
    make_credentials(url, people_ + [manifest["wallets"][0]], env)

    proc, port = start_server(env, args.workers, args.threads, workdir / "gunicorn.log")
    try:
        probe = Client(port)
        probe.sign_in(people_[0]["email"])
        routes, skipped = [], []
        for name, path in ROUTES:
            status, _ = probe.request("GET", path.format(wallet=people_[0]["wallet"]))
            (routes if status == 200 else skipped).append((name, path) if status == 200 else f"{name} ({status})")
        live_result: dict = {}
        watcher = LiveWatcher(port, people_[-1]["email"], people_[-1]["wallet"])   # signed in before the rush

        def live_under_load() -> None:
            try:
                time.sleep(min(5, seconds / 4))   # once the clients are signed in and busy
                live_result.update(measure_live(url, port, people_[-1], posts=20, interval=max(0.2, seconds / 30),
                                                watcher=watcher))
            except Exception as failed:  # reported, not hidden
                live_result["error"] = repr(failed)

        clients, sign_in_errors = sign_in_all(port, people_)
        live_thread = threading.Thread(target=live_under_load)
        live_thread.start()
        pages, _ = drive(clients, routes, seconds)
        live_thread.join()
        pages["all"]["sign_in_errors"] = len(sign_in_errors)
        paced, _ = drive(clients, routes, paced_seconds, pause=args.pause, jitter=args.jitter)
        for c, _ in clients:
            c.conn.close()
        live_idle = measure_live(url, port, people_[-1], posts=10, interval=0.1)
        if args.no_export:
            export = {"skipped": "--no-export"}
        else:
            export = measure_export(port, manifest["wallets"][0], manifest["big_wallet"], proc.pid,
                                    manifest["big_entries"])
            if export.get("status") == 404:
                export = measure_statement(url, manifest["big_wallet"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "database": {"engine": "postgresql" if args.postgres else "sqlite", "wallets": len(manifest["wallets"]),
                     "years_of_history": manifest["years"],
                     "entries": manifest["entries"], "export_wallet_entries": manifest["big_entries"],
                     "build_seconds": manifest["build_seconds"]},
        "server": f"gunicorn -k gthread --workers {args.workers} --threads {args.threads}",
        "routes": [name for name, _ in routes], "skipped_routes": skipped,
        "pages_closed_loop_saturation": pages,
        "pages_paced_people": paced,
        "live_update_under_load": live_result,
        "live_update_idle": live_idle,
        "export": export,
        "targets": {"p95_ms": 100, "live_update_ms": 1000, "export_rows_per_second": 100_000, "export_mib": 200},
    }
    print(json.dumps(result, indent=2))
    if not args.keep and not args.database and not args.manifest:
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()
    elif args.keep:
        print(f"kept {db_path}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""A soak test of the portal and API under gunicorn with PostgreSQL, bounded in time, on loopback only.
Prints one JSON document.

    .venv/bin/python -m benchmarks.soak                          # 100 clients for 10 minutes, throwaway cluster
    .venv/bin/python -m benchmarks.soak --clients 20 --seconds 30   # a short run
    .venv/bin/python -m benchmarks.soak --database-url postgresql+psycopg://...   # an empty database of yours

What it does:
1. Opens ``--clients / 2`` wallets, each with a holder and an appointee (who signs in with a two-step code, as
   the portal requires), a payee, a plan line, a year of history and money to spend.
2. Starts ``gunicorn -k gthread`` on 127.0.0.1 and signs every client in.
3. Drives the clients as threads for ``--seconds``. Each waits ``--pause`` ± ``--jitter`` seconds between
   actions, as people do, and picks its next action by weight (``HOLDER_ACTIONS``, ``APPOINTEE_ACTIONS``):
   pages and API reads, payment requests through the API (some under the approval threshold, paid at once;
   some over it, held for approval), approvals and rejections by the appointee, a live feed held open for a
   while as a browser tab would, and CSV exports.
4. Afterwards checks what the clients did against the books: ``wallet ledger verify``; every payment request
   the API accepted is in the database once; each wallet's money equals what was paid in less what was paid
   out, with exactly the awaiting requests' money held.

An error is a 5xx answer, a refused connection, or an answer other than the one the action expects.
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
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable

import pyotp
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from benchmarks.portal import PASSWORD, TODAY, Client, build, percentile, rss_kib, start_server, worker_pids
from ledger.db import Database
from wallet.domain import payees, payments, people, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.permissions import Role
from wallet.domain.tables import payment_request_t, wallet_t
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork

FUNDING = 10_000_000                  # £100,000 each, so a long run never runs a wallet dry
KEEP_ALIVE_MARGIN = 20.0   # seconds; gunicorn is started with --keep-alive 30
SMALL, LARGE = (500, 20_000), (25_001, 60_000)   # pence: under the default £250 threshold, and over it


# ---------------------------------------------------------------------------------------------- the world
def prepare(url: str, wallets_wanted: int, env: dict) -> list[dict]:
    """Wallets with a year of history (``benchmarks.portal.build``), then for each: an appointee with a
    two-step secret, a payee already paid once (so small payments need no approval), a plan line and funding."""
    made = build(url, wallets_wanted, 1, 2, seed=7)["wallets"]
    db = Database(url)
    uow = UnitOfWork(db)
    from wallet.web import create_app
    from wallet.web.auth import credentials

    # the server's settings passed as the app's own, never into this process's environment (a test runs this)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": env["WALLET_SECRET_KEY"],
                      "ENCRYPTION_KEYS": [env["WALLET_ENCRYPTION_KEYS"]]})
    with app.app_context():
        creds = credentials()
        for n, w in enumerate(made):
            appointee = people.create_user(uow, name=f"Appointee {n}", email=f"appointee{n}@example.org")
            people.grant_role(uow, w["wallet"], appointee.id, Role.APPOINTEE, actor=w["user"])
            payee = payees.add_payee(uow, w["wallet"], kind="agency", name="Leeds Leisure", actor=w["user"])
            plans.set_budget_line(uow, w["wallet"], category=Category.ACTIVITIES, stream_id=w["council"],
                                  planned_per_period=FUNDING, actor=w["user"])
            wallets.record_funding(uow, w["wallet"], w["council"], FUNDING, TODAY, actor=SYSTEM,
                                   key=f"soak-funding-{n}")
            _pay_first(uow, w, payee.id, appointee.id)
            secret = pyotp.random_base32()
            creds.create(w["user"], w["email"], PASSWORD, two_factor_required=False)
            creds.create(appointee.id, f"appointee{n}@example.org", PASSWORD, two_factor_required=True)
            creds.provision_code(appointee.id, secret)
            council = next(s for s in wallets.wallet_balance(uow, w["wallet"], actor=SYSTEM).streams
                           if s.stream_id == w["council"])
            w.update(appointee=appointee.id, appointee_email=f"appointee{n}@example.org", secret=secret,
                     payee=payee.id, posted_before=council.posted)
    db.dispose()
    return made


def _pay_first(uow: UnitOfWork, w: dict, payee_id: str, appointee_id: str) -> None:
    """A new payee's first payment waits for approval; after it, small payments are paid at once."""
    first = payments.request_payment(uow, w["wallet"], actor=w["user"], payee_id=payee_id, amount=1_000,
                                     category=Category.ACTIVITIES, description="First visit",
                                     stream_id=w["council"], key="soak-first")
    payments.approve_payment(uow, first.id, actor=appointee_id)


# ---------------------------------------------------------------------------------------------- clients
class Person(Client):
    """A signed-in person: pages, the JSON API (with the session's CSRF token) and the live feed."""

    def __init__(self, port: int, who: dict, role: str):
        super().__init__(port)
        self.who = who
        self.role = role
        self.token = ""
        self.stop_at = 0.0     # monotonic time the run ends: a live feed is not held open past it
        self.last_used = time.monotonic()

    def sign_in_with_code(self, email: str, secret: str) -> None:
        status, page = self.request("GET", "/sign-in")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        self.request("POST", "/sign-in", urllib.parse.urlencode({"email": email, "password": PASSWORD,
                                                                 "csrf_token": token}))
        status, page = self.request("GET", "/sign-in/code")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        status, _ = self.request("POST", "/sign-in/code", urllib.parse.urlencode(
            {"code": pyotp.TOTP(secret).now(), "csrf_token": token}))
        if status != 302:
            raise RuntimeError(f"two-step sign-in failed for {email}: {status}")

    def fetch_token(self) -> None:
        status, page = self.request("GET", f"/wallets/{self.who['wallet']}")
        self.token = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()

    def _fresh(self) -> None:
        """Open a new connection when this one has idled near the server's keep-alive limit (30 s), as browsers
        do: the server may have closed it, and a POST sent on a closed connection cannot safely be resent."""
        if time.monotonic() - self.last_used > KEEP_ALIVE_MARGIN:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        self._fresh()
        try:
            return super().request(method, path, body)
        finally:
            self.last_used = time.monotonic()

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        """A JSON API call. Resent once on a new connection if the old one failed, but only when that is safe:
        a GET, or a POST carrying an idempotency key (the server answers a repeat with the first result)."""
        self._fresh()
        headers = {"Cookie": self.cookie, "Accept": "application/json"}
        data = None
        if body is not None:
            headers.update({"Content-Type": "application/json", "X-CSRFToken": self.token})
            data = json.dumps(body)
        may_resend = method == "GET" or (body is not None and "key" in body)
        for attempt in (1, 2):
            try:
                self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2 or not may_resend:
                    raise
            finally:
                self.last_used = time.monotonic()
        raise AssertionError("unreachable")


@dataclass
class Tally:
    """What the clients saw, merged under a lock at the end of each action."""
    timings: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    created: set[str] = field(default_factory=set)
    approved: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    live_events: int = 0
    live_seconds: float = 0.0
    export_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def took(self, action: str, seconds: float) -> None:
        with self.lock:
            self.timings.setdefault(action, []).append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def _expect(tally: Tally, action: str, status: int, wanted: int) -> bool:
    if status != wanted:
        tally.error(f"{action}: HTTP {status}")
        return False
    return True


def page(name: str, path: str) -> Callable[[Person, Tally, random.Random], str]:
    def act(p: Person, tally: Tally, rng: random.Random) -> str:
        status, _ = p.request("GET", path.format(wallet=p.who["wallet"]))
        _expect(tally, name, status, 200)
        return name
    act.__name__ = name
    return act


def api_transactions(p: Person, tally: Tally, rng: random.Random) -> str:
    status, _ = p.api("GET", f"/wallets/{p.who['wallet']}/transactions?page_size=50")
    _expect(tally, "api transactions", status, 200)
    return "api transactions"


def request_payment(p: Person, tally: Tally, rng: random.Random) -> str:
    amount = rng.randint(*(SMALL if rng.random() < 0.5 else LARGE))
    status, body = p.api("POST", f"/wallets/{p.who['wallet']}/payment-requests", {
        "payee_id": p.who["payee"], "amount": amount, "category": Category.ACTIVITIES.value,
        "description": "Swimming and a day out", "funder": p.who["council"], "key": f"soak-{rng.getrandbits(64):x}"})
    if _expect(tally, "request payment", status, 201):
        with tally.lock:
            tally.created.add(json.loads(body)["id"])
    return "api request payment"


def decide_waiting(p: Person, tally: Tally, rng: random.Random) -> str:
    status, body = p.api("GET", f"/wallets/{p.who['wallet']}/payment-requests?status=awaiting_approval")
    if not _expect(tally, "list waiting", status, 200):
        return "api approve"
    waiting = json.loads(body)["items"]
    if not waiting:
        return "api list waiting"
    chosen = waiting[0]["id"]
    if rng.random() < 0.15:
        status, _ = p.api("POST", f"/payment-requests/{chosen}/reject", {"reason": "Not in the plan this month"})
        if _expect(tally, "reject", status, 200):
            with tally.lock:
                tally.rejected.add(chosen)
        return "api reject"
    status, _ = p.api("POST", f"/payment-requests/{chosen}/approve", {"note": "Agreed"})
    if _expect(tally, "approve", status, 200):
        with tally.lock:
            tally.approved.add(chosen)
    return "api approve"


def live_feed(p: Person, tally: Tally, rng: random.Random) -> str:
    """Hold the live feed open for 5-20 seconds, as an open browser tab does, counting events."""
    hold = max(1.0, min(rng.uniform(5, 20), p.stop_at - time.monotonic()))
    conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=60)   # opening it: as any page
    started = time.monotonic()
    events = 0
    try:
        conn.request("GET", f"/wallets/{p.who['wallet']}/live",
                     headers={"Cookie": p.cookie, "Accept": "text/event-stream"})
        resp = conn.getresponse()
        if not _expect(tally, "live feed", resp.status, 200):
            return "live feed opened"
        tally.took("live feed opened", time.monotonic() - started)
        conn.sock.settimeout(hold)   # then kept open for the hold, as the tab stays open
        while time.monotonic() - started < hold:
            try:
                line = resp.fp.readline()
            except (socket.timeout, TimeoutError):
                break
            if not line:
                tally.error("live feed: closed by the server")
                break
            events += line.startswith(b"data: ")
    finally:
        conn.close()
        with tally.lock:
            tally.live_events += events
            tally.live_seconds += time.monotonic() - started
    return ""


def export_csv(p: Person, tally: Tally, rng: random.Random) -> str:
    query = urllib.parse.urlencode({"format": "csv", "start": (TODAY - timedelta(days=90)).isoformat(),
                                    "end": TODAY.isoformat(), "funder": ""})
    status, body = p.request("GET", f"/wallets/{p.who['wallet']}/exports/download?{query}")
    if _expect(tally, "export", status, 200):
        with tally.lock:
            tally.export_bytes += len(body)
    return "export csv"


HOME = page("page home", "/wallets/{wallet}")
HOLDER_ACTIONS = [(30, HOME), (20, page("page transactions", "/wallets/{wallet}/transactions")),
                  (10, api_transactions), (25, request_payment), (10, live_feed), (5, export_csv)]
APPOINTEE_ACTIONS = [(25, HOME), (15, page("page approvals", "/wallets/{wallet}/approvals")),
                     (45, decide_waiting), (10, live_feed), (5, export_csv)]


def drive(people_: list[Person], seconds: float, pause: float, jitter: float, seed: int) -> tuple[Tally, float]:
    tally = Tally()
    stop = time.monotonic() + seconds

    def run(p: Person, rng: random.Random) -> None:
        actions = HOLDER_ACTIONS if p.role == "holder" else APPOINTEE_ACTIONS
        weights = [w for w, _ in actions]
        p.stop_at = stop
        time.sleep(rng.uniform(0, pause))
        while time.monotonic() < stop:
            act = rng.choices([a for _, a in actions], weights)[0]
            t0 = time.perf_counter()
            try:
                name = act(p, tally, rng)
            except Exception as failed:  # a refused or dropped connection is an error of the run, not a crash
                tally.error(f"{act.__name__}: {failed!r}"[:200])
            else:
                if name:
                    tally.took(name, time.perf_counter() - t0)
            time.sleep(max(0.0, min(pause + rng.uniform(-jitter, jitter), stop - time.monotonic())))

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(p, random.Random(seed * 1000 + n))) for n, p in enumerate(people_)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally, time.monotonic() - started


def sign_in_everyone(port: int, made: list[dict], clients: int) -> list[Person]:
    out: list[Person] = []
    for w in made:
        holder = Person(port, w, "holder")
        holder.sign_in(w["email"])
        appointee = Person(port, w, "appointee")
        appointee.sign_in_with_code(w["appointee_email"], w["secret"])
        for p in (holder, appointee):
            p.fetch_token()
            out.append(p)
    return out[:clients]


# ---------------------------------------------------------------------------------------------- the checks
def check_books(url: str, made: list[dict], tally: Tally, env: dict) -> dict:
    """The ledger verifies, and every wallet's money agrees with what the clients were told."""
    cli = Path(sys.executable).with_name("wallet")
    verify = subprocess.run([str(cli), "ledger", "verify"], env={**os.environ, **env, "WALLET_DATABASE_URL": url},
                            capture_output=True, text=True)
    db = Database(url)
    uow = UnitOfWork(db)
    problems: list[str] = []
    with db.engine.connect() as conn:
        rows = conn.execute(select(payment_request_t.c.uuid, payment_request_t.c.status, payment_request_t.c.amount,
                                   payment_request_t.c.wallet_id)).all()
        stored = conn.execute(select(func.count()).select_from(payment_request_t)).scalar_one()
    by_id = {r.uuid: r for r in rows}
    for created in tally.created:
        if created not in by_id:
            problems.append(f"payment request {created} was accepted but is not in the database")
    for rid in tally.approved:
        if by_id[rid].status != "paid":
            problems.append(f"approved request {rid} is {by_id[rid].status}")
    for rid in tally.rejected:
        if by_id[rid].status != "rejected":
            problems.append(f"rejected request {rid} is {by_id[rid].status}")
    expected_requests = len(made) + len(tally.created)   # one first payment per wallet, then the run's
    if stored != expected_requests:
        problems.append(f"{stored} payment requests in the database; {expected_requests} were made")
    wallet_pk = {}
    with db.engine.connect() as conn:
        for r in conn.execute(select(wallet_t.c.id, wallet_t.c.uuid)):
            wallet_pk[r.uuid] = r.id
    for w in made:
        mine = [r for r in rows if r.wallet_id == wallet_pk[w["wallet"]]]
        paid = sum(r.amount for r in mine if r.status == "paid" and r.uuid in tally.created)
        waiting = sum(r.amount for r in mine if r.status == "awaiting_approval")
        balance = wallets.wallet_balance(uow, w["wallet"], actor=SYSTEM)
        council = next(s for s in balance.streams if s.stream_id == w["council"])
        if council.held != waiting:
            problems.append(f"wallet {w['wallet']}: {council.held} held, {waiting} awaiting approval")
        if council.posted != w["posted_before"] - paid:
            problems.append(f"wallet {w['wallet']}: {council.posted} in the books; {w['posted_before']} before "
                            f"less {paid} paid in the run is {w['posted_before'] - paid}")
    db.dispose()
    counts = _count(r.status for r in rows)
    return {"ledger_verify": (verify.stdout or verify.stderr).strip(), "ledger_verify_ok": verify.returncode == 0,
            "payment_requests": counts, "problems": problems[:20], "problem_count": len(problems)}


def _count(names) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in names:
        out[name] = out.get(name, 0) + 1
    return out


def summary(values: list[float]) -> dict:
    return {"count": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p95_ms": round(percentile(values, 95) * 1000, 1), "p99_ms": round(percentile(values, 99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1)}


# ---------------------------------------------------------------------------------------------- main
def run(url: str, *, clients: int, seconds: float, workers: int = 2, threads: int = 48, pause: float = 1.0,
        jitter: float = 0.5, seed: int = 3, log_dir: Path | None = None) -> dict:
    """Build, serve, drive and check; returns the figures. ``url`` is an empty database."""
    if clients < 1 or seconds <= 0:
        raise ValueError("a soak needs at least one client and some time to run")
    env = {"WALLET_SECRET_KEY": "soak-test", "WALLET_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "WALLET_RATELIMIT_ENABLED": "false", "WALLET_DATABASE_URL": url}
    t0 = time.perf_counter()
    made = prepare(url, (clients + 1) // 2, env)
    built = time.perf_counter() - t0
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="soak-"))
    load_before = os.getloadavg()
    proc, port = start_server(env, workers, threads, log_dir / "gunicorn.log")
    peak: dict[int, int] = {}
    sampling = True

    def sample() -> None:
        while sampling:
            for pid in worker_pids(proc.pid):
                peak[pid] = max(peak.get(pid, 0), rss_kib(pid))
            time.sleep(1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        people_ = sign_in_everyone(port, made, clients)
        tally, elapsed = drive(people_, seconds, pause, jitter, seed)
        for p in people_:
            p.conn.close()
        status = Client(port).request("GET", "/readyz")[0]
    finally:
        sampling = False
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    load_after = os.getloadavg()
    books = check_books(url, made, tally, env)
    everything = [x for v in tally.timings.values() for x in v]
    actions = len(everything) + len(tally.errors)
    return {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after]},
        "server": f"gunicorn -k gthread --workers {workers} --threads {threads}",
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "clients": len(people_), "wallets": len(made), "seconds": round(elapsed, 1),
        "build_seconds": round(built, 1),
        "pacing": f"each client waits {pause:g} s ± {jitter:g} s (uniform) between actions",
        "actions": actions, "actions_per_second": round(actions / elapsed, 1),
        "errors": len(tally.errors), "error_rate": f"{len(tally.errors) / max(actions, 1):.4%}",
        "first_errors": tally.errors[:5],
        "errors_by_action": _count(e.split(":", 1)[0] for e in tally.errors),
        "latency": {"all": summary(everything) if everything else {},
                    **{name: summary(v) for name, v in sorted(tally.timings.items())}},
        "live": {"events_received": tally.live_events, "seconds_connected": round(tally.live_seconds)},
        "exports": {"bytes": tally.export_bytes},
        "payments": {"accepted": len(tally.created), "approved": len(tally.approved),
                     "rejected": len(tally.rejected)},
        "worker_peak_rss_mib": round(max(peak.values()) / 1024, 1) if peak else None,
        "ready_after": status,
        "books": books,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=48)
    ap.add_argument("--pause", type=float, default=1.0)
    ap.add_argument("--jitter", type=float, default=0.5)
    ap.add_argument("--database-url", help="an empty PostgreSQL database (default: a throwaway cluster)")
    args = ap.parse_args()
    cluster = None
    url = args.database_url
    if url is None:
        from tests.support.postgres import PostgresCluster, server_bin_dir

        bin_dir = server_bin_dir()
        if bin_dir is None:
            sys.exit("No PostgreSQL server is installed here: give --database-url.")
        cluster = PostgresCluster(bin_dir, durable=True).start()
        cluster.execute("CREATE DATABASE soak")
        url = cluster.url("soak")
    try:
        result = run(url, clients=args.clients, seconds=args.seconds, workers=args.workers, threads=args.threads,
                     pause=args.pause, jitter=args.jitter)
    finally:
        if cluster is not None:
            cluster.stop()
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["errors"] == 0 and result["books"]["ledger_verify_ok"]
             and not result["books"]["problem_count"] else 1)


if __name__ == "__main__":
    main()

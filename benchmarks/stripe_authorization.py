"""Real-time card authorisation decisions under load. Prints one JSON document.

    .venv/bin/python -m benchmarks.stripe_authorization                  # SQLite and PostgreSQL, 4,000 each
    .venv/bin/python -m benchmarks.stripe_authorization --requests 500   # quicker
    .venv/bin/python -m benchmarks.stripe_authorization --engines sqlite

For each engine: a freshly migrated database (SQLite: a file with the service's own settings, WAL and
``synchronous=FULL``; PostgreSQL: a throwaway cluster from ``tests/support/postgres.py``, which runs without
fsync) holds ``--wallets`` wallets, each funded and with a card issued through the domain service against the
local fake Stripe (so each card's controls come from its plan line). Then ``--threads`` threads send
``--requests`` signed ``issuing_authorization.request`` webhooks through the Flask app's real route
(``POST /stripe/webhook``, the test client: no network), spread over the cards, about one in ten at a blocked
merchant category. Each request's time is from sending it to having the answer: signature check, the event
record, the card and balance reads, the decision, the ledger hold and the decision's record, in one
transaction. Two runs an engine: a closed loop (each thread sends its next request as soon as it has an answer:
the process is saturated and the time is mostly queueing for 2 cores and Python's one interpreter lock), and
a paced run at ``--rate`` a second (as card payments arrive from people). Stripe waits at most 2 seconds; the
target is p99 under 50 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from cryptography.fernet import Fernet

from tests.support.fake_stripe import FakeStripe
from wallet import database as wallet_database
from wallet.domain import cards, people, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork
from wallet.stripe_gateway import Address, CardholderDetails, StripeConfig, StripeGateway
from wallet.web import create_app

START = date(2026, 4, 6)
BLOCKED = "betting_casino_gambling"


def _percentile(sorted_values: list[int], fraction_per_mille: int) -> int:
    """Nearest-rank percentile of sorted integer microseconds (per mille: 990 is p99)."""
    rank = max(1, -(-len(sorted_values) * fraction_per_mille // 1000))
    return sorted_values[rank - 1]


def _ms(us: int) -> str:
    whole, rem = divmod(us, 1000)
    return f"{whole}.{rem:03d}"


def _prepare(url: str, fake: FakeStripe, wallets_count: int) -> list[str]:
    wallet_database.upgrade(url)
    uow = UnitOfWork(url)
    gateway = StripeGateway(StripeConfig(api_key=fake.api_key, api_base=fake.url, max_network_retries=0))
    card_ids = []
    for n in range(wallets_count):
        holder = people.create_user(uow, name=f"Holder {n}", email=f"holder{n}@example.org").id
        w = wallets.open_wallet(uow, holder=holder, name=f"Budget {n}", budget_kind="direct_payment",
                                plan_start=START, reference=f"bench-{n}")
        stream = wallets.set_funding_stream(uow, w.id, kind="council_adult_services", funder_ref="council:bench",
                                            label="Council", schedule="four_weekly", amount=10_000_000,
                                            starts=START, actor=SYSTEM)
        plans.set_budget_line(uow, w.id, category=Category.ACTIVITIES, stream_id=stream.id,
                              planned_per_period=400_000_000, actor=SYSTEM)
        wallets.record_funding(uow, w.id, stream.id, 10_000_000, START, actor=SYSTEM, key="bench-funding")
        person = CardholderDetails("Card", f"Holder {n}", Address("1 High St", "Leeds", "LS1 1AA"))
        card = cards.issue_card(uow, gateway, w.id, actor=SYSTEM, stream_id=stream.id, category=Category.ACTIVITIES,
                                holder=person,
                                key=f"bench-card-{n}", per_payment=5_000, blocked=[BLOCKED])
        card_ids.append(card.stripe_card_id)
    uow.db.dispose()
    return card_ids


def run_engine(name: str, url: str, *, requests: int, threads: int, wallets_count: int, seed: int,
               rate: int = 0) -> dict:
    with FakeStripe() as fake:
        card_ids = _prepare(url, fake, wallets_count)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark", "ENCRYPTION_KEYS": [Fernet.generate_key()],
                          "STRIPE_WEBHOOK_SECRET": fake.webhook_secret})
        rng = random.Random(seed)
        bodies = []
        for _ in range(requests):
            blocked = rng.randrange(10) == 0
            auth = fake.authorization_request(rng.choice(card_ids), rng.randrange(100, 4_000),
                                              merchant_category=BLOCKED if blocked else "eating_places_restaurants",
                                              merchant_name="LUCKY BETS" if blocked else "CAFE")
            bodies.append(json.dumps(fake.event("issuing_authorization.request", auth)))
        warm = app.test_client()
        body = bodies[0]
        warm.post("/stripe/webhook", data=body, headers={"Stripe-Signature": fake.sign(body)},
                  content_type="application/json")
        queue = list(reversed(bodies[1:]))
        lock = threading.Lock()
        # paced: each thread sends at rate/threads a second, on a fixed timetable (an open loop, as Stripe sends
        # card payments as people make them); 0: each sends its next as soon as it has an answer (saturation)
        interval_ns = threads * 1_000_000_000 // rate if rate else 0
        times: list[int] = []
        outcomes = {"approved": 0, "declined": 0, "errors": 0}

        def worker(offset_ns: int) -> None:
            client = app.test_client()
            due = time.perf_counter_ns() + offset_ns
            while True:
                with lock:
                    if not queue:
                        return
                    payload = queue.pop()
                header = fake.sign(payload)
                if interval_ns:
                    wait = due - time.perf_counter_ns()
                    if wait > 0:
                        time.sleep(wait / 1_000_000_000)
                    due += interval_ns
                started = time.perf_counter_ns()
                response = client.post("/stripe/webhook", data=payload, headers={"Stripe-Signature": header},
                                       content_type="application/json")
                elapsed = (time.perf_counter_ns() - started) // 1000
                answer = response.get_json(silent=True) or {}
                with lock:
                    times.append(elapsed)
                    if response.status_code != 200 or "approved" not in answer:
                        outcomes["errors"] += 1
                    elif answer["metadata"]["wallet_decision"] == "error":
                        outcomes["errors"] += 1
                    else:
                        outcomes["approved" if answer["approved"] else "declined"] += 1

        began = time.perf_counter_ns()
        pool = [threading.Thread(target=worker, args=(i * interval_ns // threads,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        wall_us = (time.perf_counter_ns() - began) // 1000
    times.sort()
    return {
        "engine": name, "mode": f"paced at {rate} a second" if rate else "closed loop (saturation)",
        "requests": len(times), "threads": threads, "wallets": wallets_count, **outcomes,
        "p50_ms": _ms(_percentile(times, 500)), "p90_ms": _ms(_percentile(times, 900)),
        "p99_ms": _ms(_percentile(times, 990)), "max_ms": _ms(times[-1]),
        "mean_ms": _ms(sum(times) // len(times)), "decisions_per_second": len(times) * 1_000_000 // wall_us,
        "under_50ms_p99": _percentile(times, 990) < 50_000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=4_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--wallets", type=int, default=40)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rate", type=int, default=50,
                    help="paced run: authorisations a second from all threads together (0: closed loop only)")
    args = ap.parse_args()
    results = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if engine == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                results.append(run_engine("sqlite", url, requests=args.requests, threads=args.threads,
                                          wallets_count=args.wallets, seed=args.seed))
            if args.rate:
                with tempfile.TemporaryDirectory() as tmp:
                    url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                    results.append(run_engine("sqlite", url, requests=args.requests, threads=args.threads,
                                              wallets_count=args.wallets, seed=args.seed, rate=args.rate))
        elif engine == "postgres":
            from tests.support.postgres import PostgresCluster, server_bin_dir

            bin_dir = server_bin_dir()
            if bin_dir is None:
                results.append({"engine": "postgres", "skipped": "no PostgreSQL server installed"})
                continue
            cluster = PostgresCluster(bin_dir).start()
            try:
                cluster.execute("CREATE DATABASE bench")
                results.append(run_engine("postgres", cluster.url("bench"), requests=args.requests,
                                          threads=args.threads, wallets_count=args.wallets, seed=args.seed))
                if args.rate:
                    cluster.execute("CREATE DATABASE bench_paced")
                    results.append(run_engine("postgres", cluster.url("bench_paced"), requests=args.requests,
                                              threads=args.threads, wallets_count=args.wallets, seed=args.seed,
                                              rate=args.rate))
            finally:
                cluster.stop()
        else:
            sys.exit(f"unknown engine {engine!r}: sqlite or postgres")
    print(json.dumps({"benchmark": "stripe_authorization", "machine": {
        "python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results}, indent=2))


if __name__ == "__main__":
    main()

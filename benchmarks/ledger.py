"""Ledger throughput and as-of latency. Prints one JSON document.

    .venv/bin/python -m benchmarks.ledger            # full sizes (a few minutes)
    .venv/bin/python -m benchmarks.ledger --quick    # small sizes, to check it runs

Figures: two-posting transfers per second on SQLite (one writer, unbatched and batched) and on PostgreSQL
(8 worker processes; many accounts, and a few hot ones), each beside the raw insert rate of the same rows
without ledger logic; and the time of an as-of balance on an account with 1,000,000 postings.
PostgreSQL runs in a throwaway cluster with fsync on (durable commits), as production would.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone

from ledger.clock import to_us
from ledger.db import Database
from ledger.model import AccountSpec, AccountType, EntryRequest, Posting
from ledger.service import Ledger
from wallet import database as wallet_database

START = datetime(2023, 4, 6, tzinfo=timezone.utc)


def open_accounts(ledger: Ledger, books: int, per_book: int) -> list[list[str]]:
    groups = []
    for b in range(books):
        codes = [f"b{b}:a{i}" for i in range(per_book)]
        ledger.open_accounts([AccountSpec(c, AccountType.ASSET, book=f"b{b}") for c in codes])
        groups.append(codes)
    return groups


def transfers(prefix: str, groups: list[list[str]], n: int, seed: int) -> list[EntryRequest]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        codes = groups[rng.randrange(len(groups))]
        a, b = rng.sample(codes, 2)
        amount = rng.randint(1, 10_000)
        out.append(EntryRequest(f"{prefix}-{i}", (Posting.debit(a, amount), Posting.credit(b, amount)),
                                description="benchmark transfer"))
    return out


def raw_insert_rate(url: str, requests: list[EntryRequest], batch: int) -> float:
    """The same entry and posting rows written with plain batched INSERTs: no locks, checks or hashes."""
    db = Database(url)
    if url.startswith("sqlite"):
        wallet_database.upgrade(url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS raw_entry (id BIGINT PRIMARY KEY, key VARCHAR(200), "
                             "description VARCHAR(500), effective_us BIGINT)")
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS raw_posting (entry_id BIGINT, account VARCHAR(200), "
                             "amount BIGINT)")
    from sqlalchemy import text

    started = time.perf_counter()
    n = 0
    for i in range(0, len(requests), batch):
        chunk = requests[i:i + batch]
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO raw_entry VALUES (:id, :key, :d, :e)"),
                         [dict(id=n + j, key=r.key, d=r.description, e=j) for j, r in enumerate(chunk)])
            conn.execute(text("INSERT INTO raw_posting VALUES (:id, :a, :m)"),
                         [dict(id=n + j, a=p.account, m=p.amount) for j, r in enumerate(chunk) for p in r.postings])
        n += len(chunk)
    elapsed = time.perf_counter() - started
    db.dispose()
    return n / elapsed


def sqlite_figures(tmp: str, quick: bool) -> dict:
    url = f"sqlite:///{tmp}/bench.db"
    wallet_database.upgrade(url)
    ledger = Ledger(url)
    groups = open_accounts(ledger, books=20, per_book=50)
    n_single = 500 if quick else 3_000
    reqs = transfers("single", groups, n_single, 1)
    t = time.perf_counter()
    for r in reqs:
        ledger.post_batch_fast([r])
    single = n_single / (time.perf_counter() - t)

    n_batched, batch = (10_000, 1_000) if quick else (100_000, 1_000)
    reqs = transfers("batched", groups, n_batched, 2)
    t = time.perf_counter()
    for i in range(0, n_batched, batch):
        ledger.post_batch_fast(reqs[i:i + batch])
    batched = n_batched / (time.perf_counter() - t)
    ledger.db.dispose()
    raw = raw_insert_rate(f"sqlite:///{tmp}/raw.db", reqs, batch)
    raw_single = raw_insert_rate(f"sqlite:///{tmp}/raw1.db", reqs[:n_single], 1)
    return {
        "sqlite_unbatched_transfers_per_s": round(single),
        "sqlite_unbatched_raw_inserts_per_s": round(raw_single),
        "sqlite_unbatched_overhead_ratio": round(raw_single / single, 2),
        "sqlite_batched_transfers_per_s": round(batched),
        "sqlite_batched_raw_inserts_per_s": round(raw),
        "sqlite_batched_overhead_ratio": round(raw / batched, 2),
        "sqlite_batch_size": batch,
    }


def as_of_figures(url: str, postings: int, quick: bool) -> dict:
    """One account with ``postings`` postings spread over three years; time as-of balance lookups."""
    ledger = Ledger(url)
    others = [f"asof:o{i}" for i in range(50)]
    ledger.open_accounts([AccountSpec("asof:hot", AccountType.ASSET, book="asof")]
                         + [AccountSpec(c, AccountType.ASSET, book="asof") for c in others])
    span = timedelta(days=3 * 365)
    step = span / postings
    batch = 5_000
    t = time.perf_counter()
    for i in range(0, postings, batch):
        ledger.post_batch_fast([
            EntryRequest(f"asof-{j}", (Posting.debit("asof:hot", 100), Posting.credit(others[j % 50], 100)),
                         effective_at=START + step * j)
            for j in range(i, min(i + batch, postings))])
    load_s = time.perf_counter() - t
    rng = random.Random(3)
    samples = []
    for _ in range(200 if quick else 1_000):
        moment = START + timedelta(seconds=rng.uniform(0, span.total_seconds()))
        t = time.perf_counter()
        ledger.balance_as_of("asof:hot", moment)
        samples.append((time.perf_counter() - t) * 1000)
    # Check a few answers exactly: postings at or before the moment, 100p each.
    for j in (0, postings // 2, postings - 1):
        assert ledger.balance_as_of("asof:hot", START + step * j) == 100 * (j + 1)
    samples.sort()
    ledger.db.dispose()
    return {
        "postings_on_account": postings,
        "load_transfers_per_s": round(postings / load_s),
        "as_of_ms_p50": round(statistics.median(samples), 3),
        "as_of_ms_p99": round(samples[int(len(samples) * 0.99) - 1], 3),
    }


def _pg_worker(url: str, label: str, groups: list[list[str]], n: int, seed: int, batch: int, queue) -> None:
    ledger = Ledger(Database(url, pool_size=2))
    reqs = transfers(f"{label}-{seed}", groups, n, seed)
    t = time.perf_counter()
    for i in range(0, n, batch):
        ledger.post_batch_fast(reqs[i:i + batch])
    queue.put(time.perf_counter() - t)


def pg_run(url: str, label: str, groups: list[list[str]], workers: int, per_worker: int, batch: int,
           partitioned: bool = False) -> float:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_pg_worker, args=(url, label, groups[w::workers] if partitioned else groups, per_worker, w, batch, queue))
             for w in range(workers)]
    for p in procs:
        p.start()
    # Each worker times its own writes (after start-up); all run at once, so the slowest sets the rate.
    busy = max(queue.get() for _ in range(workers))
    for p in procs:
        p.join()
    return workers * per_worker / busy


def pg_figures(quick: bool) -> dict:
    from tests.support.postgres import PostgresCluster, server_bin_dir

    bin_dir = server_bin_dir()
    if bin_dir is None:
        return {"postgres": "skipped: no PostgreSQL server installed"}
    cluster = PostgresCluster(bin_dir, durable=True).start()
    try:
        cluster.execute("CREATE DATABASE bench")
        url = cluster.url("bench")
        wallet_database.upgrade(url)
        ledger = Ledger(url)
        many = open_accounts(ledger, books=200, per_book=50)
        hot = [[f"hot:{i}" for i in range(4)]]
        ledger.open_accounts([AccountSpec(c, AccountType.ASSET, book="hot") for c in hot[0]])
        ledger.db.dispose()
        per = 150 if quick else 1_000
        out = {
            "pg_workers": 8,
            "pg_many_accounts_unbatched_transfers_per_s": round(pg_run(url, "many1", many, 8, per, 1)),
            "pg_hot_accounts_unbatched_transfers_per_s": round(pg_run(url, "hot1", hot, 8, per, 1)),
            "pg_many_accounts_batched_transfers_per_s": round(pg_run(url, "many100", many, 8, per * 5, 100)),
            # Each worker writes to its own wallets (books), as pay runs and funding do: no shared locks.
            "pg_partitioned_batched_transfers_per_s": round(pg_run(url, "part100", many, 8, per * 5, 100,
                                                                   partitioned=True)),
            "pg_hot_accounts_batched_transfers_per_s": round(pg_run(url, "hot100", hot, 8, per * 5, 100)),
            "pg_batch_size": 100,
        }
        reqs = transfers("raw", many, per * 5, 9)
        out["pg_raw_inserts_per_s_one_writer_batched"] = round(raw_insert_rate(url, reqs, 100))
        if not quick:
            cluster.execute("CREATE DATABASE asof")
            asof_url = cluster.url("asof")
            wallet_database.upgrade(asof_url)
            out["pg_as_of"] = as_of_figures(asof_url, 1_000_000, quick)
        return out
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="run one engine's figures only")
    args = parser.parse_args()
    figures: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()}}
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            figures.update(sqlite_figures(tmp, args.quick))
            asof_url = f"sqlite:///{tmp}/asof.db"
            wallet_database.upgrade(asof_url)
            figures["sqlite_as_of"] = as_of_figures(asof_url, 20_000 if args.quick else 1_000_000, args.quick)
    if not args.skip_postgres and args.only != "sqlite":
        figures.update(pg_figures(args.quick))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""Ledger throughput and as-of latency. Prints one JSON document.

    .venv/bin/python -m benchmarks.ledger            # full sizes (a few minutes)
    .venv/bin/python -m benchmarks.ledger --quick    # small sizes, to check it runs

Figures: two-posting transfers per second on SQLite (one writer, unbatched and batched) and on PostgreSQL
(8 worker processes; many accounts, and a few hot ones), each beside the raw insert rate of the same rows
without ledger logic; and the time of an as-of balance on an account with 1,000,000 postings.
PostgreSQL runs in a throwaway cluster with fsync on (durable commits), as production would. Its transfers
are posted single with ``post()`` by one thread per worker process ("unbatched"), by eight threads per worker
process whose concurrent posts the process's group commit gathers into shared transactions ("grouped"; the
mean number of transfers per commit is printed beside), or in batches of 100 with ``post_batch_fast``.
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
import threading
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


def _pg_worker(url: str, label: str, groups: list[list[str]], n: int, seed: int, batch: int, threads: int,
               ready, queue) -> None:
    """One worker process: ``threads`` threads share one Ledger; each posts its share of ``n`` transfers with
    ``post()`` one at a time (batch 1), or with ``post_batch_fast`` in batches."""
    ledger = Ledger(Database(url, pool_size=threads + 1))
    share = [transfers(f"{label}-{seed}-{t}", groups, n // threads, seed * 1000 + t) for t in range(threads)]

    def run(reqs: list[EntryRequest]) -> None:
        if batch == 1:
            for r in reqs:
                ledger.post(r)
        else:
            for i in range(0, len(reqs), batch):
                ledger.post_batch_fast(reqs[i:i + batch])

    pool = [threading.Thread(target=run, args=(reqs,)) for reqs in share]
    ready.wait()  # every worker has started and built its requests: all write at once
    start = time.time()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((start, time.time(), ledger.group_commit_stats()))
    ledger.db.dispose()


def pg_run(url: str, label: str, groups: list[list[str]], workers: int, per_worker: int, batch: int,
           threads: int = 1, partitioned: bool = False) -> dict:
    """Transfers per second from the first worker's start to the last one's end, all writing at once."""
    ctx = mp.get_context("spawn")
    queue, ready = ctx.Queue(), ctx.Barrier(workers)
    procs = [ctx.Process(target=_pg_worker, args=(url, label, groups[w::workers] if partitioned else groups,
                                                  per_worker, w, batch, threads, ready, queue))
             for w in range(workers)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in range(workers)]
    for p in procs:
        p.join()
    span = max(r[1] for r in results) - min(r[0] for r in results)
    total = workers * (per_worker // threads) * threads
    transactions = sum(r[2][0] for r in results)
    writes = sum(r[2][1] for r in results)
    out = {"transfers_per_s": round(total / span)}
    if batch == 1 and transactions:
        out["transfers_per_commit"] = round(writes / transactions, 1)
    return out


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
        per = 200 if quick else 1_000
        out: dict = {"pg_workers": 8}
        # Single transfers through post(): one caller per process, then eight per process (threads), whose
        # concurrent posts the process's group commit gathers into shared transactions.
        for name, groups in (("many_accounts", many), ("hot_accounts", hot)):
            out[f"pg_{name}_unbatched"] = pg_run(url, f"{name}1", groups, 8, per, 1)
            out[f"pg_{name}_grouped_8_threads"] = pg_run(url, f"{name}g", groups, 8, per * 2, 1, threads=8)
        out["pg_many_accounts_batched_100"] = pg_run(url, "many100", many, 8, per * 5, 100)
        # Each worker writes to its own wallets (books), as pay runs and funding do: no shared locks.
        out["pg_partitioned_grouped_8_threads"] = pg_run(url, "partg", many, 8, per * 2, 1, threads=8,
                                                         partitioned=True)
        out["pg_partitioned_batched_100"] = pg_run(url, "part100", many, 8, per * 5, 100, partitioned=True)
        out["pg_hot_accounts_batched_100"] = pg_run(url, "hot100", hot, 8, per * 5, 100)
        out["pg_round_trip_us_p50"] = pg_round_trip_us(url)
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


def fdatasync_us(directory: str, n: int = 200) -> float:
    """Median time of an 8 KiB write and fdatasync here: how fast durable commits can be right now (the
    machine's disk is shared, and this moves by a factor of ten or more from hour to hour)."""
    path = os.path.join(directory, "fsync.probe")
    samples = []
    with open(path, "wb") as f:
        for _ in range(n):
            t = time.perf_counter()
            f.write(b"\0" * 8192)
            f.flush()
            os.fdatasync(f.fileno())
            samples.append((time.perf_counter() - t) * 1e6)
    os.remove(path)
    return round(statistics.median(samples))


def pg_round_trip_us(url: str, n: int = 300) -> float:
    """Median time of ``SELECT 1`` on one connection."""
    db = Database(url)
    samples = []
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        for _ in range(n):
            t = time.perf_counter()
            raw.execute("SELECT 1").fetchone()
            samples.append((time.perf_counter() - t) * 1e6)
    db.dispose()
    return round(statistics.median(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="run one engine's figures only")
    args = parser.parse_args()
    figures: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform(), "load_average": os.getloadavg()[0]}}
    with tempfile.TemporaryDirectory() as tmp:
        figures["machine"]["fdatasync_us_p50_at_start"] = fdatasync_us(tmp)
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

"""Importing and matching a 10,000-line bank statement against a wallet whose books hold the same payments.
Prints one JSON document.

    .venv/bin/python -m benchmarks.bank_import                   # a throwaway SQLite database
    .venv/bin/python -m benchmarks.bank_import --postgres        # a throwaway PostgreSQL cluster
    .venv/bin/python -m benchmarks.bank_import --lines 1000      # smaller: checks it runs

The wallet: one holder, one funder, £10,000,000 paid in on 1 January 2025, then ``--lines`` payments (default
10,000) posted straight into the ledger (``post_batch_fast``), about 27 a day over a year, to 300 payees, with
amounts spread over £10 to £510. The statement (a Lloyds CSV, newest first, with a running balance) shows the
funding and every payment: 90 in 100 booked the next day under the payee's name (matched automatically), 7 in
100 booked five days later (suggested), 3 in 100 with an amount the books do not have (left unmatched).

Measured: the whole ``import_statement`` call (reading the file, fingerprints, storing the lines, reading the
ledger entries of the period, matching, storing the outcomes, reconciling) in one transaction, its phases (from
its progress messages), and importing the same file again (every line a duplicate). Target: under 5 seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import date, datetime, time as clock_time, timedelta, timezone
from pathlib import Path

from ledger.model import EntryRequest, Posting
from wallet import database as wallet_database
from wallet.bank import service
from wallet.domain import people, wallets
from wallet.domain.chart import Category
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork

START = date(2025, 1, 1)
FUNDING = 1_000_000_000
BATCH = 1_000


def _amount(i: int) -> int:
    return 1_000 + (i * 7_919) % 50_000


def build(uow: UnitOfWork, lines: int) -> tuple[str, bytes]:
    """The wallet, its books, and the statement file."""
    holder = people.create_user(uow, name="Bench Holder", email="bank-bench@example.org").id
    w = wallets.open_wallet(uow, holder=holder, name="Bench wallet", budget_kind="direct_payment",
                            plan_start=START, reference="bench-bank")
    stream = wallets.set_funding_stream(uow, w.id, kind="council_adult_services", funder_ref="council:bench",
                                        label="Bench council", schedule="one_off", amount=0, starts=START,
                                        actor=SYSTEM)
    wallets.record_funding(uow, w.id, stream.id, FUNDING, START, actor=SYSTEM, key="bench-funding",
                           description="Money received from Bench council")
    chart = wallets.get_wallet(uow, w.id, actor=SYSTEM).chart
    cash, spend = chart.cash(stream.code), chart.spend(Category.OTHER, stream.code)

    def when(i: int) -> datetime:
        return datetime.combine(START + timedelta(days=1 + i * 365 // lines), clock_time(10),
                                tzinfo=timezone.utc) + timedelta(seconds=i)

    for lo in range(0, lines, BATCH):
        uow.ledger.post_batch_fast([EntryRequest(
            key=f"bench-pay-{i}", postings=(Posting.debit(spend, _amount(i)), Posting.credit(cash, _amount(i))),
            description=f"Payment {i} (Payee {i % 300} Care)", effective_at=when(i), actor=SYSTEM,
            metadata={"wallet": w.id, "kind": "bench"}) for i in range(lo, min(lo + BATCH, lines))])
    rows = [(START, "BENCH COUNCIL DP", FUNDING)]
    for i in range(lines):
        day = when(i).date()
        if i % 100 < 90:
            rows.append((day + timedelta(days=1), f"PAYEE {i % 300} CARE", -_amount(i)))
        elif i % 100 < 97:
            rows.append((day + timedelta(days=5), f"PAYEE {i % 300} CARE", -_amount(i)))
        else:
            rows.append((day + timedelta(days=1), f"SHOP {i}", -_amount(i) - 1))
    rows.sort(key=lambda r: r[0])
    balance, out = 0, []
    for day, text, amount in rows:
        balance += amount
        debit, credit = (_pounds(-amount), "") if amount < 0 else ("", _pounds(amount))
        out.append(f"{day:%d/%m/%Y},DEB,'30-94-57,12345678,{text},{debit},{credit},{_pounds(balance)}")
    head = ("Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,Debit Amount,"
            "Credit Amount,Balance")
    return w.id, ("\n".join([head, *reversed(out)]) + "\n").encode()


def _pounds(pence: int) -> str:
    whole, rem = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{rem:02d}"


def run(url: str, engine: str, lines: int) -> dict:
    wallet_database.upgrade(url)
    uow = UnitOfWork(url)
    try:
        t0 = time.perf_counter()
        wallet_id, data = build(uow, lines)
        built = time.perf_counter() - t0
        phases: list[tuple[str, float]] = []
        started = time.perf_counter()
        summary = service.import_statement(uow, wallet_id, data, "bench.csv", actor=SYSTEM,
                                           progress=lambda text: phases.append((text, time.perf_counter())))
        seconds = time.perf_counter() - started
        marks = [started] + [t for _, t in phases] + [started + seconds]
        steps = {text: round(marks[k + 2] - marks[k + 1], 3) for k, (text, _) in enumerate(phases)}
        again_start = time.perf_counter()
        again = service.import_statement(uow, wallet_id, data, "bench.csv", actor=SYSTEM)
        again_seconds = time.perf_counter() - again_start
    finally:
        uow.db.dispose()
    recon = summary.reconciliation
    return {
        "benchmark": "bank_import", "engine": engine, "statement_lines": summary.lines_in_file,
        "file_bytes": len(data), "ledger_entries": lines + 1, "setup_seconds": round(built, 2),
        "import_and_match_seconds": round(seconds, 3),
        "lines_per_second": int(summary.lines_in_file / seconds) if seconds else None,
        "phases_seconds": steps,
        "outcome": {"new": summary.new, "duplicate": summary.duplicate, "matched": summary.matched,
                    "suggested": summary.suggested, "unmatched": summary.unmatched},
        "reconciliation": None if recon is None else {
            "on": recon.on.isoformat(), "bank": recon.bank_balance, "books": recon.ledger_balance,
            "difference": recon.difference, "alert_raised": summary.alert_raised},
        "reimport_seconds": round(again_seconds, 3),
        "reimport_outcome": {"new": again.new, "duplicate": again.duplicate},
        "target_seconds": 5,
        "within_target": seconds < 5,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=10_000, help="payments in the books, and lines on the statement")
    ap.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster")
    args = ap.parse_args()
    cluster = workdir = None
    if args.postgres:
        from tests.support.postgres import PostgresCluster, server_bin_dir

        bin_dir = server_bin_dir()
        if bin_dir is None:
            sys.exit("no PostgreSQL server installed")
        cluster = PostgresCluster(bin_dir).start()
        cluster.execute("CREATE DATABASE bank_bench")
        url, engine = cluster.url("bank_bench"), "postgresql"
    else:
        workdir = Path(tempfile.mkdtemp(prefix="bank-bench-"))
        url, engine = f"sqlite:///{workdir / 'bank.db'}", "sqlite"
    try:
        result = run(url, engine, args.lines)
    finally:
        if cluster is not None:
            cluster.stop()
        if workdir is not None:
            for p in workdir.iterdir():
                p.unlink()
            workdir.rmdir()
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                         "platform": platform.platform(), "load_average": os.getloadavg()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Evidence on entries: storing a phone photo, attaching receipts, and verifying them all. Prints one JSON document.

    .venv/bin/python -m benchmarks.evidence                    # a throwaway SQLite database and evidence folder
    .venv/bin/python -m benchmarks.evidence --records 200      # smaller: checks it runs

Measured on one wallet with one payment entry:

* ``store_put``: ``EvidenceStore.put`` of a 5 MiB JPEG-headed file (read in 64 KiB chunks, hashed, written,
  fsynced, linked into place): MiB per second;
* ``attach``: ``attach_evidence`` of ``--records`` different small PDFs to the entry (the permission check, the
  file, the chained record and the access-log row, one transaction each): records per second;
* ``verify``: ``verify_evidence`` over those records (every chain hash recomputed, every file re-hashed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from ledger.clock import ManualClock
from wallet import database as wallet_database
from wallet.domain import payees, payments, people, plans, wallets
from wallet.domain.chart import Category
from wallet.domain.permissions import Role
from wallet.domain.unit_of_work import SYSTEM, UnitOfWork
from wallet.evidence.service import attach_evidence, verify_evidence
from wallet.evidence.storage import EvidenceStore


def _pdf(n: int) -> bytes:
    return b"%PDF-1.4\n% receipt " + str(n).encode() + b"\n" + bytes(2_000) + b"\n%%EOF\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'wallet.db'}"
        wallet_database.upgrade(url)
        uow = UnitOfWork(url, clock=ManualClock(datetime(2026, 4, 6, 9, tzinfo=timezone.utc)))
        holder = people.create_user(uow, name="Holder", email="holder@example.org").id
        approver = people.create_user(uow, name="Appointee", email="appointee@example.org").id
        w = wallets.open_wallet(uow, holder=holder, name="Bench", budget_kind="direct_payment",
                                plan_start=date(2026, 4, 6))
        people.grant_role(uow, w.id, approver, Role.APPOINTEE, actor=SYSTEM)
        stream = wallets.set_funding_stream(uow, w.id, kind="council_adult_services", funder_ref="council:x",
                                            label="Council", schedule="four_weekly", amount=100_000,
                                            starts=date(2026, 4, 6), actor=SYSTEM)
        plans.set_budget_line(uow, w.id, category=Category.ACTIVITIES, stream_id=stream.id,
                              planned_per_period=50_000, actor=SYSTEM)
        wallets.record_funding(uow, w.id, stream.id, 100_000, date(2026, 4, 6), actor=SYSTEM, key="f1")
        shop = payees.add_payee(uow, w.id, kind="supplier", name="Shop", actor=holder)
        asked = payments.request_payment(uow, w.id, actor=holder, payee_id=shop.id, amount=1_000,
                                         category=Category.ACTIVITIES, description="Bench")
        entry = payments.approve_payment(uow, asked.id, actor=approver).entry_id
        store = EvidenceStore(root / "evidence")

        big = b"\xff\xd8\xff\xe0" + os.urandom(5 * 1024 * 1024 - 4)
        started = time.perf_counter()
        store.put(big)
        put_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for n in range(args.records):
            attach_evidence(uow, store, w.id, entry, actor=holder, kind="receipt", source=_pdf(n),
                            file_name=f"r{n}.pdf")
        attach_seconds = time.perf_counter() - started

        started = time.perf_counter()
        report = verify_evidence(uow.db, store)
        verify_seconds = time.perf_counter() - started
        uow.db.dispose()
    print(json.dumps({
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()[0]},
        "store_put": {"bytes": len(big), "seconds": round(put_seconds, 4),
                      "mib_per_second": round(len(big) / 1024 / 1024 / put_seconds, 1)},
        "attach": {"records": args.records, "seconds": round(attach_seconds, 3),
                   "records_per_second": round(args.records / attach_seconds, 1)},
        "verify": {"records": report.records, "files": report.files, "ok": report.ok,
                   "seconds": round(verify_seconds, 3),
                   "records_per_second": round(report.records / verify_seconds, 1)},
    }, indent=2))


if __name__ == "__main__":
    main()

"""Large exports stream in constant memory: 20,000 entries go out in many chunks while Python's own allocations
(tracemalloc) stay under a bound far below the size of the export; and the result still checks out."""
from __future__ import annotations

import hashlib
import tempfile
import tracemalloc
from datetime import timedelta

import pytest

from ledger.model import EntryRequest, Posting
from tests.integration.wallet.conftest import TODAY
from tests.support.export_reader import check_against_ledger, read_export
from wallet.domain.schedules import start_of

ENTRIES = 20_000
PEAK_BOUND = 6 * 1024 * 1024
"""Far below what holding the lines would take (20,000 lines of about a kilobyte each as Python objects)."""


def _fill(world, n: int) -> None:
    chart, code = world.wallet.chart, world.council.code
    first = start_of(TODAY)
    batch = []
    for i in range(n):
        when = first + timedelta(minutes=25 * i)      # about a year of entries
        if i % 3 == 0:
            postings = (Posting.debit(chart.cash(code), 10_000), Posting.credit(chart.funding(code), 10_000))
            text = f"Money received {i}"
        else:
            postings = (Posting.debit(chart.spend("transport", code), 1_234),
                        Posting.credit(chart.cash(code), 1_234))
            text = f"=Taxi {i}" if i % 100 == 1 else f"Taxi {i}"
        batch.append(EntryRequest(key=f"{world.wallet.book}:bulk:{i}", postings=postings, description=text,
                                  effective_at=when, reference=f"bulk-{i}", metadata={"kind": "bulk"}))
        if len(batch) == 2_000:
            world.ledger.post_batch_fast(batch)
            batch = []
    if batch:
        world.ledger.post_batch_fast(batch)


@pytest.mark.slow
def test_twenty_thousand_entries_stream_in_constant_memory(portal):
    world = portal.world
    _fill(world, ENTRIES)
    client = portal.client("auditor")
    last = TODAY + timedelta(days=400)
    for fmt in ("csv", "json", "xlsx"):
        response = client.get(f"/wallets/{world.wallet.id}/exports/download", buffered=False,
                              query_string={"format": fmt, "start": TODAY.isoformat(), "end": last.isoformat()})
        assert response.status_code == 200
        assert response.is_streamed
        size = chunks = 0
        digest = hashlib.sha256()
        with tempfile.TemporaryFile() as out:
            tracemalloc.start()
            try:
                tracemalloc.reset_peak()
                for chunk in response.response:
                    chunks += 1
                    size += len(chunk)
                    digest.update(chunk)
                    out.write(chunk)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
                response.close()
            out.seek(0)
            data = out.read()
        print(f"{fmt}: peak {peak:,} bytes of Python allocations while streaming {size:,} bytes in {chunks} chunks")
        assert peak < PEAK_BOUND, f"{fmt}: peak {peak:,} bytes while streaming {size:,}"
        assert chunks > 5, f"{fmt}: sent in {chunks} chunks; it should go out as it is read"
        export = read_export(data, fmt)
        assert export.ok, export.problems[:5]
        assert export.manifest["row_count"] == ENTRIES + 2      # and the two receipts of the standard wallet
        assert check_against_ledger(export, world.uow.db) == []

"""A short soak under gunicorn (``benchmarks.soak``, the same code as the ten-minute run recorded in
docs/benchmarks.md): holders and appointees reading pages and the API, asking for payments, approving and
rejecting them, holding the live feed open and exporting, all at once. Afterwards nothing the clients were told
is missing from the books, nothing is there twice, and the ledger verifies."""
from __future__ import annotations

import os

import pytest

from benchmarks import soak


def test_a_short_soak_loses_and_duplicates_nothing(database_url, tmp_path):
    environment = dict(os.environ)
    result = soak.run(database_url, clients=12, seconds=25, workers=2, threads=24, pause=0.5, jitter=0.25,
                      log_dir=tmp_path)
    log = (tmp_path / "gunicorn.log").read_text()
    assert result["errors"] == 0, (result["first_errors"], log[-3000:])
    books = result["books"]
    assert books["ledger_verify_ok"], books["ledger_verify"]
    assert books["problem_count"] == 0, books["problems"]
    # every kind of work really happened, so the checks above had something to check
    assert result["payments"]["accepted"] > 0 and result["payments"]["approved"] > 0
    assert books["payment_requests"].get("paid", 0) > result["wallets"]
    for action in ("page home", "page transactions", "api transactions", "api request payment",
                   "live feed opened", "export csv"):
        assert result["latency"].get(action, {}).get("count", 0) > 0, (action, sorted(result["latency"]))
    assert result["live"]["seconds_connected"] > 0 and result["exports"]["bytes"] > 0
    assert result["ready_after"] == 200
    assert dict(os.environ) == environment   # the server's settings stayed the server's


@pytest.mark.parametrize("bad", [{"clients": 0}, {"seconds": 0}])
def test_the_soak_refuses_a_run_with_nothing_to_do(database_url, bad):
    with pytest.raises(ValueError):
        soak.run(database_url, **{"clients": 2, "seconds": 1, **bad})

"""The disk filling up while an export is made (the Excel export is the one that needs the server's disk: its
workbook is written to a temporary file first). On SQLite and PostgreSQL:

* a real OS-level failure: the export runs in a child process whose file-size limit (RLIMIT_FSIZE) is smaller
  than the workbook, so the kernel refuses the write (EFBIG) as a full disk would (ENOSPC);
* through the portal, with the workbook's save failing with ENOSPC: the page says so (503), in words.

After each: a clear error, no temporary file left behind, nothing in the database changed but the access-log
line of the attempt, and the next export succeeds and checks against the ledger.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.tables import entry_t, posting_t
from ledger.verify import verify
from tests.integration.wallet.conftest import TODAY, uow, world  # noqa: F401  (fixtures)
from tests.integration.web.conftest import portal  # noqa: F401  (fixture)
from tests.support.export_reader import check_against_ledger, read_export
from wallet.domain import payments
from wallet.domain.tables import access_log_t

REPO = Path(__file__).resolve().parents[3]
FIRST, LAST = TODAY - timedelta(days=3), TODAY + timedelta(days=20)

CHILD = textwrap.dedent("""
    import json, os, resource, signal, sys
    from datetime import date
    from ledger.clock import ManualClock
    from ledger.db import Database
    from wallet.domain.unit_of_work import UnitOfWork
    from wallet.exports import ExportFailed, plan_export, stream_export

    url, wallet_id, actor, first, last, out = sys.argv[1:7]
    db = Database(url)
    uow = UnitOfWork(db)
    def plan():
        return plan_export(uow, wallet_id, actor=actor, fmt="xlsx", first_day=date.fromisoformat(first),
                           last_day=date.fromisoformat(last))
    first_plan = plan()       # logged before the limit: the database is not what runs out of room here
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # the write fails with EFBIG instead of killing us
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, hard))
    result = {}
    try:
        b"".join(stream_export(db, first_plan))
        result["first"] = "exported"
    except ExportFailed as failed:
        result["first"] = str(failed)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))   # space again
    result["left_behind"] = sorted(os.listdir(os.environ["TMPDIR"]))
    with open(out, "wb") as handle:
        for chunk in stream_export(db, plan()):
            handle.write(chunk)
    db.dispose()
    print(json.dumps(result))
""")


def spend(world) -> None:  # noqa: F811
    world.clock.advance(days=2)
    payments.request_payment(world.uow, world.wallet.id, actor=world.users["holder"], payee_id=world.shop.id,
                             amount=4_500, category="activities", description="Swimming", stream_id=world.own.id)


def books(world) -> tuple[int, int]:  # noqa: F811
    return world.uow.read(lambda tx: (tx.conn.execute(select(func.count()).select_from(entry_t)).scalar_one(),
                                      tx.conn.execute(select(func.count()).select_from(posting_t)).scalar_one()))


def exports_logged(world) -> int:  # noqa: F811
    return world.uow.read(lambda tx: tx.conn.execute(select(func.count()).select_from(access_log_t).where(
        access_log_t.c.action == "export")).scalar_one())


def test_a_full_disk_refuses_the_export_cleanly_and_the_next_one_works(world, database_url, tmp_path):  # noqa: F811
    spend(world)
    before = books(world)
    logged = exports_logged(world)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "statement.zip"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, database_url, world.wallet.id, world.users["auditor"], FIRST.isoformat(),
         LAST.isoformat(), str(out)],
        cwd=REPO, env={**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["first"].startswith("The export could not be made because the server has run out of disk "
                                      "space. Nothing was changed.")
    assert result["left_behind"] == []                  # the half-written workbook is gone
    assert list(scratch.iterdir()) == []
    assert books(world) == before                       # not an entry or posting more
    assert exports_logged(world) == logged + 2          # each attempt is in the access log, as any export is
    assert verify(world.uow.db).ok
    export = read_export(out.read_bytes(), "xlsx")     # the next export is whole and agrees with the books
    assert export.ok, export.problems
    assert check_against_ledger(export, world.uow.db) == []
    assert export.manifest["row_count"] >= 1


def test_the_portal_says_the_disk_is_full_and_the_next_download_works(portal, tmp_path, monkeypatch):  # noqa: F811
    from openpyxl.workbook.workbook import Workbook

    world = portal.world
    spend(world)
    before = books(world)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    real_save = Workbook.save

    def no_space(self, filename):
        with open(filename, "wb") as handle:       # some of it gets written, then the disk is full
            handle.write(b"PK\x03\x04 partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)

    monkeypatch.setattr(Workbook, "save", no_space)
    client = portal.client("auditor")
    query = {"format": "xlsx", "start": FIRST.isoformat(), "end": LAST.isoformat(), "funder": ""}
    refused = client.get(f"/wallets/{world.wallet.id}/exports/download", query_string=query)
    assert refused.status_code == 503
    page = refused.get_data(as_text=True)
    assert "run out of disk space" in page and "Nothing was changed" in page and "Content-Disposition" not in \
        refused.headers
    assert list(tmp_path.glob("wallet-export-*")) == []
    assert books(world) == before

    monkeypatch.setattr(Workbook, "save", real_save)
    again = client.get(f"/wallets/{world.wallet.id}/exports/download", query_string=query)
    assert again.status_code == 200
    export = read_export(again.get_data(), "xlsx")
    assert export.ok, export.problems
    assert check_against_ledger(export, world.uow.db) == []
    assert list(tmp_path.glob("wallet-export-*")) == []

    # A download cut short (the connection or the server dying mid-stream) has no ZIP directory or manifest:
    # the independent reader never takes it as complete.
    query["format"] = "csv"
    whole = client.get(f"/wallets/{world.wallet.id}/exports/download", query_string=query).get_data()
    assert read_export(whole, "csv").ok
    for cut in (len(whole) // 3, len(whole) - 30):
        try:
            partial = read_export(whole[:cut], "csv")
        except Exception:       # noqa: BLE001  (refusing to open it at all is also "not complete")
            continue
        assert not partial.ok

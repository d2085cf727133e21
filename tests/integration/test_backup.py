"""`wallet backup` and `wallet restore`: a round trip on SQLite and PostgreSQL gives back exactly the books that
were backed up, verified; a damaged backup is refused and restores nothing."""
from __future__ import annotations

import json

from click.testing import CliRunner

from ledger.db import Database
from ledger.model import AccountSpec, AccountType
from ledger.service import Ledger
from ledger.verify import verify
from wallet.cli import cli


def run(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, *args])


def books(url: str) -> tuple[int, int, int]:
    db = Database(url)
    try:
        ledger = Ledger(db)
        report = verify(db)
        assert report.ok, report.fault
        return report.entries, ledger.balance("w1:cash").posted, ledger.balance("w1:income").posted
    finally:
        db.dispose()


def post(url: str, keys: range) -> None:
    db = Database(url)
    try:
        ledger = Ledger(db)
        ledger.open_accounts([AccountSpec("w1:cash", AccountType.ASSET, floor=0, book="w1"),
                              AccountSpec("w1:income", AccountType.INCOME, book="w1")])
        for n in keys:
            ledger.transfer(f"k{n}", "w1:cash", "w1:income", 1_000 + n)
    finally:
        db.dispose()


def test_backup_and_restore_round_trip_with_verify(database_url, tmp_path):
    post(database_url, range(20))
    before = books(database_url)
    out = run(database_url, "backup", str(tmp_path / "wallet.backup"))
    assert out.exit_code == 0, out.output
    manifest = json.loads((tmp_path / "wallet.backup.manifest.json").read_text())
    assert manifest["entries"] == before[0] == 20

    post(database_url, range(20, 30))                 # work after the backup...
    assert books(database_url)[0] == 30
    back = run(database_url, "restore", "--yes", str(tmp_path / "wallet.backup"))
    assert back.exit_code == 0, back.output
    assert "ledger check: OK" in back.output
    assert books(database_url) == before              # ...is gone, and the books are exactly as backed up


def test_a_damaged_backup_is_refused_and_nothing_is_restored(database_url, tmp_path):
    post(database_url, range(5))
    assert run(database_url, "backup", str(tmp_path / "b")).exit_code == 0
    post(database_url, range(5, 8))
    data = bytearray((tmp_path / "b").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "b").write_bytes(bytes(data))
    refused = run(database_url, "restore", "--yes", str(tmp_path / "b"))
    assert refused.exit_code == 1
    assert "does not match its manifest's checksum" in refused.output
    assert books(database_url)[0] == 8                # untouched

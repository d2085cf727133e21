"""`wallet evidence verify`: exit 0 when every record and file agrees, 1 and the mismatch named when not."""
from __future__ import annotations

from click.testing import CliRunner

from tests.integration.evidence import files
from wallet.cli import cli
from wallet.evidence import service as evidence


def _verify(url, store):
    return CliRunner().invoke(cli, ["--database-url", url, "evidence", "verify", "--store", str(store.root)])


def test_verify_passes_then_names_an_altered_file(world, store, paid, database_url):
    w = world
    kept = evidence.attach_evidence(w.uow, store, w.wallet.id, paid.id, actor=w.users["holder"], kind="receipt",
                                    source=files.image("PNG"))
    ok = _verify(database_url, store)
    assert ok.exit_code == 0, ok.output
    assert "OK: 1 records in 1 wallets, 1 files checked" in ok.output
    path = store.path(kept.sha256)
    path.chmod(0o640)
    path.write_bytes(files.image("PNG", "red"))
    bad = _verify(database_url, store)
    assert bad.exit_code == 1
    assert f"MISMATCH: wallet {w.wallet.id} evidence #1 ({kept.id}): file {kept.sha256}" in bad.output
    assert "altered" in bad.output

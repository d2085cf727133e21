"""Exports read from a PostgreSQL read replica when ``WALLET_EXPORT_DATABASE_URL`` names one: a hot standby
streaming from the primary. The export is planned and logged on the primary, its rows come from the replica,
and its manifest says exactly how far the replica had got."""
from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import make_url

from tests.integration.web.conftest import Portal
from tests.integration.web.test_exports import FIRST, LAST, _download, history  # noqa: F401  (fixture)
from tests.support.export_reader import check_against_ledger, read_export
from tests.support.postgres import PostgresCluster
from wallet.domain import payments
from wallet.web import create_app

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_factory", ["postgres"], indirect=True)]


@pytest.fixture
def standby(pg_cluster):
    replica = PostgresCluster(pg_cluster.bin_dir).follow(pg_cluster)
    yield replica
    replica.stop()


def caught_up(primary: PostgresCluster, replica: PostgresCluster) -> None:
    target = primary.query("SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + 30
    while not replica.query(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
        assert time.monotonic() < deadline, "the replica did not catch up in 30 s"
        time.sleep(0.05)


def test_exports_read_from_the_replica_and_say_how_far_it_had_got(portal, history, pg_cluster, standby,
                                                                 database_url):
    w = history
    name = make_url(database_url).database
    app = create_app({**{k: portal.app.config[k] for k in ("DATABASE_URL", "SECRET_KEY", "CLOCK", "ENCRYPTION_KEYS")},
                      "EXPORT_DATABASE_URL": standby.url(name)})
    auditor = Portal(app, w, portal.secrets).client("auditor")   # one sign-in: a code is good once
    caught_up(pg_cluster, standby)
    standby.query("SELECT pg_wal_replay_pause()::text")

    # A payment the primary has and the paused replica has not.
    w.clock.advance(days=1)
    late = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.agency.id,
                                    amount=777, category="transport", description="Bus fare after the pause",
                                    stream_id=w.council.id)
    if late.status.value == "awaiting_approval":
        late = payments.approve_payment(w.uow, late.id, actor=w.users["appointee"])
    assert late.status.value == "paid"

    export = read_export(_download(auditor, w.wallet.id, "json").get_data(), "json")
    assert export.ok, export.problems
    assert not [r for r in export.rows if r.description.startswith("Bus fare after the pause")]
    assert export.manifest["row_count"] == len(export.rows) > 0
    reached = w.ledger.entry(export.manifest["chain"]["last_entry_in_period"]["id"])
    assert reached.sequence < w.ledger.entry(late.entry_id).sequence   # the replica's head, not the primary's

    standby.query("SELECT pg_wal_replay_resume()::text")
    caught_up(pg_cluster, standby)
    again = read_export(_download(auditor, w.wallet.id, "json").get_data(), "json")
    assert again.ok, again.problems
    assert [r for r in again.rows if r.description.startswith("Bus fare after the pause")]
    assert check_against_ledger(again, w.uow.db) == []
    assert again.manifest["row_count"] == export.manifest["row_count"] + 1

"""The live feed (``/wallets/<id>/live``) on SQLite and PostgreSQL: new entries arrive as Server-Sent Events
within a second, a reconnection resumes exactly where it left off, and nobody sees a wallet they may not."""
from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import date

import pytest

from tests.integration.wallet.conftest import LEEDS, TODAY
from wallet.domain import wallets
from wallet.domain.unit_of_work import SYSTEM
from wallet.live.hub import Hub, Notifier, hub_for
from wallet.web import live as live_view
from wallet.web.db import database

DEADLINE = 1.0   # every viewer must see a new posting within a second


@dataclass
class Event:
    id: int | None
    event: str
    data: dict


@dataclass
class Stream:
    """A streamed response read in a thread, parsed into events; comment lines are counted, not kept."""

    response: object
    events: "queue.Queue[tuple[float, Event]]" = field(default_factory=queue.Queue)
    comments: int = 0
    retry: int | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "Stream":
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        return self

    def _read(self) -> None:
        buffer = ""
        iterator = iter(self.response.response)
        try:
            for chunk in iterator:
                buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    self._parse(block)
                if self.stop.is_set():
                    break
        finally:
            close = getattr(iterator, "close", None) or getattr(self.response.response, "close", None)
            if close:
                close()

    def _parse(self, block: str) -> None:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments += 1
            elif ": " in line:
                name, value = line.split(": ", 1)
                fields[name] = value
        if "retry" in fields:
            self.retry = int(fields["retry"])
        if "data" in fields:
            self.events.put((time.monotonic(), Event(int(fields["id"]) if "id" in fields else None,
                                                     fields.get("event", "message"), json.loads(fields["data"]))))

    def next(self, timeout: float = DEADLINE) -> tuple[float, Event]:
        return self.events.get(timeout=timeout)

    def nothing_more(self, wait: float = 0.6) -> bool:
        try:
            self.events.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


@pytest.fixture
def app(portal):
    portal.app.config["LIVE_HEARTBEAT_MS"] = 200   # the reader thread gets a chance to stop often
    yield portal.app
    with portal.app.app_context():
        hub_for(database().engine).stop()


def open_stream(client, wallet_id: str, query: str = "", **headers) -> Stream:
    response = client.get(f"/wallets/{wallet_id}/live{query}", headers=headers, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    return Stream(response).start()


def pay_in(world, amount: int, key: str):
    return wallets.record_funding(world.uow, world.wallet.id, world.council.id, amount, TODAY, actor=SYSTEM,
                                  key=key)


def test_a_posting_made_after_connecting_arrives_within_a_second(portal, app):
    world = portal.world
    stream = open_stream(portal.client("holder"), world.wallet.id)
    try:
        time.sleep(0.3)  # the stream is open and waiting
        assert stream.retry == 3000
        posted = time.monotonic()
        pay_in(world, 186_000, "live-1")
        arrived, event = stream.next()
        assert arrived - posted < DEADLINE
        assert event.event == "entry"
        entry = world.ledger.entry_by_key(f"{world.wallet.book}:funding:{world.council.code}:live-1")
        assert event.id == entry.sequence == 3          # two payments in before: the world's set-up
        assert event.data["id"] == entry.id
        assert event.data["amount_in"] == 186_000 and event.data["amount_out"] == 0
        assert event.data["balance"] == 186_000 + 12_000 + 186_000
        assert event.data["date"] == "2026-04-06" and event.data["date_text"] == "6 April 2026"
        assert event.data["lines"] == [{
            "stream_id": world.council.id, "stream": "Leeds adult social care", "amount": 186_000,
            "amount_in_text": "£1,860.00", "amount_out_text": "", "balance": 372_000, "balance_text": "£3,720.00"}]
        assert event.data["text"] == ("New: Money received from Leeds adult social care, £1,860.00 paid in. "
                                      "Balance now £3,840.00.")
        assert stream.nothing_more()
        assert stream.comments >= 1                      # heartbeats (every 0.2 s here, 15 s by default)
    finally:
        stream.close()


def test_money_out_is_shown_as_paid_out_with_the_new_balance(portal, app):
    world = portal.world
    stream = open_stream(portal.client("overseer"), world.wallet.id)   # shared "see transactions"
    try:
        time.sleep(0.2)
        wallets.reclaim_surplus(world.uow, world.wallet.id, world.council.id, 5_000, TODAY, actor=SYSTEM,
                                key="r1")
        _, owed = stream.next()
        _, repaid = stream.next()
        assert owed.data["moves_cash"] is False and owed.data["amount_in"] == owed.data["amount_out"] == 0
        assert owed.data["text"] == "New: Surplus reclaimed by Leeds adult social care. Balance now £1,980.00."
        assert repaid.data["amount_out"] == 5_000 and repaid.data["balance"] == 193_000
        assert repaid.data["text"] == ("New: Surplus repaid to Leeds adult social care, £50.00 paid out. "
                                       "Balance now £1,930.00.")
        assert (owed.id, repaid.id) == (3, 4)
    finally:
        stream.close()


def test_every_connected_viewer_gets_it(portal, app):
    world = portal.world
    streams = [open_stream(portal.client(who), world.wallet.id) for who in ("holder", "appointee", "manager")]
    try:
        time.sleep(0.3)
        posted = time.monotonic()
        pay_in(world, 1_000, "many")
        for s in streams:
            arrived, event = s.next()
            assert event.id == 3 and arrived - posted < DEADLINE
    finally:
        for s in streams:
            s.close()


def test_resuming_from_last_event_id_gives_exactly_the_missing_events(portal, app):
    world = portal.world
    for i in range(4):
        pay_in(world, 100 + i, f"missed-{i}")             # entries 3, 4, 5, 6
    stream = open_stream(portal.client("holder"), world.wallet.id, **{"Last-Event-ID": "3"})
    try:
        got = [stream.next()[1] for _ in range(3)]
        assert [e.id for e in got] == [4, 5, 6]
        assert [e.data["amount_in"] for e in got] == [101, 102, 103]
        assert [e.data["balance"] for e in got] == [198_000 + 100 + 101, 198_000 + 100 + 101 + 102,
                                                    198_000 + 100 + 101 + 102 + 103]
        assert stream.nothing_more()
        pay_in(world, 104, "after")
        assert stream.next()[1].id == 7
        assert stream.nothing_more()
    finally:
        stream.close()


def test_after_parameter_starts_the_feed_where_the_page_was_drawn(portal, app):
    world = portal.world
    pay_in(world, 500, "before-page")                    # entry 3
    stream = open_stream(portal.client("holder"), world.wallet.id, "?after=2")
    try:
        assert stream.next()[1].id == 3
        assert stream.nothing_more(0.4)
    finally:
        stream.close()


def test_without_a_position_it_starts_from_now(portal, app):
    world = portal.world
    stream = open_stream(portal.client("holder"), world.wallet.id)
    try:
        assert stream.nothing_more(0.5)                  # the two set-up payments are not replayed
    finally:
        stream.close()


def test_a_browser_far_behind_is_asked_to_reload(portal, app, monkeypatch):
    monkeypatch.setattr(live_view, "MAX_CATCH_UP", 1)
    stream = open_stream(portal.client("holder"), portal.world.wallet.id, **{"Last-Event-ID": "0"})
    try:
        _, event = stream.next()
        assert event.event == "reload" and "Reload the page" in event.data["text"]
    finally:
        stream.close()


@pytest.mark.parametrize("who", ["stranger", "auditor", "other_council_officer"])
def test_people_who_may_not_see_transactions_are_refused(portal, app, who):
    response = portal.client(who).get(f"/wallets/{portal.world.wallet.id}/live")
    assert response.status_code == 403


def test_signed_out_and_unknown_wallets(portal, app):
    assert portal.client().get(f"/wallets/{portal.world.wallet.id}/live").status_code in (302, 401)
    assert portal.client("holder").get("/wallets/no-such-wallet/live").status_code == 404


def test_the_stream_is_not_activity_for_the_idle_timeout(portal, app):
    stream = open_stream(portal.client("holder"), portal.world.wallet.id)
    try:
        assert "Set-Cookie" not in stream.response.headers
        assert stream.response.headers["Cache-Control"] == "no-store"
    finally:
        stream.close()


def test_another_wallets_entries_never_leak(portal, app):
    world = portal.world
    other = wallets.open_wallet(world.uow, holder=world.users["stranger"], name="Ben's budget",
                                budget_kind="direct_payment", plan_start=TODAY, reference="case-2")
    stream_of = wallets.set_funding_stream(world.uow, other.id, kind="council_adult_services", funder_ref=LEEDS,
                                           label="Leeds adult social care", schedule="four_weekly",
                                           amount=100_000, starts=TODAY, actor=SYSTEM)
    mine = open_stream(portal.client("holder"), world.wallet.id)
    theirs = open_stream(portal.client("stranger"), other.id)
    try:
        time.sleep(0.3)
        for i in range(3):
            wallets.record_funding(world.uow, other.id, stream_of.id, 100_000, TODAY, actor=SYSTEM, key=f"o{i}")
        got = [theirs.next()[1] for _ in range(3)]
        assert [e.id for e in got] == [1, 2, 3] and all(e.data["balance"] > 0 for e in got)
        assert mine.nothing_more()
        pay_in(world, 700, "mine")
        _, event = mine.next()
        assert event.data["amount_in"] == 700 and event.data["balance"] == 198_700
        assert theirs.nothing_more(0.4)
    finally:
        mine.close()
        theirs.close()


# ---------------------------------------------------------------------------- the hub, without a database
class _Quiet(Notifier):
    def prepare(self) -> None:
        pass

    def step(self) -> None:
        self._stop.wait(0.05)


def test_a_client_that_falls_too_far_behind_is_dropped_and_memory_stays_fixed():
    hub = Hub(_Quiet, max_lag=10, linger_ms=100)
    slow, keeping_up = hub.subscribe("book-a"), hub.subscribe("book-a")
    other = hub.subscribe("book-b")
    slow.sent = keeping_up.sent = 5
    for seq in range(6, 30):
        hub.publish("book-a", seq)
        keeping_up.sent = seq
    assert slow.dropped and not keeping_up.dropped
    assert slow.head == keeping_up.head == 29          # two numbers, not a queue of 24 notices
    assert not other.wait(10) and other.head == 0
    for s in (slow, keeping_up, other):
        s.close()
    assert hub.subscriber_count() == 0
    time.sleep(0.5)
    assert hub._notifier is None                       # nobody watching: the notifier's thread has stopped

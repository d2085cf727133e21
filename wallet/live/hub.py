"""Telling the request threads of one process that a book has new entries: one watcher, many subscribers.

Each process has one :class:`Notifier` per database, whatever the number of people watching:

* PostgreSQL: a dedicated psycopg connection (outside the pool) that LISTENs on the ``ledger_book`` channel.
  Migration ``0005_live`` makes the database send ``NOTIFY ledger_book, '<book> <newest sequence>'`` whenever a
  write transaction that added entries to a book commits (a trigger on the book's row, so one notice per book
  per transaction, and none for a transaction that rolled back). One channel with the book in the payload
  rather than a channel per book, so the connection never has to LISTEN and UNLISTEN as people come and go.
* SQLite: a poller thread that reads the entries table every 200 ms (``id > last seen``: SQLite writers take
  turns, so ids commit in order) and names the books that moved.

The notifier hands "book B now has N entries" to the :class:`Hub`, which wakes that book's subscribers. A
subscriber keeps two numbers and an event, never a queue of its own: the request thread, when woken, reads
the entries itself from the database (``wallet.live.feed``) from where it last was. So memory per subscriber
is fixed, a slow client delays nobody, and the hub never waits on a client. A client that falls more than
``max_lag`` entries behind (its connection is not taking what is sent) is dropped: its stream ends, and the
browser's EventSource reconnects and resumes from its Last-Event-ID.

The notifier's thread starts with the first subscriber (after a fork, in the worker that needs it) and stops
when nobody has watched for ``linger_ms`` milliseconds. Notices are hints only: a request thread also looks for new
entries at every heartbeat, so a notice lost while the listener reconnects delays an event, never loses it.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
import os
import threading
import time
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

log = logging.getLogger(__name__)

CHANNEL = "ledger_book"
POLL_MS = 200
MAX_LAG = 1000


class Subscription:
    """One open stream's interest in one book."""

    def __init__(self, hub: "Hub", book: str, max_lag: int):
        self.hub = hub
        self.book = book
        self.head = 0
        """The newest sequence number the hub has heard of for this book (0: unknown)."""
        self.sent = 0
        """The newest sequence number this stream has sent; the stream keeps it up to date."""
        self.dropped = False
        self._max_lag = max_lag
        self._wake = threading.Event()

    def notify(self, sequence: int | None) -> None:
        """Called by the hub: the book has entries up to ``sequence`` (None: perhaps, look)."""
        if sequence is not None and sequence > self.head:
            self.head = sequence
            if self.sent and sequence - self.sent > self._max_lag:
                self.dropped = True
        self._wake.set()

    def wait(self, timeout_ms: int) -> bool:
        """Wait until woken or ``timeout_ms`` milliseconds; True when woken."""
        woken = self._wake.wait(timeout_ms / 1000)
        self._wake.clear()
        return woken

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    """Subscribers by book, and the notifier that feeds them."""

    def __init__(self, notifier_factory: Callable[["Hub"], "Notifier"], *, max_lag: int = MAX_LAG,
                 linger_ms: int = 10_000):
        self._subs: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()
        self._factory = notifier_factory
        self._notifier: Notifier | None = None
        self.max_lag = max_lag
        self.linger_ms = linger_ms
        self.published = 0

    def subscribe(self, book: str) -> Subscription:
        """Watch ``book``. The notifier is listening when this returns, so anything committed from now on
        is signalled: read what came before *after* subscribing, and nothing falls in between."""
        sub = Subscription(self, book, self.max_lag)
        with self._lock:
            self._subs.setdefault(book, set()).add(sub)
            if self._notifier is None or not self._notifier.alive():
                self._notifier = self._factory(self)
                try:
                    self._notifier.start()
                except Exception:  # the watcher retries by itself; heartbeats still find new entries
                    log.exception("live feed: the notifier did not start")
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.book)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.book]

    def publish(self, book: str, sequence: int | None) -> None:
        with self._lock:
            subs = list(self._subs.get(book, ()))
        self.published += 1
        for sub in subs:
            sub.notify(sequence)

    def publish_all(self) -> None:
        """Wake everyone to look for themselves (after the notifier may have missed something)."""
        with self._lock:
            subs = [s for group in self._subs.values() for s in group]
        for sub in subs:
            sub.notify(None)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    def idle_and_detach(self, notifier: "Notifier") -> bool:
        """Asked by the notifier's thread: nobody is watching, so stop (and forget it, atomically with any
        new subscriber, who will then start a fresh one)."""
        with self._lock:
            if self._subs:
                return False
            if self._notifier is notifier:
                self._notifier = None
            return True

    def stop(self) -> None:
        with self._lock:
            notifier, self._notifier = self._notifier, None
        if notifier is not None:
            notifier.stop()


class Notifier(ABC):
    """Watches the database for new entries and tells the hub. Subclasses: :class:`SqlitePoller`,
    :class:`PostgresListener`."""

    name = "notifier"

    def __init__(self, hub: Hub):
        self.hub = hub
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle_since_ms: int | None = None

    def start(self) -> None:
        """Begin watching before returning (see :meth:`Hub.subscribe`), then carry on in a thread."""
        self.prepare()
        self._thread = threading.Thread(target=self._run, name=f"live-{self.name}", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _should_exit(self) -> bool:
        if self._stop.is_set():
            return True
        if self.hub.subscriber_count():
            self._idle_since_ms = None
            return False
        now = time.monotonic_ns() // 1_000_000
        if self._idle_since_ms is None:
            self._idle_since_ms = now
            return False
        if now - self._idle_since_ms >= self.hub.linger_ms and self.hub.idle_and_detach(self):
            self._stop.set()
            return True
        return False

    def _run(self) -> None:
        try:
            while not self._should_exit():
                try:
                    self.step()
                except Exception:
                    log.warning("live feed: %s failed; retrying", self.name, exc_info=True)
                    self.recover()
                    self._stop.wait(1.0)
        finally:
            self.close()

    # what each kind of notifier does
    @abstractmethod
    def prepare(self) -> None:
        """Open what the notifier watches with (a connection, a starting position)."""

    @abstractmethod
    def step(self) -> None:
        """Wait for news once, and wake the hub when there is some."""

    def recover(self) -> None:
        """After a failure: reconnect if needed, and wake everyone to look for what may have been missed."""
        self.hub.publish_all()

    def close(self) -> None:
        """Release what :meth:`prepare` took."""


class SqlitePoller(Notifier):
    """Reads new entry ids every ``interval_ms`` milliseconds; one query (two when something is new) per poll."""

    name = "sqlite-poller"

    def __init__(self, hub: Hub, engine: Engine, interval_ms: int = POLL_MS):
        super().__init__(hub)
        self.engine = engine
        self.interval_ms = interval_ms
        self.last_id = 0

    def prepare(self) -> None:
        with self.engine.connect() as conn:
            self.last_id = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM ledger_entry")).scalar_one())

    def step(self) -> None:
        self._stop.wait(self.interval_ms / 1000)
        with self.engine.connect() as conn:
            top = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM ledger_entry")).scalar_one())
            if top <= self.last_id:
                return
            moved = conn.execute(text(
                "SELECT b.code, max(e.book_seq) FROM ledger_entry e JOIN ledger_book b ON b.id = e.book_id "
                "WHERE e.id > :last AND e.id <= :top GROUP BY b.code"), {"last": self.last_id, "top": top}).all()
        self.last_id = top
        for book, sequence in moved:
            self.hub.publish(book, int(sequence))


class PostgresListener(Notifier):
    """One LISTENing connection per process; notifications come as ``'<book> <sequence>'``."""

    name = "postgres-listener"

    def __init__(self, hub: Hub, engine: Engine, timeout_ms: int = 1000):
        super().__init__(hub)
        url = make_url(str(engine.url.render_as_string(hide_password=False))).set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.timeout_ms = timeout_ms
        self.conn = None

    def prepare(self) -> None:
        import psycopg

        self.conn = psycopg.connect(self.conninfo, autocommit=True, application_name="wallet-live")
        self.conn.execute(f"LISTEN {CHANNEL}")

    def step(self) -> None:
        if self.conn is None or self.conn.closed:
            self.prepare()
            self.hub.publish_all()
        for note in self.conn.notifies(timeout=self.timeout_ms / 1000, stop_after=1000):
            book, _, sequence = note.payload.rpartition(" ")
            self.hub.publish(book, int(sequence) if sequence.isdigit() else None)

    def recover(self) -> None:
        self.close()
        super().recover()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # already broken: nothing more to release
                pass
            self.conn = None


_hubs: dict[tuple[int, str], Hub] = {}
_hubs_lock = threading.Lock()


def hub_for(engine: Engine) -> Hub:
    """The process's hub for this database (made on first use; a forked worker makes its own)."""
    key = (os.getpid(), engine.url.render_as_string(hide_password=False))
    with _hubs_lock:
        hub = _hubs.get(key)
        if hub is None:
            if engine.dialect.name == "postgresql":
                hub = Hub(lambda h: PostgresListener(h, engine))
            else:
                hub = Hub(lambda h: SqlitePoller(h, engine))
            _hubs[key] = hub
        return hub

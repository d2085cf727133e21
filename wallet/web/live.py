"""The live feed: ``GET /wallets/<id>/live``, a Server-Sent Events stream of the wallet's new ledger entries.

Each event is ``id: <the entry's number in the wallet's book>``, ``event: entry`` and ``data: <JSON>`` (see
``wallet.live.feed``). Where it starts: after the browser's ``Last-Event-ID`` when it reconnects, else after
``?after=N`` (the page says which entry it was drawn up to), else from now. So a reconnecting browser misses
nothing and sees nothing twice. A comment line every 15 seconds keeps proxies from closing the connection;
``retry:`` tells the browser to reconnect after 3 seconds.

Permission: ``Action.VIEW_TRANSACTIONS``, checked (and the view logged) through ``wallet_for`` when the stream
opens and again at every reconnection. The stream does not count as activity for the idle-session timeout:
it ends when the session would time out, and the browser's reconnection then finds the person signed out.

A worker serving streams needs threads: each open stream holds one thread, mostly asleep. Run, for example,
``gunicorn -k gthread --workers 2 --threads 64 'wallet.web:create_app()'``. A sync worker (one request at a
time) would be held by the first stream it served.
"""
from __future__ import annotations

import time
from typing import Iterator

from flask import Blueprint, Response, current_app, g, request, session, url_for

from ledger.db import Database
from wallet.domain.permissions import Action
from wallet.live.feed import PAGE, book_position, entries_after, sse_comment, sse_event
from wallet.live.hub import Subscription, hub_for
from wallet.web.context import wallet_for
from wallet.web.db import database

bp = Blueprint("live", __name__)

HEARTBEAT_MS = 15_000
RETRY_MS = 3000
MAX_CATCH_UP = 1000
"""A browser further behind than this is asked to reload the page instead of replaying everything."""

_LAST_SEEN = "last_seen"   # wallet.web.auth's idle-session timestamp


def feed_position(book: str) -> int:
    """The number of the newest entry in a wallet's book. A page read it *before* reading its rows and passes
    it as ``after``; the script skips rows the page already shows, so nothing is missed and nothing repeated."""
    with database().read() as conn:
        return book_position(conn, book)


@bp.app_template_global()
def live_feed_url(wallet_id: str, after: int | None = None, book: str | None = None) -> str:
    """The address for ``data-live-url``: the feed from ``after`` (or, given only the book, from now)."""
    if after is None and book is not None:
        after = feed_position(book)
    return url_for("live.live", wallet_id=wallet_id, after=after)


@bp.url_value_preprocessor
def _remember_last_activity(endpoint, values) -> None:
    # Runs before the app's before_request hooks, which count every request as activity.
    g.live_last_seen = session.get(_LAST_SEEN)


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _start_after() -> int | None:
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("after")):
        if raw is not None and raw.strip().isdigit():
            return int(raw.strip())
    return None


@bp.get("/wallets/<wallet_id>/live")
def live(wallet_id: str) -> Response:
    wallet = wallet_for(Action.VIEW_TRANSACTIONS, wallet_id)
    # Watching is not activity: send no cookie, so the idle-timeout clock is where the last real request left it.
    session.modified = False
    idle = current_app.config["SESSION_IDLE_SECONDS"]
    last_seen = g.live_last_seen if isinstance(g.live_last_seen, int) else int(time.time())
    ends_at_ms = _now_ms() + 1000 * max(1, last_seen + idle - int(time.time()) + 1)
    db = database()
    sub = hub_for(db.engine).subscribe(wallet.book)   # before reading, so nothing slips between
    try:
        after = _start_after()
        if after is None:
            with db.read() as conn:
                after = book_position(conn, wallet.book)
        sub.sent = after
    except BaseException:
        sub.close()
        raise
    stream = _stream(db, sub, wallet.id, wallet.book, wallet.currency, after, ends_at_ms,
                     int(current_app.config.get("LIVE_HEARTBEAT_MS", HEARTBEAT_MS)))
    return Response(stream, mimetype="text/event-stream", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _stream(db: Database, sub: Subscription, wallet_id: str, book: str, currency: str, after: int,
            ends_at_ms: int, heartbeat_ms: int) -> Iterator[str]:
    try:
        yield f"retry: {RETRY_MS}\n: live feed for this wallet\n\n"
        with db.read() as conn:
            behind = book_position(conn, book) - after
        if behind > MAX_CATCH_UP:
            yield sse_event("reload", {"text": "There are many new transactions. Reload the page to see them."})
            return
        sent = after
        while True:
            while True:   # send everything after ``sent``, a page at a time
                with db.read() as conn:
                    page = entries_after(conn, wallet_id, book, sent, PAGE, currency)
                for entry in page:
                    yield entry.sse()
                    sent = sub.sent = entry.sequence
                if len(page) < PAGE:
                    break
                if sub.dropped:
                    return
            if sub.dropped:
                return
            remaining_ms = ends_at_ms - _now_ms()
            if remaining_ms <= 0:
                return
            if not sub.wait(min(heartbeat_ms, remaining_ms)):
                yield sse_comment("still here")
    finally:
        sub.close()

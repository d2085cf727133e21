"""The home and transactions pages read in the database, not in Python: the same figures as the whole-history
readers (``directory.ledger_lines``, ``directory.home_figures``), a bounded number of statements whatever the
history, and one access-log row per view. SQLite and PostgreSQL."""
from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from ledger.model import EntryRequest, Posting
from wallet.domain import alerts, payments, wallets
from wallet.domain.chart import Category
from wallet.domain.directory import TransactionFilters, home_figures, home_page, ledger_lines, transactions_page
from wallet.domain.errors import PermissionDenied
from wallet.domain.tables import access_log_t
from wallet.domain.unit_of_work import SYSTEM
from wallet.money import format_pence

from tests.integration.web.test_pages_transactions import rows_of

PAGE = 25
START = datetime(2025, 9, 1, tzinfo=timezone.utc)


def _history(w, n: int = 140, seed: int = 3) -> None:
    """``n`` entries over seven months before today, posted in shuffled order (so most are back-dated: the
    order they were recorded in is not the order they happened in), several on the same day and moment:
    funding from both funders, payments by category, payroll settled, a reclaim, corrections, one entry that
    moves money between the two funders, and movements that touch no cash at all."""
    rng = random.Random(seed)
    chart, council, own = w.wallet.chart, w.council.code, w.own.code
    reqs = []
    for i in range(n):
        when = START + timedelta(days=rng.randrange(0, 210), hours=rng.choice([0, 0, 9, 14]))
        key = f"hist-{seed}-{i}"
        pick = i % 9
        s, sid = (council, w.council.id) if rng.random() < 0.7 else (own, w.own.id)
        amount = rng.randint(100, 5_000)
        if pick == 0:
            p = (Posting.debit(chart.cash(s), amount * 10), Posting.credit(chart.funding(s), amount * 10))
            reqs.append(EntryRequest(key, p, description="Money received", effective_at=when,
                                     metadata={"wallet": w.wallet.id, "stream": sid, "kind": "funding"}))
        elif pick in (1, 2, 3):
            cat = rng.choice([Category.ACTIVITIES, Category.TRANSPORT, Category.PA_WAGES, Category.EQUIPMENT])
            payee = rng.choice([w.shop, w.pa, w.agency])
            p = (Posting.debit(chart.spend(cat, s), amount), Posting.credit(chart.cash(s), amount))
            reqs.append(EntryRequest(key, p, description=f"Paid for {cat.value} ({payee.name})", effective_at=when,
                                     metadata={"wallet": w.wallet.id, "stream": sid, "payment_request": f"r{i}",
                                               "payee": payee.id, "category": cat.value}))
        elif pick == 4:
            settles = rng.choice(["net_pay", "hmrc", "pension"])
            p = (Posting.debit(chart.wages_payable, amount), Posting.credit(chart.cash(s), amount))
            reqs.append(EntryRequest(key, p, description="Net pay to employee pa-jo for April", effective_at=when,
                                     metadata={"wallet": w.wallet.id, "stream": sid, "settles": settles}))
        elif pick == 5:
            # Money moved between the funders: one entry, both cash accounts.
            p = (Posting.debit(chart.cash(own), amount), Posting.credit(chart.cash(council), amount))
            reqs.append(EntryRequest(key, p, description="Moved between funders", effective_at=when))
        elif pick == 6:
            p = (Posting.debit(chart.owed(s), amount), Posting.credit(chart.cash(s), amount))
            reqs.append(EntryRequest(key, p, description="Surplus repaid", effective_at=when,
                                     metadata={"wallet": w.wallet.id, "stream": sid, "kind": "reclaim"}))
        elif pick == 7:
            # No cash touched: never a row of the page.
            p = (Posting.debit(chart.spend(Category.OTHER, s), amount), Posting.credit(chart.wages_payable, amount))
            reqs.append(EntryRequest(key, p, description="Accrued", effective_at=when))
        else:
            p = (Posting.debit(chart.cash(s), amount), Posting.credit(chart.funding(s), amount))
            reqs.append(EntryRequest(key, p, description="Money in, plainly", effective_at=when))
    # Funding first, so that no cash account goes below zero however the rest is shuffled.
    funding = [r for r in reqs if (r.metadata or {}).get("kind") == "funding"]
    rest = [r for r in reqs if r not in funding]
    rng.shuffle(rest)
    w.ledger.post_batch(funding + [EntryRequest(f"hist-{seed}-float-{s}", (
        Posting.debit(w.wallet.chart.cash(s), 500_000), Posting.credit(w.wallet.chart.funding(s), 500_000)),
        description="Opening money", effective_at=START - timedelta(days=1)) for s in (council, own)])
    w.ledger.post_batch(rest)
    # Two corrections of payments (a reversal points at the entry it undoes).
    paid = [r for r in rest if "payment_request" in (r.metadata or {})][:2]
    for r in paid:
        entry = w.ledger.entry_by_key(r.key)
        w.ledger.reverse(entry.id, f"{r.key}:undo", effective_at=entry.effective_at + timedelta(days=3))


def _reference(w, actor: str, f: TransactionFilters) -> list[tuple]:
    """What the page showed before it paged in the database: every line of the range, filtered in Python."""
    out = []
    for line in ledger_lines(w.uow, w.wallet.id, actor=actor, start=f.start, end=f.end):
        if f.funder:
            if f.funder not in line.by_stream:
                continue
            amount, balance = line.by_stream[f.funder]
        else:
            amount, balance = line.amount, line.balance
        if f.direction == "in" and amount <= 0 or f.direction == "out" and amount >= 0:
            continue
        if f.category and (line.category is None or line.category.value != f.category):
            continue
        if f.search and f.search.lower() not in f"{line.explanation} {line.description}".lower():
            continue
        out.append((line.entry_id, line.effective_at, line.explanation, line.kind, line.category, amount, balance,
                    line.balance, line.by_stream))
    out.reverse()
    return out


def _shown(page) -> list[tuple]:
    return [(line.entry_id, line.effective_at, line.explanation, line.kind, line.category, amount, balance,
             line.balance, line.by_stream) for line, amount, balance in page.rows]


def _check_all_pages(w, actor: str, f: TransactionFilters) -> int:
    expected = _reference(w, actor, f)
    pages = max(1, -(-len(expected) // PAGE))
    for n in range(1, pages + 1):
        page = transactions_page(w.uow, w.wallet.id, actor=actor, filters=f, page=n, page_size=PAGE)
        assert (page.total, page.pages, page.page) == (len(expected), pages, n)
        assert _shown(page) == expected[(n - 1) * PAGE: n * PAGE], (f, n)
    return len(expected)


@pytest.fixture
def history(world):
    _history(world)
    return world


def test_page_three_of_a_long_history_has_the_right_running_balances(history):
    w = history
    actor = w.users["holder"]
    f = TransactionFilters()
    expected = _reference(w, actor, f)
    assert len(expected) > 3 * PAGE
    page = transactions_page(w.uow, w.wallet.id, actor=actor, filters=f, page=3, page_size=PAGE)
    assert _shown(page) == expected[2 * PAGE: 3 * PAGE]
    # The balance after the newest line of all is the money there is now.
    first = transactions_page(w.uow, w.wallet.id, actor=actor, filters=f, page=1, page_size=PAGE)
    now = sum(w.cash(s).posted for s in (w.council, w.own))
    assert first.rows[0][2] == now
    # Each row's balance is the one before it (older) plus its amount, across the page boundary too.
    second = transactions_page(w.uow, w.wallet.id, actor=actor, filters=f, page=2, page_size=PAGE)
    lines = [(a, b) for _, a, b in first.rows + second.rows + page.rows]
    for (amount, balance), (_, older) in zip(lines, lines[1:]):
        assert balance == older + amount


@pytest.mark.parametrize("f", [
    TransactionFilters(),
    TransactionFilters(direction="in"),
    TransactionFilters(direction="out"),
    TransactionFilters(category="activities"),
    TransactionFilters(category="pa_wages"),
    TransactionFilters(category="transport", direction="out"),
    TransactionFilters(start=START + timedelta(days=40), end=START + timedelta(days=120)),
    TransactionFilters(search="LEEDS"),
    TransactionFilters(search="jo smith", direction="out"),
], ids=lambda f: ",".join(f"{k}={v}" for k, v in vars(f).items() if v) or "none")
def test_filters_with_paging_match_the_whole_history_reader(history, f):
    assert _check_all_pages(history, history.users["appointee"], f) > 0


@pytest.mark.parametrize("extra", [{}, {"direction": "out"}, {"direction": "in"}, {"category": "pa_wages"},
                                   {"start": START + timedelta(days=30), "end": START + timedelta(days=100)}])
def test_each_funder_with_paging_has_its_own_amounts_and_balances(history, extra):
    w = history
    for stream in (w.council, w.own):
        f = TransactionFilters(funder=stream.id, **extra)
        assert _check_all_pages(w, w.users["holder"], f) > 0
    # A funder that is not this wallet's is no filter at all.
    alien = TransactionFilters(funder="not-a-funder", **extra)
    page = transactions_page(w.uow, w.wallet.id, actor=w.users["holder"], filters=alien, page=1, page_size=PAGE)
    assert _shown(page) == _reference(w, w.users["holder"], TransactionFilters(**extra))[:PAGE]


def test_the_page_through_the_portal_shows_page_three_and_its_balances(portal):
    w = portal.world
    _history(w, n=100, seed=7)
    expected = _reference(w, w.users["holder"], TransactionFilters(direction="out"))
    html = portal.client("holder").get(f"/wallets/{w.wallet.id}/transactions?direction=out&page=3").get_data(
        as_text=True)
    rows = rows_of(html)
    want = expected[2 * PAGE: 3 * PAGE]
    assert [entry for entry, _ in rows] == [e[0] for e in want]
    assert [cells[4] for _, cells in rows] == [format_pence(e[6]) for e in want]
    assert f"{len(expected)} transactions match" in html


@contextmanager
def _statements(uow):
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(uow.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(uow.db.engine, "before_cursor_execute", count)


def _log_rows(w) -> int:
    with w.uow.db.read() as conn:
        return conn.execute(select(func.count()).select_from(access_log_t)).scalar_one()


def test_statements_per_page_do_not_grow_with_history_and_one_visit_is_logged_once(world):
    w = world
    actor = w.users["holder"]
    counts = {}
    for size, entries in (("small", 30), ("large", 300)):
        _history(w, n=entries, seed=len(counts) + 11)
        before = _log_rows(w)
        with _statements(w.uow) as seen:
            home_page(w.uow, w.wallet.id, actor=actor, detail="/home")
        home = len(seen)
        assert _log_rows(w) == before + 1
        with _statements(w.uow) as seen:
            transactions_page(w.uow, w.wallet.id, actor=actor, filters=TransactionFilters(direction="out"),
                              page=1, page_size=PAGE, detail="/transactions")
        counts[size] = (home, len(seen))
        assert _log_rows(w) == before + 2
    assert counts["small"] == counts["large"], counts
    home, listing = counts["large"]
    assert home <= 25 and listing <= 20, counts


def test_home_page_figures_match_the_whole_history_reader(history):
    w = history
    w.clock.advance(days=40)   # into the second plan period, with a payment waiting and one made
    shop = payments.request_payment(w.uow, w.wallet.id, actor=w.users["holder"], payee_id=w.shop.id, amount=4_550,
                                    category=Category.ACTIVITIES, description="Swimming")
    payments.approve_payment(w.uow, shop.id, actor=w.users["appointee"])
    payments.request_payment(w.uow, w.wallet.id, actor=w.users["appointee"], payee_id=w.pa.id, amount=30_000,
                             category=Category.PA_WAGES, description="Wages")
    wallets.update_wallet(w.uow, w.wallet.id, actor=SYSTEM, insurance_renews_on=date(2026, 5, 20))
    raised = alerts.check_alerts(w.uow, w.wallet.id, actor=SYSTEM)
    for who in ("holder", "overseer"):
        actor = w.users[who]
        page = home_page(w.uow, w.wallet.id, actor=actor)
        old = home_figures(w.uow, w.wallet.id, actor=actor)
        assert page.figures == old
        assert [a.id for a in page.alerts] == [a.id for a in raised]
    assert page.figures.awaiting and page.figures.plan.lines
    # The past balances are the ledger's own balance_as_of, period by period.
    chart = w.wallet.chart
    for point in page.figures.history[:-1]:
        assert point.balance == sum(w.ledger.balance_as_of(chart.cash(s.code), point.period.closes_at)
                                    for s in (w.council, w.own))


def test_a_refused_page_is_logged_as_denied_and_reads_nothing(world):
    w = world
    before = _log_rows(w)
    with pytest.raises(PermissionDenied):
        transactions_page(w.uow, w.wallet.id, actor=w.users["stranger"], filters=TransactionFilters())
    with pytest.raises(PermissionDenied):
        home_page(w.uow, w.wallet.id, actor=w.users["stranger"])
    with w.uow.db.read() as conn:
        rows = conn.execute(select(access_log_t.c.outcome).order_by(access_log_t.c.id.desc()).limit(2)).scalars()
        assert list(rows) == ["denied", "denied"]
    assert _log_rows(w) == before + 2

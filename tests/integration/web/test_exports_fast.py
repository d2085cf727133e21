"""The fast export path (rows straight from one query, cells made by hand) writes exactly what the plain
definitions say, on SQLite and PostgreSQL: the CSV is the bytes ``csv.writer`` makes of ``csv_row`` of each
line, the JSON entries are ``canonical(entry_dict(line))``, and the lines come in the order of the ledger's own
statements of each funder's cash, merged by time with the first funder first. Text that needs quoting or
protecting, money moved between funders, entries with three postings and ties between funders included; the
independent reader checks every export against the ledger as well."""
from __future__ import annotations

import csv
import heapq
import io
import json
import zipfile
from datetime import timedelta

import pytest

from ledger.model import EntryRequest, Posting
from tests.integration.wallet.conftest import TODAY
from tests.support.export_reader import check_against_ledger, read_export
from wallet.domain.chart import Category
from wallet.domain.schedules import start_of
from wallet.exports import plan_export, stream_export
from wallet.exports.source import Snapshot
from wallet.exports.writers import COLUMNS, canonical, csv_row, entry_dict

TRICKY = [
    'Taxi, then the bus', 'He said "hello"', "Two\nlines", "Carriage\rreturn", "=1+2", "+44 7700 900000",
    "-Refund", "@mention", "\tTabbed", "\rCR first", "'quoted", "Café £5 — ok", " leading space",
    '"=quoted formula"', ",", '"', "=", "",
]


@pytest.fixture
def tricky(portal):
    """Entries with awkward text on both funders, some at the same moment, a move between funders and an
    entry with three postings."""
    w = portal.world
    chart, council, own = w.wallet.chart, w.council.code, w.own.code
    first = start_of(TODAY) + timedelta(hours=1)
    requests = []
    for i, text in enumerate(TRICKY):
        when = first + timedelta(minutes=10 * (i // 2))       # two entries at each moment
        stream = council if i % 2 == 0 else own
        if i % 3 == 0:
            postings = (Posting.debit(chart.cash(stream), 1_001 + i), Posting.credit(chart.funding(stream), 1_001 + i))
        else:
            postings = (Posting.debit(chart.spend(Category.TRANSPORT, stream), 7 + i),
                        Posting.credit(chart.cash(stream), 7 + i))
        requests.append(EntryRequest(key=f"{w.wallet.book}:tricky:{i}", postings=postings, description=text,
                                     effective_at=when, reference=TRICKY[-1 - i] or None))
    later = first + timedelta(days=1)
    requests.append(EntryRequest(key=f"{w.wallet.book}:tricky:move", description="Moved to own money",
                                 postings=(Posting.debit(chart.cash(own), 500), Posting.credit(chart.cash(council), 500)),
                                 effective_at=later, reference="move,1"))
    requests.append(EntryRequest(key=f"{w.wallet.book}:tricky:split", description="Split, two categories",
                                 postings=(Posting.debit(chart.spend(Category.ACTIVITIES, council), 300),
                                           Posting.debit(chart.spend(Category.EQUIPMENT, council), 200),
                                           Posting.credit(chart.cash(council), 500)),
                                 effective_at=later, reference="=split"))
    w.ledger.post_batch_fast(requests)
    return w


def _period(w):
    return TODAY - timedelta(days=1), TODAY + timedelta(days=5)


def _plan(w, fmt, stream_id=None):
    first, last = _period(w)
    return plan_export(w.uow, w.wallet.id, actor=w.users["auditor"], fmt=fmt, first_day=first, last_day=last,
                       stream_id=stream_id)


def _reference_lines(w, db, plan):
    with Snapshot.open(db, plan) as snap:
        return snap.opening, list(snap.lines())


@pytest.mark.parametrize("funder", ["all", "council"])
def test_csv_is_what_csv_writer_makes_of_each_line(portal, tricky, funder):
    w, db = tricky, tricky.uow.db
    plan = _plan(w, "csv", w.council.id if funder == "council" else None)
    data = b"".join(stream_export(db, plan))
    opening, lines = _reference_lines(w, db, plan)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\r\n")
    expected.write("\ufeff")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow(csv_row(line))
    got = zipfile.ZipFile(io.BytesIO(data)).read("transactions.csv")
    assert got == expected.getvalue().encode("utf-8")
    export = read_export(data, "csv")
    assert export.ok, export.problems
    assert check_against_ledger(export, db) == []
    descriptions = [r.description for r in export.rows]
    for text in TRICKY:
        if funder == "all" or TRICKY.index(text) % 2 == 0:
            assert text in descriptions
    categories = {r.description: r.category for r in export.rows}
    assert categories["Split, two categories"] == "Activities"      # the first other posting names it
    assert categories["Moved to own money"] == "Moved between funders"


@pytest.mark.parametrize("funder", ["all", "own"])
def test_json_entries_are_the_canonical_entry_dicts(portal, tricky, funder):
    w, db = tricky, tricky.uow.db
    plan = _plan(w, "json", w.own.id if funder == "own" else None)
    bundle = json.loads(b"".join(stream_export(db, plan)))
    opening, lines = _reference_lines(w, db, plan)
    assert [canonical(e) for e in bundle["entries"]] == [canonical(entry_dict(line)) for line in lines]
    assert bundle["opening_balance"] == opening
    export = read_export(json.dumps(bundle).encode(), "json")
    assert export.ok, export.problems
    assert check_against_ledger(export, db) == []


def test_lines_come_in_the_order_of_the_ledgers_statements(portal, tricky):
    """The statements of each funder's cash, paged, merged by time with the first funder first (how the
    export used to read them), give the same lines in the same order with the same running balance."""
    w, db = tricky, tricky.uow.db
    plan = _plan(w, "json")
    opening, lines = _reference_lines(w, db, plan)

    def statement(index, stream):
        cursor = None
        while True:
            page = w.ledger.statement(w.wallet.chart.cash(stream.code), plan.opens_at, plan.ends_at, limit=3,
                                      cursor=cursor)
            for ln in page.lines:
                yield ln.effective_at, index, ln
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    merged = heapq.merge(*(statement(i, s) for i, s in enumerate(plan.streams)), key=lambda t: (t[0], t[1]))
    running, expected = opening, []
    for _, _, ln in merged:
        running += ln.amount
        expected.append((ln.entry, ln.effective_at, ln.description, ln.reference, ln.amount, running))
    got = [(x.entry_id, x.effective_at, x.description, x.reference, x.money_in - x.money_out, x.balance)
           for x in lines]
    assert got == expected
    assert len(got) == len(TRICKY) + 2 + 2 + 1       # the world's two receipts; the move on both funders

"""Transactions: every movement of the wallet's money, newest first, with the balance after each, explained
in plain words. Filters and search are GET parameters, so a filtered list can be bookmarked or shared.

The table has ``id="transactions"`` and each row ``data-entry-id`` (the ledger entry), for live updates.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, render_template, request, url_for
from flask_login import login_required

from wallet.domain.chart import Category
from wallet.domain.directory import ledger_lines
from wallet.domain.permissions import Action
from wallet.web.context import uow, user_id
from wallet.web.live import feed_position
from wallet.web.views import UK, wallet_page

bp = Blueprint("wallet_transactions", __name__)
PAGE_SIZE = 25
DIRECTIONS = {"in": "Money in", "out": "Money out"}


def _day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    return date.fromisoformat(text)


def _uk_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(timezone.utc)


@bp.get("/wallets/<wallet_id>/transactions")
@login_required
def transactions(wallet_id: str):
    wallet = wallet_page(Action.VIEW_TRANSACTIONS, wallet_id)
    args = request.args
    errors: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    for name, words in (("from", "The ‘from’ date"), ("to", "The ‘to’ date")):
        try:
            dates[name] = _day(args.get(name, ""))
        except ValueError:
            dates[name] = None
            errors[name] = f"{words} must be a real date, like 2026-04-06"
    if dates["from"] and dates["to"] and dates["to"] < dates["from"]:
        errors["to"] = "The ‘to’ date must be the same as or after the ‘from’ date"
        dates["to"] = None
    funder = args.get("funder", "")
    if funder and funder not in {s.id for s in wallet.streams}:
        funder = ""
    direction = args.get("direction", "") if args.get("direction", "") in DIRECTIONS else ""
    category = args.get("category", "")
    if category not in {c.value for c in Category}:
        category = ""
    search = args.get("q", "").strip()[:200]

    start = _uk_midnight(dates["from"]) if dates["from"] else None
    end = _uk_midnight(dates["to"] + timedelta(days=1)) if dates["to"] else None
    # Read the live feed's position before the rows: the script skips rows already shown, so nothing is missed.
    live_after = feed_position(wallet.book)
    lines = ledger_lines(uow(), wallet.id, actor=user_id(), start=start, end=end)
    rows = []
    for line in lines:
        if funder:
            if funder not in line.by_stream:
                continue
            amount, balance = line.by_stream[funder]
        else:
            amount, balance = line.amount, line.balance
        if direction == "in" and amount <= 0 or direction == "out" and amount >= 0:
            continue
        if category and (line.category is None or line.category.value != category):
            continue
        if search and search.lower() not in f"{line.explanation} {line.description}".lower():
            continue
        rows.append((line, amount, balance))
    rows.reverse()   # newest first
    pages = max(1, (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE)
    try:
        page = min(max(1, int(args.get("page", "1"))), pages)
    except ValueError:
        page = 1
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    kept = {k: v for k, v in {"from": args.get("from", "") if "from" not in errors else "",
                              "to": args.get("to", "") if "to" not in errors else "", "funder": funder,
                              "direction": direction, "category": category, "q": search}.items() if v}

    def page_url(n: int) -> str:
        return url_for("wallet_transactions.transactions", wallet_id=wallet.id, **kept, page=n)

    return render_template(
        "wallet/transactions.html", wallet=wallet, rows=shown, total=len(rows), page_number=page, pages=pages,
        page_url=page_url, errors=errors, values={"from": args.get("from", ""), "to": args.get("to", ""),
                                                  "funder": funder, "direction": direction,
                                                  "category": category, "q": search},
        filtered=bool(kept), directions=DIRECTIONS, categories=list(Category), funder_label=next(
            (s.label for s in wallet.streams if s.id == funder), None), page="transactions",
        live_after=live_after), \
        400 if errors else 200

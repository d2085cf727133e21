"""Transactions: every movement of the wallet's money, newest first, with the balance after each, explained
in plain words. Filters and search are GET parameters, so a filtered list can be bookmarked or shared.

The table has ``id="transactions"`` and each row ``data-entry-id`` (the ledger entry), for live updates.
One page of rows is read by ``directory.transactions_page``: filtered and paged in the database, with the
balance after each row from the ledger's day checkpoints (text search scans the range the other filters leave).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, render_template, request, url_for
from flask_login import login_required

from wallet.domain.chart import Category
from wallet.domain.directory import TransactionFilters, transactions_page
from wallet.web.context import uow, user_id
from wallet.web.views import UK, whole_page

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
    direction = args.get("direction", "") if args.get("direction", "") in DIRECTIONS else ""
    category = args.get("category", "")
    if category not in {c.value for c in Category}:
        category = ""
    search = args.get("q", "").strip()[:200]
    try:
        wanted_page = int(args.get("page", "1"))
    except ValueError:
        wanted_page = 1

    start = _uk_midnight(dates["from"]) if dates["from"] else None
    end = _uk_midnight(dates["to"] + timedelta(days=1)) if dates["to"] else None
    filters = TransactionFilters(start=start, end=end, funder=args.get("funder", ""), direction=direction,
                                 category=category, search=search)
    # One transaction: the permission check, the visit's access-log row, the live feed's position (read before
    # the rows: the script skips rows already shown, so nothing is missed) and one page of rows, paged and
    # filtered in the database.
    found = whole_page(lambda: transactions_page(uow(), wallet_id, actor=user_id(), filters=filters,
                                                 page=wanted_page, page_size=PAGE_SIZE, detail=request.path),
                       lambda page: page.visit)
    wallet = found.visit.wallet
    funder = filters.funder if filters.funder in {s.id for s in wallet.streams} else ""
    kept = {k: v for k, v in {"from": args.get("from", "") if "from" not in errors else "",
                              "to": args.get("to", "") if "to" not in errors else "", "funder": funder,
                              "direction": direction, "category": category, "q": search}.items() if v}

    def page_url(n: int) -> str:
        return url_for("wallet_transactions.transactions", wallet_id=wallet.id, **kept, page=n)

    return render_template(
        "wallet/transactions.html", wallet=wallet, rows=list(found.rows), total=found.total,
        page_number=found.page, pages=found.pages, page_url=page_url, errors=errors,
        values={"from": args.get("from", ""), "to": args.get("to", ""), "funder": funder, "direction": direction,
                "category": category, "q": search},
        filtered=bool(kept), directions=DIRECTIONS, categories=list(Category), funder_label=next(
            (s.label for s in wallet.streams if s.id == funder), None), page="transactions",
        live_after=found.live_after), \
        400 if errors else 200

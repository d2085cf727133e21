"""The portal's pages for people: one blueprint a module (home, transactions, payments, sharing, access log).

Every wallet page starts with :func:`wallet_page`, which gets the wallet through ``context.wallet_for`` (the
domain's deny-by-default check, written to the access log) and works out what the person may do there, for
the wallet navigation. Money is shown with ``format_pence``; times in UK time.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, g

from wallet.domain.directory import PageVisit, actions_for
from wallet.domain.errors import NotFound, PermissionDenied, WalletError
from wallet.domain.permissions import Action
from wallet.domain.wallets import Wallet
from wallet.money import format_pence
from wallet.web.context import uow, user_id, wallet_for

UK = ZoneInfo("Europe/London")


def wallet_page(action: Action, wallet_id: str) -> Wallet:
    """The wallet for this page (403/404 otherwise), with ``g.wallet`` and ``g.wallet_actions`` set."""
    wallet = wallet_for(action, wallet_id)
    g.wallet = wallet
    g.wallet_actions = actions_for(uow(), wallet.id, user_id())
    return wallet


T = TypeVar("T")


def whole_page(read: Callable[[], T], visit_of: Callable[[T], PageVisit]) -> T:
    """A page read by one domain call that checks the permission and logs the visit itself, in the same
    transaction as its figures (``directory.home_page``, ``directory.transactions_page``): an unknown wallet
    is 404, a refusal 403, and ``g.wallet`` / ``g.wallet_actions`` are set as :func:`wallet_page` sets them."""
    try:
        found = read()
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)
    visit = visit_of(found)
    g.wallet = visit.wallet
    g.wallet_actions = visit.actions
    return found


def may(action: Action) -> bool:
    return Action(action) in g.get("wallet_actions", frozenset())


def plain(error: WalletError) -> str:
    """A domain refusal as a sentence for people: "There is not enough money from ... ."."""
    text = str(error).strip() or "That could not be done"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def uk_time(moment: datetime) -> datetime:
    return moment.astimezone(UK)


def uk_date_text(moment: datetime | date) -> str:
    day = uk_time(moment).date() if isinstance(moment, datetime) else moment
    return f"{day.day} {day:%B %Y}"


def uk_datetime_text(moment: datetime) -> str:
    local = uk_time(moment)
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def register_helpers(bp: Blueprint) -> None:
    """Template filters and helpers for every page (registered once, by the home blueprint)."""
    bp.add_app_template_filter(format_pence, "money")
    bp.add_app_template_filter(uk_date_text, "uk_date")
    bp.add_app_template_filter(uk_datetime_text, "uk_datetime")
    bp.app_context_processor(lambda: {"may": may, "Action": Action})

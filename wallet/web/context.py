"""What every page needs: the unit of work, the signed-in person, and one wallet they may act on.

Views never decide permissions themselves: ``wallet_for(action, wallet_id)`` asks the domain's single
deny-by-default check and turns "no" into 403 (and an unknown wallet into 404), so a route cannot forget it.
"""
from __future__ import annotations

from flask import abort, current_app, request
from flask_login import current_user

from wallet.domain.directory import wallet_for_action
from wallet.domain.errors import NotFound, PermissionDenied
from wallet.domain.permissions import Action, allowed
from wallet.domain.unit_of_work import UnitOfWork
from wallet.domain.wallets import Wallet, get_wallet
from wallet.web.db import database


def uow() -> UnitOfWork:
    ext = current_app.extensions
    if "wallet.uow" not in ext:
        ext["wallet.uow"] = UnitOfWork(database(), clock=current_app.config.get("CLOCK"))
    return ext["wallet.uow"]


def user_id() -> str:
    if not current_user.is_authenticated:
        abort(401)
    return current_user.id


def wallet_for(action: Action | str, wallet_id: str) -> Wallet:
    """The wallet, if the signed-in person may do ``action`` on it; the view is written to the access log."""
    try:
        # Asks for ``action`` itself (get_wallet always asked for view_balance, refusing an auditor or a
        # family overseer shown only the transactions); a refusal is written to the access log too.
        return wallet_for_action(uow(), wallet_id, actor=user_id(), action=action, detail=request.path)
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)

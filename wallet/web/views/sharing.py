"""Sharing: who can see the wallet, and letting a family member see the balance and/or the transactions
(read-only, revocable at any time). Only the holder or an appointee (``manage_sharing``) uses this page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from wallet.domain import people as people_service
from wallet.domain.directory import people_with_access, user_by_email
from wallet.domain.errors import NotFound, PermissionDenied, WalletError
from wallet.domain.permissions import Action, Role
from wallet.web.context import uow, user_id
from wallet.web.views import plain, wallet_page

bp = Blueprint("wallet_sharing", __name__)

ROLE_WORDS = {Role.HOLDER: "Budget holder", Role.APPOINTEE: "Appointee (acts for the budget holder)",
              Role.FAMILY_OVERSEER: "Family member who can look", Role.SUPPORT_MANAGER: "Support organisation",
              Role.AUDITOR: "Auditor",
              Role.PERSONAL_ASSISTANT: "Personal assistant (sees only their own timesheets and payslips)"}
SHARE_WORDS = {Action.VIEW_BALANCE: "the balance", Action.VIEW_TRANSACTIONS: "the transactions"}


def _page(wallet, errors=None, form=None, status=200):
    everyone = people_with_access(uow(), wallet.id, actor=user_id())
    return render_template("wallet/sharing.html", wallet=wallet, active=[p for p in everyone if not p.revoked],
                           revoked=[p for p in everyone if p.revoked], role_words=ROLE_WORDS,
                           share_words=SHARE_WORDS, errors=errors or {}, form=form or {"email": "", "shares": []},
                           page="sharing", Role=Role), status


@bp.get("/wallets/<wallet_id>/sharing")
@login_required
def sharing(wallet_id: str):
    return _page(wallet_page(Action.MANAGE_SHARING, wallet_id))


@bp.post("/wallets/<wallet_id>/sharing")
@login_required
def share(wallet_id: str):
    wallet = wallet_page(Action.MANAGE_SHARING, wallet_id)
    email = request.form.get("email", "").strip()
    shares = [s for s in request.form.getlist("shares") if s in {a.value for a in SHARE_WORDS}]
    errors = {}
    person = None
    if not email:
        errors["email"] = "Enter the email address they use to sign in"
    elif "@" not in email:
        errors["email"] = "Enter an email address, like name@example.com"
    else:
        person = user_by_email(uow(), email)
        if person is None:
            errors["email"] = ("There is no Care Wallet account with that email address. "
                               "They need an account before you can share with them.")
        elif person.id == user_id():
            errors["email"] = "That is your own email address. You can already see this wallet."
    if not shares:
        errors["shares-balance"] = "Choose what they can see: the balance, the transactions, or both"
    if errors:
        return _page(wallet, errors, {"email": email, "shares": shares}, 400)
    try:
        people_service.share_with_overseer(uow(), wallet.id, person.id, shares, actor=user_id())
    except PermissionDenied:
        abort(403)
    except WalletError as refused:
        return _page(wallet, {"email": plain(refused)}, {"email": email, "shares": shares}, 400)
    what = " and ".join(SHARE_WORDS[Action(s)] for s in sorted(shares))
    flash(f"{person.name} can now see {what}. They cannot move any money.", "success")
    return redirect(url_for("wallet_sharing.sharing", wallet_id=wallet.id))


@bp.post("/wallets/<wallet_id>/sharing/<person_id>/revoke")
@login_required
def revoke(wallet_id: str, person_id: str):
    wallet = wallet_page(Action.MANAGE_SHARING, wallet_id)
    try:
        people_service.revoke_role(uow(), wallet.id, person_id, Role.FAMILY_OVERSEER, actor=user_id())
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)
    except WalletError as refused:
        flash(plain(refused), "error")
    else:
        flash("Done. They can no longer see this wallet.", "success")
    return redirect(url_for("wallet_sharing.sharing", wallet_id=wallet.id))

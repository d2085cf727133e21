"""The access log: who looked at the wallet or did something to it, what, and when (UK time), including what
they were not allowed to do. For the holder and appointees (``view_access_log``)."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import login_required

from wallet.domain import access_log as access_log_service
from wallet.domain.directory import names_of
from wallet.domain.permissions import Action
from wallet.web.context import uow, user_id
from wallet.web.views import wallet_page

bp = Blueprint("wallet_access_log", __name__)
PAGE_SIZE = 50

ACTION_WORDS = {
    "view_balance": "Looked at the balance", "view_transactions": "Looked at the transactions",
    "request_payment": "Asked for a payment", "approve_payment": "Approved or rejected a payment",
    "manage_payees": "Changed who can be paid", "submit_timesheet": "Sent in a timesheet",
    "approve_timesheet": "Approved a timesheet", "run_payroll": "Ran payroll", "export": "Downloaded records",
    "manage_sharing": "Looked at or changed sharing", "view_access_log": "Looked at this access log",
    "manage_wallet": "Changed the wallet's set-up", "open_wallet": "Opened the wallet",
    "view_payslips": "Looked at payslips", "view_own_payslips": "Looked at their own payslips",
    "dismiss_alert": "Dismissed an alert", "view_timesheets": "Looked at timesheets",
}
PAGE_WORDS = {"": "home page", "transactions": "transactions page", "payments": "payments page",
              "payments/new": "payment request form", "approvals": "approvals page", "sharing": "sharing page",
              "access-log": "access log page", "timesheets": "timesheets page",
              "timesheets/new": "timesheet form", "payslips": "payslips page"}
OUTCOME_WORDS = {"done": "Done", "denied": "Not allowed", "refused": "Could not be done"}


def what_words(action: str, detail: str, wallet_id: str) -> str:
    words = ACTION_WORDS.get(action, action.replace("_", " ").capitalize())
    prefix = f"/wallets/{wallet_id}"
    if detail.startswith(prefix):
        rest = detail[len(prefix):].strip("/")
        page = PAGE_WORDS.get(rest)
        if page is None and rest.startswith("approvals/"):
            page = "a payment decision"
        if page is None and rest.startswith("sharing/"):
            page = "a change to sharing"
        return f"{words} ({page or rest})"
    return f"{words} ({detail})" if detail else words


@bp.get("/wallets/<wallet_id>/access-log")
@login_required
def access_log(wallet_id: str):
    wallet = wallet_page(Action.VIEW_ACCESS_LOG, wallet_id)
    records = access_log_service.access_log(uow(), wallet.id, actor=user_id())
    names = names_of(uow(), {r.actor for r in records})
    pages = max(1, (len(records) + PAGE_SIZE - 1) // PAGE_SIZE)
    try:
        page = min(max(1, int(request.args.get("page", "1"))), pages)
    except ValueError:
        page = 1
    shown = [(r, names.get(r.actor, "Someone no longer known"), what_words(r.action, r.detail, wallet.id),
              OUTCOME_WORDS.get(r.outcome, r.outcome)) for r in records[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
    return render_template("wallet/access_log.html", wallet=wallet, rows=shown, page_number=page, pages=pages,
                           page_url=lambda n: url_for("wallet_access_log.access_log", wallet_id=wallet.id, page=n),
                           page="access_log")

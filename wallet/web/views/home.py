"""Your wallets, and one wallet's home page: the money there is, what came in and went out this plan period,
what is waiting and what is expected next, alerts, and two charts (each with its figures as a table).

The home page is read by ``directory.home_page`` in one call: balances from the account rows, past balances and
the plan's spending from the ledger's day checkpoints, and the alerts the daily check stored."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from wallet.domain.directory import home_page, visible_wallets
from wallet.domain.dismissals import dismiss_for_me
from wallet.domain.errors import NotFound, PermissionDenied
from wallet.domain.permissions import Action
from wallet.web.context import uow, user_id
from wallet.web.views import charts, register_helpers, uk_date_text, whole_page

bp = Blueprint("wallet_home", __name__)
ONE_DAY = timedelta(days=1)
register_helpers(bp)

ROLE_WORDS = {"holder": "your own wallet", "appointee": "you are the appointee",
              "family_overseer": "shared with you by the family", "support_manager": "you help manage it",
              "auditor": "you audit it", "personal_assistant": "you work here as a personal assistant"}


def landing(listing) -> str | None:
    """The first page of a wallet this person may open."""
    if Action.VIEW_BALANCE in listing.actions:
        return url_for("wallet_home.home", wallet_id=listing.id)
    if Action.VIEW_TRANSACTIONS in listing.actions:
        return url_for("wallet_transactions.transactions", wallet_id=listing.id)
    if Action.SUBMIT_TIMESHEET in listing.actions:   # a PA: their timesheets, nothing of the money
        return url_for("wallet_timesheets.timesheets", wallet_id=listing.id)
    if Action.VIEW_OWN_PAYSLIPS in listing.actions:
        return url_for("wallet_payslips.payslips", wallet_id=listing.id)
    return None


@bp.get("/")
@login_required
def start():
    return redirect(url_for("wallet_home.your_wallets"))


@bp.get("/wallets")
@login_required
def your_wallets():
    listings = visible_wallets(uow(), user_id())
    exports = "exports.export_page" in current_app.view_functions
    links = [(w, landing(w), url_for("exports.export_page", wallet_id=w.id)
              if exports and Action.EXPORT in w.actions else None) for w in listings]
    openable = [link for _, link, _ in links if link]
    if len(listings) == 1 and openable:
        return redirect(openable[0])
    return render_template("wallet/your_wallets.html", links=links, role_words=ROLE_WORDS)


@bp.get("/wallets/<wallet_id>")
@login_required
def home(wallet_id: str):
    # One transaction: the permission check, the visit's access-log row, the figures and the stored alerts.
    found = whole_page(lambda: home_page(uow(), wallet_id, actor=user_id(), detail=request.path),
                       lambda page: page.visit)
    wallet, figures, raised = found.visit.wallet, found.figures, list(found.alerts)
    plan_chart = None
    if figures.plan is not None and figures.plan.lines:
        plan_chart = charts.plan_chart(
            [(f"{line.category.label} ({line.funder})", line.planned, line.actual) for line in figures.plan.lines],
            chart_id="plan-chart", title="Spending against the plan this period",
            description=f"Planned and spent for each budget line, {uk_date_text(figures.period.start)} to "
                        f"{uk_date_text(figures.period.end - ONE_DAY)}. The same figures are in the table below.")
    history_chart = charts.balance_chart(
        [(uk_date_text(p.period.end - ONE_DAY) if not p.current else "Now", p.balance) for p in figures.history],
        chart_id="balance-chart", title="Money held over time",
        description="The money held at the end of each plan period, and now. "
                    "The same figures are in the table below.")
    return render_template("wallet/home.html", wallet=wallet, f=figures, alerts=raised, plan_chart=plan_chart,
                           history_chart=history_chart, page="home", last_day=figures.period.end - ONE_DAY,
                           one_day=ONE_DAY)


@bp.post("/wallets/<wallet_id>/alerts/<alert_id>/dismiss")
@login_required
def dismiss_alert(wallet_id: str, alert_id: str):
    """Put an alert away for this person only (see ``wallet.domain.dismissals`` for when it comes back)."""
    try:
        dismiss_for_me(uow(), wallet_id, alert_id, actor=user_id())
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)
    flash("Dismissed: you will not see that alert again. If the same thing happens in a later plan period, "
          "you will see a new alert.", "success")
    return redirect(url_for("wallet_home.home", wallet_id=wallet_id))

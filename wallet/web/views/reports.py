"""The monthly report in the portal, and the same report as an accessible PDF to download.

Needs ``view_transactions`` (checked by ``wallet_page``, written to the access log). The month is chosen from a
list (this month so far, and the months before back to the plan's start); the report is worked out when asked.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_login import login_required

from wallet.domain.errors import InvalidRequest
from wallet.domain.permissions import Action
from wallet.reports import monthly
from wallet.web.context import uow, user_id
from wallet.web.views import charts, wallet_page

bp = Blueprint("wallet_reports", __name__)


def _today() -> date:
    return uow().clock.now().date()


def _report(wallet_id: str):
    wallet = wallet_page(Action.VIEW_TRANSACTIONS, wallet_id)
    today = _today()
    error = None
    try:
        month = monthly.parse_month(request.args.get("month"), today)
    except InvalidRequest as refused:
        error = str(refused).capitalize() + "."
        month = monthly.parse_month(None, today)
    if month < wallet.plan_start.replace(day=1):
        month = today.replace(day=1)
    return wallet, today, month, error


@bp.get("/wallets/<wallet_id>/reports/monthly")
@login_required
def monthly_page(wallet_id: str):
    wallet, today, month, error = _report(wallet_id)
    report = monthly.monthly_report(uow(), wallet.id, month, actor=user_id())
    chart = None
    if report.money_out:
        chart = charts.plan_chart(
            [(f"{m.line} ({m.funder})", m.planned, m.spent) for m in report.money_out], chart_id="report-plan-chart",
            title=f"Spending against the plan, {month:%B %Y}",
            description="Planned and spent for each plan line this month. The same figures are in the table below.")
    sent = monthly.sent_report(uow(), wallet.id, month, actor=user_id())
    return render_template("wallet/report_monthly.html", wallet=wallet, r=report, chart=chart, error=error,
                           months=monthly.months_to_offer(wallet, today), month=month, sent=sent,
                           partial=month == today.replace(day=1), page="reports",
                           one_day=timedelta(days=1)), 400 if error else 200


@bp.get("/wallets/<wallet_id>/reports/monthly.pdf")
@login_required
def monthly_pdf(wallet_id: str):
    wallet, _, month, error = _report(wallet_id)
    if error:
        abort(400)
    report = monthly.monthly_report(uow(), wallet.id, month, actor=user_id())
    name = f"monthly-report-{month:%Y-%m}.pdf"
    return Response(monthly.render_pdf(report), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})

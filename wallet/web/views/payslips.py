"""Payslips: a PA sees the payslips of finalised pay runs of the wallet that employs them, opens one as a page
or downloads it as an accessible PDF; the holder and an appointee see the payslips of every PA they employ.

The payslip is the payroll's own document (``payroll.payslip_documents``): it must add up before anyone sees
it, and the National Insurance number and bank account are masked (only the last characters show). Each view
and download is written to the access log.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import login_required

from payroll.payslip_documents import PayslipDoesNotAddUp, payslip_view, render_payslip_pdf
from payroll.rendering import format_hours
from wallet.domain import personal_assistants as pas
from wallet.web.context import uow, user_id
from wallet.web.views.timesheets import guarded_page, payroll

bp = Blueprint("wallet_payslips", __name__)


@bp.get("/wallets/<wallet_id>/payslips")
@login_required
def payslips(wallet_id: str):
    scope, listed = guarded_page(lambda: pas.view_payslips(uow(), payroll(), wallet_id, actor=user_id(),
                                                        detail=request.path))
    return render_template("wallet/payslips.html", wallet=scope.wallet, scope=scope, listed=listed,
                           page="payslips")


def _document(wallet_id: str, payslip_id: str):
    scope, doc = guarded_page(lambda: pas.view_payslip(uow(), payroll(), wallet_id, payslip_id, actor=user_id(),
                                                    detail=request.path))
    return scope, doc


@bp.get("/wallets/<wallet_id>/payslips/<payslip_id>")
@login_required
def payslip(wallet_id: str, payslip_id: str):
    scope, doc = _document(wallet_id, payslip_id)
    try:
        view = payslip_view(doc.payslip, doc.employee, doc.employer)
    except PayslipDoesNotAddUp:
        # Never shown when its figures disagree: the payroll team must look at it first.
        abort(500)
    return render_template("wallet/payslip.html", wallet=scope.wallet, doc=view, payslip=doc.payslip,
                           hours=format_hours, page="payslips")


@bp.get("/wallets/<wallet_id>/payslips/<payslip_id>/pdf")
@login_required
def payslip_pdf(wallet_id: str, payslip_id: str):
    _, doc = _document(wallet_id, payslip_id)
    try:
        pdf = render_payslip_pdf(doc.payslip, doc.employee, doc.employer)
    except PayslipDoesNotAddUp:
        abort(500)
    kind = "correction-payslip" if doc.payslip.is_adjustment else "payslip"
    name = f"{kind}-{doc.payslip.payment_date.isoformat()}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

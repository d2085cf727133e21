"""The export page: choose a format, a period and a funder; the file starts downloading at once.

``GET /wallets/<id>/exports`` shows the form (no JavaScript needed). It submits with GET to
``/wallets/<id>/exports/download``, which streams the file as it is made, so the browser's own download
progress shows at once however many entries there are (the PDF, bounded, is made whole first).

Who may export is the domain's single check for ``Action.EXPORT`` (holder, appointee, support manager, auditor,
an officer of a council that funds the wallet); every export, and every refusal, is in the wallet's access log.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request

from wallet.domain.directory import actions_for
from wallet.domain.errors import InvalidRequest, NotFound, PermissionDenied, UnknownFundingStream
from wallet.domain.permissions import Action
from wallet.domain.wallets import Wallet
from wallet.exports import (MAX_PDF_LINES, ExportFailed, ExportFormat, TooLargeForPdf, content_type, file_name,
                            pdf_export, plan_export, stream_export)
from wallet.exports.source import check_period
from wallet.web.context import uow, user_id, wallet_for
from wallet.web.db import export_database
from wallet.web.views.evidence import evidence_store

bp = Blueprint("exports", __name__)


def _wallet(wallet_id: str) -> Wallet:
    """The wallet (403/404 otherwise), with what the person may do there for the wallet navigation."""
    wallet = wallet_for(Action.EXPORT, wallet_id)
    g.wallet = wallet
    g.wallet_actions = actions_for(uow(), wallet.id, user_id())
    return wallet


def _today() -> date:
    return uow().clock.now().date()


def _sentence(refusal: Exception) -> str:
    text = str(refusal)
    return text[:1].upper() + text[1:]


def _parse_day(value: str | None, field: str, label: str, errors: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        errors[field] = f"Enter the {label} as a date, for example 2026-04-06"
        return None


def parse_choice(args: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's answers, checked: (values, errors by field). Whose money (the funder) is checked by the
    export itself, against the wallet's funding streams."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"format": args.get("format", ""), "start": args.get("start", ""),
                              "end": args.get("end", ""), "funder": args.get("funder", "")}
    try:
        values["fmt"] = ExportFormat(values["format"])
    except ValueError:
        errors["format"] = "Choose a format"
    first = _parse_day(values["start"], "start", "first day", errors)
    last = _parse_day(values["end"], "end", "last day", errors)
    if first and last:
        try:
            check_period(first, last)
        except InvalidRequest as refused:
            errors["end"] = _sentence(refused)
    values["first_day"], values["last_day"] = first, last
    return values, errors


def _page(wallet: Wallet, values: dict[str, Any], errors: dict[str, str], status: int = 200):
    return render_template("exports/index.html", wallet=wallet, values=values, errors=errors,
                           formats=list(ExportFormat), max_pdf_lines=MAX_PDF_LINES,
                           page="exports", page_title="Download records"), status


@bp.get("/wallets/<wallet_id>/exports")
def export_page(wallet_id: str):
    wallet = _wallet(wallet_id)
    today = _today()
    start = max(wallet.plan_start, today - timedelta(days=364)) if wallet.plan_start <= today else today
    values = {"format": "csv", "start": start.isoformat(), "end": today.isoformat(), "funder": ""}
    return _page(wallet, values, {})


@bp.get("/wallets/<wallet_id>/exports/download")
def download(wallet_id: str):
    """Check the choice, then ``plan_export`` checks the permission and logs the export (one log entry)."""
    values, errors = parse_choice(request.args)
    if not errors:
        try:
            plan = plan_export(uow(), wallet_id, actor=user_id(), fmt=values["fmt"], first_day=values["first_day"],
                               last_day=values["last_day"], stream_id=values["funder"] or None)
        except UnknownFundingStream:
            errors["funder"] = "Choose one of this wallet's funders, or all funders"
        except NotFound:
            abort(404)
        except PermissionDenied:
            abort(403)
    if errors:
        return _page(_wallet(wallet_id), values, errors, 400)
    headers = {"Content-Disposition": f'attachment; filename="{file_name(plan)}"', "X-Export-Id": plan.export_id}
    if plan.format is ExportFormat.PDF:
        try:
            body = pdf_export(export_database(), plan, evidence_store=evidence_store())
        except TooLargeForPdf as refused:
            return _page(_wallet(wallet_id), values, {"format": _sentence(refused)}, 400)
        return Response(body, mimetype=content_type(plan.format), headers=headers)
    try:
        return export_response(plan, headers)
    except ExportFailed as failed:   # e.g. the disk is full: say so on the page; nothing was sent or changed
        return _page(_wallet(wallet_id), values, {"format": str(failed)}, 503)


def export_response(plan: Any, headers: dict[str, str]) -> Response:
    """A streamed download: the first bytes leave as soon as the first lines are read."""
    response = Response(stream_export(export_database(), plan, evidence_store=evidence_store()),
                        mimetype=content_type(plan.format), headers=headers, direct_passthrough=True)
    response.headers["X-Accel-Buffering"] = "no"    # a proxy in front must pass the stream on, not buffer it
    return response

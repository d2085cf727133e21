"""The API's routes. Each view gets its wallet through ``wallet_for`` (the permission check, logged) where it
names one, then calls the same domain service the pages call."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from wallet.domain import alerts as alerts_service
from wallet.domain import payments, wallets
from wallet.domain.directory import visible_wallets
from wallet.domain.errors import (Conflict, InvalidRequest, NotEnoughMoney, NotFound, PermissionDenied,
                                  RequestNotPending, WalletError)
from wallet.domain.permissions import Action
from wallet.exports import ExportFormat, plan_export
from wallet.web.api import schemas as s
from wallet.web.api.registry import bp, operation
from wallet.web.context import uow, user_id, wallet_for
from wallet.web.errors import message

WALLETS, PAYMENTS, ALERTS, EXPORTS, META = "Wallets", "Payment requests", "Alerts", "Exports", "About the API"
DEFAULT_DAYS = 90


# ---------------------------------------------------------------------- errors, in one shape
def error(status: int, title: str, detail: str, fields: dict[str, Any] | None = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"status": status, "title": title, "detail": detail}
    if fields is not None:
        body["fields"] = fields
    return jsonify({"error": body}), status


class BadRequest(Exception):
    def __init__(self, detail: str, fields: dict[str, Any] | None = None):
        super().__init__(detail)
        self.fields = fields or {}


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest):
    return error(400, "Something in the request was not right", str(exc), exc.fields)


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError):
    return error(400, "Something in the request was not right", "Check the fields named below and try again.",
                 exc.normalized_messages())


@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError):
    return error(400, "The security token is missing or out of date",
                 "Send the page's CSRF token in the X-CSRFToken header. Nothing was saved.", {})


@bp.errorhandler(WalletError)
def _refused(exc: WalletError):
    if isinstance(exc, PermissionDenied):
        return error(403, "Not allowed", _sentence(str(exc)))
    if isinstance(exc, NotFound):
        return error(404, "Not found", _sentence(str(exc)))
    if isinstance(exc, (NotEnoughMoney, RequestNotPending, Conflict)):
        return error(409, "That cannot be done now", _sentence(str(exc)))
    if isinstance(exc, InvalidRequest):
        return error(400, "Something in the request was not right", _sentence(str(exc)), {})
    return error(409, "That cannot be done now", _sentence(str(exc)))


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    status = exc.code or 500
    if status == 401:
        return error(401, "Please sign in", "Sign in to the portal first: the API uses the same session.")
    return error(status, *message(exc))


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else text


# ---------------------------------------------------------------------- reading requests
def _query(schema: type[Schema]) -> dict[str, Any]:
    return schema().load(request.args.to_dict())


def _body(schema: type[Schema]) -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("Send a JSON object in the request body, with Content-Type: application/json.")
    return schema().load(data)


def _period(args: dict[str, Any]) -> tuple[date, date]:
    today = uow().clock.now().date()
    end = args.get("end") or today
    start = args.get("start") or min(end, today) - timedelta(days=DEFAULT_DAYS)
    if end < start:
        raise ValidationError({"end": ["The last day must be on or after the first day."]})
    return start, end


def _json(schema: type[Schema], value: Any, status: int = 200) -> tuple[Response, int]:
    return jsonify(schema().dump(value)), status


# ---------------------------------------------------------------------- wallets
@operation("/wallets", "GET", summary="The wallets you can see", tag=WALLETS, query=s.WalletListQuery,
           response=s.WalletListSchema, errors=())
def list_wallets():
    """Every wallet you have a role on (or that your council funds; every wallet for payroll staff), by name,
    with your roles there and what you may do on each."""
    args = _query(s.WalletListQuery)
    page, size = args["page"], args["page_size"]
    found = visible_wallets(uow(), user_id(), limit=page * size + 1)
    items = [{"id": w.id, "name": w.name, "reference": w.reference, "holder_name": w.holder_name,
              "roles": [r.value for r in w.roles], "actions": sorted(a.value for a in w.actions)}
             for w in found[(page - 1) * size:page * size]]
    return _json(s.WalletListSchema, {"items": items, "page": page, "page_size": size,
                                      "next_page": page + 1 if len(found) > page * size else None})


@operation("/wallets/<wallet_id>", "GET", summary="A wallet's balance, overall and per funder", tag=WALLETS,
           response=s.WalletBalanceSchema)
def wallet_balance(wallet_id: str):
    """Money held now, money held for payments awaiting approval, and what is available; for the whole wallet
    and for each funder's money."""
    wallet = wallet_for(Action.VIEW_BALANCE, wallet_id)
    balance = wallets.wallet_balance(uow(), wallet_id, actor=user_id())
    return _json(s.WalletBalanceSchema, {
        "id": wallet.id, "name": wallet.name, "reference": wallet.reference, "currency": wallet.currency,
        "balance": {"posted": balance.posted, "held": balance.held, "available": balance.available},
        "funders": [{"funder": b.stream_id, "name": b.label, "posted": b.posted, "held": b.held,
                     "available": b.available} for b in balance.streams]})


@operation("/wallets/<wallet_id>/transactions", "GET", summary="Transactions, a page at a time", tag=WALLETS,
           query=s.TransactionQuery, response=s.TransactionPageSchema)
def list_transactions(wallet_id: str):
    """Every movement of money held, oldest first, from ``start`` to ``end`` (both included), optionally only
    one funder's money or only money in or out."""
    args = _query(s.TransactionQuery)
    start, end = _period(args)
    wallet = wallet_for(Action.VIEW_TRANSACTIONS, wallet_id)
    if args.get("funder") and args["funder"] not in {st.id for st in wallet.streams}:
        raise ValidationError({"funder": ["This wallet has no such funder."]})
    found = wallets.transactions(uow(), wallet_id, actor=user_id(), start=start, end=end + timedelta(days=1))
    if args.get("funder"):
        found = [t for t in found if t.stream_id == args["funder"]]
    if args.get("direction") == "in":
        found = [t for t in found if t.amount > 0]
    elif args.get("direction") == "out":
        found = [t for t in found if t.amount < 0]
    page, size = args["page"], args["page_size"]
    items = [{"entry_id": t.entry_id, "date": t.effective_at.date(), "effective_at": t.effective_at,
              "description": t.description, "reference": t.reference, "funder": t.stream_id,
              "funder_name": t.stream_label, "amount": t.amount, "balance": t.balance}
             for t in found[(page - 1) * size:page * size]]
    return _json(s.TransactionPageSchema, {"items": items, "start": start, "end": end, "page": page,
                                           "page_size": size, "total": len(found)})


# ---------------------------------------------------------------------- payment requests
def _payment(p: payments.PaymentRequest) -> dict[str, Any]:
    return {"id": p.id, "wallet_id": p.wallet_id, "payee_id": p.payee_id, "category": p.category.value,
            "funder": p.stream_id, "amount": p.amount, "description": p.description, "reference": p.reference,
            "requested_by": p.requested_by, "requested_at": p.requested_at, "on_behalf": p.on_behalf,
            "approval_reasons": [r.value for r in p.approval_reasons], "status": p.status.value,
            "entry_id": p.entry_id,
            "decisions": [{"decision": d.decision, "decided_by": d.decided_by, "reason": d.reason,
                           "decided_at": d.decided_at} for d in p.decisions]}


@operation("/wallets/<wallet_id>/payment-requests", "GET", summary="Payment requests", tag=PAYMENTS,
           query=s.PaymentRequestListQuery, response=s.PaymentRequestListSchema)
def list_payment_requests(wallet_id: str):
    """The wallet's payment requests, oldest first; ``status`` keeps only those in that state."""
    args = _query(s.PaymentRequestListQuery)
    wallet_for(Action.VIEW_TRANSACTIONS, wallet_id)
    found = payments.payment_requests(uow(), wallet_id, actor=user_id(), status=args.get("status"))
    return _json(s.PaymentRequestListSchema, {"items": [_payment(p) for p in found]})


@operation("/wallets/<wallet_id>/payment-requests", "POST", summary="Ask for a payment", tag=PAYMENTS,
           body=s.NewPaymentRequestSchema, response=s.PaymentRequestSchema, status=201,
           errors=(401, 403, 404, 409))
def create_payment_request(wallet_id: str):
    """Ask to pay a payee. It is paid at once when nothing needs approval; otherwise the money is held until
    a second person approves or rejects it (``approval_reasons`` say why)."""
    body = _body(s.NewPaymentRequestSchema)
    wallet_for(Action.REQUEST_PAYMENT, wallet_id)
    made = payments.request_payment(
        uow(), wallet_id, actor=user_id(), payee_id=body["payee_id"], amount=body["amount"],
        category=body["category"], description=body["description"], stream_id=body.get("funder"),
        reference=body.get("reference"), key=body.get("key"))
    return _json(s.PaymentRequestSchema, _payment(made), 201)


@operation("/payment-requests/<request_id>/approve", "POST", summary="Approve a payment request", tag=PAYMENTS,
           body=s.ApproveSchema, response=s.PaymentRequestSchema, errors=(401, 403, 404, 409))
def approve_payment_request(request_id: str):
    """Approve a request that awaits approval: the held money is paid. Nobody approves their own request."""
    body = _body(s.ApproveSchema)
    done = payments.approve_payment(uow(), request_id, actor=user_id(), note=body.get("note"))
    return _json(s.PaymentRequestSchema, _payment(done))


@operation("/payment-requests/<request_id>/reject", "POST", summary="Reject a payment request", tag=PAYMENTS,
           body=s.RejectSchema, response=s.PaymentRequestSchema, errors=(401, 403, 404, 409))
def reject_payment_request(request_id: str):
    """Say no to a request that awaits approval, and why: the held money is released."""
    body = _body(s.RejectSchema)
    done = payments.reject_payment(uow(), request_id, actor=user_id(), reason=body["reason"])
    return _json(s.PaymentRequestSchema, _payment(done))


# ---------------------------------------------------------------------- alerts
@operation("/wallets/<wallet_id>/alerts", "GET", summary="Alerts", tag=ALERTS, query=s.AlertQuery,
           response=s.AlertListSchema)
def list_alerts(wallet_id: str):
    """Low balance, surplus, missed funding, overspending and insurance renewal alerts, oldest first."""
    args = _query(s.AlertQuery)
    wallet_for(Action.VIEW_BALANCE, wallet_id)
    found = alerts_service.alerts(uow(), wallet_id, actor=user_id(), include_dismissed=args["include_dismissed"])
    return _json(s.AlertListSchema, {"items": [
        {"id": a.id, "kind": a.kind.value, "message": a.message, "details": a.details, "raised_at": a.raised_at,
         "dismissed_at": a.dismissed_at} for a in found]})


# ---------------------------------------------------------------------- exports
@operation("/wallets/<wallet_id>/export", "GET", summary="The JSON bundle export", tag=EXPORTS,
           query=s.ExportQuery, response=s.ExportBundleSchema)
def export_bundle(wallet_id: str):
    """Every entry of the period with running balances and its manifest (checksum, row count, balances, the
    ledger's chain hashes), streamed as it is read. The same bundle as the portal's JSON download."""
    from wallet.web.views_exports import export_response
    from wallet.exports import file_name

    args = _query(s.ExportQuery)
    start, end = _period(args)
    plan = plan_export(uow(), wallet_id, actor=user_id(), fmt=ExportFormat.JSON, first_day=start, last_day=end,
                       stream_id=args.get("funder"))
    return export_response(plan, {"Content-Disposition": f'attachment; filename="{file_name(plan)}"',
                                  "X-Export-Id": plan.export_id})


# ---------------------------------------------------------------------- the document
@operation("/openapi.json", "GET", summary="This API, described in OpenAPI 3.1", tag=META, errors=())
def openapi_document():
    """The OpenAPI 3.1 document of every route here, generated from the marshmallow schemas."""
    from wallet.web.api.openapi import document

    ext = current_app.extensions
    if "wallet.openapi" not in ext:
        ext["wallet.openapi"] = document()
    return jsonify(ext["wallet.openapi"])

"""Payments: ask for one, see every request and its status, and the approvals inbox (approve, or reject with a
reason). Writes go through ``wallet.domain.payments``; its refusals are shown as plain sentences, never as an
error page. Every form is a POST with a CSRF token; after a write the page redirects (so "back" and "reload"
never send it twice), and the request form carries an idempotency key for the same reason.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from wallet.domain import payments as payment_service
from wallet.domain.chart import Category
from wallet.domain.directory import active_payees, payment_views, request_wallet_id
from wallet.domain.errors import (FundingStreamNeeded, NotEnoughMoney, PermissionDenied, RequestNotPending,
                                  SelfApprovalRefused, UnknownPayee, UnknownPaymentRequest, WalletError)
from wallet.domain.permissions import Action
from wallet.money import format_pence, parse_pounds
from wallet.web.context import uow, user_id
from wallet.web.views import plain, wallet_page

bp = Blueprint("wallet_payments", __name__)

MAX_PAYMENT = 10_000_000   # £100,000: anything bigger is a typing slip, not a care payment

STATUS_WORDS = {"awaiting_approval": "Waiting for approval", "paid": "Paid", "rejected": "Rejected",
                "withdrawn": "Withdrawn", "awaiting_bank_payment": "Approved, awaiting bank payment"}


def reason_words(reason: str, threshold: int) -> str:
    return {
        "on_behalf": "it was asked for on the budget holder’s behalf",
        "new_payee": "it is the first payment to this payee",
        "no_budget_line": "the support plan has no budget line for it",
        "line_exhausted": "the budget line does not have enough left this plan period",
        "above_threshold": f"it is more than {format_pence(threshold)}",
        "invoice_check": "the invoice is above the agreed rate or beyond the hours in the plan",
    }.get(reason, reason.replace("_", " "))


def _words(wallet):
    return {"status_words": STATUS_WORDS, "reason_words": lambda r: reason_words(r, wallet.approval_threshold)}


# ---------------------------------------------------------------------- every request
@bp.get("/wallets/<wallet_id>/payments")
@login_required
def payments(wallet_id: str):
    wallet = wallet_page(Action.VIEW_TRANSACTIONS, wallet_id)
    views = payment_views(uow(), wallet.id, actor=user_id())
    return render_template("wallet/payments.html", wallet=wallet, requests=views, page="payments", me=user_id(),
                           **_words(wallet))


# ---------------------------------------------------------------------- asking for a payment
@bp.route("/wallets/<wallet_id>/payments/new", methods=["GET", "POST"])
@login_required
def new_payment(wallet_id: str):
    wallet = wallet_page(Action.REQUEST_PAYMENT, wallet_id)
    choices = active_payees(uow(), wallet.id, actor=user_id())
    form = {k: request.form.get(k, "") for k in ("payee", "amount", "category", "funder", "description", "key")}
    form["key"] = form["key"] or str(uuid.uuid4())
    errors: dict[str, str] = {}
    if request.method == "POST":
        payee = next((p for p in choices if p.id == form["payee"]), None)
        if payee is None:
            errors["payee"] = "Choose who to pay"
        amount = 0
        if not form["amount"].strip():
            errors["amount"] = "Enter how much to pay"
        else:
            try:
                amount = parse_pounds(form["amount"])
            except ValueError:
                errors["amount"] = "Enter the amount in pounds and pence, like 45.50"
            else:
                if amount <= 0:
                    errors["amount"] = "The amount must be more than £0.00"
                elif amount > MAX_PAYMENT:
                    errors["amount"] = f"The amount must be {format_pence(MAX_PAYMENT)} or less"
        if form["category"] not in {c.value for c in Category}:
            errors["category"] = "Choose what the payment is for"
        if form["funder"] and form["funder"] not in {s.id for s in wallet.streams}:
            errors["funder"] = "Choose whose money pays for it"
        description = form["description"].strip()
        if not description:
            errors["description"] = "Say what the payment is for, in a few words"
        elif len(description) > 500:
            errors["description"] = "The description must be 500 characters or fewer"
        if not errors:
            try:
                made = payment_service.request_payment(
                    uow(), wallet.id, actor=user_id(), payee_id=form["payee"], amount=amount,
                    category=form["category"], description=description, stream_id=form["funder"] or None,
                    key=f"web-{form['key'][:60]}")
            except NotEnoughMoney as refused:
                errors["amount"] = plain(refused)
            except FundingStreamNeeded as refused:
                errors["funder"] = plain(refused)
            except UnknownPayee:
                errors["payee"] = "Choose who to pay"
            except PermissionDenied:
                abort(403)
            except WalletError as refused:
                errors["description"] = plain(refused)
            else:
                if made.status.value == "paid":
                    flash(f"Paid: {format_pence(made.amount)} to {payee.name}.", "success")
                else:
                    because = "; ".join(reason_words(r.value, wallet.approval_threshold)
                                        for r in made.approval_reasons)
                    flash(f"Your request to pay {format_pence(made.amount)} to {payee.name} is waiting for "
                          f"approval, because {because}. The money is kept back until someone decides.", "success")
                return redirect(url_for("wallet_payments.payments", wallet_id=wallet.id))
    return render_template("wallet/new_payment.html", wallet=wallet, payees=choices, categories=list(Category),
                           form=form, errors=errors, page="payments"), 400 if errors else 200


# ---------------------------------------------------------------------- approvals
def _inbox(wallet, errors: dict[str, str] | None = None, reasons: dict[str, str] | None = None, status: int = 200):
    views = payment_views(uow(), wallet.id, actor=user_id())
    waiting = [p for p in views if p.status == "awaiting_approval"]
    decided = [p for p in views if p.status != "awaiting_approval"][:10]
    return render_template("wallet/approvals.html", wallet=wallet, waiting=waiting, decided=decided,
                           me=user_id(), errors=errors or {}, reasons=reasons or {}, page="approvals",
                           **_words(wallet)), status


@bp.get("/wallets/<wallet_id>/approvals")
@login_required
def approvals(wallet_id: str):
    return _inbox(wallet_page(Action.APPROVE_PAYMENT, wallet_id))


def _request_of(wallet, request_id: str) -> None:
    if request_wallet_id(uow(), request_id) != wallet.id:
        abort(404)


def _decide(wallet, request_id: str, decide):
    try:
        made = decide()
    except SelfApprovalRefused:
        flash("You asked for this payment, so someone else must approve or reject it.", "error")
    except RequestNotPending as refused:
        flash(f"This payment was already dealt with: it is {STATUS_WORDS.get(refused.status, refused.status).lower()}.",
              "error")
    except PermissionDenied:
        abort(403)
    except UnknownPaymentRequest:
        abort(404)
    except WalletError as refused:
        flash(plain(refused), "error")
    else:
        return made
    return None


@bp.post("/wallets/<wallet_id>/approvals/<request_id>/approve")
@login_required
def approve(wallet_id: str, request_id: str):
    wallet = wallet_page(Action.APPROVE_PAYMENT, wallet_id)
    _request_of(wallet, request_id)
    made = _decide(wallet, request_id, lambda: payment_service.approve_payment(uow(), request_id, actor=user_id()))
    if made is not None:
        payee = next((p.payee for p in payment_views(uow(), wallet.id, actor=user_id()) if p.id == made.id), "")
        flash(f"Approved: {format_pence(made.amount)} has been paid to {payee}.", "success")
    return redirect(url_for("wallet_payments.approvals", wallet_id=wallet.id))


@bp.post("/wallets/<wallet_id>/approvals/<request_id>/reject")
@login_required
def reject(wallet_id: str, request_id: str):
    wallet = wallet_page(Action.APPROVE_PAYMENT, wallet_id)
    _request_of(wallet, request_id)
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _inbox(wallet, errors={f"reason-{request_id}": "Say why you are rejecting this payment"},
                      status=400)
    if len(reason) > 1000:
        return _inbox(wallet, errors={f"reason-{request_id}": "The reason must be 1,000 characters or fewer"},
                      reasons={request_id: reason}, status=400)
    made = _decide(wallet, request_id,
                   lambda: payment_service.reject_payment(uow(), request_id, actor=user_id(), reason=reason))
    if made is not None:
        flash(f"Rejected: the payment of {format_pence(made.amount)} will not be made, and the money is free "
              "to spend again.", "success")
    return redirect(url_for("wallet_payments.approvals", wallet_id=wallet.id))


# ---------------------------------------------------------------------- withdrawing one's own request
@bp.post("/wallets/<wallet_id>/payments/<request_id>/withdraw")
@login_required
def withdraw(wallet_id: str, request_id: str):
    """The person who asked takes back a request still waiting: the money kept back is free again, and the
    request leaves the approvers' inbox (``payments.withdraw_payment`` releases the ledger hold)."""
    wallet = wallet_page(Action.REQUEST_PAYMENT, wallet_id)
    _request_of(wallet, request_id)
    made = _decide(wallet, request_id, lambda: payment_service.withdraw_payment(uow(), request_id, actor=user_id()))
    if made is not None:
        flash(f"Withdrawn: your request to pay {format_pence(made.amount)} will not be made, and the money kept "
              "back for it is free to spend again.", "success")
    return redirect(url_for("wallet_payments.payments", wallet_id=wallet.id))

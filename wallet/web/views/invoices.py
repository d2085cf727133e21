"""Provider invoices: the list, recording one (with its document), one invoice with its checks, approving or
rejecting it (a second person, as for every payment), marking it paid; and the rates agreed with providers.

Writes go through ``wallet.domain.invoices``; refusals are shown as plain sentences on the form. Every form is a
POST with a CSRF token and redirects after a write; the new-invoice form carries an idempotency key, so sending
it twice records one invoice. The form with a document is size-limited before anything reads it, as evidence
uploads are (``wallet.web.views.evidence.limit_uploads``).
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from wallet.domain import invoices as invoice_service
from wallet.domain.directory import active_payees
from wallet.domain.errors import (NotEnoughMoney, NotFound, PermissionDenied, RequestNotPending,
                                  SelfApprovalRefused, WalletError)
from wallet.domain.invoices import DuplicateInvoice, Invoice, InvoiceFlag, InvoiceStatus
from wallet.domain.permissions import Action
from wallet.domain.plans import budget_lines
from wallet.evidence.storage import EvidenceRefused, accepted_words
from wallet.money import format_pence, parse_pounds
from wallet.web.context import uow, user_id
from wallet.web.views import plain, wallet_page
from wallet.web.views.evidence import MAX_MB, TOO_LARGE, evidence_store, limit_uploads
from wallet.web.views.payments import MAX_PAYMENT, reason_words

bp = Blueprint("wallet_invoices", __name__)

STATUS_WORDS = {InvoiceStatus.AWAITING_APPROVAL: "Waiting for approval",
                InvoiceStatus.APPROVED: "Approved, to be paid", InvoiceStatus.PAID: "Paid",
                InvoiceStatus.REJECTED: "Rejected", InvoiceStatus.WITHDRAWN: "Withdrawn"}
FIELDS = ("payee", "line", "number", "invoice_date", "period_start", "period_end", "hours", "rate", "amount", "key")


def flag_words(flag: InvoiceFlag, invoice: Invoice) -> str:
    if flag is InvoiceFlag.RATE_RISE:
        return (f"the rate, {format_pence(invoice.hourly_rate)} an hour, is more than the agreed "
                f"{format_pence(invoice.agreed_rate or 0)}")
    if flag is InvoiceFlag.HOURS_BEYOND_PLAN:
        return (f"{invoice_service.hours_text(invoice.hours)} hours is more than the plan allows for these days "
                f"({invoice_service.hours_text(invoice.allowed_hours or Decimal(0))} hours)")
    if flag is InvoiceFlag.NO_AGREED_RATE:
        return "no rate has been agreed with this provider for this part of the plan"
    if flag is InvoiceFlag.AMOUNT_NOT_HOURS_TIMES_RATE:
        expected = invoice_service.expected_amount(invoice.hours, invoice.hourly_rate)
        return f"the amount is not the hours times the rate ({format_pence(expected)})"
    return "another invoice from this provider covers some of the same days"


def _words(wallet) -> dict:
    return {"status_words": STATUS_WORDS, "flag_words": flag_words, "hours_text": invoice_service.hours_text,
            "reason_words": lambda r: reason_words(r, wallet.approval_threshold)}


def _lines(wallet):
    """Plan lines to choose from, named with their funder."""
    funders = {s.id: s.label for s in wallet.streams}
    try:
        found = budget_lines(uow(), wallet.id, actor=user_id())
    except PermissionDenied:
        return []
    return [(ln.id, f"{ln.label} ({funders.get(ln.stream_id, '')})") for ln in found]


def _providers(wallet):
    return [p for p in active_payees(uow(), wallet.id, actor=user_id()) if p.kind != "pa"]


# ---------------------------------------------------------------------- the list
@bp.get("/wallets/<wallet_id>/invoices")
@login_required
def invoices(wallet_id: str):
    wallet = wallet_page(Action.VIEW_TRANSACTIONS, wallet_id)
    found = invoice_service.invoices(uow(), wallet.id, actor=user_id())
    return render_template("wallet/invoices.html", wallet=wallet, invoices=found, page="invoices", **_words(wallet))


# ---------------------------------------------------------------------- recording one
def _day(form: dict, name: str, words: str, errors: dict) -> date | None:
    text = form[name].strip()
    if not text:
        errors[name] = f"Enter the {words}"
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = f"The {words} must be a real date, like 2026-04-06"
        return None


def _pence(form: dict, name: str, words: str, errors: dict) -> int:
    text = form[name].strip()
    if not text:
        errors[name] = f"Enter the {words}"
        return 0
    try:
        pence = parse_pounds(text)
    except ValueError:
        errors[name] = f"Enter the {words} in pounds and pence, like 45.50"
        return 0
    if pence <= 0:
        errors[name] = f"The {words} must be more than £0.00"
    elif pence > MAX_PAYMENT:
        errors[name] = f"The {words} must be {format_pence(MAX_PAYMENT)} or less"
    return pence


def _new_page(wallet, form: dict, errors: dict, status: int = 200):
    return render_template("wallet/new_invoice.html", wallet=wallet, form=form, errors=errors,
                           providers=_providers(wallet), lines=_lines(wallet), max_mb=MAX_MB,
                           accepted=accepted_words(), page="invoices"), status


def _blank() -> dict[str, str]:
    return {**{k: "" for k in FIELDS}, "key": str(uuid.uuid4())}


@bp.route("/wallets/<wallet_id>/invoices/new", methods=["GET", "POST"])
@login_required
def new_invoice(wallet_id: str):
    wallet = wallet_page(Action.REQUEST_PAYMENT, wallet_id)
    if request.method == "GET":
        return _new_page(wallet, _blank(), {})
    form = {k: request.form.get(k, "") for k in FIELDS}
    form["key"] = form["key"] or str(uuid.uuid4())
    errors: dict[str, str] = {}
    if form["payee"] not in {p.id for p in _providers(wallet)}:
        errors["payee"] = "Choose the agency or supplier that sent the invoice"
    if form["line"] not in {ln for ln, _ in _lines(wallet)}:
        errors["line"] = "Choose the part of the support plan it is for"
    number = form["number"].strip()
    if not number:
        errors["number"] = "Enter the invoice number"
    elif len(number) > 100:
        errors["number"] = "The invoice number must be 100 characters or fewer"
    invoice_date = _day(form, "invoice_date", "invoice date", errors)
    first = _day(form, "period_start", "first day invoiced", errors)
    last = _day(form, "period_end", "last day invoiced", errors)
    if first and last and last < first:
        errors["period_end"] = "The last day invoiced must be the same as or after the first"
    hours = None
    try:
        hours = invoice_service.parse_hours(form["hours"])
    except WalletError as refused:
        errors["hours"] = plain(refused) if form["hours"].strip() else "Enter the hours invoiced"
    rate = _pence(form, "rate", "hourly rate", errors)
    amount = _pence(form, "amount", "amount", errors)
    upload = request.files.get("document")
    has_document = upload is not None and bool(upload.filename)
    if not errors:
        try:
            made = invoice_service.record_invoice(
                uow(), wallet.id, actor=user_id(), payee_id=form["payee"], budget_line_id=form["line"],
                number=number, invoice_date=invoice_date, period_start=first, period_end=last, hours=hours,
                hourly_rate=rate, amount=amount, document=upload.stream if has_document else None,
                document_name=upload.filename if has_document else None,
                store=evidence_store() if has_document else None, key=f"web-{form['key'][:60]}")
        except DuplicateInvoice as refused:
            errors["number"] = plain(refused)
        except EvidenceRefused as refused:
            errors["document"] = plain(refused)
        except NotEnoughMoney as refused:
            errors["amount"] = plain(refused)
        except PermissionDenied:
            abort(403)
        except WalletError as refused:
            errors["number"] = plain(refused)
        else:
            if made.status is InvoiceStatus.AWAITING_APPROVAL:
                flash(f"Invoice {made.number} is recorded and waiting for approval. The money is kept back until "
                      "someone decides.", "success")
            else:
                flash(f"Invoice {made.number} is recorded and approved: {format_pence(made.amount)} to "
                      f"{made.payee_name}.", "success")
            return redirect(url_for("wallet_invoices.invoice", wallet_id=wallet.id, invoice_id=made.id))
    return _new_page(wallet, form, errors, 400)


limit_uploads(bp, {"wallet_invoices.new_invoice"}, lambda args: _new_page(
    wallet_page(Action.REQUEST_PAYMENT, args["wallet_id"]), _blank(), {"document": TOO_LARGE}, 413))


# ---------------------------------------------------------------------- one invoice
def _invoice_page(wallet, invoice_id: str, errors: dict | None = None, form: dict | None = None, status: int = 200):
    try:
        found = invoice_service.get_invoice(uow(), wallet.id, invoice_id, actor=user_id())
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)
    today = uow().clock.now().date().isoformat()
    return render_template("wallet/invoice.html", wallet=wallet, inv=found, me=user_id(), errors=errors or {},
                           form={"paid_on": today, "reference": "", "reason": "", **(form or {})},
                           page="invoices", **_words(wallet)), status


@bp.get("/wallets/<wallet_id>/invoices/<invoice_id>")
@login_required
def invoice(wallet_id: str, invoice_id: str):
    return _invoice_page(wallet_page(Action.VIEW_TRANSACTIONS, wallet_id), invoice_id)


def _decide(wallet, invoice_id: str, decide):
    try:
        decide()
    except SelfApprovalRefused:
        flash("You recorded this invoice, so someone else must approve or reject it.", "error")
    except RequestNotPending as refused:
        flash(f"This invoice was already dealt with: its payment is {refused.status.replace('_', ' ')}.", "error")
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)
    except WalletError as refused:
        flash(plain(refused), "error")
    else:
        return True
    return False


@bp.post("/wallets/<wallet_id>/invoices/<invoice_id>/approve")
@login_required
def approve(wallet_id: str, invoice_id: str):
    wallet = wallet_page(Action.APPROVE_PAYMENT, wallet_id)
    if _decide(wallet, invoice_id, lambda: invoice_service.approve_invoice(uow(), wallet.id, invoice_id,
                                                                           actor=user_id())):
        flash("Approved: the invoice's payment is in the books. Mark it paid once the money has been sent.",
              "success")
    return redirect(url_for("wallet_invoices.invoice", wallet_id=wallet.id, invoice_id=invoice_id))


@bp.post("/wallets/<wallet_id>/invoices/<invoice_id>/reject")
@login_required
def reject(wallet_id: str, invoice_id: str):
    wallet = wallet_page(Action.APPROVE_PAYMENT, wallet_id)
    reason = request.form.get("reason", "").strip()
    if not reason or len(reason) > 1000:
        message = "Say why you are rejecting this invoice" if not reason else \
            "The reason must be 1,000 characters or fewer"
        return _invoice_page(wallet, invoice_id, {"reason": message}, {"reason": reason}, 400)
    if _decide(wallet, invoice_id, lambda: invoice_service.reject_invoice(uow(), wallet.id, invoice_id,
                                                                          actor=user_id(), reason=reason)):
        flash("Rejected: the invoice will not be paid, and the money kept back is free to spend again.", "success")
    return redirect(url_for("wallet_invoices.invoice", wallet_id=wallet.id, invoice_id=invoice_id))


@bp.post("/wallets/<wallet_id>/invoices/<invoice_id>/paid")
@login_required
def mark_paid(wallet_id: str, invoice_id: str):
    wallet = wallet_page(Action.REQUEST_PAYMENT, wallet_id)
    form = {"paid_on": request.form.get("paid_on", ""), "reference": request.form.get("reference", "").strip()}
    errors: dict[str, str] = {}
    paid_on = _day(form, "paid_on", "day it was paid", errors)
    if len(form["reference"]) > 100:
        errors["reference"] = "The reference must be 100 characters or fewer"
    if not errors:
        try:
            invoice_service.mark_invoice_paid(uow(), wallet.id, invoice_id, actor=user_id(), paid_on=paid_on,
                                              reference=form["reference"] or None)
        except PermissionDenied:
            abort(403)
        except NotFound:
            abort(404)
        except WalletError as refused:
            errors["paid_on"] = plain(refused)
        else:
            flash("Marked paid.", "success")
            return redirect(url_for("wallet_invoices.invoice", wallet_id=wallet.id, invoice_id=invoice_id))
    return _invoice_page(wallet, invoice_id, errors, form, 400)


# ---------------------------------------------------------------------- agreed rates
@bp.route("/wallets/<wallet_id>/invoices/rates", methods=["GET", "POST"])
@login_required
def rates(wallet_id: str):
    wallet = wallet_page(Action.MANAGE_PAYEES, wallet_id)
    form = {k: request.form.get(k, "") for k in ("payee", "line", "rate", "hours")}
    errors: dict[str, str] = {}
    providers, lines = _providers(wallet), _lines(wallet)
    if request.method == "POST":
        if form["payee"] not in {p.id for p in providers}:
            errors["payee"] = "Choose the agency or supplier"
        if form["line"] not in {ln for ln, _ in lines}:
            errors["line"] = "Choose the part of the support plan"
        rate = _pence(form, "rate", "agreed hourly rate", errors)
        hours = None
        try:
            hours = invoice_service.parse_hours(form["hours"], "the hours")
        except WalletError as refused:
            errors["hours"] = plain(refused) if form["hours"].strip() else "Enter the hours agreed each plan period"
        if not errors:
            try:
                invoice_service.set_agreed_rate(uow(), wallet.id, payee_id=form["payee"], budget_line_id=form["line"],
                                                hourly_rate=rate, hours_per_period=hours, actor=user_id())
            except PermissionDenied:
                abort(403)
            except WalletError as refused:
                errors["payee"] = plain(refused)
            else:
                flash("The agreed rate and hours are saved. New invoices are checked against them.", "success")
                return redirect(url_for("wallet_invoices.rates", wallet_id=wallet.id))
    agreed = invoice_service.agreed_rates(uow(), wallet.id, actor=user_id())
    names = {p.id: p.name for p in providers}
    line_names = dict(lines)
    return render_template("wallet/invoice_rates.html", wallet=wallet, agreed=agreed, names=names,
                           line_names=line_names, providers=providers, lines=lines, form=form, errors=errors,
                           hours_text=invoice_service.hours_text, page="invoices"), 400 if errors else 200

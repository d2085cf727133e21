"""Bank statements: the accounts with their reconciled balance, importing a statement (with the column-mapping
step for a CSV layout nobody has named yet), and the lines left for a person to match or explain.

Every page and action needs ``manage_wallet`` (checked by ``wallet_page``, written to the access log); the
writes go through ``wallet.bank.service``, whose refusals are shown as plain sentences. Forms are POSTs with a
CSRF token and redirect after a write. A CSV waiting for its mapping is kept server-side (``bank_upload``)
between the two steps, for the person who sent it, and removed once imported.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from wallet.bank import service as bank
from wallet.bank.csv_layouts import LAYOUTS, ColumnMapping, CsvShape, MappingNeeded, layout_choices, sniff
from wallet.bank.statement import MAX_FILE_BYTES, StatementError, decode
from wallet.domain.errors import NotFound, PermissionDenied, WalletError
from wallet.domain.permissions import Action
from wallet.money import format_pence
from wallet.web.context import uow, user_id
from wallet.web.views import plain, wallet_page

bp = Blueprint("wallet_bank", __name__)

STATUS_WORDS = {"matched": "Matched", "suggested": "A match is suggested", "unmatched": "Not matched",
                "explained": "Explained"}
FORMAT_WORDS = {"csv": "CSV", "ofx": "OFX", "camt053": "CAMT.053"}


def _summary_words(s: bank.ImportSummary) -> str:
    text = (f"Imported {s.new} new line{'s' if s.new != 1 else ''} from {s.bank} ({s.duplicate} already imported): "
            f"{s.matched} matched to the books, {s.suggested} with a suggested match, {s.unmatched} to match or "
            "explain.")
    if s.rematched:
        text += f" {s.rematched} older line{'s' if s.rematched != 1 else ''} matched too."
    if s.alert_raised and s.reconciliation is not None:
        text += (f" The bank and the books differ by {format_pence(abs(s.reconciliation.difference))}: "
                 "an alert has been raised.")
    return text


@bp.get("/wallets/<wallet_id>/bank")
@login_required
def overview(wallet_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    found = bank.bank_overview(uow(), wallet.id, actor=user_id())
    return render_template("wallet/bank.html", wallet=wallet, o=found, formats=FORMAT_WORDS, page="bank")


# ---------------------------------------------------------------------- importing
def _import_form(wallet, errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                 status: int = 200):
    return render_template("wallet/bank_import.html", wallet=wallet, layouts=LAYOUTS, errors=errors or {},
                           form=form or {}, max_mb=MAX_FILE_BYTES // (1024 * 1024), page="bank"), status


@bp.route("/wallets/<wallet_id>/bank/import", methods=["GET", "POST"])
@login_required
def import_statement(wallet_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    if request.method == "GET":
        return _import_form(wallet)
    chosen = request.form.get("bank", "")
    form = {"bank": chosen}
    upload = request.files.get("statement")
    if upload is None or not upload.filename:
        return _import_form(wallet, {"statement": "Choose the statement file to import"}, form, 400)
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    if chosen and chosen not in {lay.name for lay in LAYOUTS}:
        return _import_form(wallet, {"bank": "Choose a bank from the list"}, form, 400)
    try:
        summary = bank.import_statement(uow(), wallet.id, data, upload.filename, actor=user_id(),
                                        bank=chosen or None)
    except MappingNeeded as needed:
        upload_id = bank.hold_upload(uow(), wallet.id, data, upload.filename, actor=user_id())
        return _mapping_form(wallet, upload_id, upload.filename, needed.shape)
    except PermissionDenied:
        abort(403)
    except WalletError as refused:
        return _import_form(wallet, {"statement": f"The file could not be imported: {plain(refused)}"}, form, 400)
    flash(_summary_words(summary), "success")
    return redirect(url_for("wallet_bank.lines", wallet_id=wallet.id))


def _mapping_form(wallet, upload_id: str, filename: str, shape: CsvShape, errors: dict[str, str] | None = None,
                  form: dict[str, str] | None = None, status: int = 200):
    values = form or {**layout_choices(shape), "kind": "one"}
    return render_template("wallet/bank_mapping.html", wallet=wallet, upload_id=upload_id, filename=filename,
                           shape=shape, errors=errors or {}, form=values, page="bank"), status


MAPPING_FIELDS = ("bank_name", "kind", "date", "description", "amount", "money_out", "money_in", "reference",
                  "balance")


@bp.post("/wallets/<wallet_id>/bank/import/<upload_id>/mapping")
@login_required
def mapping(wallet_id: str, upload_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    try:
        filename, data = bank.held_upload(uow(), wallet.id, upload_id, actor=user_id())
    except NotFound:
        abort(404)
    form = {k: request.form.get(k, "").strip() for k in MAPPING_FIELDS}
    shape = sniff(decode(data))
    headers = {h for h in shape.headers if h}
    errors: dict[str, str] = {}
    if not form["bank_name"]:
        errors["bank_name"] = "Say which bank the file is from, so its layout is remembered"
    elif len(form["bank_name"]) > 100:
        errors["bank_name"] = "The bank's name must be 100 characters or fewer"
    for name, words in (("date", "the date"), ("description", "the description")):
        if form[name] not in headers:
            errors[name] = f"Choose the column that holds {words}"
    if form["kind"] == "two":
        for name, words in (("money_out", "money going out"), ("money_in", "money coming in")):
            if form[name] not in headers:
                errors[name] = f"Choose the column that holds {words}"
    elif form["amount"] not in headers:
        form["kind"] = "one"
        errors["amount"] = "Choose the column that holds the amount"
    for name in ("reference", "balance"):
        if form[name] and form[name] not in headers:
            errors[name] = "Choose a column from the list, or leave it empty"
    if errors:
        return _mapping_form(wallet, upload_id, filename, shape, errors, form, 400)
    chosen = ColumnMapping(
        date=form["date"], description=(form["description"],),
        amount=form["amount"] if form["kind"] != "two" else None,
        money_out=form["money_out"] if form["kind"] == "two" else None,
        money_in=form["money_in"] if form["kind"] == "two" else None,
        reference=form["reference"] or None, balance=form["balance"] or None)
    try:
        summary = bank.import_statement(uow(), wallet.id, data, filename, actor=user_id(), mapping=chosen,
                                        remember_as=form["bank_name"])
    except PermissionDenied:
        abort(403)
    except StatementError as refused:
        return _mapping_form(wallet, upload_id, filename, shape, {"date": f"The file could not be read with these "
                                                                          f"columns: {plain(refused)}"}, form, 400)
    except WalletError as refused:
        flash(f"The file could not be imported: {plain(refused)}", "error")
        return redirect(url_for("wallet_bank.import_statement", wallet_id=wallet.id))
    bank.drop_upload(uow(), wallet.id, upload_id, actor=user_id())
    flash(_summary_words(summary) + f" The layout is remembered as {form['bank_name']}.", "success")
    return redirect(url_for("wallet_bank.lines", wallet_id=wallet.id))


# ---------------------------------------------------------------------- lines to match or explain
@bp.get("/wallets/<wallet_id>/bank/lines")
@login_required
def lines(wallet_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    show_all = request.args.get("show") == "all"
    statuses = ("suggested", "unmatched", "explained", "matched") if show_all else ("suggested", "unmatched")
    found = bank.open_lines(uow(), wallet.id, actor=user_id(), statuses=statuses)
    return render_template("wallet/bank_lines.html", wallet=wallet, lines=found, show_all=show_all,
                           status_words=STATUS_WORDS, page="bank")


def _line_page(wallet, line_id: str, errors: dict[str, str] | None = None, note: str = "", status: int = 200):
    views = bank.open_lines(uow(), wallet.id, actor=user_id(),
                            statuses=("suggested", "unmatched", "explained", "matched"), limit=100_000)
    line = next((v for v in views if v.id == line_id), None)
    if line is None:
        abort(404)
    choices = bank.entry_choices(uow(), wallet.id, line_id, actor=user_id())
    return render_template("wallet/bank_line.html", wallet=wallet, line=line, choices=choices, errors=errors or {},
                           note=note, status_words=STATUS_WORDS, page="bank"), status


@bp.get("/wallets/<wallet_id>/bank/lines/<line_id>")
@login_required
def line(wallet_id: str, line_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    return _line_page(wallet, line_id)


def _decided(wallet, line_id: str, decide, success: str, errors_key: str, note: str = ""):
    try:
        decide()
    except bank.UnknownBankLine:
        abort(404)
    except PermissionDenied:
        abort(403)
    except WalletError as refused:
        return _line_page(wallet, line_id, {errors_key: plain(refused)}, note, 400)
    flash(success, "success")
    return redirect(url_for("wallet_bank.lines", wallet_id=wallet.id))


@bp.post("/wallets/<wallet_id>/bank/lines/<line_id>/match")
@login_required
def match(wallet_id: str, line_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    entry_id = request.form.get("entry", "").strip()
    if not entry_id:
        try:
            return _line_page(wallet, line_id, {"entry": "Choose the entry in the books that this line is"},
                              status=400)
        except NotFound:
            abort(404)
    return _decided(wallet, line_id, lambda: bank.match_line(uow(), wallet.id, line_id, entry_id, actor=user_id()),
                    "The line is matched to the books.", "entry")


@bp.post("/wallets/<wallet_id>/bank/lines/<line_id>/explain")
@login_required
def explain(wallet_id: str, line_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    note = request.form.get("note", "")
    if not note.strip():
        try:
            return _line_page(wallet, line_id, {"note": "Say what this line is, in a few words"}, note, 400)
        except NotFound:
            abort(404)
    return _decided(wallet, line_id, lambda: bank.explain_line(uow(), wallet.id, line_id, note, actor=user_id()),
                    "The line is explained.", "note", note)


@bp.post("/wallets/<wallet_id>/bank/lines/<line_id>/reopen")
@login_required
def reopen(wallet_id: str, line_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    return _decided(wallet, line_id, lambda: bank.reopen_line(uow(), wallet.id, line_id, actor=user_id()),
                    "The line is open to be matched again.", "entry")


@bp.post("/wallets/<wallet_id>/bank/rematch")
@login_required
def rematch(wallet_id: str):
    wallet = wallet_page(Action.MANAGE_WALLET, wallet_id)
    done = bank.rematch(uow(), wallet.id, actor=user_id())
    flash(f"Matched again: {done} more line{'s' if done != 1 else ''} matched to the books.", "success")
    return redirect(url_for("wallet_bank.lines", wallet_id=wallet.id))

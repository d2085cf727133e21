"""One ledger entry and its evidence: see the receipts, invoices, timesheets and payslips kept for it, add one
(a PDF, or a photo taken there and then on a phone), and download them.

Uploads are treated as untrusted whatever they claim to be:

* the request is limited to :data:`UPLOAD_LIMIT` bytes before anything reads the form (a URL value
  preprocessor of the blueprint sets the limit; those run before every ``before_request`` hook, including the
  CSRF check, which reads the form), so an oversized upload is refused with 413 without being spooled to disk;
* the type comes from the file's own first bytes (``wallet.evidence.storage.sniff``), never from its name or
  the browser's ``Content-Type``;
* a file is only ever sent back as a download (``Content-Disposition: attachment``) with the type found, a
  name whose extension is that type's, ``X-Content-Type-Options: nosniff`` and a sandboxing Content Security
  Policy, so a file can never be rendered as a page of this site; and a file that no longer matches its
  recorded SHA-256 is not sent at all.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from wallet.config import evidence_dir
from wallet.domain.directory import names_of
from wallet.domain.errors import NotFound, PermissionDenied, WalletError
from wallet.domain.permissions import Action
from wallet.evidence.service import EvidenceKind, attach_evidence, entry_evidence, evidence_for_download
from wallet.evidence.storage import MAX_BYTES, EvidenceMissing, EvidenceRefused, EvidenceStore, accepted_words
from wallet.web.context import uow, user_id
from wallet.web.errors import MESSAGES
from wallet.web.views import plain, wallet_page

bp = Blueprint("wallet_evidence", __name__)

UPLOAD_LIMIT = MAX_BYTES + 256 * 1024
"""The whole request: the file and the few form fields around it."""
MAX_MB = MAX_BYTES // (1024 * 1024)
TOO_LARGE = f"The file is larger than {MAX_MB} MB. Choose a smaller file, or take the photo again at a lower size."
DOWNLOAD_POLICY = "default-src 'none'; sandbox"


def evidence_store() -> EvidenceStore:
    """The application's evidence store: ``EVIDENCE_DIR`` (``WALLET_EVIDENCE_DIR``), or ``instance/evidence``."""
    ext = current_app.extensions
    if "wallet.evidence_store" not in ext:
        ext["wallet.evidence_store"] = EvidenceStore(current_app.config.get("EVIDENCE_DIR") or evidence_dir())
    return ext["wallet.evidence_store"]


def limit_uploads(blueprint: Blueprint, endpoints: set[str],
                  too_large: Callable[[dict[str, Any]], Any]) -> None:
    """Cap the request size of ``endpoints`` before any hook reads their form, and answer a request over the cap
    with ``too_large(view_args)`` (a page saying so, status 413)."""

    @blueprint.url_value_preprocessor
    def cap(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if endpoint in endpoints:
            request.max_content_length = UPLOAD_LIMIT

    @blueprint.errorhandler(RequestEntityTooLarge)
    def refuse(error: RequestEntityTooLarge):
        # Raised while a hook read the form: the person's sign-in has not been checked yet.
        if request.endpoint not in endpoints or not current_user.is_authenticated:
            return render_template("error.html", status=413, title="The file is too large", detail=TOO_LARGE), 413
        try:
            return too_large(dict(request.view_args or {}))
        except HTTPException as refused:     # not theirs to upload to, or no such wallet: say that instead
            title, detail = MESSAGES.get(refused.code or 500, MESSAGES[500])
            return render_template("error.html", status=refused.code, title=title, detail=detail), refused.code


def _page(wallet, entry_id: str, errors: dict[str, str], form: dict[str, str], status: int = 200):
    try:
        found = entry_evidence(uow(), wallet.id, entry_id, actor=user_id())
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)
    names = names_of(uow(), {e.attached_by for e in found.evidence})
    return render_template("wallet/entry.html", wallet=wallet, found=found, kinds=list(EvidenceKind),
                           errors=errors, form=form, names=names, max_mb=MAX_MB, accepted=accepted_words(),
                           page="transactions"), status


@bp.get("/wallets/<wallet_id>/entries/<entry_id>")
@login_required
def entry(wallet_id: str, entry_id: str):
    return _page(wallet_page(Action.VIEW_TRANSACTIONS, wallet_id), entry_id, {}, {"kind": "receipt"})


@bp.post("/wallets/<wallet_id>/entries/<entry_id>/evidence")
@login_required
def upload(wallet_id: str, entry_id: str):
    wallet = wallet_page(Action.REQUEST_PAYMENT, wallet_id)
    form = {"kind": request.form.get("kind", ""), "note": request.form.get("note", "").strip()}
    errors: dict[str, str] = {}
    if form["kind"] not in {k.value for k in EvidenceKind}:
        errors["kind"] = "Choose what the file is"
    if len(form["note"]) > 500:
        errors["note"] = "The note must be 500 characters or fewer"
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors["file"] = f"Choose a file to upload: {accepted_words()}"
    if not errors:
        try:
            kept = attach_evidence(uow(), evidence_store(), wallet.id, entry_id, actor=user_id(), kind=form["kind"],
                                   source=upload.stream, file_name=upload.filename, note=form["note"] or None)
        except EvidenceRefused as refused:
            errors["file"] = plain(refused)
        except NotFound:
            abort(404)
        except PermissionDenied:
            abort(403)
        except WalletError as refused:
            errors["note"] = plain(refused)
        else:
            flash(f"{kept.kind.label} kept with this entry: {kept.file_name}.", "success")
            return redirect(url_for("wallet_evidence.entry", wallet_id=wallet.id, entry_id=entry_id))
    return _page(wallet, entry_id, errors, form, 400)


limit_uploads(bp, {"wallet_evidence.upload"}, lambda args: _page(
    wallet_page(Action.REQUEST_PAYMENT, args["wallet_id"]), args["entry_id"], {"file": TOO_LARGE},
    {"kind": "receipt"}, 413))


@bp.get("/wallets/<wallet_id>/evidence/<evidence_id>")
@login_required
def download(wallet_id: str, evidence_id: str):
    store = evidence_store()
    try:
        kept = evidence_for_download(uow(), store, wallet_id, evidence_id, actor=user_id())
    except PermissionDenied:
        abort(403)
    except NotFound:
        abort(404)
    except EvidenceMissing as missing:
        return render_template("error.html", status=409, title="This file cannot be given out",
                               detail=plain(missing)), 409
    response = send_file(store.path(kept.sha256), mimetype=kept.media_type, as_attachment=True,
                         download_name=kept.file_name, conditional=False, etag=False, max_age=0)
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Evidence-SHA256"] = kept.sha256
    return response

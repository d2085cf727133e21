"""Sign in, two-factor codes, sign out and the idle-session timeout.

Flask-Login keeps who is signed in; the password and code checks live in ``credentials``. A person with two
factor set up gives their code on a second page; appointees, staff and auditors must set it up before they
get in. After ``SESSION_IDLE_SECONDS`` without a request the session ends; pages warn two minutes before and
offer to stay signed in (``static/session.js``; WCAG 2.2.1, timing adjustable).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import (Blueprint, Flask, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from wallet.config import encryption_keys
from wallet.web.auth.credentials import AccountLocked, Credentials, SignInRefused
from wallet.web.db import engine
from wallet.web.extensions import limiter
from payroll.sealed import FieldCipher

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to see this page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

_PENDING = "pending_user"
_SETUP_SECRET = "pending_totp_secret"
_LAST_SEEN = "last_seen"


@dataclass
class SignedInUser(UserMixin):
    """The person signed in: the wallet domain's user id, name and staff role (if any)."""
    id: str
    name: str = ""
    staff_role: str | None = None

    def get_id(self) -> str:
        return self.id


@login_manager.user_loader
def load_user(user_id: str) -> SignedInUser | None:
    from wallet.domain.errors import UnknownUser
    from wallet.domain.people import get_user
    from wallet.web.context import uow

    try:
        user = get_user(uow(), user_id)
    except UnknownUser:
        return None   # the person was removed: their old session no longer signs them in
    return SignedInUser(user.id, user.name, user.staff_role.value if user.staff_role else None)


def credentials() -> Credentials:
    ext = current_app.extensions
    if "wallet.credentials" not in ext:
        cipher = FieldCipher(current_app.config.get("ENCRYPTION_KEYS") or encryption_keys())
        ext["wallet.credentials"] = Credentials(engine(), cipher)
    return ext["wallet.credentials"]


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _finish_sign_in(user_id: str):
    session.clear()   # a fresh session after sign-in: no fixation
    login_user(SignedInUser(user_id))
    session[_LAST_SEEN] = int(time.time())
    session.permanent = False
    return redirect(safe_next(request.args.get("next")))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10 per minute;60 per hour", methods=["POST"])
def sign_in():
    errors: dict[str, str] = {}
    login = request.form.get("email", "")
    if request.method == "POST":
        password = request.form.get("password", "")
        if not login.strip():
            errors["email"] = "Enter your email address"
        if not password:
            errors["password"] = "Enter your password"
        if not errors:
            try:
                checked = credentials().check_password(login, password)
            except SignInRefused as refused:
                errors["email"] = str(refused)
            else:
                if checked.needs_code:
                    session[_PENDING] = checked.user_id
                    return redirect(url_for("auth.code", next=request.args.get("next")))
                if checked.must_set_up_code:
                    session[_PENDING] = checked.user_id
                    return redirect(url_for("auth.set_up_code", next=request.args.get("next")))
                return _finish_sign_in(checked.user_id)
    return render_template("auth/sign_in.html", errors=errors, email=login), 400 if errors else 200


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit("10 per minute;60 per hour", methods=["POST"])
def code():
    user_id = session.get(_PENDING)
    if not user_id:
        return redirect(url_for("auth.sign_in"))
    error = None
    if request.method == "POST":
        try:
            credentials().check_code(user_id, request.form.get("code", ""))
        except AccountLocked as locked:
            session.pop(_PENDING, None)
            flash(str(locked), "error")
            return redirect(url_for("auth.sign_in"))
        except SignInRefused:
            error = "That code is not right. Enter the newest 6-digit code from your authenticator app."
        else:
            return _finish_sign_in(user_id)
    return render_template("auth/code.html", error=error), 400 if error else 200


@bp.route("/sign-in/set-up-code", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def set_up_code():
    user_id = session.get(_PENDING)
    if not user_id:
        return redirect(url_for("auth.sign_in"))
    creds = credentials()
    secret = session.get(_SETUP_SECRET) or creds.new_totp_secret()
    session[_SETUP_SECRET] = secret
    error = None
    if request.method == "POST":
        try:
            creds.set_up_code(user_id, secret, request.form.get("code", ""))
        except SignInRefused as refused:
            error = str(refused)
        else:
            session.pop(_SETUP_SECRET, None)
            flash("Two-step sign-in is set up. You will be asked for a code each time you sign in.", "success")
            return _finish_sign_in(user_id)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/set_up_code.html", error=error, secret=grouped,
                           uri=creds.provisioning_uri(secret, user_id)), 400 if error else 200


@bp.post("/sign-out")
def sign_out():
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.post("/session/extend")
def extend_session():
    """The warning's "Stay signed in" button: any request counts as activity (see ``_enforce_idle``)."""
    if not current_user.is_authenticated:
        return {"signed_in": False}, 401
    return {"signed_in": True, "idle_seconds": current_app.config["SESSION_IDLE_SECONDS"]}


def _enforce_idle():
    if not current_user.is_authenticated or request.endpoint == "static":
        return None
    now = int(time.time())
    last = session.get(_LAST_SEEN, now)
    if now - last > current_app.config["SESSION_IDLE_SECONDS"]:
        logout_user()
        session.clear()
        flash("You were signed out because you had not done anything for a while. Nothing was lost.", "info")
        return redirect(url_for("auth.sign_in", next=request.path if request.method == "GET" else None))
    session[_LAST_SEEN] = now
    return None


def _template_globals():
    if current_user.is_authenticated:
        return {"session_idle_seconds": current_app.config["SESSION_IDLE_SECONDS"],
                "session_warning_seconds": current_app.config["SESSION_WARNING_SECONDS"]}
    return {}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_enforce_idle)
    app.context_processor(_template_globals)
    app.register_blueprint(bp)

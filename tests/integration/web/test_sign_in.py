"""Signing in: passwords, two-step codes, lockout, rate limits, CSRF, safe redirects and the idle timeout."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pyotp
import pytest
from cryptography.fernet import Fernet

from ledger.clock import ManualClock
from payroll.sealed import FieldCipher
from wallet.web import create_app
from wallet.web.auth import credentials as credentials_of_app
from wallet.web.auth.credentials import AccountLocked, Credentials, SignInRefused, WeakPassword
from wallet.web.db import engine
from wallet.web.extensions import limiter
from tests.integration.web.people import csrf_token, person, sign_in

PASSWORD = "correct horse battery staple"
START = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def app(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "ENCRYPTION_KEYS": [Fernet.generate_key()]})
    app.add_url_rule("/private", "private", lambda: "private page")
    from flask_login import login_required
    app.view_functions["private"] = login_required(app.view_functions["private"])
    limiter.reset()   # the limiter's memory store lives as long as the process: start each test afresh
    return app


@pytest.fixture
def creds(app):
    # Built inside a short-lived app context: a context left pushed would share ``g`` between requests.
    with app.app_context():
        return credentials_of_app()


csrf = csrf_token


def test_a_holder_signs_in_with_a_password_and_reaches_the_page_they_asked_for(app, creds):
    person(app, "Asha Patel", "Asha@Example.org")
    client = app.test_client()
    assert client.get("/private").status_code == 302
    response = sign_in(client, "asha@example.org ", PASSWORD, next_path="/private")
    assert response.status_code == 302 and response.headers["Location"] == "/private"
    assert client.get("/private").get_data(as_text=True) == "private page"


def test_wrong_password_says_nothing_about_which_part_was_wrong(app, creds):
    person(app, "Asha Patel", "asha@example.org")
    client = app.test_client()
    wrong_password = sign_in(client, "asha@example.org", "not the password at all")
    no_such_person = sign_in(client, "nobody@example.org", PASSWORD)
    assert wrong_password.status_code == no_such_person.status_code == 400
    message = "The email address, password or code is not right."
    assert message in wrong_password.get_data(as_text=True)
    assert message in no_such_person.get_data(as_text=True)
    assert client.get("/private").status_code == 302


def test_an_open_redirect_is_refused(app, creds):
    person(app, "Asha Patel", "asha@example.org")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client = app.test_client()
        response = sign_in(client, "asha@example.org", PASSWORD, next_path=target)
        assert response.headers["Location"] == "/"


def test_a_form_without_the_csrf_token_is_refused_and_nothing_happens(app, creds):
    person(app, "Asha Patel", "asha@example.org")
    client = app.test_client()
    response = client.post("/sign-in", data={"email": "asha@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "Your form had expired" in response.get_data(as_text=True)
    assert client.get("/private").status_code == 302


def test_appointees_must_set_up_two_step_sign_in_then_give_a_code_every_time(app, creds):
    person(app, "Ben Patel", "ben@example.org", two_factor=True)
    client = app.test_client()
    response = sign_in(client, "ben@example.org", PASSWORD)
    assert response.headers["Location"].startswith("/sign-in/set-up-code")
    page = client.get("/sign-in/set-up-code").get_data(as_text=True)
    secret = re.search(r'class="setup-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.get("/private").status_code == 302          # not in yet
    bad = client.post("/sign-in/set-up-code", data={"code": "000000", "csrf_token": token})
    assert bad.status_code == 400
    good = client.post("/sign-in/set-up-code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert good.status_code == 302
    assert client.get("/private").status_code == 200

    second = app.test_client()
    assert sign_in(second, "ben@example.org", PASSWORD).headers["Location"].startswith("/sign-in/code")
    assert second.get("/private").status_code == 302           # the password alone is not enough
    token = csrf(second, "/sign-in/code")
    assert second.post("/sign-in/code", data={"code": "123456", "csrf_token": token}).status_code == 400
    # The code just used to set up is refused as a replay; wait for the next time step in the clock instead.
    assert second.get("/private").status_code == 302


def test_the_two_factor_secret_is_sealed_at_rest(app, creds):
    creds.create("u-staff", "sam@example.org", PASSWORD, two_factor_required=True)
    secret = creds.new_totp_secret()
    creds.set_up_code("u-staff", secret, pyotp.TOTP(secret).now())
    with app.app_context(), engine().connect() as conn:
        stored = conn.exec_driver_sql("SELECT totp_secret_sealed, password_hash FROM web_credential").one()
    assert secret not in stored[0] and PASSWORD not in stored[1]
    assert stored[1].startswith("$argon2id$")


def test_codes_are_single_use_and_five_failures_lock_the_account(database_url):
    clock = ManualClock(START)
    from wallet.web.auth.credentials import Credentials as C
    from ledger.db import make_engine
    eng = make_engine(database_url)
    creds = C(eng, FieldCipher([Fernet.generate_key()]), clock=clock.now)
    creds.create("u1", "a@example.org", PASSWORD, two_factor_required=True)
    secret = creds.new_totp_secret()
    totp = pyotp.TOTP(secret)
    creds.set_up_code("u1", secret, totp.at(START))
    with pytest.raises(SignInRefused):
        creds.check_code("u1", totp.at(START))                  # replayed
    clock.advance(seconds=30)
    creds.check_code("u1", totp.at(clock.now()))                # the next step works
    for _ in range(5):
        with pytest.raises(SignInRefused):
            creds.check_password("a@example.org", "wrong password here")
    with pytest.raises(AccountLocked):
        creds.check_password("a@example.org", PASSWORD)         # even the right one, while locked
    clock.advance(minutes=16)
    assert creds.check_password("a@example.org", PASSWORD).needs_code
    eng.dispose()


def test_weak_passwords_are_refused_with_advice(creds):
    with pytest.raises(WeakPassword, match="at least 12 characters"):
        creds.create("u2", "b@example.org", "short", two_factor_required=False)
    with pytest.raises(WeakPassword, match="too easy"):
        creds.create("u2", "b@example.org", "aaaaaaaaaaaaaaaa", two_factor_required=False)


def test_sign_in_attempts_are_rate_limited_per_address(app, creds):
    client = app.test_client()
    token = csrf(client, "/sign-in")
    statuses = [client.post("/sign-in", data={"email": "x@example.org", "password": "guess number one",
                                              "csrf_token": token}).status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


def test_an_idle_session_ends_and_the_page_says_why(app, creds):
    person(app, "Asha Patel", "asha@example.org")
    client = app.test_client()
    sign_in(client, "asha@example.org", PASSWORD)
    assert client.get("/private").status_code == 200
    with client.session_transaction() as s:
        s["last_seen"] -= app.config["SESSION_IDLE_SECONDS"] + 1
    response = client.get("/private")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert "had not done anything for a while" in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/private").status_code == 302


def test_many_people_signing_in_at_once_all_get_in(app):
    """Each sign-in reads and then updates its row: with the write lock taken first, none fails as locked."""
    from concurrent.futures import ThreadPoolExecutor

    from ledger.db import make_engine

    for n in range(8):
        person(app, f"Person {n}", f"p{n}@example.org")
    with app.app_context():
        cipher = credentials_of_app().cipher
        url = app.config["DATABASE_URL"]
    engines = [make_engine(url) for _ in range(8)]   # one engine each: like separate worker processes
    try:
        def attempt(n: int) -> str:
            return Credentials(engines[n], cipher).check_password(f"p{n}@example.org", PASSWORD).user_id

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(attempt, range(8)))
    finally:
        for engine in engines:
            engine.dispose()
    assert len(set(ids)) == 8

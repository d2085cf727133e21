"""Sign-in credentials: argon2id password hashes, TOTP two-factor secrets sealed at rest, and lockout.

Well-kept libraries do the cryptography: ``argon2-cffi`` hashes passwords (salted, memory-hard) and ``pyotp``
checks RFC 6238 codes. A code is accepted once only (the last used time step is stored), and five wrong
passwords or codes in a row lock the account for fifteen minutes, on top of the per-address rate limit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from contextlib import contextmanager
from typing import Callable, Iterator

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from ledger.clock import to_us
from payroll.sealed import FieldCipher

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
MIN_PASSWORD_LENGTH = 12
DEMO_DOMAIN = "@demo.care-wallet.example"
_US = 1_000_000

metadata = sa.MetaData()
credential = sa.Table(
    "web_credential", metadata,
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("login", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("totp_secret_sealed", sa.Text()),
    sa.Column("two_factor_required", sa.Boolean(), nullable=False),
    sa.Column("failed_attempts", sa.Integer(), nullable=False),
    sa.Column("locked_until_us", sa.BigInteger()),
    sa.Column("last_totp_step", sa.BigInteger()),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("last_sign_in_us", sa.BigInteger()),
)


class SignInRefused(Exception):
    """Wrong login, password or code. The message never says which, so it cannot be used to find accounts."""

    def __init__(self, message: str = "The email address, password or code is not right."):
        super().__init__(message)


class AccountLocked(SignInRefused):
    def __init__(self, minutes: int):
        super().__init__(f"Too many attempts. For your safety, please wait {minutes} minutes and try again.")


class WeakPassword(ValueError):
    pass


@dataclass(frozen=True)
class PasswordChecked:
    user_id: str
    needs_code: bool          # two factor is set up: ask for the code next
    must_set_up_code: bool    # two factor is required but not yet set up


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Credentials:
    def __init__(self, engine: Engine, cipher: FieldCipher, clock: Callable[[], datetime] = _now):
        self.engine = engine
        self.cipher = cipher
        self.clock = clock
        self.hasher = PasswordHasher()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction that takes the write lock first (SQLite: BEGIN IMMEDIATE, see ledger.db), so a
        read-then-update cannot fail with "database is locked" when another process writes at the same time."""
        with self.engine.connect().execution_options(ledger_write=True) as conn:
            with conn.begin():
                yield conn

    def _now_us(self) -> int:
        return to_us(self.clock())

    def create(self, user_id: str, login: str, password: str, *, two_factor_required: bool) -> None:
        check_password_strength(password)
        with self._write() as conn:
            conn.execute(credential.insert().values(
                user_id=user_id, login=normalise_login(login), password_hash=self.hasher.hash(password),
                two_factor_required=two_factor_required, failed_attempts=0, created_us=self._now_us()))

    def exists(self, login: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(credential.c.user_id)
                                .where(credential.c.login == normalise_login(login))).first() is not None

    def check_password(self, login: str, password: str) -> PasswordChecked:
        # A failure is recorded in its own committed transaction before the refusal is raised: raising inside
        # the transaction would roll the count back and make the lockout useless.
        with self._write() as conn:
            row = conn.execute(credential.select().where(credential.c.login == normalise_login(login))).first()
            if row is not None:
                self._refuse_if_locked(row)
                right = self._password_matches(row.password_hash, password)
                if right and not row.totp_secret_sealed:
                    self._succeeded(conn, row.user_id)
                elif not right:
                    self._failed(conn, row)
        if row is None:
            # Spend the same effort as a real check, so timing does not reveal which logins exist.
            self.hasher.hash(password)
            raise SignInRefused()
        if not right:
            raise SignInRefused()
        return PasswordChecked(row.user_id, needs_code=bool(row.totp_secret_sealed),
                               must_set_up_code=row.two_factor_required and not row.totp_secret_sealed)

    def _password_matches(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def check_code(self, user_id: str, code: str) -> None:
        with self._write() as conn:
            row = conn.execute(credential.select().where(credential.c.user_id == user_id)).first()
            if row is None or not row.totp_secret_sealed:
                raise SignInRefused()
            self._refuse_if_locked(row)
            step = self._matching_step(pyotp.TOTP(self.cipher.open(row.totp_secret_sealed)), code)
            right = step is not None and (row.last_totp_step is None or step > row.last_totp_step)
            if right:
                conn.execute(credential.update().where(credential.c.user_id == user_id)
                             .values(last_totp_step=step))
                self._succeeded(conn, user_id)
            else:
                self._failed(conn, row)
        if not right:
            raise SignInRefused()

    def new_totp_secret(self) -> str:
        return pyotp.random_base32()

    def provisioning_uri(self, secret: str, login: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=normalise_login(login), issuer_name="Care Wallet")

    def set_up_code(self, user_id: str, secret: str, code: str) -> None:
        """Store the secret once the person has shown their authenticator app gives the right code."""
        totp = pyotp.TOTP(secret)
        step = self._matching_step(totp, code)
        if step is None:
            raise SignInRefused("That code is not right. Check the time on your phone and try the newest code.")
        with self._write() as conn:
            conn.execute(credential.update().where(credential.c.user_id == user_id).values(
                totp_secret_sealed=self.cipher.seal(secret), last_totp_step=step, failed_attempts=0,
                last_sign_in_us=self._now_us()))

    def provision_code(self, user_id: str, secret: str) -> None:
        """Store a two-factor secret made elsewhere (demo accounts, an administrator's enrolment)."""
        pyotp.TOTP(secret).now()   # refuses a secret that is not base32
        with self._write() as conn:
            conn.execute(credential.update().where(credential.c.user_id == user_id)
                         .values(totp_secret_sealed=self.cipher.seal(secret)))

    def rotate_sealed(self) -> int:
        """Re-seal every two-factor secret under the newest encryption key; returns how many were re-sealed."""
        with self._write() as conn:
            rows = conn.execute(sa.select(credential.c.user_id, credential.c.totp_secret_sealed)
                                .where(credential.c.totp_secret_sealed.is_not(None))).all()
            for row in rows:
                conn.execute(credential.update().where(credential.c.user_id == row.user_id)
                             .values(totp_secret_sealed=self.cipher.rotate(row.totp_secret_sealed)))
        return len(rows)

    def sealed_with_older_keys(self) -> int:
        """How many two-factor secrets still need a key other than the newest."""
        with self.engine.connect() as conn:
            tokens = conn.execute(sa.select(credential.c.totp_secret_sealed)
                                  .where(credential.c.totp_secret_sealed.is_not(None))).scalars().all()
        return sum(1 for t in tokens if not self.cipher.sealed_with_newest(t))

    def current_code(self, login: str) -> str:
        """The code an authenticator would show now: only for demo accounts, so a newcomer can sign in."""
        login = normalise_login(login)
        if not login.endswith(DEMO_DOMAIN):
            raise SignInRefused("codes are only shown for demo accounts")
        with self.engine.connect() as conn:
            sealed = conn.execute(sa.select(credential.c.totp_secret_sealed)
                                  .where(credential.c.login == login)).scalar()
        if not sealed:
            raise SignInRefused(f"{login} has no two-step sign-in")
        return pyotp.TOTP(self.cipher.open(sealed)).at(self.clock())

    def _matching_step(self, totp: pyotp.TOTP, code: str) -> int | None:
        code = "".join(code.split())
        if not (code.isdigit() and len(code) == 6):
            return None
        now = self.clock()
        for drift in (0, -1, 1):   # one 30-second step either side, for slow typists and clock drift
            step = to_us(now) // (totp.interval * _US) + drift
            if pyotp.utils.strings_equal(totp.generate_otp(step), code):
                return step
        return None

    def _refuse_if_locked(self, row) -> None:
        now = self._now_us()
        if row.locked_until_us and row.locked_until_us > now:
            raise AccountLocked(max(1, -(-(row.locked_until_us - now) // (60 * _US))))

    def _failed(self, conn, row) -> None:
        failures = row.failed_attempts + 1
        locked = self._now_us() + LOCKOUT_SECONDS * _US if failures >= MAX_FAILURES else None
        conn.execute(credential.update().where(credential.c.user_id == row.user_id).values(
            failed_attempts=0 if locked else failures, locked_until_us=locked))

    def _succeeded(self, conn, user_id: str) -> None:
        conn.execute(credential.update().where(credential.c.user_id == user_id).values(
            failed_attempts=0, locked_until_us=None, last_sign_in_us=self._now_us()))


def normalise_login(login: str) -> str:
    return login.strip().lower()


def check_password_strength(password: str) -> None:
    """NCSC and NIST SP 800-63B: length matters, composition rules do not; refuse the obviously guessable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at least {MIN_PASSWORD_LENGTH} characters. Three random words work well.")
    if len(set(password)) < 4:
        raise WeakPassword("That password is too easy to guess. Three random words work well.")

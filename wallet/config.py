"""Configuration from the environment, with an embedded default that needs nothing installed."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_INSTANCE = Path.cwd() / "instance"


def database_url() -> str:
    url = os.environ.get("WALLET_DATABASE_URL")
    if url:
        return url
    DEFAULT_INSTANCE.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_INSTANCE / 'wallet.db'}"


def secret_key() -> str:
    """The key that signs session cookies: ``WALLET_SECRET_KEY``, or one made once for the embedded default
    and kept in ``instance/secret.key`` (readable by its owner only)."""
    key = os.environ.get("WALLET_SECRET_KEY")
    if key:
        return key
    DEFAULT_INSTANCE.mkdir(parents=True, exist_ok=True)
    path = DEFAULT_INSTANCE / "secret.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def encryption_keys() -> list[bytes]:
    """Fernet keys for sealed fields (NI numbers, bank details, two-factor secrets), newest first.

    From WALLET_ENCRYPTION_KEYS (comma-separated); otherwise, for the embedded default, from
    ``instance/encryption.key`` (one key a line, newest first), created once with mode 0600 and reused.
    Losing that file makes the sealed fields unreadable: back it up apart from the database.
    """
    configured = os.environ.get("WALLET_ENCRYPTION_KEYS")
    if configured is not None:
        keys = [part.strip().encode("ascii") for part in configured.split(",") if part.strip()]
        if not keys:
            raise ValueError("WALLET_ENCRYPTION_KEYS is set but holds no key")
        return keys
    path = key_file()
    if not path.exists():
        _create_key_file(path)
    keys = [line.strip().encode("ascii") for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    if not keys:
        raise ValueError(f"{path} holds no encryption key")
    return keys


def key_file() -> Path:
    """The embedded default's key file (``wallet keys`` adds and retires keys in it)."""
    DEFAULT_INSTANCE.mkdir(parents=True, exist_ok=True)
    return DEFAULT_INSTANCE / "encryption.key"


def _create_key_file(path: Path) -> None:
    """Write a new key to a private temporary file, then link it into place: two processes starting at once
    both end up with the same key (the second link fails and that process reads the first one's file)."""
    from cryptography.fernet import Fernet

    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def evidence_dir() -> Path:
    """Where evidence files (receipts, invoices, timesheets, payslips) are kept, by their SHA-256:
    ``WALLET_EVIDENCE_DIR``, or ``instance/evidence`` for the embedded default. Back it up with the database."""
    configured = os.environ.get("WALLET_EVIDENCE_DIR")
    return Path(configured) if configured else DEFAULT_INSTANCE / "evidence"


def hmrc_gateway(environ: dict[str, str] | None = None):
    """Where the scheduler sends FPS and EPS submissions, and as whom: ``WALLET_HMRC_GATEWAY_URL``,
    ``WALLET_HMRC_SENDER_ID`` and ``WALLET_HMRC_PASSWORD`` (``WALLET_HMRC_TEST_IN_LIVE=1`` for HMRC's
    test-in-live service). None when any of the three is missing: the scheduler then leaves reminders and a
    person sends the submissions. The password is never logged (``GatewayConfig`` hides it in its repr)."""
    from hmrc_export.gateway import GatewayConfig

    env = os.environ if environ is None else environ
    url, sender = env.get("WALLET_HMRC_GATEWAY_URL", "").strip(), env.get("WALLET_HMRC_SENDER_ID", "").strip()
    password = env.get("WALLET_HMRC_PASSWORD", "")
    if not (url and sender and password):
        return None
    return GatewayConfig(submission_url=url, sender_id=sender, password=password,
                         test_in_live=env.get("WALLET_HMRC_TEST_IN_LIVE", "").strip().lower() in {"1", "true", "yes"},
                         max_wait_seconds=120)

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

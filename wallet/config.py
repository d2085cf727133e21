"""Configuration from the environment, with an embedded default that needs nothing installed."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_INSTANCE = Path.cwd() / "instance"


def database_url() -> str:
    url = os.environ.get("WALLET_DATABASE_URL")
    if url:
        return url
    DEFAULT_INSTANCE.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_INSTANCE / 'wallet.db'}"

"""Stripe's configuration, from the environment (or the Flask app's config, which reads the same ``WALLET_``
variables): never logged, never shown.

| variable | meaning |
|---|---|
| ``WALLET_STRIPE_SECRET_KEY`` | the API secret key (``sk_live_...`` / ``sk_test_...``) |
| ``WALLET_STRIPE_API_BASE`` | another address for Stripe's API (a local stand-in in tests and demos) |
| ``WALLET_STRIPE_WEBHOOK_SECRET`` | the webhook endpoint's signing secret (``whsec_...``) |
"""
from __future__ import annotations

import os
from typing import Mapping

from wallet.stripe_gateway.client import StripeConfig

PREFIX = "WALLET_"


def _value(name: str, source: Mapping[str, object] | None) -> str | None:
    if source is not None and source.get(name):
        return str(source[name])
    return os.environ.get(PREFIX + name) or None


def stripe_config(source: Mapping[str, object] | None = None) -> StripeConfig | None:
    """The API configuration, or None when no secret key is set (Stripe is then not used)."""
    key = _value("STRIPE_SECRET_KEY", source)
    if not key:
        return None
    return StripeConfig(api_key=key, api_base=_value("STRIPE_API_BASE", source))


def webhook_secret(source: Mapping[str, object] | None = None) -> str | None:
    return _value("STRIPE_WEBHOOK_SECRET", source)

"""Stripe's errors, turned into a few the wallet can act on. Messages never carry keys, secrets or card numbers."""
from __future__ import annotations

import stripe


class StripeGatewayError(Exception):
    """Base: something Stripe refused or could not do. ``retryable``: the same call may work later."""

    retryable = False

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None,
                 request_id: str | None = None, param: str | None = None):
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        self.param = param
        super().__init__(message)


class PaymentDeclined(StripeGatewayError):
    """The card or bank declined (HTTP 402): tell the person, do not retry the same request."""


class InvalidStripeRequest(StripeGatewayError):
    """Stripe says the request is wrong (HTTP 400): a bug or bad data on our side."""


class StripeObjectNotFound(InvalidStripeRequest):
    """The object named does not exist in this Stripe account (HTTP 404, resource_missing)."""


class IdempotencyKeyReused(StripeGatewayError):
    """The idempotency key was used before with different parameters: two different requests share a key."""


class StripeAuthenticationFailed(StripeGatewayError):
    """The API key is wrong or lacks permission: configuration, not data."""


class StripeUnavailable(StripeGatewayError):
    """Stripe could not be reached, failed, or asked us to slow down; safe to retry with the same key."""

    retryable = True


class WebhookRejected(Exception):
    """A webhook failed signature or timestamp checks, or is not an event."""


def map_stripe_error(exc: stripe.StripeError, action: str) -> StripeGatewayError:
    """Turn the stripe library's exception into ours, saying what we were trying to do."""
    status = getattr(exc, "http_status", None)
    code = getattr(exc, "code", None)
    request_id = getattr(exc, "request_id", None)
    param = getattr(exc, "param", None)
    detail = exc.user_message or _message(exc)
    bits = [f"code {code}"] if code else []
    bits += [f"HTTP {status}"] if status else []
    bits += [f"request {request_id}"] if request_id else []
    where = f" ({', '.join(bits)})" if bits else ""
    kwargs = dict(code=code, http_status=status, request_id=request_id, param=param)

    if isinstance(exc, stripe.CardError):
        return PaymentDeclined(f"Stripe declined to {action}: {detail}{where}", **kwargs)
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyKeyReused(
            f"could not {action}: the idempotency key was already used for a different request{where}", **kwargs)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        # Stripe's own text can echo part of the key; say what to check instead.
        return StripeAuthenticationFailed(
            f"could not {action}: Stripe did not accept the API key or it lacks permission; check the "
            f"configured secret key{where}", **kwargs)
    if isinstance(exc, stripe.InvalidRequestError):
        cls = StripeObjectNotFound if (status == 404 or code == "resource_missing") else InvalidStripeRequest
        return cls(f"Stripe refused to {action}: {detail}{where}", **kwargs)
    if isinstance(exc, (stripe.RateLimitError, stripe.APIConnectionError)):
        return StripeUnavailable(f"could not {action}: {detail}{where}; try again shortly", **kwargs)
    return StripeUnavailable(f"could not {action}: Stripe failed: {detail}{where}; try again shortly", **kwargs)


def _message(exc: stripe.StripeError) -> str:
    text = getattr(exc, "_message", None) or str(exc)
    return text or type(exc).__name__

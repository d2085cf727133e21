"""The Stripe edge of the wallet: Issuing cards with spending controls, card top-ups, Bacs Direct Debit for
client contributions, balance transactions for reconciliation, and webhooks (real-time card authorisations
answered in the response).

The wallet domain plugs in through three small interfaces in ``ports``: ``WalletFunds`` (available money and
holds), ``CardDirectory`` (card -> wallet and controls, spend this period) and ``ProcessedEvents`` (webhook
events already handled). ``money_in`` keeps Direct Debit mandates and posts refunds and disputes of payments in.
"""
from wallet.stripe_gateway.authorization import (
    AuthorizationRequest, Decision, WebhookReply, authorization_reply, decide_authorization,
)
from wallet.stripe_gateway.client import (
    Address, BacsSetup, BalanceTransaction, Cardholder, CardholderDetails, IssuedCard, PaymentIntentRef, SetupIntentRef,
    StripeConfig, StripeGateway, mask_sort_code,
)
from wallet.stripe_gateway.controls import INTERVALS, CardControls, SpendingLimit
from wallet.stripe_gateway.errors import (
    IdempotencyKeyReused, InvalidStripeRequest, PaymentDeclined, StripeAuthenticationFailed, StripeGatewayError,
    StripeObjectNotFound, StripeUnavailable, WebhookRejected, map_stripe_error,
)
from wallet.stripe_gateway.ports import (
    CardAccount, CardDirectory, DecisionLog, FundsUnavailable, ProcessedEvents, WalletFunds,
)
from wallet.stripe_gateway.webhooks import WebhookReceiver, hold_key, verify_event

__all__ = [
    "Address", "AuthorizationRequest", "BalanceTransaction", "CardAccount", "CardControls", "CardDirectory",
    "Cardholder", "CardholderDetails", "Decision", "DecisionLog", "FundsUnavailable", "INTERVALS",
    "IdempotencyKeyReused", "InvalidStripeRequest", "IssuedCard", "PaymentDeclined", "PaymentIntentRef", "ProcessedEvents",
    "SetupIntentRef", "SpendingLimit", "StripeAuthenticationFailed", "StripeConfig", "StripeGateway",
    "StripeGatewayError", "StripeObjectNotFound", "StripeUnavailable", "WalletFunds", "WebhookReceiver",
    "WebhookRejected", "WebhookReply", "authorization_reply", "decide_authorization", "hold_key",
    "map_stripe_error", "mask_sort_code", "verify_event",
]

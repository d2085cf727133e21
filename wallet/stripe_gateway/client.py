"""A thin adapter over the stripe library: the calls the wallet makes, plain values in and out.

Every write takes an idempotency key from the caller (derived from the wallet's own request id), so a retry after
a lost answer never makes a second card or takes a payment twice. The address of the API is configuration
(``api_base``), so tests and demos point it at a local server that speaks Stripe's HTTP API.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Literal

import stripe

from wallet.stripe_gateway.controls import CardControls
from wallet.stripe_gateway.errors import map_stripe_error

log = logging.getLogger(__name__)
CURRENCY = "gbp"


class _DropStripeDebug(logging.Filter):
    """The stripe library logs request parameters and whole response bodies (client secrets, names, e-mail
    addresses) at DEBUG on the "stripe" logger. The wallet's logs must not carry them, whatever the log level."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO


def _quiet_stripe_debug_logs() -> None:
    stripe_logger = logging.getLogger("stripe")
    if not any(isinstance(f, _DropStripeDebug) for f in stripe_logger.filters):
        stripe_logger.addFilter(_DropStripeDebug())


@dataclass(frozen=True)
class StripeConfig:
    api_key: str = field(repr=False)
    api_base: str | None = None
    """None for Stripe itself; ``http://127.0.0.1:PORT`` for a local stand-in."""
    stripe_version: str | None = None
    """None: the version the installed stripe library is built for."""
    max_network_retries: int = 2
    timeout_seconds: int = 20

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("a Stripe secret key is required")


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postal_code: str
    line2: str | None = None
    country: str = "GB"

    def to_stripe(self) -> dict[str, Any]:
        out = {"line1": self.line1, "city": self.city, "postal_code": self.postal_code, "country": self.country}
        if self.line2:
            out["line2"] = self.line2
        return out


@dataclass(frozen=True)
class CardholderDetails:
    """The person a card is issued to (a budget holder, or a PA spending for them). Contact details never show
    in a repr."""

    first_name: str
    last_name: str
    billing_address: Address = field(repr=False)
    email: str | None = field(default=None, repr=False)
    phone_number: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class Cardholder:
    id: str
    name: str
    status: str


@dataclass(frozen=True)
class IssuedCard:
    id: str
    cardholder_id: str
    type: str
    status: str
    last4: str
    controls: CardControls


@dataclass(frozen=True)
class PaymentIntentRef:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None = field(default=None, repr=False)
    """Handed to the browser to confirm the payment; never logged."""


@dataclass(frozen=True)
class SetupIntentRef:
    id: str
    status: str
    customer: str | None
    mandate: str | None
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class BacsSetup:
    """A Direct Debit set-up as Stripe holds it, with the bank details already masked: the wallet never keeps
    (or sees past this point) a whole sort code or account number."""

    setup_intent_id: str
    status: str
    customer: str | None
    mandate_id: str | None
    payment_method_id: str | None
    sort_code_masked: str | None
    last4: str | None


def mask_sort_code(sort_code: Any) -> str | None:
    """``108800`` -> ``**-**-00``: enough for the person to recognise their account."""
    digits = "".join(ch for ch in str(sort_code or "") if ch.isdigit())
    return f"**-**-{digits[-2:]}" if len(digits) >= 2 else None


@dataclass(frozen=True)
class BalanceTransaction:
    id: str
    amount: int
    fee: int
    net: int
    currency: str
    type: str
    reporting_category: str | None
    source: str | None
    status: str
    created: datetime
    available_on: datetime | None
    description: str | None
    source_charge: str | None = None
    """For a refund or a dispute, the charge it gives back or takes back (``source`` expanded)."""


def _ts(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("times passed to Stripe must be timezone-aware")
    return int(moment.timestamp())


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _key(idempotency_key: str) -> dict[str, Any]:
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise ValueError("an idempotency key is required for every write to Stripe")
    return {"idempotency_key": idempotency_key}


class StripeGateway:
    def __init__(self, config: StripeConfig, *, http_client: stripe.HTTPClient | None = None):
        self.config = config
        _quiet_stripe_debug_logs()
        base = {"api": config.api_base} if config.api_base else None
        self.client = stripe.StripeClient(
            config.api_key,
            stripe_version=config.stripe_version,
            base_addresses=base,  # type: ignore[arg-type]
            max_network_retries=config.max_network_retries,
            http_client=http_client or stripe.RequestsClient(timeout=config.timeout_seconds),
        )
        # stripe >= 12 groups the v1 services under client.v1; older releases hang them on the client itself
        self.v1 = getattr(self.client, "v1", self.client)

    def __repr__(self) -> str:
        return f"StripeGateway(api_base={self.config.api_base!r})"

    def _call(self, action: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            mapped = map_stripe_error(exc, action)
            log.warning("stripe: %s", mapped)
            raise mapped from exc

    # ------------------------------------------------------------------ Issuing
    def create_cardholder(self, details: CardholderDetails, *, wallet_id: str, idempotency_key: str) -> Cardholder:
        params: dict[str, Any] = {
            "type": "individual",
            "name": details.name,
            "billing": {"address": details.billing_address.to_stripe()},
            "individual": {"first_name": details.first_name, "last_name": details.last_name},
            "metadata": {"wallet_id": wallet_id},
        }
        if details.email:
            params["email"] = details.email
        if details.phone_number:
            params["phone_number"] = details.phone_number
        obj = _plain(self._call("create a cardholder", self.v1.issuing.cardholders.create, params,
                                _key(idempotency_key)))
        return Cardholder(id=obj["id"], name=obj.get("name", ""), status=obj.get("status", ""))

    def issue_card(self, cardholder_id: str, controls: CardControls, *, wallet_id: str, idempotency_key: str,
                   kind: Literal["virtual", "physical"] = "virtual", shipping_name: str | None = None,
                   shipping_address: Address | None = None, active: bool = True) -> IssuedCard:
        """A virtual card (usable at once) or a physical one (posted to ``shipping_address``)."""
        if kind not in ("virtual", "physical"):
            raise ValueError("a card is virtual or physical")
        params: dict[str, Any] = {
            "cardholder": cardholder_id,
            "currency": CURRENCY,
            "type": kind,
            "status": "active" if active else "inactive",
            "spending_controls": controls.to_stripe(),
            "metadata": {"wallet_id": wallet_id},
        }
        if kind == "physical":
            if shipping_address is None or not shipping_name:
                raise ValueError("a physical card needs a name and address to post it to")
            params["shipping"] = {"name": shipping_name, "address": shipping_address.to_stripe(),
                                  "service": "standard"}
        obj = _plain(self._call(f"issue a {kind} card", self.v1.issuing.cards.create, params,
                                _key(idempotency_key)))
        return _card(obj)

    def update_card_controls(self, card_id: str, controls: CardControls, *, idempotency_key: str) -> IssuedCard:
        obj = _plain(self._call("update the card's controls", self.v1.issuing.cards.update, card_id,
                                {"spending_controls": controls.to_stripe(for_update=True)}, _key(idempotency_key)))
        return _card(obj)

    def set_card_status(self, card_id: str, status: Literal["active", "inactive", "canceled"], *,
                        idempotency_key: str) -> IssuedCard:
        """Freeze (inactive), unfreeze (active) or cancel a card; a cancelled card cannot come back."""
        obj = _plain(self._call(f"make the card {status}", self.v1.issuing.cards.update, card_id,
                                {"status": status}, _key(idempotency_key)))
        return _card(obj)

    def retrieve_card(self, card_id: str) -> IssuedCard:
        return _card(_plain(self._call("look up the card", self.v1.issuing.cards.retrieve, card_id)))

    # ------------------------------------------------------------------ money in
    def create_top_up(self, amount: int, *, wallet_id: str, idempotency_key: str, customer_id: str | None = None,
                      description: str = "Wallet top-up", stream_id: str | None = None) -> PaymentIntentRef:
        """A card payment into the wallet: a PaymentIntent the browser confirms with its client secret.
        ``stream_id`` names the funding stream the money is posted to when it succeeds."""
        _check_pence(amount)
        params: dict[str, Any] = {
            "amount": amount, "currency": CURRENCY, "payment_method_types": ["card"],
            "description": description, "metadata": _money_in(wallet_id, "top_up", stream_id),
        }
        if customer_id:
            params["customer"] = customer_id
        return _payment_intent(_plain(self._call("start a card top-up", self.v1.payment_intents.create, params,
                                                 _key(idempotency_key))))

    def charge_saved_card(self, amount: int, *, customer_id: str, payment_method_id: str, wallet_id: str,
                          idempotency_key: str, description: str = "Wallet top-up",
                          stream_id: str | None = None) -> PaymentIntentRef:
        """Top up from a card saved earlier (an agreed regular top-up), confirmed here without the person present.
        A decline raises PaymentDeclined."""
        _check_pence(amount)
        params = {"amount": amount, "currency": CURRENCY, "customer": customer_id,
                  "payment_method": payment_method_id, "payment_method_types": ["card"], "confirm": True,
                  "off_session": True, "description": description,
                  "metadata": _money_in(wallet_id, "top_up", stream_id)}
        return _payment_intent(_plain(self._call("take the top-up from the saved card",
                                                 self.v1.payment_intents.create, params, _key(idempotency_key))))

    def create_customer(self, *, name: str, email: str | None, wallet_id: str, idempotency_key: str) -> str:
        params: dict[str, Any] = {"name": name, "metadata": {"wallet_id": wallet_id}}
        if email:
            params["email"] = email
        obj = _plain(self._call("create a customer", self.v1.customers.create, params, _key(idempotency_key)))
        return obj["id"]

    def create_bacs_debit_setup(self, customer_id: str, *, wallet_id: str, idempotency_key: str,
                                stream_id: str | None = None) -> SetupIntentRef:
        """Start a Bacs Direct Debit mandate for the client's contribution: a SetupIntent the person confirms
        (Stripe shows the Direct Debit guarantee and sends the mandate notice); the mandate id arrives when it
        succeeds (``setup_intent.succeeded``). ``stream_id`` names the funding stream its debits pay into."""
        params = {"customer": customer_id, "payment_method_types": ["bacs_debit"], "usage": "off_session",
                  "metadata": _money_in(wallet_id, "client_contribution", stream_id)}
        obj = _plain(self._call("start a Direct Debit mandate", self.v1.setup_intents.create, params,
                                _key(idempotency_key)))
        return SetupIntentRef(id=obj["id"], status=obj.get("status", ""), customer=obj.get("customer"),
                              mandate=obj.get("mandate"), client_secret=obj.get("client_secret"))

    def retrieve_bacs_setup(self, setup_intent_id: str) -> BacsSetup:
        """The set-up with its payment method's bank details, masked here before they go any further."""
        obj = _plain(self._call("look up the Direct Debit set-up", self.v1.setup_intents.retrieve, setup_intent_id,
                                {"expand": ["payment_method"]}))
        method = obj.get("payment_method")
        bacs = (method.get("bacs_debit") or {}) if isinstance(method, dict) else {}
        mandate = obj.get("mandate")
        return BacsSetup(setup_intent_id=obj["id"], status=obj.get("status", ""), customer=obj.get("customer"),
                         mandate_id=mandate.get("id") if isinstance(mandate, dict) else mandate,
                         payment_method_id=method.get("id") if isinstance(method, dict) else method,
                         sort_code_masked=mask_sort_code(bacs.get("sort_code")),
                         last4=(bacs.get("last4") or None))

    def collect_bacs_debit(self, amount: int, *, customer_id: str, payment_method_id: str, wallet_id: str,
                           idempotency_key: str, description: str = "Client contribution",
                           stream_id: str | None = None, mandate_id: str | None = None) -> PaymentIntentRef:
        """Collect a contribution under an existing mandate (Bacs takes about three working days): confirmed
        here, off session, as the mandate allows."""
        _check_pence(amount)
        params: dict[str, Any] = {
            "amount": amount, "currency": CURRENCY, "customer": customer_id, "payment_method": payment_method_id,
            "payment_method_types": ["bacs_debit"], "confirm": True, "off_session": True,
            "description": description, "metadata": _money_in(wallet_id, "client_contribution", stream_id)}
        if mandate_id:
            params["mandate"] = mandate_id
        return _payment_intent(_plain(self._call("collect a Direct Debit", self.v1.payment_intents.create,
                                                 params, _key(idempotency_key))))

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentRef:
        return _payment_intent(_plain(self._call("look up the payment", self.v1.payment_intents.retrieve,
                                                 payment_intent_id)))

    # ------------------------------------------------------------------ reconciliation
    def balance_transactions(self, *, created_from: datetime | None = None, created_before: datetime | None = None,
                             payout: str | None = None, type: str | None = None,
                             page_size: int = 100) -> Iterator[BalanceTransaction]:
        """Every balance transaction in the window, newest first, following Stripe's pages."""
        # refunds and disputes name their charge only inside the source object
        params: dict[str, Any] = {"limit": page_size, "expand": ["data.source"]}
        created: dict[str, int] = {}
        if created_from is not None:
            created["gte"] = _epoch(created_from)
        if created_before is not None:
            created["lt"] = _epoch(created_before)
        if created:
            params["created"] = created
        if payout:
            params["payout"] = payout
        if type:
            params["type"] = type
        page = self._call("list balance transactions", self.v1.balance_transactions.list, params)
        iterator = page.auto_paging_iter()
        while True:
            try:
                item = self._call("list balance transactions", next, iterator)
            except StopIteration:
                return
            yield _balance_transaction(_plain(item))


def _money_in(wallet_id: str, purpose: str, stream_id: str | None) -> dict[str, str]:
    """The metadata that tells the webhook which wallet and funding stream a payment in belongs to."""
    meta = {"wallet_id": wallet_id, "purpose": purpose}
    if stream_id:
        meta["stream_id"] = stream_id
    return meta


def _check_pence(amount: object) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"amount must be a whole number of pence above zero, not {amount!r}")


def _card(obj: dict[str, Any]) -> IssuedCard:
    holder = obj.get("cardholder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder
    return IssuedCard(id=obj["id"], cardholder_id=holder_id or "", type=obj.get("type", ""),
                      status=obj.get("status", ""), last4=obj.get("last4", ""),
                      controls=CardControls.from_stripe(obj.get("spending_controls")))


def _payment_intent(obj: dict[str, Any]) -> PaymentIntentRef:
    return PaymentIntentRef(id=obj["id"], status=obj.get("status", ""), amount=obj["amount"],
                            currency=obj.get("currency", ""), client_secret=obj.get("client_secret"))


def _balance_transaction(obj: dict[str, Any]) -> BalanceTransaction:
    source = obj.get("source")
    source_charge = None
    if isinstance(source, dict):
        if source.get("object") in ("refund", "dispute"):
            charge = source.get("charge")
            source_charge = charge.get("id") if isinstance(charge, dict) else charge
        source = source.get("id")
    return BalanceTransaction(
        id=obj["id"], amount=obj["amount"], fee=obj.get("fee", 0), net=obj.get("net", obj["amount"]),
        currency=obj.get("currency", ""), type=obj.get("type", ""),
        reporting_category=obj.get("reporting_category"), source=source, status=obj.get("status", ""),
        created=_ts(obj["created"]), available_on=_ts(obj.get("available_on")),  # type: ignore[arg-type]
        description=obj.get("description"), source_charge=source_charge)

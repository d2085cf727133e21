"""A local stand-in for the parts of Stripe's HTTP API the wallet uses, so the real `stripe` library can be
tested against it (``StripeConfig(api_base=fake.url)``).

Like Stripe it takes form-encoded bodies with bracketed keys (``spending_controls[spending_limits][0][amount]``),
answers JSON objects with ``id``, ``object`` and ``livemode``, checks the secret key (401), reports errors as
``{"error": {"type", "code", "message", "param"}}`` with Stripe's status codes (400 invalid request, 402 card
declined, 404 no such object, 429 rate limit), sends a ``Request-Id`` header, and honours ``Idempotency-Key``:
the same key with the same parameters replays the first answer (``Idempotent-Replayed: true``), with other
parameters it is an ``idempotency_error``.

It also plays Stripe's side of webhooks: ``send_event`` posts an event to a URL with a ``Stripe-Signature``
header made by Stripe's own signing code (``stripe.WebhookSignature.generate_signature_header``), and
``authorize`` runs a card payment through a real-time authorisation webhook.

Endpoints: issuing cardholders (create, retrieve), issuing cards (create, retrieve, update), customers (create),
payment intents (create, retrieve), setup intents (create, retrieve with ``expand[]=payment_method``, confirm
with Bacs details, which makes a payment method and a mandate), payment methods and mandates (retrieve), balance
transactions (list, paginated, ``expand[]=data.source``). Charges, refunds, disputes and card captures and
refunds add balance transactions, as they do at Stripe; ``revoke_mandate``, ``refund_charge``, ``dispute`` and
``close_dispute`` play the bank's, the payer's and Stripe's parts.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import stripe

API_VERSION = "2026-10-28.endive"
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
CATEGORY_CODES = {"grocery_stores_supermarkets": "5411", "betting_casino_gambling": "7995",
                  "taxicabs_limousines": "4121", "drug_stores_and_pharmacies": "5912",
                  "automated_cash_disburse": "6011", "eating_places_restaurants": "5812"}
INTERVALS = {"per_authorization", "daily", "weekly", "monthly", "yearly", "all_time"}


class StripeHTTPError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str | None = None, param: str | None = None,
                 decline_code: str | None = None):
        super().__init__(message)
        self.status, self.type, self.message, self.code, self.param = status, type_, message, code, param
        self.decline_code = decline_code

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message,
                                 "request_log_url": f"https://dashboard.stripe.com/test/logs/{request_id}"}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        return {"error": error}


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracketed form keys -> nested dicts and lists: a[b][0][c]=1 -> {"a": {"b": [{"c": "1"}]}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise StripeHTTPError(400, "invalid_request_error", f"Invalid parameter name: {key}", "parameter_unknown",
                                  key)
        parts = [match.group(1)] + _PART.findall(match.group(2))
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # a[]=x: append
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise StripeHTTPError(400, "invalid_request_error", f"Invalid array or hash: {key}",
                                          "parameter_invalid_string", key)
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        items = {k: _listify(v) for k, v in node.items()}
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items
    return node


def _int(params: dict[str, Any], key: str, *, required: bool = False, minimum: int | None = None,
         where: str | None = None) -> int | None:
    name = where or key
    if key not in params or params[key] in ("", None):
        if required:
            raise StripeHTTPError(400, "invalid_request_error", f"Missing required param: {name}.",
                                  "parameter_missing", name)
        return None
    raw = params[key]
    if not (isinstance(raw, str) and re.fullmatch(r"-?\d+", raw)):
        raise StripeHTTPError(400, "invalid_request_error", f"Invalid integer: {raw}", "parameter_invalid_integer",
                              name)
    value = int(raw)
    if minimum is not None and value < minimum:
        raise StripeHTTPError(400, "invalid_request_error",
                              f"This value must be greater than or equal to {minimum}.", "parameter_invalid_integer",
                              name)
    return value


def _required(params: dict[str, Any], key: str, where: str | None = None) -> Any:
    value = params.get(key)
    if value in (None, "", {}):
        name = where or key
        raise StripeHTTPError(400, "invalid_request_error", f"Missing required param: {name}.", "parameter_missing",
                              name)
    return value


def _bool(value: Any) -> bool:
    return value in ("true", True)


def _metadata(params: dict[str, Any]) -> dict[str, str]:
    meta = params.get("metadata") or {}
    if not isinstance(meta, dict):
        raise StripeHTTPError(400, "invalid_request_error", "Invalid hash", "parameter_invalid_string", "metadata")
    return dict(meta)


def _list(value: Any, name: str) -> list[Any]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise StripeHTTPError(400, "invalid_request_error", "Invalid array", "parameter_invalid_string", name)
    return value


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Delivery:
    """One webhook the fake sent: what it posted and what came back."""

    event: dict[str, Any]
    payload: str
    signature: str
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeStripe:
    api_key: str = "sk_test_fake_0123456789abcdef"
    webhook_secret: str = "whsec_fake_test_secret_0123456789"
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    clock: Callable[[], int] = field(default=lambda: int(time.time()))

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._idempotent: dict[str, tuple[str, str, dict[str, Any], int, dict[str, Any]]] = {}
        self._failures: list[StripeHTTPError] = []
        self._pm_mandates: dict[str, str] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._serve("DELETE")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = fake.handle(method, self.path, dict(self.headers.items()), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeStripe":
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "FakeStripe":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test controls
    def fail_next(self, status: int, type_: str, message: str, code: str | None = None,
                  param: str | None = None) -> None:
        """Answer the next API request with this error instead of doing it."""
        with self._lock:
            self._failures.append(StripeHTTPError(status, type_, message, code, param))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}{secrets.token_hex(4)}"

    def of_type(self, object_type: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o.get("object") == object_type]

    def calls(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # ------------------------------------------------------------------ HTTP
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], dict[str, Any]]:
        request_id = f"req_{secrets.token_hex(7)}"
        out_headers = {"Request-Id": request_id, "Stripe-Version": headers.get("Stripe-Version", API_VERSION)}
        lower = {k.lower(): v for k, v in headers.items()}
        split = urlsplit(raw_path)
        try:
            if method == "GET":
                params = parse_form(parse_qsl(split.query, keep_blank_values=True))
            else:
                params = parse_form(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except StripeHTTPError as exc:
            return exc.status, out_headers, exc.body(request_id)
        with self._lock:
            self.requests.append(RecordedRequest(method, split.path, params, lower))
            auth = lower.get("authorization", "")
            if auth != f"Bearer {self.api_key}":
                given = auth.removeprefix("Bearer ").strip()
                shown = f"{given[:8]}{'*' * 12}{given[-4:]}" if len(given) > 12 else "(none)"
                err = StripeHTTPError(401, "invalid_request_error", f"Invalid API Key provided: {shown}")
                return 401, out_headers, err.body(request_id)
            key = lower.get("idempotency-key") if method == "POST" else None
            if key is not None and key in self._idempotent:
                first_method, first_path, first_params, status, payload = self._idempotent[key]
                if (first_method, first_path, first_params) != (method, split.path, params):
                    err = StripeHTTPError(
                        400, "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different "
                        "request.")
                    return 400, out_headers, err.body(request_id)
                return status, {**out_headers, "Idempotent-Replayed": "true", "Idempotency-Key": key}, payload
            try:
                if self._failures:
                    raise self._failures.pop(0)
                status, payload = 200, self._route(method, split.path, params)
            except StripeHTTPError as exc:
                status, payload = exc.status, exc.body(request_id)
            if key is not None and status != 429 and status < 500:
                self._idempotent[key] = (method, split.path, params, status, payload)
                out_headers["Idempotency-Key"] = key
            return status, out_headers, payload

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        routes: list[tuple[str, str, Callable[..., dict[str, Any]]]] = [
            ("POST", r"/v1/issuing/cardholders", self._create_cardholder),
            ("GET", r"/v1/issuing/cardholders/(?P<id>[^/]+)", self._retrieve("issuing.cardholder", "cardholder")),
            ("POST", r"/v1/issuing/cards", self._create_card),
            ("GET", r"/v1/issuing/cards/(?P<id>[^/]+)", self._retrieve("issuing.card", "issuing card")),
            ("POST", r"/v1/issuing/cards/(?P<id>[^/]+)", self._update_card),
            ("POST", r"/v1/customers", self._create_customer),
            ("POST", r"/v1/payment_intents", self._create_payment_intent),
            ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", self._retrieve("payment_intent", "payment_intent")),
            ("POST", r"/v1/setup_intents", self._create_setup_intent),
            ("GET", r"/v1/setup_intents/(?P<id>[^/]+)", self._retrieve_setup_intent),
            ("POST", r"/v1/setup_intents/(?P<id>[^/]+)/confirm", self._confirm_setup_intent),
            ("GET", r"/v1/payment_methods/(?P<id>[^/]+)", self._retrieve("payment_method", "PaymentMethod")),
            ("GET", r"/v1/mandates/(?P<id>[^/]+)", self._retrieve("mandate", "mandate")),
            ("GET", r"/v1/balance_transactions", self._list_balance_transactions),
        ]
        for verb, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                return fn(params, **match.groupdict())
        raise StripeHTTPError(404, "invalid_request_error",
                              f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs",
                              "resource_missing")

    def _base(self, prefix: str, object_type: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.new_id(prefix), "object": object_type, "created": self.clock(), "livemode": False,
                "metadata": _metadata(params)}

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def _get(self, object_id: str, object_type: str, noun: str, *, param: str | None = None,
             status: int = 404) -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != object_type:
            raise StripeHTTPError(status, "invalid_request_error", f"No such {noun}: '{object_id}'",
                                  "resource_missing", param or "id")
        return obj

    def _retrieve(self, object_type: str, noun: str) -> Callable[..., dict[str, Any]]:
        def retrieve(params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002 - Stripe's word
            return self._get(id, object_type, noun)

        return retrieve

    # ------------------------------------------------------------------ Issuing
    def _address(self, address: Any, where: str) -> dict[str, Any]:
        if not isinstance(address, dict):
            raise StripeHTTPError(400, "invalid_request_error", f"Missing required param: {where}.",
                                  "parameter_missing", where)
        for part in ("line1", "city", "postal_code", "country"):
            _required(address, part, f"{where}[{part}]")
        return {"city": address["city"], "country": address["country"], "line1": address["line1"],
                "line2": address.get("line2"), "postal_code": address["postal_code"], "state": address.get("state")}

    def _create_cardholder(self, params: dict[str, Any]) -> dict[str, Any]:
        name = _required(params, "name")
        billing = params.get("billing") or {}
        address = self._address(billing.get("address"), "billing[address]")
        kind = params.get("type", "individual")
        if kind not in ("individual", "company"):
            raise StripeHTTPError(400, "invalid_request_error", "Invalid type: must be one of individual or company",
                                  "parameter_invalid_string", "type")
        obj = self._base("ich", "issuing.cardholder", params)
        individual = params.get("individual") or None
        obj.update({"billing": {"address": address}, "company": None, "email": params.get("email"),
                    "individual": individual and {"first_name": individual.get("first_name"),
                                                  "last_name": individual.get("last_name"), "dob": None,
                                                  "card_issuing": None, "verification": None},
                    "name": name, "phone_number": params.get("phone_number"), "preferred_locales": [],
                    "requirements": {"disabled_reason": None, "past_due": []},
                    "spending_controls": self._controls({}, None),
                    "status": params.get("status", "active"), "type": kind})
        return self._store(obj)

    def _controls(self, given: Any, current: dict[str, Any] | None) -> dict[str, Any]:
        controls = dict(current or {"allowed_categories": None, "allowed_merchant_countries": None,
                                    "blocked_categories": None, "blocked_merchant_countries": None,
                                    "spending_limits": [], "spending_limits_currency": None})
        if given in (None, ""):
            return controls
        if not isinstance(given, dict):
            raise StripeHTTPError(400, "invalid_request_error", "Invalid hash", "parameter_invalid_string",
                                  "spending_controls")
        for key in ("allowed_categories", "blocked_categories", "allowed_merchant_countries",
                    "blocked_merchant_countries"):
            if key in given:
                values = _list(given[key], f"spending_controls[{key}]")
                controls[key] = values or None
        for a, b in (("allowed_categories", "blocked_categories"),
                     ("allowed_merchant_countries", "blocked_merchant_countries")):
            if controls[a] and controls[b]:
                raise StripeHTTPError(400, "invalid_request_error",
                                      f"You may only specify one of these parameters: {a}, {b}.",
                                      "parameter_invalid_string", f"spending_controls[{a}]")
        if "spending_limits" in given:
            limits = []
            for i, lim in enumerate(_list(given["spending_limits"], "spending_controls[spending_limits]")):
                where = f"spending_controls[spending_limits][{i}]"
                amount = _int(lim, "amount", required=True, minimum=0, where=f"{where}[amount]")
                interval = _required(lim, "interval", f"{where}[interval]")
                if interval not in INTERVALS:
                    raise StripeHTTPError(400, "invalid_request_error", f"Invalid {where}[interval]: must be one "
                                          f"of {', '.join(sorted(INTERVALS))}", "parameter_invalid_string",
                                          f"{where}[interval]")
                categories = _list(lim.get("categories"), f"{where}[categories]")
                limits.append({"amount": amount, "categories": categories or None, "interval": interval})
            controls["spending_limits"] = limits
            controls["spending_limits_currency"] = "gbp" if limits else None
        return controls

    def _create_card(self, params: dict[str, Any]) -> dict[str, Any]:
        holder_id = _required(params, "cardholder")
        holder = self._get(holder_id, "issuing.cardholder", "cardholder", param="cardholder", status=400)
        currency = _required(params, "currency")
        if currency != "gbp":
            raise StripeHTTPError(400, "invalid_request_error", "This account can only issue cards in gbp.",
                                  "parameter_invalid_string", "currency")
        kind = _required(params, "type")
        if kind not in ("virtual", "physical"):
            raise StripeHTTPError(400, "invalid_request_error", "Invalid type: must be one of physical or virtual",
                                  "parameter_invalid_string", "type")
        shipping = None
        if kind == "physical":
            given = params.get("shipping")
            if not isinstance(given, dict):
                raise StripeHTTPError(400, "invalid_request_error", "Missing required param: shipping.",
                                      "parameter_missing", "shipping")
            shipping = {"address": self._address(given.get("address"), "shipping[address]"),
                        "name": _required(given, "name", "shipping[name]"),
                        "service": given.get("service", "standard"), "status": "pending", "type": "individual",
                        "carrier": None, "eta": None, "tracking_number": None, "tracking_url": None}
        status = params.get("status", "inactive")
        if status not in ("active", "inactive"):
            raise StripeHTTPError(400, "invalid_request_error", "Invalid status: must be one of active or inactive",
                                  "parameter_invalid_string", "status")
        obj = self._base("ic", "issuing.card", params)
        obj.update({"brand": "Visa", "cancellation_reason": None, "cardholder": holder, "currency": "gbp",
                    "exp_month": 8, "exp_year": 2029, "last4": f"{next(self._ids) % 10000:04d}",
                    "replaced_by": None, "replacement_for": None, "replacement_reason": None,
                    "shipping": shipping, "spending_controls": self._controls(params.get("spending_controls"), None),
                    "status": status, "type": kind, "wallets": {"apple_pay": {"eligible": False},
                                                                 "google_pay": {"eligible": False}}})
        return self._store(obj)

    def _update_card(self, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
        card = self._get(id, "issuing.card", "issuing card")
        if card["status"] == "canceled":
            raise StripeHTTPError(400, "invalid_request_error", "You cannot update a canceled card.")
        if "status" in params:
            if params["status"] not in ("active", "inactive", "canceled"):
                raise StripeHTTPError(400, "invalid_request_error",
                                      "Invalid status: must be one of active, inactive, or canceled",
                                      "parameter_invalid_string", "status")
            card["status"] = params["status"]
            if params["status"] == "canceled":
                card["cancellation_reason"] = params.get("cancellation_reason") or "lost"
        if "spending_controls" in params:
            card["spending_controls"] = self._controls(params["spending_controls"], card["spending_controls"])
        if "metadata" in params:
            card["metadata"] = {**card["metadata"], **_metadata(params)}
        return card

    # ------------------------------------------------------------------ payments
    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        obj = self._base("cus", "customer", params)
        obj.update({"address": None, "balance": 0, "currency": None, "description": params.get("description"),
                    "email": params.get("email"), "name": params.get("name"), "phone": params.get("phone"),
                    "invoice_settings": {"default_payment_method": None}})
        return self._store(obj)

    def _payment_method_types(self, params: dict[str, Any]) -> list[str]:
        types = _list(params.get("payment_method_types"), "payment_method_types") or ["card"]
        for t in types:
            if t not in ("card", "bacs_debit"):
                raise StripeHTTPError(400, "invalid_request_error", f"The payment method type \"{t}\" is invalid.",
                                      "payment_intent_invalid_parameter", "payment_method_types")
        return types

    def _create_payment_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _int(params, "amount", required=True)
        currency = _required(params, "currency")
        if amount < 30:  # GBP minimum charge amount
            raise StripeHTTPError(400, "invalid_request_error",
                                  "Amount must be at least £0.30 gbp", "amount_too_small", "amount")
        types = self._payment_method_types(params)
        customer = params.get("customer")
        if customer:
            self._get(customer, "customer", "customer", param="customer", status=400)
        obj = self._base("pi", "payment_intent", params)
        obj.update({"amount": amount, "amount_capturable": 0, "amount_received": 0, "capture_method": "automatic",
                    "confirmation_method": "automatic", "currency": currency, "customer": customer,
                    "description": params.get("description"), "last_payment_error": None, "latest_charge": None,
                    "payment_method": params.get("payment_method"), "payment_method_types": types,
                    "status": "requires_payment_method"})
        obj["client_secret"] = f"{obj['id']}_secret_{secrets.token_hex(8)}"
        if _bool(params.get("confirm")):
            method = _required(params, "payment_method")
            if method in ("pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"):
                raise StripeHTTPError(402, "card_error", "Your card was declined.", "card_declined",
                                      decline_code="generic_decline")
            if "bacs_debit" in types:
                if not customer:
                    raise StripeHTTPError(400, "invalid_request_error",
                                          "A customer is required to confirm a bacs_debit PaymentIntent.",
                                          "parameter_missing", "customer")
                self._check_bacs_mandate(method, params.get("mandate"))
                obj["mandate"] = params.get("mandate") or None
                obj["off_session"] = _bool(params.get("off_session"))
                obj["status"] = "processing"
            else:
                obj["status"] = "succeeded"
                obj["amount_received"] = amount
        self._store(obj)
        if obj["status"] == "succeeded":
            obj["latest_charge"] = f"ch_for_{obj['id']}"
            self._charge_balance_transaction(obj)
        return obj

    def succeed_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        """The person confirmed the payment (card) or Bacs collected it: it succeeds, with its charge and
        balance transaction, as Stripe would report them."""
        obj = self._get(payment_intent_id, "payment_intent", "payment_intent")
        if obj["status"] != "succeeded":
            obj.update({"status": "succeeded", "amount_received": obj["amount"],
                        "latest_charge": f"ch_for_{obj['id']}"})
            self._charge_balance_transaction(obj)
        return obj

    def fail_payment_intent(self, payment_intent_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        obj = self._get(payment_intent_id, "payment_intent", "payment_intent")
        obj.update({"status": "requires_payment_method",
                    "last_payment_error": {"type": "card_error", "code": "card_declined", "message": message}})
        return obj

    def _check_bacs_mandate(self, method: str, mandate_id: str | None) -> None:
        """A known Bacs payment method may only be debited under its mandate while that is active."""
        pm = self.objects.get(method)
        if pm is None or pm.get("object") != "payment_method":
            return
        if pm.get("type") != "bacs_debit":
            raise StripeHTTPError(400, "invalid_request_error", "The PaymentMethod is not a bacs_debit method.",
                                  "payment_intent_invalid_parameter", "payment_method")
        mandate = self.objects.get(mandate_id or self._pm_mandates.get(method) or "")
        if mandate is None or mandate.get("payment_method") != method:
            raise StripeHTTPError(400, "invalid_request_error", "No mandate for this PaymentMethod.",
                                  "resource_missing", "mandate")
        if mandate["status"] != "active":
            raise StripeHTTPError(400, "invalid_request_error", "The mandate for this PaymentMethod is not active.",
                                  "payment_method_unactivated", "mandate")

    def _retrieve_setup_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
        obj = self._get(id, "setup_intent", "setup_intent")
        if "payment_method" in _list(params.get("expand"), "expand") and obj.get("payment_method"):
            return {**obj, "payment_method": self.objects[obj["payment_method"]]}
        return obj

    def _confirm_setup_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
        """The person gives their bank details and accepts the Direct Debit guarantee: a payment method and an
        active mandate are made and the setup intent succeeds."""
        obj = self._get(id, "setup_intent", "setup_intent")
        if obj["status"] == "succeeded":
            return obj
        data = params.get("payment_method_data") or {}
        bacs = data.get("bacs_debit") or {}
        sort_code = str(_required(bacs, "sort_code", "payment_method_data[bacs_debit][sort_code]"))
        account = str(_required(bacs, "account_number", "payment_method_data[bacs_debit][account_number]"))
        if not re.fullmatch(r"\d{6}", sort_code) or not re.fullmatch(r"\d{8}", account):
            raise StripeHTTPError(400, "invalid_request_error", "Your bank details are invalid.",
                                  "invalid_bank_account", "payment_method_data[bacs_debit]")
        pm = {"id": self.new_id("pm"), "object": "payment_method", "created": self.clock(), "livemode": False,
              "customer": obj["customer"], "metadata": {}, "type": "bacs_debit",
              "billing_details": data.get("billing_details") or {},
              "bacs_debit": {"fingerprint": hashlib.sha256(f"{sort_code}{account}".encode()).hexdigest()[:16],
                             "last4": account[-4:], "sort_code": sort_code}}
        mandate = {"id": self.new_id("mandate"), "object": "mandate", "livemode": False,
                   "customer_acceptance": {"accepted_at": self.clock(), "type": "online"}, "multi_use": {},
                   "payment_method": pm["id"], "payment_method_details": {"type": "bacs_debit", "bacs_debit": {
                       "network_status": "accepted", "reference": f"DD{next(self._ids):08d}",
                       "revocation_reason": None, "url": "https://payments.stripe.com/bacs/mandate"}},
                   "status": "active", "type": "multi_use"}
        self._pm_mandates[pm["id"]] = mandate["id"]
        self._store(pm)
        self._store(mandate)
        obj.update({"status": "succeeded", "payment_method": pm["id"], "mandate": mandate["id"]})
        return obj

    def confirm_setup_intent(self, setup_intent_id: str, sort_code: str = "108800",
                             account_number: str = "00012345") -> dict[str, Any]:
        """What the person's browser does with the client secret (Stripe's own form)."""
        with self._lock:
            return self._confirm_setup_intent({"payment_method_data": {
                "type": "bacs_debit", "bacs_debit": {"sort_code": sort_code, "account_number": account_number}}},
                setup_intent_id)

    def revoke_mandate(self, mandate_id: str, reason: str = "account_closed") -> dict[str, Any]:
        """The payer's bank cancels the Direct Debit (Bacs ADDACS): the mandate becomes inactive."""
        mandate = self._get(mandate_id, "mandate", "mandate")
        mandate["status"] = "inactive"
        mandate["payment_method_details"]["bacs_debit"].update({"network_status": "revoked",
                                                                "revocation_reason": reason})
        return mandate

    def charge(self, payment_intent_id: str) -> dict[str, Any]:
        """The charge of a succeeded payment intent."""
        intent = self._get(payment_intent_id, "payment_intent", "payment_intent")
        return self._get(intent["latest_charge"], "charge", "charge")

    def refund_charge(self, payment_intent_id: str, amount: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Give (part of) a payment back: a refund with its balance transaction; the charge's
        ``amount_refunded`` grows. Returns the charge (as ``charge.refunded`` carries it) and the refund."""
        charge = self.charge(payment_intent_id)
        if charge["amount_refunded"] + amount > charge["amount"]:
            raise StripeHTTPError(400, "invalid_request_error", "Refund amount is greater than unrefunded amount",
                                  "amount_too_large", "amount")
        refund = {"id": self.new_id("re"), "object": "refund", "amount": amount, "charge": charge["id"],
                  "created": self.clock(), "currency": "gbp", "metadata": {}, "payment_intent": payment_intent_id,
                  "reason": "requested_by_customer", "status": "succeeded", "balance_transaction": None}
        self._store(refund)
        refund["balance_transaction"] = self.add_balance_transaction(
            -amount, type_="refund", source=refund["id"], reporting_category="refund", description="Refund")["id"]
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return dict(charge), refund

    def dispute(self, payment_intent_id: str, amount: int | None = None, *,
                status: str = "needs_response") -> dict[str, Any]:
        """The payer disputes the payment (for Bacs, an indemnity claim): Stripe takes the money back at once."""
        charge = self.charge(payment_intent_id)
        taken = charge["amount"] if amount is None else amount
        obj = {"id": self.new_id("du"), "object": "dispute", "amount": taken, "charge": charge["id"],
               "created": self.clock(), "currency": "gbp", "is_charge_refundable": False, "livemode": False,
               "metadata": {}, "payment_intent": payment_intent_id, "reason": "general", "status": status,
               "balance_transactions": []}
        self._store(obj)
        if not status.startswith("warning_"):
            obj["balance_transactions"].append(self.add_balance_transaction(
                -taken, fee=2_000, type_="adjustment", source=obj["id"], reporting_category="dispute",
                description="Chargeback withdrawal")["id"])
        charge["disputed"] = True
        return dict(obj)

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        """Won: the money comes back (a second adjustment); lost: it stays with the payer."""
        obj = self._get(dispute_id, "dispute", "dispute")
        if status == "won" and obj["balance_transactions"]:
            obj["balance_transactions"].append(self.add_balance_transaction(
                obj["amount"], type_="adjustment", source=obj["id"], reporting_category="dispute_reversal",
                description="Chargeback reversal")["id"])
        obj["status"] = status
        return dict(obj)

    def _create_setup_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = params.get("customer")
        if customer:
            self._get(customer, "customer", "customer", param="customer", status=400)
        types = self._payment_method_types(params)
        if "bacs_debit" in types and not customer:
            raise StripeHTTPError(400, "invalid_request_error",
                                  "A customer is required to set up bacs_debit.", "parameter_missing", "customer")
        obj = self._base("seti", "setup_intent", params)
        obj.update({"customer": customer, "description": params.get("description"), "last_setup_error": None,
                    "mandate": None, "payment_method": None, "payment_method_types": types,
                    "status": "requires_payment_method", "usage": params.get("usage", "off_session")})
        obj["client_secret"] = f"{obj['id']}_secret_{secrets.token_hex(8)}"
        return self._store(obj)

    # ------------------------------------------------------------------ balance transactions
    def _charge_balance_transaction(self, intent: dict[str, Any]) -> dict[str, Any]:
        amount = intent["amount"]
        self._store({"id": f"ch_for_{intent['id']}", "object": "charge", "amount": amount, "amount_captured": amount,
                     "amount_refunded": 0, "captured": True, "created": self.clock(), "currency": "gbp",
                     "disputed": False, "livemode": False, "metadata": dict(intent.get("metadata") or {}),
                     "paid": True, "payment_intent": intent["id"], "payment_method": intent.get("payment_method"),
                     "refunded": False, "status": "succeeded"})
        fee = amount * 15 // 1000 + 20  # 1.5% + 20p, UK cards
        return self.add_balance_transaction(amount, fee=fee, type_="charge", source=f"ch_for_{intent['id']}",
                                            description=intent.get("description"),
                                            reporting_category="charge")

    def add_balance_transaction(self, amount: int, *, fee: int = 0, type_: str = "charge", source: str | None = None,
                                created: int | None = None, description: str | None = None,
                                reporting_category: str | None = None) -> dict[str, Any]:
        created = self.clock() if created is None else created
        obj = {"id": self.new_id("txn"), "object": "balance_transaction", "amount": amount,
               "available_on": created + 2 * 86400, "created": created, "currency": "gbp",
               "description": description, "exchange_rate": None, "fee": fee,
               "fee_details": [{"amount": fee, "application": None, "currency": "gbp",
                                "description": "Stripe processing fees", "type": "stripe_fee"}] if fee else [],
               "net": amount - fee, "reporting_category": reporting_category or type_, "source": source,
               "status": "pending", "type": type_}
        self.objects[obj["id"]] = obj
        return obj

    def _list_balance_transactions(self, params: dict[str, Any]) -> dict[str, Any]:
        limit = _int(params, "limit", minimum=1) or 10
        if limit > 100:
            raise StripeHTTPError(400, "invalid_request_error", "This value must be less than or equal to 100.",
                                  "parameter_invalid_integer", "limit")
        order = {oid: i for i, oid in enumerate(self.objects)}
        items = sorted(self.of_type("balance_transaction"), key=lambda o: (o["created"], order[o["id"]]),
                       reverse=True)
        created = params.get("created")
        if isinstance(created, dict):
            for op, test in (("gte", lambda a, b: a >= b), ("gt", lambda a, b: a > b),
                             ("lte", lambda a, b: a <= b), ("lt", lambda a, b: a < b)):
                bound = _int(created, op, where=f"created[{op}]")
                if bound is not None:
                    items = [o for o in items if test(o["created"], bound)]
        elif created not in (None, ""):
            exact = _int(params, "created")
            items = [o for o in items if o["created"] == exact]
        if params.get("type"):
            items = [o for o in items if o["type"] == params["type"]]
        if params.get("payout"):
            items = [o for o in items if o.get("payout") == params["payout"]]
        after = params.get("starting_after")
        if after:
            ids = [o["id"] for o in items]
            if after not in ids:
                raise StripeHTTPError(400, "invalid_request_error", f"No such balance_transaction: '{after}'",
                                      "resource_missing", "starting_after")
            items = items[ids.index(after) + 1:]
        page = items[:limit]
        if "data.source" in _list(params.get("expand"), "expand"):
            page = [{**o, "source": self.objects.get(o["source"], o["source"])} if o.get("source") else o
                    for o in page]
        return {"object": "list", "data": page, "has_more": len(items) > limit, "url": "/v1/balance_transactions"}

    # ------------------------------------------------------------------ webhooks
    def sign(self, payload: str, *, secret: str | None = None, timestamp: int | None = None) -> str:
        """The Stripe-Signature header, made by Stripe's own signing code (t=<unix seconds>,v1=<HMAC-SHA256>)."""
        t = self.clock() if timestamp is None else timestamp
        return stripe.WebhookSignature.generate_signature_header(payload, secret or self.webhook_secret, t)

    def event(self, event_type: str, obj: dict[str, Any], *, event_id: str | None = None,
              previous_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"object": obj}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        return {"id": event_id or self.new_id("evt"), "object": "event", "api_version": API_VERSION,
                "created": self.clock(), "data": data, "livemode": False, "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None}, "type": event_type}

    def send_event(self, url: str, event: dict[str, Any], *, secret: str | None = None, timestamp: int | None = None,
                   signature: str | None = None, payload: str | None = None, timeout: int = 10) -> Delivery:
        """POST the event as Stripe does. ``payload``/``signature`` override the body or header (for tampering)."""
        body = json.dumps(event, indent=2) if payload is None else payload
        header = signature if signature is not None else self.sign(body, secret=secret, timestamp=timestamp)
        request = urllib.request.Request(url, data=body.encode("utf-8"), method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Accept": "*/*; q=0.5, application/json",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)", "Stripe-Signature": header,
            "Cache-Control": "no-cache"})
        started = time.monotonic_ns()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, headers, reply = response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as exc:
            status, headers, reply = exc.code, dict(exc.headers.items()), exc.read()
        elapsed_ms = (time.monotonic_ns() - started) // 1_000_000
        delivery = Delivery(event, body, header, status, headers, reply, elapsed_ms)
        self.deliveries.append(delivery)
        return delivery

    # ------------------------------------------------------------------ card payments (Stripe's side)
    def authorization_request(self, card_id: str, amount: int, *,
                              merchant_category: str = "grocery_stores_supermarkets",
                              merchant_name: str = "TESCO STORES 3108", merchant_country: str = "GB",
                              controllable: bool = False) -> dict[str, Any]:
        """A pending issuing.authorization as Stripe puts it in ``issuing_authorization.request``."""
        card = self._get(card_id, "issuing.card", "issuing card")
        obj = {"id": self.new_id("iauth"), "object": "issuing.authorization", "amount": 0,
               "amount_details": {"atm_fee": None, "cashback_amount": 0}, "approved": False,
               "authorization_method": "contactless", "balance_transactions": [], "card": card,
               "cardholder": card["cardholder"]["id"], "created": self.clock(), "currency": "gbp",
               "livemode": False, "merchant_amount": 0, "merchant_currency": "gbp",
               "merchant_data": {"category": merchant_category,
                                 "category_code": CATEGORY_CODES.get(merchant_category, "5999"), "city": "London",
                                 "country": merchant_country, "name": merchant_name, "network_id": "1234567890",
                                 "postal_code": "N1 9GU", "state": None, "terminal_id": "T0001", "url": None},
               "metadata": {}, "network_data": None,
               "pending_request": {"amount": amount, "amount_details": {"atm_fee": None, "cashback_amount": 0},
                                   "currency": "gbp", "is_amount_controllable": controllable,
                                   "merchant_amount": amount, "merchant_currency": "gbp",
                                   "network_risk_score": 5},
               "request_history": [], "status": "pending", "transactions": [],
               "verification_data": {"address_line1_check": "not_provided", "address_postal_code_check": "match",
                                     "cvc_check": "match", "expiry_check": "match"},
               "wallet": None}
        self.objects[obj["id"]] = obj
        return obj

    def authorize(self, url: str, card_id: str, amount: int, **kwargs: Any) -> tuple[dict[str, Any], Delivery]:
        """Run a card payment through the real-time webhook at ``url`` as Stripe does, then tell the endpoint the
        outcome (``issuing_authorization.created``). A reply that is not 200 with a Stripe-Version header and a
        JSON boolean ``approved`` within 2 seconds counts as a decline here (Stripe would use the account's
        timeout setting)."""
        auth = self.authorization_request(card_id, amount, **kwargs)
        delivery = self.send_event(url, self.event("issuing_authorization.request", auth), timeout=2)
        approved, held = False, 0
        reply: Any = None
        try:
            reply = delivery.json()
        except ValueError:
            pass
        if (delivery.status == 200 and delivery.elapsed_ms < 2000 and "Stripe-Version" in delivery.headers
                and isinstance(reply, dict) and isinstance(reply.get("approved"), bool)):
            approved = reply["approved"]
            held = amount
            if approved and auth["pending_request"]["is_amount_controllable"] and "amount" in reply:
                held = int(reply["amount"])
        auth.update({"approved": approved, "amount": held if approved else 0,
                     "merchant_amount": held if approved else 0,
                     "status": "pending" if approved else "closed", "pending_request": None,
                     "request_history": [{"amount": amount, "approved": approved, "created": self.clock(),
                                          "currency": "gbp", "merchant_amount": amount, "merchant_currency": "gbp",
                                          "reason": "webhook_approved" if approved else "webhook_declined"}]})
        self.send_event(url, self.event("issuing_authorization.created", auth))
        return auth, delivery

    def capture(self, url: str, authorization_id: str, amount: int | None = None) -> dict[str, Any]:
        """The merchant captures: an issuing.transaction (amount negative: money leaving) and the authorisation
        closes."""
        auth = self._get(authorization_id, "issuing.authorization", "issuing authorization")
        taken = auth["amount"] if amount is None else amount
        txn = {"id": self.new_id("ipi"), "object": "issuing.transaction", "amount": -taken,
               "amount_details": {"atm_fee": None, "cashback_amount": 0}, "authorization": authorization_id,
               "balance_transaction": None, "card": auth["card"]["id"], "cardholder": auth["cardholder"],
               "created": self.clock(), "currency": "gbp", "dispute": None, "livemode": False,
               "merchant_amount": -taken, "merchant_currency": "gbp", "merchant_data": auth["merchant_data"],
               "metadata": {}, "type": "capture", "wallet": None}
        self.objects[txn["id"]] = txn
        self.add_balance_transaction(-taken, type_="issuing_transaction", source=txn["id"],
                                     reporting_category="issuing_transaction", description="Card payment")
        self.send_event(url, self.event("issuing_transaction.created", txn))
        auth.update({"status": "closed", "amount": 0, "transactions": [*auth.get("transactions", []), txn]})
        self.send_event(url, self.event("issuing_authorization.updated", auth,
                                        previous_attributes={"status": "pending"}))
        return txn

    def refund(self, url: str, authorization_id: str, amount: int) -> dict[str, Any]:
        """The merchant gives money back: an issuing.transaction of type refund (positive: money in)."""
        auth = self._get(authorization_id, "issuing.authorization", "issuing authorization")
        txn = {"id": self.new_id("ipi"), "object": "issuing.transaction", "amount": amount,
               "amount_details": {"atm_fee": None, "cashback_amount": 0}, "authorization": authorization_id,
               "balance_transaction": None, "card": auth["card"]["id"], "cardholder": auth["cardholder"],
               "created": self.clock(), "currency": "gbp", "dispute": None, "livemode": False,
               "merchant_amount": amount, "merchant_currency": "gbp", "merchant_data": auth["merchant_data"],
               "metadata": {}, "type": "refund", "wallet": None}
        self.objects[txn["id"]] = txn
        self.add_balance_transaction(amount, type_="issuing_transaction", source=txn["id"],
                                     reporting_category="issuing_transaction", description="Card refund")
        self.send_event(url, self.event("issuing_transaction.created", txn))
        return txn

    def reverse(self, url: str, authorization_id: str) -> dict[str, Any]:
        auth = self._get(authorization_id, "issuing.authorization", "issuing authorization")
        auth.update({"status": "reversed", "amount": 0})
        self.send_event(url, self.event("issuing_authorization.updated", auth,
                                        previous_attributes={"status": "pending"}))
        return auth


class WebhookEndpoint:
    """A local HTTP endpoint that hands each POST to ``handle(body, stripe_signature)`` and sends back its
    (status, headers, body): the shape of a web framework route, without one."""

    def __init__(self, handle: Callable[[bytes, str | None], tuple[int, dict[str, str], bytes]]):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, body = handle(self.rfile.read(length), self.headers.get("Stripe-Signature"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/stripe/webhook"

    def __enter__(self) -> "WebhookEndpoint":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

"""What a wallet card may be used for, as a plain value, and its Stripe ``spending_controls`` form.

Controls follow the person's support plan, not blanket bans: a card for a PA's shopping may be allowed only at
supermarkets and chemists with a weekly limit; a card for activities may block gambling and cash. Stripe applies
them before it asks us (so a blocked payment never reaches the wallet), and ``decide_authorization`` applies
them again with the wallet's own balance.

Categories are Stripe's merchant category names (``grocery_stores_supermarkets``, ``betting_casino_gambling``);
amounts are pence; intervals are Stripe's: per_authorization, daily, weekly, monthly, yearly, all_time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

INTERVALS = ("per_authorization", "daily", "weekly", "monthly", "yearly", "all_time")
PERIOD_INTERVALS = INTERVALS[1:]
_CATEGORY = re.compile(r"^[a-z0-9_]{2,100}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _names(values: Iterable[str], what: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of names, not one string")
    out = tuple(dict.fromkeys(values))  # keep order, drop repeats
    for value in out:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"{what}: {value!r} is not a valid name")
    return out


@dataclass(frozen=True)
class SpendingLimit:
    amount: int
    """Pence."""
    interval: str
    categories: tuple[str, ...] = ()
    """Empty: the limit counts every payment; else only payments in these categories."""

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"spending limit must be a whole number of pence, zero or more, not {self.amount!r}")
        if self.interval not in INTERVALS:
            raise ValueError(f"spending limit interval must be one of {', '.join(INTERVALS)}, not {self.interval!r}")
        object.__setattr__(self, "categories", _names(self.categories, "limit categories", _CATEGORY))

    def applies_to(self, category: str) -> bool:
        return not self.categories or category in self.categories


@dataclass(frozen=True)
class CardControls:
    allowed_categories: tuple[str, ...] = ()
    """If any: only these categories are allowed."""
    blocked_categories: tuple[str, ...] = ()
    spending_limits: tuple[SpendingLimit, ...] = ()
    allowed_merchant_countries: tuple[str, ...] = ()
    blocked_merchant_countries: tuple[str, ...] = ()
    spending_limits_currency: str = field(default="gbp")

    def __post_init__(self) -> None:
        allowed = _names(self.allowed_categories, "allowed categories", _CATEGORY)
        blocked = _names(self.blocked_categories, "blocked categories", _CATEGORY)
        if allowed and blocked:
            raise ValueError("give allowed categories or blocked categories, not both (Stripe takes one)")
        countries_ok = _names(self.allowed_merchant_countries, "allowed countries", _COUNTRY)
        countries_no = _names(self.blocked_merchant_countries, "blocked countries", _COUNTRY)
        if countries_ok and countries_no:
            raise ValueError("give allowed countries or blocked countries, not both (Stripe takes one)")
        limits = tuple(self.spending_limits)
        for limit in limits:
            if not isinstance(limit, SpendingLimit):
                raise TypeError("spending limits must be SpendingLimit values")
        object.__setattr__(self, "allowed_categories", allowed)
        object.__setattr__(self, "blocked_categories", blocked)
        object.__setattr__(self, "allowed_merchant_countries", countries_ok)
        object.__setattr__(self, "blocked_merchant_countries", countries_no)
        object.__setattr__(self, "spending_limits", limits)

    @classmethod
    def simple(cls, *, per_payment: int | None = None, daily: int | None = None, weekly: int | None = None,
               monthly: int | None = None, allowed: Iterable[str] = (), blocked: Iterable[str] = (),
               countries: Iterable[str] = ()) -> "CardControls":
        """The usual shape: a limit a payment and per period, allowed or blocked categories, allowed countries."""
        limits = [SpendingLimit(amount, interval) for interval, amount in
                  (("per_authorization", per_payment), ("daily", daily), ("weekly", weekly), ("monthly", monthly))
                  if amount is not None]
        return cls(allowed_categories=tuple(allowed), blocked_categories=tuple(blocked),
                   spending_limits=tuple(limits), allowed_merchant_countries=tuple(countries))

    def category_allowed(self, category: str) -> bool:
        if category in self.blocked_categories:
            return False
        return not self.allowed_categories or category in self.allowed_categories

    def country_allowed(self, country: str | None) -> bool:
        if country is None:
            return not self.allowed_merchant_countries
        if country in self.blocked_merchant_countries:
            return False
        return not self.allowed_merchant_countries or country in self.allowed_merchant_countries

    def limits_for(self, category: str, interval: str) -> tuple[SpendingLimit, ...]:
        return tuple(lim for lim in self.spending_limits if lim.interval == interval and lim.applies_to(category))

    def to_stripe(self, *, for_update: bool = False) -> dict[str, Any]:
        """Stripe's ``spending_controls`` parameter. On update, an empty list is sent as "" so Stripe clears it."""
        out: dict[str, Any] = {}

        def put(key: str, values: tuple[str, ...]) -> None:
            if values:
                out[key] = list(values)
            elif for_update:
                out[key] = ""

        put("allowed_categories", self.allowed_categories)
        put("blocked_categories", self.blocked_categories)
        put("allowed_merchant_countries", self.allowed_merchant_countries)
        put("blocked_merchant_countries", self.blocked_merchant_countries)
        if self.spending_limits:
            out["spending_limits"] = [
                {"amount": lim.amount, "interval": lim.interval, **({"categories": list(lim.categories)}
                                                                    if lim.categories else {})}
                for lim in self.spending_limits]
        elif for_update:
            out["spending_limits"] = ""
        return out

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any] | None) -> "CardControls":
        data = data or {}
        limits = tuple(SpendingLimit(int(lim["amount"]), lim["interval"], tuple(lim.get("categories") or ()))
                       for lim in data.get("spending_limits") or ())
        return cls(allowed_categories=tuple(data.get("allowed_categories") or ()),
                   blocked_categories=tuple(data.get("blocked_categories") or ()),
                   spending_limits=limits,
                   allowed_merchant_countries=tuple(data.get("allowed_merchant_countries") or ()),
                   blocked_merchant_countries=tuple(data.get("blocked_merchant_countries") or ()),
                   spending_limits_currency=data.get("spending_limits_currency") or "gbp")

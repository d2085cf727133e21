"""Showing and reading money: integer pence inside, pounds and pence for people."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def format_pence(pence: int, currency: str = "GBP") -> str:
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(pence), 100)
    symbol = "£" if currency == "GBP" else f"{currency} "
    return f"{sign}{symbol}{pounds:,}.{rem:02d}"


def parse_pounds(text: str) -> int:
    """'12.34' or '£1,234.5' -> pence. Refuses more than two decimal places rather than guess."""
    cleaned = text.strip().replace("£", "").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not an amount of money") from exc
    if not value.is_finite():
        raise ValueError(f"{text!r} is not an amount of money")
    pence = value * 100
    if pence != pence.to_integral_value():
        raise ValueError(f"{text!r} has more than two decimal places")
    return int(pence.quantize(Decimal(1), rounding=ROUND_HALF_UP))

"""HMRC's money format: two decimal places, a leading minus for negatives, no thousands separators."""
from __future__ import annotations

from decimal import Decimal


def hmrc_amount(pence: int) -> str:
    """1234 -> '12.34'; -5 -> '-0.05' (the IRdecimalType pattern: -?(([1-9][0-9]*)|0)\\.[0-9]{2})."""
    if not isinstance(pence, int) or isinstance(pence, bool):
        raise TypeError(f"money must be an int of pence, not {type(pence).__name__}")
    pounds, rem = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{pounds}.{rem:02d}"


def parse_amount(text: str) -> int:
    """'12.34' -> 1234, exact; refuses anything that is not whole pence."""
    value = Decimal(text.strip()) * 100
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number of pence")
    return int(value)


def pounds_for_people(pence: int) -> str:
    """1234567 -> '£12,345.67' for documents people read."""
    pounds, rem = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}£{pounds:,}.{rem:02d}"

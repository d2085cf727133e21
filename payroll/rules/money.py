"""Decimal helpers for payroll figures.

No float ever touches money: amounts come in as ``Decimal``, ``int`` or decimal text, and every rounding below
names its mode, because HMRC rounds each figure its own way.
"""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, \
    InvalidOperation

from payroll.rules.errors import PayrollRuleError

ZERO = Decimal("0.00")
PENNY = Decimal("0.01")
POUND = Decimal("1")
_TENTH_OF_A_PENNY = Decimal("0.001")
_FOUR_PLACES = Decimal("0.0001")
_TOO_LARGE = Decimal(10) ** 12  # far beyond any pay figure; keeps every quantize within Decimal's precision


def to_decimal(value: object, what: str) -> Decimal:
    """A finite Decimal from Decimal, int or decimal text; floats and booleans are refused, not guessed at."""
    if isinstance(value, bool) or isinstance(value, float):
        raise PayrollRuleError(f"{what} must be a decimal string such as \"123.45\", not {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if "_" in text:  # Decimal would read "1_000" as 1000; a payroll figure should not need guessing
            raise PayrollRuleError(f"{what} must be a decimal number such as \"123.45\", not {value!r}")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise PayrollRuleError(f"{what} must be a decimal number such as \"123.45\", not {value!r}") from None
    else:
        raise PayrollRuleError(f"{what} must be a decimal string such as \"123.45\", not {value!r}")
    if not number.is_finite():
        raise PayrollRuleError(f"{what} must be a finite number, not {value!r}")
    if abs(number) >= _TOO_LARGE:
        raise PayrollRuleError(f"{what} is too large: {value!r}")
    return number


def to_money(value: object, what: str, *, allow_negative: bool = False) -> Decimal:
    """An amount in pounds and pence: at most two decimal places, and not negative unless allowed."""
    number = to_decimal(value, what)
    if number != number.quantize(PENNY, rounding=ROUND_DOWN):
        raise PayrollRuleError(f"{what} has more than two decimal places: {value!r}")
    if number < 0 and not allow_negative:
        raise PayrollRuleError(f"{what} must not be negative: {value!r}")
    return exact_pence(number)


def exact_pence(amount: Decimal) -> Decimal:
    """Written with two decimal places; refuses anything that would need rounding."""
    pence = amount.quantize(PENNY, rounding=ROUND_DOWN)
    if pence != amount:
        raise ValueError(f"{amount} is not a whole number of pence")
    return pence


def round_down_to_penny(amount: Decimal) -> Decimal:
    return amount.quantize(PENNY, rounding=ROUND_DOWN)


def round_up_to_penny(amount: Decimal) -> Decimal:
    return amount.quantize(PENNY, rounding=ROUND_UP)


def round_half_up_to_penny(amount: Decimal) -> Decimal:
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def round_down_to_pound(amount: Decimal) -> Decimal:
    """Towards minus infinity, so that a negative figure never rounds up past zero."""
    return amount.quantize(POUND, rounding=ROUND_FLOOR)


def round_up_to_pound(amount: Decimal) -> Decimal:
    return amount.quantize(POUND, rounding=ROUND_CEILING)


def truncate_to_four_places(amount: Decimal) -> Decimal:
    return amount.quantize(_FOUR_PLACES, rounding=ROUND_DOWN)


def ni_round(amount: Decimal) -> Decimal:
    """HMRC's rounding for each band of NI contributions (exact percentage method).

    Look only at the third decimal place: 5 or less rounds down, 6 or more rounds up, so 0.0056 is 0.00 and
    0.0064 is 0.01 (both shown in HMRC's NI test data, category A rows 5 and 6).
    """
    third_place = amount.quantize(_TENTH_OF_A_PENNY, rounding=ROUND_DOWN)
    return third_place.quantize(PENNY, rounding=ROUND_HALF_DOWN)


def to_pence(amount: Decimal) -> int:
    """The int of pence the ledger and the FPS builders store (ARCHITECTURE.md: convert once, at the end)."""
    return int(exact_pence(amount) * 100)


def pence_string(amount: Decimal) -> str:
    """Two-decimal text, '-0.00' never shown."""
    value = exact_pence(amount)
    if value == 0:
        value = ZERO
    return f"{value:.2f}"

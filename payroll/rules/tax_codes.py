"""Tax codes as HMRC writes them: '1257L', 'S1257L', 'C1257L M1', 'K475', 'BR', 'SD2', 'NT', '0T W1', '1257L X'.

An optional regime prefix (S Scotland, C Wales), then one of: a code number with suffix L, M, N or T (free pay,
including 0T); K and a code number (additional pay); BR, D0, D1 (and in Scotland D2, D3) (one flat rate); NT (no
tax). A trailing W1, M1 or X puts the code on a non-cumulative (week 1 / month 1) basis. Code numbers have at
most six digits and no leading zero, as the FPS schema's TaxCode pattern allows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Callable

from payroll.rules.errors import TaxCodeError

_MAX_LENGTH = 20
_BASIS = re.compile(r"(?P<code>.*?)\s*/?\s*(?P<basis>W1|M1|X)")
_FREE_PAY = re.compile(r"(?P<number>[0-9]+)(?P<suffix>[A-Z])")
_K_CODE = re.compile(r"K(?P<number>[0-9]+)")
_WITHDRAWN_SUFFIXES = {"P", "V", "Y"}


class Regime(str, Enum):
    """Which income tax rates apply: the S and C prefixes of the code."""
    REST_OF_UK = "rUK"
    SCOTLAND = "S"
    WALES = "C"

    @property
    def prefix(self) -> str:
        return "" if self is Regime.REST_OF_UK else self.value


class CodeKind(str, Enum):
    FREE_PAY = "free_pay"  # <number><L|M|N|T>: Tables A free pay (0T: none)
    K = "K"                # K<number>: the Tables A amount is additional pay
    BR = "BR"              # basic rate on all pay
    D0 = "D0"              # higher rate (Scotland: intermediate rate) on all pay
    D1 = "D1"              # additional rate (Scotland: higher rate)
    D2 = "D2"              # Scotland only: advanced rate
    D3 = "D3"              # Scotland only: top rate
    NT = "NT"              # no tax

    @property
    def is_flat_rate(self) -> bool:
        return self in (CodeKind.BR, CodeKind.D0, CodeKind.D1, CodeKind.D2, CodeKind.D3)


@dataclass(frozen=True)
class TaxCode:
    regime: Regime
    kind: CodeKind
    number: int | None = None   # code number for free pay and K codes
    suffix: str | None = None   # L, M, N or T for free pay codes
    non_cumulative: bool = False

    def __post_init__(self) -> None:
        numbered = self.kind in (CodeKind.FREE_PAY, CodeKind.K)
        if numbered != isinstance(self.number, int) or isinstance(self.number, bool):
            raise TaxCodeError(f"a {self.kind.value} tax code {'needs' if numbered else 'has no'} code number")
        if numbered:
            lowest = 0 if self.kind is CodeKind.FREE_PAY and self.suffix == "T" else 1  # only 0T has number 0
            if not lowest <= self.number <= 999_999:
                raise TaxCodeError(f"code number {self.number} is out of range")
        if (self.kind is CodeKind.FREE_PAY) != (self.suffix in ("L", "M", "N", "T")) or (
                self.kind is not CodeKind.FREE_PAY and self.suffix is not None):
            raise TaxCodeError(f"suffix {self.suffix!r} does not fit a {self.kind.value} tax code")
        if self.kind in (CodeKind.D2, CodeKind.D3) and self.regime is not Regime.SCOTLAND:
            raise TaxCodeError(f"{self.kind.value} is used only for Scottish taxpayers")

    @property
    def code(self) -> str:
        """The code without prefix or basis, as the FPS TaxCode element carries it: '1257L', 'K475', 'D2'."""
        if self.kind is CodeKind.FREE_PAY:
            return f"{self.number}{self.suffix}"
        if self.kind is CodeKind.K:
            return f"K{self.number}"
        return self.kind.value

    def __str__(self) -> str:
        return f"{self.regime.prefix}{self.code}" + (" X" if self.non_cumulative else "")

    def on_basis(self, non_cumulative: bool) -> "TaxCode":
        return TaxCode(self.regime, self.kind, self.number, self.suffix, non_cumulative)


def parse_tax_code(text: object) -> TaxCode:
    """Read a tax code, or raise TaxCodeError saying what is wrong with it."""
    if not isinstance(text, str):
        raise TaxCodeError(f"a tax code must be text such as \"1257L\", not {text!r}")
    cleaned = " ".join(text.upper().split())
    if not cleaned:
        raise TaxCodeError("the tax code is empty")
    if len(cleaned) > _MAX_LENGTH:
        raise TaxCodeError(f"{text!r} is too long to be a tax code")

    def bad(reason: str) -> TaxCodeError:
        return TaxCodeError(f"{text.strip()!r} is not a tax code: {reason}")

    body, non_cumulative = cleaned, False
    basis = _BASIS.fullmatch(cleaned)
    if basis:
        body, non_cumulative = basis.group("code"), True
    body = body.replace(" ", "")
    regime = Regime.REST_OF_UK
    if body[:1] in ("S", "C") and len(body) > 1:
        regime, body = Regime(body[0]), body[1:]
    if not body:
        raise bad("there is no code before the week 1 / month 1 marker")

    if body in ("BR", "NT", "D0", "D1"):
        return TaxCode(regime, CodeKind(body), non_cumulative=non_cumulative)
    if body in ("D2", "D3"):
        if regime is not Regime.SCOTLAND:
            raise bad(f"{body} is used only for Scottish taxpayers (S{body})")
        return TaxCode(regime, CodeKind(body), non_cumulative=non_cumulative)
    if re.fullmatch(r"D[0-9]+", body):
        raise bad("D codes run from D0 to D1 (Scotland: SD0 to SD3)")
    k_code = _K_CODE.fullmatch(body)
    if k_code:
        return TaxCode(regime, CodeKind.K, _code_number(k_code.group("number"), bad, allow_zero=False),
                       non_cumulative=non_cumulative)
    free_pay = _FREE_PAY.fullmatch(body)
    if free_pay:
        suffix = free_pay.group("suffix")
        if suffix in _WITHDRAWN_SUFFIXES:
            raise bad(f"suffix {suffix} is no longer issued; codes end in L, M, N or T")
        if suffix not in ("L", "M", "N", "T"):
            raise bad(f"suffix {suffix} is not a tax code suffix; codes end in L, M, N or T")
        number = _code_number(free_pay.group("number"), bad, allow_zero=suffix == "T")
        return TaxCode(regime, CodeKind.FREE_PAY, number, suffix, non_cumulative)
    if re.fullmatch(r"[0-9]+", body):
        raise bad("the code number needs a suffix letter (L, M, N or T)")
    raise bad("expected a code such as 1257L, K475, BR, D0, D1, NT or 0T, "
              "optionally with an S or C prefix and W1, M1 or X after it")


def _code_number(digits: str, bad: Callable[[str], TaxCodeError], *, allow_zero: bool) -> int:
    if len(digits) > 6:
        raise bad("a code number has at most six digits")
    if digits != "0" and digits.startswith("0"):
        raise bad("a code number does not start with 0")
    number = int(digits)
    if number == 0 and not allow_zero:
        raise bad("a code number of 0 is written 0T")
    return number

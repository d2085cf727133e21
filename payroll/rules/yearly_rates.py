"""The yearly figures, read once per tax year from ``payroll/rules/data/<tax year>.json``.

Loading the data file is the only I/O in ``payroll/rules``; everything else is pure.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Mapping

from payroll.rules.errors import UnknownTaxYearError

_TAX_YEAR = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class TaxBand:
    """One band of a regime: ``limit`` is the annual top of the band in taxable pay (None: no top)."""
    limit: Decimal | None
    rate: Decimal


@dataclass(frozen=True)
class RegimeRates:
    bands: tuple[TaxBand, ...]
    flat_rates: Mapping[str, Decimal]  # BR, D0, D1 (and D2, D3 in Scotland)


@dataclass(frozen=True)
class IncomeTaxRates:
    personal_allowance: Decimal
    emergency_code: str
    code_block: int                 # Tables A: code numbers split into blocks of 500
    weekly_block_value: Decimal     # free pay of one block of 500 for one week
    monthly_block_value: Decimal    # ... and for one month
    regulatory_limit_rate: Decimal  # tax in a period never exceeds this share of the period's pay
    regimes: Mapping[str, RegimeRates]  # "rUK", "S", "C"


@dataclass(frozen=True)
class NILetterRates:
    liable: bool
    employee_main: Decimal        # PT to UEL
    employee_additional: Decimal  # above UEL
    employer_from: str | None     # the secondary threshold above which the employer pays


@dataclass(frozen=True)
class NIRates:
    thresholds: Mapping[str, Decimal]  # annual: LEL, PT, ST, UEL, UST, AUST, VUST, FUST, IZUST
    employer_rate: Decimal
    letters: Mapping[str, NILetterRates]
    employment_allowance: Decimal


@dataclass(frozen=True)
class StudentLoanRates:
    thresholds: Mapping[str, Decimal]  # "1", "2", "4", "5", "PGL": annual thresholds
    rates: Mapping[str, Decimal]


@dataclass(frozen=True)
class EarningsBand:
    lower: Decimal
    trigger: Decimal
    upper: Decimal


@dataclass(frozen=True)
class AutoEnrolmentRates:
    minimum_total_rate: Decimal
    minimum_employer_rate: Decimal
    relief_at_source_rate: Decimal
    thresholds: Mapping[str, EarningsBand]  # "annual", "weekly", "fortnightly", "four_weekly", "monthly"


@dataclass(frozen=True)
class SickPayRates:
    weekly_rate: Decimal
    waiting_days: int
    lower_earnings_limit_test: bool
    earnings_percentage: Decimal | None
    maximum_weeks: int
    linking_days: int


@dataclass(frozen=True)
class MinimumWageRates:
    rates_from: date
    hourly: Mapping[str, Decimal]  # "21_and_over", "18_to_20", "16_to_17", "apprentice"
    accommodation_offset_daily: Decimal


@dataclass(frozen=True)
class YearRates:
    tax_year: str
    income_tax: IncomeTaxRates
    national_insurance: NIRates
    student_loans: StudentLoanRates
    auto_enrolment: AutoEnrolmentRates
    statutory_sick_pay: SickPayRates
    minimum_wage: MinimumWageRates
    irregular_hours_accrual_rate: Decimal


@lru_cache(maxsize=1)
def known_tax_years() -> tuple[str, ...]:
    folder = resources.files("payroll.rules") / "data"
    return tuple(sorted(entry.name[:-5] for entry in folder.iterdir() if _TAX_YEAR.fullmatch(entry.name[:-5])
                        and entry.name.endswith(".json")))


def check_tax_year(tax_year: object) -> str:
    """'2026-27' back, or a plain-English refusal."""
    if not isinstance(tax_year, str):
        raise UnknownTaxYearError(f"tax year must be text such as \"2026-27\", not {tax_year!r}")
    match = _TAX_YEAR.fullmatch(tax_year)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise UnknownTaxYearError(f"{tax_year!r} is not a tax year; write it as \"2026-27\"")
    if tax_year not in known_tax_years():
        raise UnknownTaxYearError(
            f"no payroll rules for tax year {tax_year} (known: {', '.join(known_tax_years())})")
    return tax_year


def year_rates(tax_year: str) -> YearRates:
    """The figures for one tax year, loaded once and cached."""
    return _load(check_tax_year(tax_year))


def _d(text: str) -> Decimal:
    return Decimal(text)


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(dict(mapping))


@lru_cache(maxsize=None)
def _load(tax_year: str) -> YearRates:
    raw = json.loads((resources.files("payroll.rules") / "data" / f"{tax_year}.json").read_text("utf-8"))
    if raw["tax_year"] != tax_year:
        raise UnknownTaxYearError(f"data file for {tax_year} says it is for {raw['tax_year']}")
    it = raw["income_tax"]
    income_tax = IncomeTaxRates(
        personal_allowance=_d(it["personal_allowance"]),
        emergency_code=it["emergency_code"],
        code_block=int(it["tables_a"]["code_block"]),
        weekly_block_value=_d(it["tables_a"]["weekly_block_value"]),
        monthly_block_value=_d(it["tables_a"]["monthly_block_value"]),
        regulatory_limit_rate=_d(it["regulatory_limit_rate"]),
        regimes=_frozen({
            name: RegimeRates(
                bands=tuple(TaxBand(None if limit is None else _d(limit), _d(rate)) for limit, rate in r["bands"]),
                flat_rates=_frozen({code: _d(rate) for code, rate in r["flat_rates"].items()}))
            for name, r in it["regimes"].items()}))
    ni = raw["national_insurance"]
    national_insurance = NIRates(
        thresholds=_frozen({name: _d(v) for name, v in ni["thresholds"].items()}),
        employer_rate=_d(ni["employer_rate"]),
        letters=_frozen({
            letter: NILetterRates(
                liable=spec.get("liable", True),
                employee_main=_d(spec.get("employee_main", "0")),
                employee_additional=_d(spec.get("employee_additional", "0")),
                employer_from=spec.get("employer_from"))
            for letter, spec in ni["letters"].items()}),
        employment_allowance=_d(ni["employment_allowance"]))
    sl = raw["student_loans"]
    student_loans = StudentLoanRates(
        thresholds=_frozen({plan: _d(v) for plan, v in sl["thresholds"].items()}),
        rates=_frozen({plan: _d(v) for plan, v in sl["rates"].items()}))
    ae = raw["auto_enrolment"]
    auto_enrolment = AutoEnrolmentRates(
        minimum_total_rate=_d(ae["minimum_total_rate"]),
        minimum_employer_rate=_d(ae["minimum_employer_rate"]),
        relief_at_source_rate=_d(ae["relief_at_source_rate"]),
        thresholds=_frozen({
            period: EarningsBand(_d(t["lower"]), _d(t["trigger"]), _d(t["upper"]))
            for period, t in ae["thresholds"].items()}))
    ssp = raw["statutory_sick_pay"]
    sick_pay = SickPayRates(
        weekly_rate=_d(ssp["weekly_rate"]),
        waiting_days=int(ssp["waiting_days"]),
        lower_earnings_limit_test=bool(ssp["lower_earnings_limit_test"]),
        earnings_percentage=None if ssp["earnings_percentage"] is None else _d(ssp["earnings_percentage"]),
        maximum_weeks=int(ssp["maximum_weeks"]),
        linking_days=int(ssp["linking_days"]))
    mw = raw["minimum_wage"]
    minimum_wage = MinimumWageRates(
        rates_from=date.fromisoformat(mw["rates_from"]),
        hourly=_frozen({band: _d(v) for band, v in mw["hourly"].items()}),
        accommodation_offset_daily=_d(mw["accommodation_offset_daily"]))
    return YearRates(
        tax_year=tax_year,
        income_tax=income_tax,
        national_insurance=national_insurance,
        student_loans=student_loans,
        auto_enrolment=auto_enrolment,
        statutory_sick_pay=sick_pay,
        minimum_wage=minimum_wage,
        irregular_hours_accrual_rate=_d(raw["holiday"]["irregular_hours_accrual_rate"]))

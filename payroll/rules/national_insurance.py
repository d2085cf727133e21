"""Class 1 National Insurance by the exact percentage method, with the FPS earnings-band figures.

Period thresholds come from the annual figures: weekly (annual / 52) and monthly (annual / 12) thresholds are
rounded to the nearest pound; 2-weekly and 4-weekly ones (annual x 2 / 52, x 4 / 52) are rounded up, as HMRC
publishes them (four-weekly PT 967, not 4 x 242). Contributions are worked out band by band (employee: PT to UEL,
above UEL; employer: above its threshold), each band rounded with HMRC's NI rule (``money.ni_round``), then
added.

Letters (HMRC "National Insurance category letters"):
A standard; B married women and widows' reduced rate; C over State Pension age; H apprentice under 25;
J deferment; M under 21; V veteran in first civilian job; Z under 21 with deferment; X not liable (e.g. under 16).
Freeport special tax site: F standard, I reduced rate, L deferment, S over State Pension age.
Investment zone special tax site: N standard, E reduced rate, D deferment, K over State Pension age.
H, M, V and Z pay no employer NI up to the UEL-level upper secondary thresholds; freeport and investment zone
letters none up to the 25,000 special tax site threshold.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Mapping

from payroll.rules.errors import PayrollRuleError
from payroll.rules.money import POUND, ZERO, exact_pence, ni_round, to_money
from payroll.rules.periods import Frequency
from payroll.rules.yearly_rates import NILetterRates, year_rates


@dataclass(frozen=True)
class NIContributions:
    """One payment's Class 1 NI for one letter, and the FPS earnings-band figures for the period."""
    letter: str
    gross_pay: Decimal  # NI-able earnings in the period
    at_lel: Decimal     # FPS: earnings at the lower earnings limit (the LEL itself when pay reaches it)
    lel_to_pt: Decimal  # FPS: earnings above the LEL up to the primary threshold
    pt_to_uel: Decimal  # FPS: earnings above the primary threshold up to the upper earnings limit
    employee: Decimal   # primary contributions
    employer: Decimal   # secondary contributions


def period_thresholds(tax_year: str, frequency: Frequency | str) -> Mapping[str, Decimal]:
    """LEL, PT, ST, UEL, UST, AUST, VUST, FUST and IZUST for one pay period of ``frequency``."""
    frequency = Frequency.parse(frequency)
    rates = year_rates(tax_year).national_insurance
    # HMRC: one-week and one-month thresholds to the nearest pound; multi-week periods rounded up.
    rounding = ROUND_HALF_UP if frequency in (Frequency.WEEKLY, Frequency.MONTHLY) else ROUND_CEILING
    return {name: frequency.share_of_year(annual).quantize(POUND, rounding=rounding)
            for name, annual in rates.thresholds.items()}


def letter_rates(tax_year: str, letter: object) -> NILetterRates:
    letters = year_rates(tax_year).national_insurance.letters
    if not isinstance(letter, str) or letter.strip().upper() not in letters:
        raise PayrollRuleError(
            f"NI category letter must be one of {', '.join(sorted(letters))}, not {letter!r}")
    return letters[letter.strip().upper()]


def calculate_ni(tax_year: str, frequency: Frequency | str, letter: str, gross_pay: Decimal | str) -> NIContributions:
    """Employee and employer Class 1 NI on one period's NI-able pay (non-director, period earnings basis)."""
    rates = year_rates(tax_year).national_insurance
    spec = letter_rates(tax_year, letter)
    letter = letter.strip().upper()
    pay = to_money(gross_pay, "NI-able pay")
    t = period_thresholds(tax_year, frequency)
    if not spec.liable:
        return NIContributions(letter, pay, ZERO, ZERO, ZERO, ZERO, ZERO)

    lel, pt, uel = (exact_pence(t[name]) for name in ("LEL", "PT", "UEL"))
    at_lel = lel if pay >= lel else ZERO
    lel_to_pt = _slice(pay, lel, pt)
    pt_to_uel = _slice(pay, pt, uel)

    employee = ni_round(pt_to_uel * spec.employee_main) + ni_round(_slice(pay, uel, None) * spec.employee_additional)

    # Employer: nothing up to the letter's secondary threshold (ST, or UST/AUST/VUST, or FUST/IZUST), one rate
    # above it, so a single band (HMRC's exact percentage method).
    employer = ni_round(_slice(pay, t[spec.employer_from], None) * rates.employer_rate)
    return NIContributions(letter, pay, at_lel, lel_to_pt, pt_to_uel, employee, employer)


def _slice(pay: Decimal, low: Decimal, high: Decimal | None) -> Decimal:
    """The part of pay above ``low`` and up to ``high``."""
    top = pay if high is None else min(pay, high)
    return max(top - low, ZERO)

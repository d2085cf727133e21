"""National Minimum Wage and National Living Wage check for one pay reference period.

National Minimum Wage Regulations 2015: the rate is set by the worker's age at the start of the pay reference
period, and new rates apply to pay reference periods starting on or after 1 April. The average hourly pay over
the period must reach the rate. Premiums (for overtime, shifts, unsocial hours), allowances and expenses do not
count as pay; hours when a sleep-in worker is permitted to sleep do not count as working time (Royal Mencap
Society v Tomlinson-Blake [2021] UKSC 8); accommodation charged above the daily offset reduces pay.
Apprentices under 19, or in the first year of their apprenticeship, have the apprentice rate.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from payroll.rules.errors import PayrollRuleError
from payroll.rules.money import ZERO, round_up_to_penny, to_decimal, to_money
from payroll.rules.yearly_rates import MinimumWageRates, known_tax_years, year_rates


class WageBand(str, Enum):
    AGED_21_AND_OVER = "21_and_over"   # the National Living Wage
    AGED_18_TO_20 = "18_to_20"
    AGED_16_TO_17 = "16_to_17"
    APPRENTICE = "apprentice"


@dataclass(frozen=True)
class MinimumWageCheck:
    band: WageBand | None         # None: below school leaving age, no minimum wage
    hourly_rate: Decimal
    rates_from: date | None
    hours_counted: Decimal
    pay_counted: Decimal
    required_pay: Decimal         # hours counted x rate, rounded UP to the penny
    shortfall: Decimal            # what must be added to the period's pay; zero when it passes

    @property
    def passes(self) -> bool:
        return self.shortfall == 0


def rates_for(pay_reference_period_start: date) -> MinimumWageRates:
    """The rates in force for a pay reference period starting on the given day."""
    in_force = [r for r in (year_rates(y).minimum_wage for y in known_tax_years())
                if r.rates_from <= pay_reference_period_start]
    if not in_force:
        raise PayrollRuleError(f"no minimum wage rates for a pay reference period starting {pay_reference_period_start}")
    return max(in_force, key=lambda r: r.rates_from)


def wage_band(age: int, apprentice: bool = False, apprenticeship_first_year: bool = False) -> WageBand | None:
    if isinstance(age, bool) or not isinstance(age, int) or age < 0:
        raise PayrollRuleError(f"age must be a whole number of years, not {age!r}")
    if age < 16:
        return None
    if apprentice and (age < 19 or apprenticeship_first_year):
        return WageBand.APPRENTICE
    if age >= 21:
        return WageBand.AGED_21_AND_OVER
    if age >= 18:
        return WageBand.AGED_18_TO_20
    return WageBand.AGED_16_TO_17


def check_minimum_wage(
    pay_reference_period_start: date,
    age: int,
    hours_worked: Decimal | str,
    gross_pay: Decimal | str,
    *,
    premiums: Decimal | str = ZERO,
    allowances_and_expenses: Decimal | str = ZERO,
    sleep_in_hours_asleep: Decimal | str = ZERO,
    accommodation_charge: Decimal | str = ZERO,
    accommodation_days: int = 0,
    apprentice: bool = False,
    apprenticeship_first_year: bool = False,
) -> MinimumWageCheck:
    """Whether one pay reference period's pay reaches the minimum wage, and the shortfall if not.

    ``hours_worked`` are the hours that count (awake and working, or available for work while awake);
    ``sleep_in_hours_asleep`` are recorded but never counted. ``gross_pay`` is all pay for the period;
    ``premiums`` and ``allowances_and_expenses`` are the parts of it that do not count.
    """
    age_band = wage_band(age, apprentice, apprenticeship_first_year)
    hours = to_decimal(hours_worked, "hours worked")
    asleep = to_decimal(sleep_in_hours_asleep, "sleep-in hours asleep")
    if hours < 0 or asleep < 0:
        raise PayrollRuleError("hours must not be negative")
    pay = to_money(gross_pay, "gross pay")
    excluded = to_money(premiums, "premiums") + to_money(allowances_and_expenses, "allowances and expenses")
    if excluded > pay:
        raise PayrollRuleError("premiums, allowances and expenses cannot exceed the gross pay they are part of")
    if age_band is None:
        return MinimumWageCheck(None, ZERO, None, hours, pay - excluded, ZERO, ZERO)
    rates = rates_for(pay_reference_period_start)
    if isinstance(accommodation_days, bool) or not isinstance(accommodation_days, int) or accommodation_days < 0:
        raise PayrollRuleError("accommodation days must be a whole number, not negative")
    charge = to_money(accommodation_charge, "accommodation charge")
    over_offset = max(charge - rates.accommodation_offset_daily * accommodation_days, ZERO)
    counted = pay - excluded - over_offset
    rate = rates.hourly[age_band.value]
    # The worker must get at least the minimum for every hour: round the requirement UP to the penny.
    required = round_up_to_penny(hours * rate)
    return MinimumWageCheck(age_band, rate, rates.rates_from, hours, counted, required,
                            max(required - counted, ZERO))

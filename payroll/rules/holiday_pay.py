"""Holiday for irregular-hours and part-year workers (Working Time Regulations 1998 regs 15B and 16A, for leave
years beginning on or after 1 April 2024).

Holiday accrues at 12.07% of the hours worked in each pay period (5.6 weeks' leave over the 46.4 weeks worked in
a year). Instead of paying holiday when it is taken, the employer may pay rolled-up holiday pay of 12.07% of the
pay for work done in the period, shown as its own line on the payslip. Both are for irregular-hours and
part-year workers only.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from payroll.rules.errors import PayrollRuleError
from payroll.rules.money import ZERO, round_half_up_to_penny, to_decimal, to_money
from payroll.rules.yearly_rates import year_rates

_HUNDREDTH_OF_AN_HOUR = Decimal("0.01")


@dataclass(frozen=True)
class HolidayForPeriod:
    hours_worked: Decimal
    hours_accrued: Decimal           # to hundredths of an hour
    rolled_up_holiday_pay: Decimal   # a separate payslip line; zero unless rolled-up pay is chosen


def holiday_for_period(tax_year: str, hours_worked: Decimal | str, pay_for_work: Decimal | str,
                       irregular_or_part_year: bool, rolled_up: bool = False) -> HolidayForPeriod:
    """Accrual (and rolled-up pay, if chosen) for one pay period.

    ``pay_for_work`` is the pay for the hours worked, before any rolled-up holiday pay. Regulations set no
    rounding: hours are kept to the hundredth and pay to the penny, half up.
    """
    if not irregular_or_part_year:
        raise PayrollRuleError("the 12.07% accrual and rolled-up holiday pay are only for irregular-hours and "
                               "part-year workers; others get 5.6 weeks a year")
    hours = to_decimal(hours_worked, "hours worked")
    if hours < 0:
        raise PayrollRuleError("hours worked must not be negative")
    pay = to_money(pay_for_work, "pay for work")
    rate = year_rates(tax_year).irregular_hours_accrual_rate
    accrued = (hours * rate).quantize(_HUNDREDTH_OF_AN_HOUR, rounding=ROUND_HALF_UP)
    rolled = round_half_up_to_penny(pay * rate) if rolled_up else ZERO
    return HolidayForPeriod(hours, accrued, rolled)

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from payroll.rules.minimum_wage import WageBand, check_minimum_wage, wage_band

APRIL_2026 = date(2026, 4, 1)


def test_exactly_the_national_living_wage_passes():
    check = check_minimum_wage(APRIL_2026, 21, "40", "508.40")
    assert check.passes and check.hourly_rate == D("12.71") and check.band is WageBand.AGED_21_AND_OVER


def test_a_penny_short_fails_with_the_shortfall():
    check = check_minimum_wage(APRIL_2026, 21, "40", "508.39")
    assert not check.passes
    assert check.shortfall == D("0.01")


def test_required_pay_rounds_up():
    assert check_minimum_wage(APRIL_2026, 30, "7.5", "95.32").shortfall == D("0.01")  # 7.5 x 12.71 = 95.325


def test_rates_follow_the_start_of_the_pay_reference_period_not_the_tax_year():
    assert check_minimum_wage(date(2026, 3, 31), 30, "10", "0").hourly_rate == D("12.21")
    assert check_minimum_wage(date(2026, 4, 1), 30, "10", "0").hourly_rate == D("12.71")
    assert check_minimum_wage(date(2026, 4, 5), 30, "10", "0").hourly_rate == D("12.71")  # tax year 2025-26


@pytest.mark.parametrize("start, age, apprentice, first_year, rate", [
    (APRIL_2026, 20, False, False, "10.85"),
    (APRIL_2026, 18, False, False, "10.85"),
    (APRIL_2026, 17, False, False, "8.00"),
    (APRIL_2026, 18, True, False, "8.00"),    # apprentice under 19
    (APRIL_2026, 25, True, True, "8.00"),     # apprentice in the first year
    (APRIL_2026, 19, True, False, "10.85"),   # apprentice past the first year: age rate
    (date(2025, 4, 1), 19, False, False, "10.00"),
    (date(2025, 4, 1), 16, False, False, "7.55"),
])
def test_age_bands(start, age, apprentice, first_year, rate):
    check = check_minimum_wage(start, age, "1", "0", apprentice=apprentice, apprenticeship_first_year=first_year)
    assert check.hourly_rate == D(rate)


def test_premiums_and_allowances_do_not_count():
    check = check_minimum_wage(APRIL_2026, 40, "40", "600.00", premiums="60.00", allowances_and_expenses="40.00")
    assert check.pay_counted == D("500.00")
    assert check.shortfall == D("8.40")


def test_sleep_in_hours_asleep_do_not_count():
    check = check_minimum_wage(APRIL_2026, 40, "40", "508.40", sleep_in_hours_asleep="8")
    assert check.hours_counted == D("40")
    assert check.passes


def test_accommodation_above_the_offset_reduces_pay():
    check = check_minimum_wage(APRIL_2026, 40, "40", "530.70", accommodation_charge="100.00", accommodation_days=7)
    assert check.pay_counted == D("508.40")  # 100 - 7 x 11.10 = 22.30 over the offset
    assert check.passes
    assert check_minimum_wage(APRIL_2026, 40, "40", "530.69", accommodation_charge="100.00",
                              accommodation_days=7).shortfall == D("0.01")


def test_under_16_has_no_minimum_wage():
    assert wage_band(15) is None
    assert check_minimum_wage(APRIL_2026, 15, "10", "10.00").passes

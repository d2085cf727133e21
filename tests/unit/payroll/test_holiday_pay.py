from __future__ import annotations

from decimal import Decimal as D

import pytest

from payroll.rules.errors import PayrollRuleError
from payroll.rules.holiday_pay import holiday_for_period


def test_accrues_12_07_percent_of_hours_worked():
    assert holiday_for_period("2026-27", "100", "1271.00", irregular_or_part_year=True).hours_accrued == D("12.07")


def test_accrual_kept_to_hundredths_of_an_hour():
    assert holiday_for_period("2026-27", "33.3", "0", True).hours_accrued == D("4.02")   # 4.01931
    assert holiday_for_period("2026-27", "12.5", "0", True).hours_accrued == D("1.51")   # 1.50875


def test_rolled_up_holiday_pay_is_its_own_figure():
    h = holiday_for_period("2026-27", "40", "333.33", True, rolled_up=True)
    assert h.rolled_up_holiday_pay == D("40.23")  # 40.2329
    assert h.hours_accrued == D("4.83")


def test_no_rolled_up_pay_unless_chosen():
    assert holiday_for_period("2026-27", "40", "500.00", True).rolled_up_holiday_pay == 0


def test_only_for_irregular_hours_and_part_year_workers():
    with pytest.raises(PayrollRuleError, match="only for irregular-hours and part-year workers"):
        holiday_for_period("2026-27", "40", "500.00", irregular_or_part_year=False, rolled_up=True)


def test_negative_hours_refused():
    with pytest.raises(PayrollRuleError, match="must not be negative"):
        holiday_for_period("2026-27", "-1", "0", True)

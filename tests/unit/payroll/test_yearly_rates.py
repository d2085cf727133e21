from __future__ import annotations

from decimal import Decimal as D

import pytest

from payroll.rules.errors import UnknownTaxYearError
from payroll.rules.yearly_rates import known_tax_years, year_rates


def test_both_years_are_known():
    assert {"2025-26", "2026-27"} <= set(known_tax_years())


def test_loaded_once():
    assert year_rates("2026-27") is year_rates("2026-27")


@pytest.mark.parametrize("text, reason", [("2026/27", "write it as"), ("2026-28", "write it as"),
                                          (2026, "must be text"), ("2099-00", "no payroll rules")])
def test_bad_tax_years(text, reason):
    with pytest.raises(UnknownTaxYearError, match=reason):
        year_rates(text)


def test_headline_figures():
    y25, y26 = year_rates("2025-26"), year_rates("2026-27")
    assert y25.national_insurance.thresholds["LEL"] == D("6500")
    assert y26.national_insurance.thresholds["LEL"] == D("6708")
    assert y26.student_loans.thresholds["5"] == D("25000")
    assert "5" not in y25.student_loans.thresholds
    assert (y25.statutory_sick_pay.weekly_rate, y26.statutory_sick_pay.weekly_rate) == (D("118.75"), D("123.25"))
    assert y26.national_insurance.employment_allowance == D("10500")

from __future__ import annotations

from decimal import Decimal as D

import pytest

from payroll.rules.errors import PayrollRuleError
from payroll.rules.money import ni_round
from payroll.rules.national_insurance import calculate_ni, period_thresholds

# PAYROLL-RULES.md / HMRC rates and thresholds 2026-27: weekly, 2-weekly, 4-weekly, monthly.
THRESHOLDS_2026_27 = {
    "LEL": (129, 258, 516, 559),
    "PT": (242, 484, 967, 1048),
    "ST": (96, 193, 385, 417),
    "UEL": (967, 1934, 3867, 4189),
    "UST": (967, 1934, 3867, 4189),
    "FUST": (481, 962, 1924, 2083),
    "IZUST": (481, 962, 1924, 2083),
}
FREQUENCIES = ("weekly", "fortnightly", "four_weekly", "monthly")


@pytest.mark.parametrize("name", sorted(THRESHOLDS_2026_27))
def test_period_thresholds_2026_27(name):
    assert tuple(period_thresholds("2026-27", f)[name] for f in FREQUENCIES) == THRESHOLDS_2026_27[name]


def test_2025_26_differs_only_in_the_lel():
    assert tuple(period_thresholds("2025-26", f)["LEL"] for f in FREQUENCIES) == (125, 250, 500, 542)
    for name in ("PT", "ST", "UEL", "FUST"):
        assert all(period_thresholds("2025-26", f)[name] == period_thresholds("2026-27", f)[name]
                   for f in FREQUENCIES)


def test_multi_week_thresholds_round_up_not_multiply():
    # 5000 x 4 / 52 = 384.6 -> 385, whereas 4 x the weekly 96 would be 384.
    assert period_thresholds("2026-27", "four_weekly")["ST"] == 385


@pytest.mark.parametrize("amount, rounded", [("0.0056", "0.00"), ("0.0064", "0.01"), ("0.0050", "0.00"),
                                             ("0.0059", "0.00"), ("0.0060", "0.01"), ("21.9105", "21.91"),
                                             ("108.696", "108.70"), ("19.1224", "19.12")])
def test_hmrc_rounding_looks_only_at_the_third_decimal(amount, rounded):
    assert ni_round(D(amount)) == D(rounded)


def test_above_the_uel():
    ni = calculate_ni("2026-27", "monthly", "A", "5000.00")
    assert ni.employee == D("267.50")   # 3141 x 8% + 811 x 2%
    assert ni.employer == D("687.45")   # 4583 x 15%
    assert (ni.at_lel, ni.lel_to_pt, ni.pt_to_uel) == (D("559"), D("489"), D("3141"))


def test_each_employee_band_is_rounded_on_its_own():
    # Weekly 967.05: 725 x 8% = 58.00, and 0.05 x 2% = 0.001 rounds to nothing.
    assert calculate_ni("2026-27", "weekly", "A", "967.05").employee == D("58.00")


def test_under_21_letter_pays_employer_ni_only_above_the_upper_secondary_threshold():
    assert calculate_ni("2026-27", "monthly", "M", "5000.00").employer == D("121.65")  # 811 x 15%
    assert calculate_ni("2026-27", "monthly", "M", "4189.00").employer == D("0.00")


def test_freeport_employer_relief_up_to_25000_a_year():
    assert calculate_ni("2026-27", "monthly", "F", "2083.00").employer == D("0.00")
    assert calculate_ni("2026-27", "monthly", "F", "3083.00").employer == D("150.00")


def test_letter_x_has_no_contributions_and_no_bands():
    ni = calculate_ni("2026-27", "monthly", "X", "5000.00")
    assert (ni.employee, ni.employer, ni.at_lel, ni.lel_to_pt, ni.pt_to_uel) == (0, 0, 0, 0, 0)


def test_below_the_lel_reports_nothing_at_lel():
    ni = calculate_ni("2026-27", "weekly", "A", "128.99")
    assert (ni.at_lel, ni.lel_to_pt, ni.employee, ni.employer) == (0, 0, 0, D("4.95"))


def test_letter_is_case_insensitive():
    assert calculate_ni("2026-27", "weekly", "a", "500.00") == calculate_ni("2026-27", "weekly", "A", "500.00")


@pytest.mark.parametrize("letter", ["Q", "", "AA", None, 1])
def test_unknown_letter(letter):
    with pytest.raises(PayrollRuleError, match="NI category letter"):
        calculate_ni("2026-27", "weekly", letter, "500.00")


def test_negative_pay_is_refused():
    with pytest.raises(PayrollRuleError, match="must not be negative"):
        calculate_ni("2026-27", "weekly", "A", "-1.00")

"""PAYE edge cases beyond HMRC's test data: each would fail if its rule broke."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from payroll.rules.errors import PayrollRuleError
from payroll.rules.income_tax import calculate_income_tax, tables_a_period_one
from payroll.rules.starters import StarterStatement, starter_tax_code
from payroll.rules.tax_codes import CodeKind, Regime, TaxCode, parse_tax_code
from payroll.rules.yearly_rates import year_rates

RATES = year_rates("2026-27").income_tax


def tax(*args, **kwargs):
    return calculate_income_tax("2026-27", *args, **kwargs)


class TestFreePay:
    def test_spec_checks_for_1257(self):
        assert tables_a_period_one(1257, monthly=True, rates=RATES) == D("1048.26")
        assert tables_a_period_one(1257, monthly=False, rates=RATES) == D("241.92")

    def test_period_value_is_rounded_up_not_to_nearest(self):
        # Code 5: 59 / 52 = 1.1346... -> 1.14 (to the nearest penny it would be 1.13).
        assert tables_a_period_one(5, monthly=False, rates=RATES) == D("1.14")

    def test_blocks_of_500_split_q_and_r(self):
        assert tables_a_period_one(500, monthly=True, rates=RATES) == D("417.42")  # q=0, r=500: 5009/12
        assert tables_a_period_one(501, monthly=True, rates=RATES) == D("418.26")  # q=1, r=1: 1.59 + 416.67
        assert tables_a_period_one(501, monthly=False, rates=RATES) == D("96.53")  # 0.37 + 96.16

    def test_0t_has_none(self):
        assert tables_a_period_one(0, monthly=True, rates=RATES) == D("0.00")

    def test_cumulative_free_pay_is_period_one_times_period(self):
        assert tax("monthly", 7, "1257L", "0").free_pay == D("1048.26") * 7


class TestRounding:
    def test_taxable_pay_rounded_down_to_pounds(self):
        result = tax("monthly", 1, "1257L", "1149.25")  # 1149.25 - 1048.26 = 100.99
        assert result.taxable_pay == 100
        assert result.tax == D("20.00")

    def test_band_test_uses_limit_rounded_up(self):
        # Month 1 basic rate limit 37700 / 12 = 3141.6666; pay up to 3142 stays wholly at 20%.
        assert tax("monthly", 1, "1257L", "4190.26").tax == D("628.40")   # taxable 3142
        assert tax("monthly", 1, "1257L", "4191.26").tax == D("628.86")   # taxable 3143: 628.3333 + 1.3334 x 40%

    def test_tax_rounded_down_to_the_penny(self):
        # S0T week 1: 14.4948 on the starter band + (80 - 76.2884) x 20% = 15.23712
        assert tax("weekly", 1, "S0T", "80.00").tax == D("15.23")

    def test_scottish_bands_differ_by_year(self):
        assert calculate_income_tax("2025-26", "monthly", 1, "S1257L", "2000.00").tax == D("187.84")
        assert calculate_income_tax("2026-27", "monthly", 1, "S1257L", "2000.00").tax == D("186.89")


class TestCumulativeAndRefunds:
    def test_refund_when_pay_falls(self):
        result = tax("monthly", 2, "1257L", "0.00", previous_pay_to_date="3000.00", previous_tax_to_date="390.20")
        assert result.tax_due == D("180.60")
        assert result.tax == D("-209.60")
        assert result.tax_to_date == D("180.60")

    def test_no_refund_on_month_1_basis(self):
        result = tax("monthly", 2, "1257L M1", "0.00", previous_pay_to_date="3000.00",
                     previous_tax_to_date="390.20")
        assert result.tax == 0
        assert result.tax_to_date == D("390.20")

    def test_request_flag_puts_code_on_week_1_basis(self):
        result = tax("weekly", 10, "1257L", "500.00", previous_pay_to_date="9000.00",
                     previous_tax_to_date="1000.00", non_cumulative=True)
        assert result.non_cumulative
        assert result.tax == D("51.60")  # (500 - 241.92 -> 258) x 20%

    def test_nt_cumulative_refunds_everything(self):
        result = tax("monthly", 4, "NT", "2000.00", previous_pay_to_date="6000.00", previous_tax_to_date="700.00")
        assert (result.tax, result.tax_to_date) == (D("-700.00"), D("0.00"))

    def test_nt_week_1_basis_refunds_nothing(self):
        result = tax("monthly", 4, "NT M1", "2000.00", previous_pay_to_date="6000.00", previous_tax_to_date="700.00")
        assert (result.tax, result.tax_to_date) == (D("0.00"), D("700.00"))

    def test_code_change_mid_year_works_on_the_new_code_to_date(self):
        # Months 1-5 on 1257L at 3000 a month: 15000 - 5241.30 = 9758 taxable, 1951.60 tax.
        before = dict(previous_pay_to_date="15000.00", previous_tax_to_date="1951.60")
        assert tax("monthly", 6, "1257L", "3000.00", **before).tax == D("390.40")
        # HMRC raises the code to 1500L in month 6: free pay to date 6 x 1250.76; 10495 x 20% = 2099.00.
        assert tax("monthly", 6, "1500L", "3000.00", **before).tax == D("147.40")

    def test_fortnightly_cumulative_uses_the_tax_week(self):
        # Paid in weeks 2 and 4: free pay to date is week 4's, 4 x 241.92.
        result = tax("fortnightly", 4, "1257L", "1000.00", previous_pay_to_date="1000.00",
                     previous_tax_to_date="103.20")
        assert result.free_pay == D("967.68")
        assert result.tax == D("103.20")


class TestRegulatoryLimit:
    def test_caps_tax_at_half_the_pay_and_holds_the_rest_back(self):
        # K500 month 1: 100 + 417.42 additional pay = 517 taxable, 103.40 due, but no more than 50.00.
        result = tax("monthly", 1, "K500", "100.00")
        assert result.additional_pay == D("417.42")
        assert result.tax_due == D("103.40")
        assert (result.tax, result.regulatory_limit, result.tax_held_back) == (D("50.00"), D("50.00"), D("53.40"))

    def test_held_back_tax_is_collected_later_on_a_cumulative_code(self):
        # Month 2: 3100 + 834.84 = 3934 taxable, 786.80 due to date, 50.00 already deducted.
        result = tax("monthly", 2, "K500", "3000.00", previous_pay_to_date="100.00", previous_tax_to_date="50.00")
        assert result.tax == D("736.80")

    def test_limit_rounds_down(self):
        assert tax("monthly", 1, "K500", "100.01").tax == D("50.00")

    def test_applies_to_a_week_1_k_code(self):
        result = tax("weekly", 1, "K1000 W1", "10.00")  # 10 + 192.32 = 202 taxable: 40.40 due
        assert result.tax == D("5.00")

    def test_no_pay_means_no_tax(self):
        assert tax("monthly", 3, "K475", "0.00", previous_pay_to_date="2000", previous_tax_to_date="0").tax == 0

    def test_does_not_limit_refunds(self):
        # Week 2: 1010 - 483.84 = 526 taxable, 105.20 due; the refund of 46.40 is far above 50% of 10.00.
        result = tax("weekly", 2, "1257L", "10.00", previous_pay_to_date="1000.00", previous_tax_to_date="151.60")
        assert (result.tax, result.regulatory_limit) == (D("-46.40"), D("5.00"))


class TestExtraWeeks:
    def test_week_53_is_week_1_basis_whatever_the_code(self):
        result = tax("weekly", 53, "1257L", "1000.00", previous_pay_to_date="40000.00",
                     previous_tax_to_date="5000.00")
        assert result.non_cumulative and result.table_periods == 1
        assert result.tax == D("158.20")  # 758: 725 at 20% + 33 at 40%
        assert result.tax_to_date == D("5158.20")

    def test_week_54_uses_the_two_week_table(self):
        result = tax("fortnightly", 54, "1257L", "2000.00", previous_pay_to_date="40000.00",
                     previous_tax_to_date="5000.00")
        assert result.free_pay == D("483.84")
        assert result.tax == D("316.40")  # 1516: 1450 at 20% + 66 at 40%

    def test_week_56_uses_the_four_week_table(self):
        result = tax("four_weekly", 56, "1257L", "4000.00", previous_pay_to_date="40000.00",
                     previous_tax_to_date="5000.00")
        assert result.free_pay == D("967.68")
        assert result.tax == D("632.80")  # 3032: 2900 at 20% + 132 at 40%

    def test_week_53_gives_no_refund(self):
        assert tax("weekly", 53, "1257L", "0.00", previous_pay_to_date="40000.00",
                   previous_tax_to_date="5000.00").tax == 0


class TestFlatRateCodes:
    @pytest.mark.parametrize("code, rate", [("BR", "0.20"), ("D0", "0.40"), ("D1", "0.45"), ("SBR", "0.20"),
                                            ("SD0", "0.21"), ("SD1", "0.42"), ("SD2", "0.45"), ("SD3", "0.48"),
                                            ("CD1", "0.45")])
    def test_whole_pounds_times_the_rate(self, code, rate):
        assert tax("monthly", 1, code + " M1", "1000.99").tax == D(1000) * D(rate)

    def test_br_cumulative_refunds_over_deduction(self):
        result = tax("monthly", 2, "BR", "100.00", previous_pay_to_date="1000.00", previous_tax_to_date="300.00")
        assert result.tax == D("-80.00")  # 1100 x 20% = 220 due to date


class TestStarters:
    def test_statement_a_is_emergency_code_cumulative(self):
        assert starter_tax_code("2026-27", "A") == parse_tax_code("1257L")

    def test_statement_b_is_emergency_code_week_1(self):
        assert starter_tax_code("2026-27", StarterStatement.B) == parse_tax_code("1257L W1")

    def test_statement_c_is_br(self):
        assert starter_tax_code("2026-27", "C") == parse_tax_code("BR")

    def test_no_statement_is_0t_week_1(self):
        assert starter_tax_code("2026-27", None) == TaxCode(Regime.REST_OF_UK, CodeKind.FREE_PAY, 0, "T", True)

    def test_statement_b_in_month_6_is_taxed_as_month_1(self):
        code = starter_tax_code("2026-27", "B")
        assert tax("monthly", 6, code, "3000.00").tax == D("390.20")  # 1951 x 20%, not 5 months' allowance

    def test_statement_a_in_month_6_gets_the_allowance_to_date(self):
        code = starter_tax_code("2026-27", "A")
        assert tax("monthly", 6, code, "3000.00").tax == D("0.00")  # 6 x 1048.26 of free pay

    def test_bad_statement(self):
        with pytest.raises(PayrollRuleError, match="A, B or C"):
            starter_tax_code("2026-27", "D")


class TestRefusals:
    @pytest.mark.parametrize("frequency, period", [("monthly", 0), ("monthly", 13), ("weekly", 0), ("weekly", 54),
                                                   ("fortnightly", 53), ("fortnightly", 56),
                                                   ("four_weekly", 53), ("four_weekly", 54)])
    def test_period_out_of_range(self, frequency, period):
        with pytest.raises(PayrollRuleError, match="period"):
            tax(frequency, period, "1257L", "100.00")

    @pytest.mark.parametrize("pay", ["-0.01", "12.345", "abc", 1.5, "NaN", "Infinity"])
    def test_bad_pay(self, pay):
        with pytest.raises(PayrollRuleError):
            tax("monthly", 1, "1257L", pay)

    def test_negative_tax_to_date(self):
        with pytest.raises(PayrollRuleError, match="must not be negative"):
            tax("monthly", 2, "1257L", "100.00", previous_tax_to_date="-1.00")

    def test_unknown_year(self):
        with pytest.raises(PayrollRuleError, match="no payroll rules for tax year 2030-31"):
            calculate_income_tax("2030-31", "monthly", 1, "1257L", "100.00")

    def test_bad_frequency(self):
        with pytest.raises(PayrollRuleError, match="pay frequency"):
            tax("daily", 1, "1257L", "100.00")

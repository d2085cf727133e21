from __future__ import annotations

from decimal import Decimal as D

import pytest

from payroll.rules import PayPeriodInputs, PayrollRuleError, gross_to_net
from payroll.rules.auto_enrolment import PensionScheme, ReliefMethod
from payroll.rules.money import to_pence


def period(**changes):
    base = dict(tax_year="2026-27", frequency="monthly", period=1, tax_code="1257L", gross_pay="2000.00")
    return gross_to_net(PayPeriodInputs(**{**base, **changes}))


def test_plain_month():
    r = period(student_loan_plans=("2", "PGL"), gross_pay="2500.00")
    assert (r.tax, r.employee_ni, r.employer_ni, r.student_loan, r.postgraduate_loan) == (
        D("290.20"), D("116.16"), D("312.45"), D("4.00"), D("45.00"))
    assert r.net_pay == D("2044.64")
    assert r.taxable_pay == D("2500.00") and r.taxable_pay_to_date == D("2500.00")
    assert r.ni.at_lel == D("559.00") and r.ni.pt_to_uel == D("1452.00")


def test_net_pay_arrangement_comes_off_pay_before_tax_only():
    r = period(pension=PensionScheme("0.05", "0.03", ReliefMethod.NET_PAY_ARRANGEMENT))
    assert r.taxable_pay == D("1926.00")
    assert r.tax == D("175.40")          # 877 x 20%
    assert r.employee_ni == D("76.16")   # NI still on the full 2000
    assert (r.pension_net_pay, r.pension_relief_at_source) == (D("74.00"), D("0.00"))
    assert r.net_pay == D("1674.44")


def test_relief_at_source_comes_off_net_pay():
    r = period(pension=PensionScheme("0.05", "0.03"))
    assert r.taxable_pay == D("2000.00")
    assert r.tax == D("190.20")
    assert (r.pension_net_pay, r.pension_relief_at_source) == (D("0.00"), D("59.20"))
    assert r.net_pay == D("1674.44")
    assert r.employer_pension == D("44.40")
    assert r.employer_cost == D("2000.00") + D("237.45") + D("44.40")


def test_refund_adds_to_net_pay_and_expenses_are_paid_untaxed():
    r = period(period=2, gross_pay="0.00", previous_taxable_pay_to_date="3000.00",
               previous_tax_to_date="390.20", non_taxable_payments="25.00", deductions_from_net_pay="10.00")
    assert r.tax == D("-209.60")
    assert r.net_pay == D("224.60")  # 0 + 209.60 refund + 25 expenses - 10
    assert r.total_deductions == D("-199.60")


def test_pension_earnings_can_differ_from_gross():
    r = period(pension=PensionScheme("0.05", "0.03"), pension_earnings="1000.00")
    assert r.pension.qualifying_earnings == D("480.00")


def test_refuses_bad_inputs():
    with pytest.raises(PayrollRuleError, match="gross pay must not be negative"):
        period(gross_pay="-5.00")
    with pytest.raises(PayrollRuleError, match="no payroll rules"):
        period(tax_year="2024-25")


def test_figures_convert_to_pence_exactly():
    r = period(gross_pay="2500.00")
    assert [to_pence(x) for x in (r.tax, r.employee_ni, r.net_pay)] == [29020, 11616, 209364]
    with pytest.raises(ValueError):
        to_pence(D("0.005"))

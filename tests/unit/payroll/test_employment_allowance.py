from __future__ import annotations

from decimal import Decimal as D

from payroll.rules.employment_allowance import apply_employment_allowance, employment_allowance_for_year


def test_used_up_across_the_year_then_exhausted():
    uses = employment_allowance_for_year("2026-27", ["1000.00"] * 12)
    assert [u.offset for u in uses] == [D("1000.00")] * 10 + [D("500.00"), D("0.00")]
    assert [u.employer_ni_payable for u in uses[9:]] == [D("0.00"), D("500.00"), D("1000.00")]
    assert uses[-1].used_to_date == D("10500.00")
    assert uses[-1].remaining == 0


def test_one_period():
    use = apply_employment_allowance("2026-27", "312.45", used_to_date="10400.00")
    assert (use.offset, use.employer_ni_payable, use.remaining) == (D("100.00"), D("212.45"), D("0.00"))


def test_not_claimed():
    use = apply_employment_allowance("2026-27", "312.45", claimed=False)
    assert (use.offset, use.employer_ni_payable) == (D("0.00"), D("312.45"))


def test_nothing_left_after_the_allowance_is_used():
    assert apply_employment_allowance("2025-26", "50.00", used_to_date="10500.00").offset == 0

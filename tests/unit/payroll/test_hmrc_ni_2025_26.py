"""Every row of HMRC's 2025-26 Class 1 NI test data (with freeport and investment zone letters), exactly,
under 2025-26 thresholds and, for the lower earnings limit columns derived for 2026-27, under 2026-27 ones."""
from __future__ import annotations

from decimal import Decimal

import pytest

from payroll.rules.national_insurance import calculate_ni
from tests.unit.payroll.hmrc_data import NI_FILE, NI_FREQUENCIES, NI_ROWS, ni_rows, require

ROWS = ni_rows()


def figures(ni):
    return {"ee_ni": ni.employee, "er_ni": ni.employer, "at_lel": ni.at_lel, "lel_to_pt": ni.lel_to_pt,
            "pt_to_uel": ni.pt_to_uel}


def test_file_has_every_row():
    require(ROWS[0].values[0], NI_FILE)
    assert len(ROWS) == NI_ROWS


@pytest.mark.parametrize("row", ROWS)
def test_row(row):
    require(row, NI_FILE)
    frequency = NI_FREQUENCIES[row["frequency"]]
    expected_2025_26 = {"ee_ni": row["ee_ni"], "er_ni": row["er_ni"], "at_lel": row["at_lel_2025_26"],
                        "lel_to_pt": row["lel_to_pt_2025_26"], "pt_to_uel": row["pt_to_uel"]}
    # For 2026-27 only the LEL moved: contributions and the PT-UEL band are unchanged.
    expected_2026_27 = {**expected_2025_26, "at_lel": row["at_lel_2026_27_derived"],
                        "lel_to_pt": row["lel_to_pt_2026_27_derived"]}
    for tax_year, expected in (("2025-26", expected_2025_26), ("2026-27", expected_2026_27)):
        got = figures(calculate_ni(tax_year, frequency, row["category"], row["gross"]))
        assert got == {k: Decimal(v) for k, v in expected.items()}, tax_year

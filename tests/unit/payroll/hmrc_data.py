"""HMRC's official payroll test data, read in place from ``<repo>/../shared/testdata/hmrc``.

A missing or short file becomes a failing test, never a skip: these rows are the proof the rules are right.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

HMRC_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "hmrc"
TAX_FILE = HMRC_DIR / "tax-2026-27.csv"
NI_FILE = HMRC_DIR / "ni-2025-26.csv"
TAX_ROWS = 168
NI_ROWS = 892

NI_FREQUENCIES = {"Weekly": "weekly", "Fortnightly": "fortnightly", "FourWeekly": "four_weekly",
                  "Monthly": "monthly"}


@dataclass(frozen=True)
class TaxRow:
    region: str
    sheet: str
    frequency: str
    tax_code: str              # as the request would carry it: " W1" added for week 1 / month 1 rows
    period: int
    gross: Decimal
    previous_pay_to_date: Decimal  # the file's taxable pay to date includes this period; this is before it
    previous_tax_to_date: Decimal  # the previous row's tax to date on a cumulative sheet, else 0
    tax_due: Decimal
    tax_due_to_date: Decimal


def _missing(path: Path):
    return [pytest.param(None, id=f"{path.name}-MISSING")]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def tax_rows() -> list:
    if not TAX_FILE.is_file():
        return _missing(TAX_FILE)
    params = []
    last_to_date: dict[tuple[str, str], tuple[int, Decimal]] = {}
    counters: dict[tuple[str, str], int] = {}
    for raw in read_csv(TAX_FILE):
        key = (raw["region"], raw["sheet"])
        counters[key] = counters.get(key, 0) + 1
        period = int(raw["period"])
        sheet = raw["sheet"].lower()
        frequency = "monthly" if ("mthly" in sheet or "monthly" in sheet) else "weekly"
        assert frequency == "monthly" or "wkly" in sheet or "weekly" in sheet, raw
        previous_tax = Decimal(0)
        if period > 1:
            previous_period, previous_tax = last_to_date[key]
            assert previous_period == period - 1, f"cumulative sheet {key} skips a period at {raw}"
        last_to_date[key] = (period, Decimal(raw["tax_due_to_date"]))
        row = TaxRow(
            region=raw["region"], sheet=raw["sheet"], frequency=frequency,
            tax_code=raw["code"] + (" W1" if raw["w1m1"] == "WM1" else ""),
            period=period, gross=Decimal(raw["gross"]),
            previous_pay_to_date=Decimal(raw["taxable_pay_to_date"]) - Decimal(raw["gross"]),
            previous_tax_to_date=previous_tax,
            tax_due=Decimal(raw["tax_due"]), tax_due_to_date=Decimal(raw["tax_due_to_date"]))
        row_id = f"{raw['region']}-{raw['sheet']}-{counters[key]:02d}-{raw['code']}" + (
            "-W1M1" if raw["w1m1"] else "") + f"-p{period}"
        params.append(pytest.param(row, id=row_id))
    return params


def ni_rows() -> list:
    if not NI_FILE.is_file():
        return _missing(NI_FILE)
    params = []
    for raw in read_csv(NI_FILE):
        suite, _, number = raw["test_id"].rpartition("/")
        row_id = f"{suite.split()[0]}-{raw['category']}-{number}-{raw['frequency']}-{raw['gross']}"
        params.append(pytest.param(raw, id=row_id))
    return params


def require(row, path: Path) -> None:
    if row is None:
        pytest.fail(f"HMRC test data not found at {path}: every row of it must run")

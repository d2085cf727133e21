"""Checks before sending: schema and business rules reject broken documents, naming employee and field."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from hmrc_export.fps import build_fps
from hmrc_export.model import Name, Starter
from hmrc_export.taxyear import TaxYear
from hmrc_export.validate import SubmissionInvalid, check, find_problems, nino_problem, tax_code_problem
from tests.unit.hmrc.sample_run import EMPLOYER, four_weekly_run, with_payment

TODAY = date(2026, 5, 28)
WHEN = datetime(2026, 5, 28, tzinfo=timezone.utc)
SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "hmrc" / "rti-samples"


def _problems(run) -> list[str]:
    return [str(p) for p in find_problems(build_fps(EMPLOYER, run, timestamp=WHEN), today=TODAY)]


def test_hmrc_samples_pass_their_own_2014_15_schemas():
    for name in ("FPS-2014-15.xml", "EPS-2014-15.xml"):
        assert find_problems((SAMPLES / name).read_bytes(), today=TODAY) == []


@pytest.mark.parametrize("nino, ok", [("AB123456C", True), ("QQ123456A", False), ("GB123456A", False),
                                      ("NK123456A", False), ("DA123456A", False), ("AO123456A", False),
                                      ("AB123456E", False), ("AB12345C", False), ("ZZ123456A", False)])
def test_nino_prefix_rules(nino, ok):
    assert (nino_problem(nino) is None) is ok


@pytest.mark.parametrize("code, regime, ok", [("1257L", None, True), ("1257M", "C", True), ("BR", None, True),
                                              ("D0", None, True), ("D2", "S", True), ("D2", None, False),
                                              ("K475", None, True), ("0T", "S", True), ("NT", None, True),
                                              ("1257Q", None, False), ("S1257L", None, False), ("K0", None, False)])
def test_tax_code_format(code, regime, ok):
    assert (tax_code_problem(code, regime) is None) is ok


def test_bad_nino_names_employee_and_field_in_plain_english():
    run = four_weekly_run()
    run[2] = replace(run[2], employee=replace(run[2].employee, nino="QQ123456A"))
    assert _problems(run) == ["Employee PA-003 (Catriona Macleod), National Insurance number: 'QQ123456A' has the "
                              "prefix QQ, which HMRC never issues"]


def test_bad_tax_code_is_rejected():
    run = four_weekly_run()
    run[0] = with_payment(run[0], tax_code=replace(run[0].payment.tax_code, code="1257Q"))
    [problem] = _problems(run)
    assert problem.startswith("Employee PA-001 (Amira Khan), tax code: '1257Q' is not a tax code HMRC issues")


def test_year_to_date_below_this_period_is_rejected():
    run = four_weekly_run()
    run[4] = with_payment(run[4], taxable_pay_to_date=100_000, student_loan_recovered_to_date=2_000)
    problems = _problems(run)
    assert "Employee PA-005 (Ella Okafor), taxable pay: the year-to-date figure 1000.00 is less than this period's 2500.00" in problems
    assert ("Employee PA-005 (Ella Okafor), student loan deductions to date: the year-to-date figure 20.00 is less "
            "than this period's 40.00") in problems


def test_payment_date_outside_the_tax_year_is_rejected_by_schema_and_rule():
    run = four_weekly_run()
    run[1] = with_payment(run[1], payment_date=date(2027, 4, 9))
    message = build_fps(EMPLOYER, run, tax_year=TaxYear(2026), timestamp=WHEN)
    problems = [str(p) for p in find_problems(message, today=TODAY)]
    assert problems == ["Employee PA-002 (Brian Lowe), payment date: 2027-04-09 is outside the tax year 2026-27 "
                        "(2026-04-06 to 2027-04-05)"]


def test_starter_without_declaration_and_leaver_before_start():
    run = four_weekly_run()
    run[0] = replace(run[0], employee=replace(run[0].employee, starter=Starter(date(2026, 5, 4)),
                                              leaving_date=date(2026, 5, 1)))
    problems = _problems(run)
    assert "Employee PA-001 (Amira Khan), starter declaration: a new starter needs starter declaration A, B or C" in problems
    assert "Employee PA-001 (Amira Khan), leaving date: 2026-05-01 is before the start date 2026-05-04" in problems


def test_leaving_date_more_than_30_days_ahead_is_rejected():
    run = four_weekly_run()
    run[1] = replace(run[1], employee=replace(run[1].employee, leaving_date=date(2026, 9, 1)))
    assert _problems(run) == ["Employee PA-002 (Brian Lowe), leaving date: 2026-09-01 is more than 30 days from today"]


def test_schema_problems_name_the_employee_and_field():
    run = four_weekly_run()
    run[3] = replace(run[3], employee=replace(run[3].employee, name=Name(("D3v!",), "Patel")))
    [problem] = find_problems(build_fps(EMPLOYER, run, timestamp=WHEN), today=TODAY)
    assert (problem.employee, problem.field) == ("PA-004 (D3v! Patel)", "forename")
    assert "not accepted by HMRC's schema" in problem.message


def test_missing_required_element_is_a_schema_problem():
    message = build_fps(EMPLOYER, four_weekly_run(), timestamp=WHEN)
    broken = message.replace(b"<HoursWorked>B</HoursWorked>", b"", 1)
    [problem] = find_problems(broken, today=TODAY)
    assert problem.employee == "PA-001 (Amira Khan)"
    assert "does not follow HMRC's schema" in problem.message


def test_check_raises_one_error_listing_every_problem():
    run = four_weekly_run()
    run[0] = with_payment(run[0], tax_code=replace(run[0].payment.tax_code, code="1257Q"))
    run[2] = replace(run[2], employee=replace(run[2].employee, nino="QQ123456A"))
    with pytest.raises(SubmissionInvalid) as caught:
        check(build_fps(EMPLOYER, run, timestamp=WHEN), today=TODAY)
    text = str(caught.value)
    assert text.startswith("The submission has 2 problem(s) to fix before sending:")
    assert "  - Employee PA-001 (Amira Khan), tax code:" in text
    assert "  - Employee PA-003 (Catriona Macleod), National Insurance number:" in text
    assert len(caught.value.problems) == 2


def test_valid_document_passes_check():
    check(build_fps(EMPLOYER, four_weekly_run(), timestamp=WHEN), today=TODAY)


def test_not_xml_is_a_problem_not_a_crash():
    with pytest.raises(SubmissionInvalid, match="not well-formed XML"):
        check(b"<GovTalkMessage>", today=TODAY)

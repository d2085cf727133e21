"""The batch calculator, directly and end to end through `wallet payroll calc`."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st
from click.testing import CliRunner

from payroll.calc import calculate, run
from payroll.rules.errors import PayrollRuleError
from wallet.commands.payroll_cmds import payroll

GOOD = {"id": "pa-1", "tax_year": "2026-27", "frequency": "monthly", "period": 1, "tax_code": "1257L",
        "gross_pay": "2500.00", "student_loan_plans": ["2", "PGL"]}
GOOD_RESULT = {"id": "pa-1", "tax": "290.20", "tax_to_date": "290.20", "employee_ni": "116.16",
               "employer_ni": "312.45", "student_loan": "4.00", "postgrad_loan": "45.00"}


def invoke(lines: list[str]):
    outcome = CliRunner().invoke(payroll, ["calc"], input="".join(line + "\n" for line in lines))
    assert outcome.exit_code == 0, outcome.output
    return [json.loads(line) for line in outcome.output.splitlines()]


def test_one_request():
    assert calculate(GOOD) == GOOD_RESULT


def test_defaults():
    result = calculate({"id": 7, "tax_year": "2025-26", "frequency": "weekly", "period": 1, "tax_code": "1257L",
                        "gross_pay": "500.00"})
    assert result == {"id": 7, "tax": "51.60", "tax_to_date": "51.60", "employee_ni": "20.64",
                      "employer_ni": "60.60", "student_loan": "0.00", "postgrad_loan": "0.00"}


def test_figures_to_date_are_before_this_period_and_refunds_are_negative():
    result = calculate({**GOOD, "period": 2, "gross_pay": "0.00", "taxable_pay_to_date": "3000.00",
                        "tax_paid_to_date": "390.20", "student_loan_plans": []})
    assert (result["tax"], result["tax_to_date"]) == ("-209.60", "180.60")


@pytest.mark.parametrize("changes", [{"tax_code": "1257L M1"}, {"non_cumulative": True}])
def test_week_1_month_1_by_code_or_flag(changes):
    result = calculate({**GOOD, "period": 2, "gross_pay": "0.00", "taxable_pay_to_date": "3000.00",
                        "tax_paid_to_date": "390.20", **changes})
    assert result["tax"] == "0.00"


@pytest.mark.parametrize("changes, reason", [
    ({"tax_code": "12X7L"}, "is not a tax code"),
    ({"tax_year": "2027-28"}, "no payroll rules for tax year 2027-28"),
    ({"period": 13}, "tax month from 1 to 12"),
    ({"period": True}, "period must be a whole number"),
    ({"gross_pay": "-100.00"}, "must not be negative"),
    ({"gross_pay": "1e400"}, "too large"),
    ({"gross_pay": "1.001"}, "more than two decimal places"),
    ({"gross_pay": None}, "gross_pay must be a decimal string"),
    ({"frequency": "daily"}, "pay frequency must be one of"),
    ({"ni_category": "Q"}, "NI category letter"),
    ({"student_loan_plans": "2"}, "must be a list"),
    ({"student_loan_plans": ["3"]}, "student loan plan must be one of"),
    ({"non_cumulative": "yes"}, "must be true or false"),
    ({"taxable_pay_to_date": "-1"}, "must not be negative"),
    ({"grosspay": "1"}, "unknown field: grosspay"),
])
def test_refusals_name_the_problem(changes, reason):
    with pytest.raises(PayrollRuleError, match=reason):
        calculate({**GOOD, **changes})


def test_missing_fields_are_listed():
    with pytest.raises(PayrollRuleError, match="missing fields: period, gross_pay"):
        calculate({k: v for k, v in GOOD.items() if k not in ("period", "gross_pay")})


def test_run_keeps_order_and_goes_on_after_errors():
    lines = [json.dumps(GOOD), "{not json", "", "[1, 2]", json.dumps({**GOOD, "id": "pa-2", "tax_code": "XYZ"}),
             json.dumps({**GOOD, "id": "pa-3"}), '{"id": 9, "gross_pay": NaN}']
    results = [json.loads(line) for line in run(lines)]
    assert [r["id"] for r in results] == ["pa-1", None, None, "pa-2", "pa-3", None]
    assert results[0] == GOOD_RESULT and results[4] == {**GOOD_RESULT, "id": "pa-3"}
    assert results[1]["error"].startswith("line 2 is not valid JSON")
    assert results[2]["error"] == "line 4 is not a JSON object with the request's fields"
    assert "is not a tax code" in results[3]["error"]
    assert results[5]["error"].startswith("line 7 is not valid JSON")


def test_json_numbers_are_read_as_decimals_and_floats_refused():
    line = json.dumps(GOOD).replace('"2500.00"', "2500.10")
    assert json.loads(next(run([line])))["tax"] == "290.20"
    with pytest.raises(PayrollRuleError, match="decimal string"):
        calculate({**GOOD, "gross_pay": 2500.1})


class TestCommandLine:
    def test_results_line_for_line(self):
        results = invoke([json.dumps(GOOD), json.dumps({"id": "pa-9", "tax_year": "2026-27"}),
                          json.dumps({**GOOD, "id": "pa-2", "ni_category": "M", "student_loan_plans": []})])
        assert results[0] == GOOD_RESULT
        assert results[1] == {"id": "pa-9", "error": "missing fields: frequency, period, tax_code, gross_pay"}
        assert results[2]["id"] == "pa-2" and results[2]["employer_ni"] == "0.00"

    def test_error_lines_do_not_stop_the_batch(self):
        results = invoke(["garbage", json.dumps({**GOOD, "gross_pay": "-1"}), json.dumps(GOOD)])
        assert [("error" in r) for r in results] == [True, True, False]
        assert results[1] == {"id": "pa-1", "error": "gross pay must not be negative: '-1'"}

    def test_week_53_through_the_command(self):
        results = invoke([json.dumps({"id": 1, "tax_year": "2026-27", "frequency": "weekly", "period": 53,
                                      "tax_code": "1257L", "gross_pay": "1000.00",
                                      "taxable_pay_to_date": "40000.00", "tax_paid_to_date": "5000.00"})])
        assert (results[0]["tax"], results[0]["tax_to_date"]) == ("158.20", "5158.20")

    def test_empty_input_gives_no_output(self):
        assert invoke([]) == []

    def test_input_and_output_files(self, tmp_path):
        source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
        source.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
        outcome = CliRunner().invoke(payroll, ["calc", "--input", str(source), "--output", str(target)])
        assert outcome.exit_code == 0, outcome.output
        assert json.loads(target.read_text(encoding="utf-8")) == GOOD_RESULT


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5)


@settings(max_examples=100)
@given(st.fixed_dictionaries({
    "id": json_values,
    "tax_year": st.sampled_from(["2025-26", "2026-27"]) | json_values,
    "frequency": st.sampled_from(["weekly", "fortnightly", "four_weekly", "monthly"]) | json_values,
    "period": st.integers(-5, 60) | json_values,
    "tax_code": st.sampled_from(["1257L", "K475 W1", "SD2", "NT", "0T"]) | json_values,
    "gross_pay": st.decimals(min_value=0, max_value=100000, places=2).map(str) | json_values,
}, optional={
    "taxable_pay_to_date": st.decimals(min_value=0, max_value=100000, places=2).map(str) | json_values,
    "tax_paid_to_date": st.decimals(min_value=0, max_value=10000, places=2).map(str) | json_values,
    "ni_category": st.sampled_from(list("ABCHJMVXZFILSNEDK")) | json_values,
    "student_loan_plans": st.lists(st.sampled_from(["1", "2", "4", "5", "PGL"])) | json_values,
    "non_cumulative": st.booleans() | json_values,
}))
def test_any_request_gives_a_result_or_a_reason(request):
    result = json.loads(next(run([json.dumps(request, default=str)])))
    if "error" in result:
        assert "internal error" not in result["error"]
    else:
        assert set(result) == {"id", "tax", "tax_to_date", "employee_ni", "employer_ni", "student_loan",
                               "postgrad_loan"}

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from payroll.rules.errors import TaxCodeError
from payroll.rules.tax_codes import CodeKind, Regime, TaxCode, parse_tax_code


@pytest.mark.parametrize("text, regime, kind, number, suffix, non_cumulative", [
    ("1257L", Regime.REST_OF_UK, CodeKind.FREE_PAY, 1257, "L", False),
    ("S1257L", Regime.SCOTLAND, CodeKind.FREE_PAY, 1257, "L", False),
    ("C1257L M1", Regime.WALES, CodeKind.FREE_PAY, 1257, "L", True),
    ("1257L W1", Regime.REST_OF_UK, CodeKind.FREE_PAY, 1257, "L", True),
    ("1257L X", Regime.REST_OF_UK, CodeKind.FREE_PAY, 1257, "L", True),
    ("1257L/W1", Regime.REST_OF_UK, CodeKind.FREE_PAY, 1257, "L", True),
    (" 1257l  w1 ", Regime.REST_OF_UK, CodeKind.FREE_PAY, 1257, "L", True),
    ("1257M", Regime.REST_OF_UK, CodeKind.FREE_PAY, 1257, "M", False),
    ("1132N", Regime.REST_OF_UK, CodeKind.FREE_PAY, 1132, "N", False),
    ("1257T", Regime.REST_OF_UK, CodeKind.FREE_PAY, 1257, "T", False),
    ("0T", Regime.REST_OF_UK, CodeKind.FREE_PAY, 0, "T", False),
    ("S0T M1", Regime.SCOTLAND, CodeKind.FREE_PAY, 0, "T", True),
    ("K475", Regime.REST_OF_UK, CodeKind.K, 475, None, False),
    ("SK585", Regime.SCOTLAND, CodeKind.K, 585, None, False),
    ("K27 W1", Regime.REST_OF_UK, CodeKind.K, 27, None, True),
    ("BR", Regime.REST_OF_UK, CodeKind.BR, None, None, False),
    ("CBR", Regime.WALES, CodeKind.BR, None, None, False),
    ("SBR", Regime.SCOTLAND, CodeKind.BR, None, None, False),
    ("D0", Regime.REST_OF_UK, CodeKind.D0, None, None, False),
    ("CD1", Regime.WALES, CodeKind.D1, None, None, False),
    ("SD2", Regime.SCOTLAND, CodeKind.D2, None, None, False),
    ("SD3 W1", Regime.SCOTLAND, CodeKind.D3, None, None, True),
    ("NT", Regime.REST_OF_UK, CodeKind.NT, None, None, False),
    ("999999L", Regime.REST_OF_UK, CodeKind.FREE_PAY, 999999, "L", False),
])
def test_parses_hmrc_codes(text, regime, kind, number, suffix, non_cumulative):
    assert parse_tax_code(text) == TaxCode(regime, kind, number, suffix, non_cumulative)


@pytest.mark.parametrize("code, fps_code, shown", [
    ("S1257L", "1257L", "S1257L"), ("SK585 M1", "K585", "SK585 X"), ("SD2", "D2", "SD2"), ("0T W1", "0T", "0T X"),
])
def test_fps_code_drops_prefix_and_basis(code, fps_code, shown):
    parsed = parse_tax_code(code)
    assert parsed.code == fps_code
    assert str(parsed) == shown


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("   ", "empty"),
    ("1257", "needs a suffix letter"),
    ("1257P", "no longer issued"),
    ("1257Y", "no longer issued"),
    ("1257Q", "not a tax code suffix"),
    ("0L", "written 0T"),
    ("K0", "written 0T"),
    ("01257L", "does not start with 0"),
    ("1234567L", "at most six digits"),
    ("D2", "only for Scottish"),
    ("CD3", "only for Scottish"),
    ("D4", "D0 to D1"),
    ("W1", "no code before"),
    ("X", "no code before"),
    ("S", "expected a code"),
    ("BRR", "expected a code"),
    ("1257L W2", "expected a code"),
    ("L1257", "expected a code"),
    ("١٢٥٧L", "expected a code"),
])
def test_refuses_bad_codes_with_a_reason(text, reason):
    with pytest.raises(TaxCodeError) as raised:
        parse_tax_code(text)
    assert reason in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_refuses_a_code_that_is_not_text():
    with pytest.raises(TaxCodeError, match="must be text"):
        parse_tax_code(1257)


def test_refuses_overlong_input():
    with pytest.raises(TaxCodeError, match="too long"):
        parse_tax_code("1257L" * 10)


@settings(max_examples=300)
@given(st.text(max_size=25))
def test_any_text_parses_or_gives_a_tax_code_error(text):
    try:
        code = parse_tax_code(text)
    except TaxCodeError as exc:
        assert str(exc)
    else:
        assert parse_tax_code(str(code)) == code


codes = st.one_of(
    st.builds(lambda n, s: f"{n}{s}", st.integers(1, 999999), st.sampled_from("LMNT")),
    st.builds(lambda n: f"K{n}", st.integers(1, 999999)),
    st.sampled_from(["BR", "D0", "D1", "NT", "0T"]),
)


@settings(max_examples=200)
@given(codes, st.sampled_from(["", "S", "C"]), st.sampled_from(["", " W1", " M1", " X"]))
def test_every_well_formed_code_round_trips(body, prefix, basis):
    parsed = parse_tax_code(prefix + body + basis)
    assert parsed.code == body
    assert parsed.regime.prefix == prefix
    assert parsed.non_cumulative == bool(basis)
    assert parse_tax_code(str(parsed)) == parsed


@pytest.mark.parametrize("fields", [
    dict(kind=CodeKind.FREE_PAY, number=None, suffix="L"),
    dict(kind=CodeKind.FREE_PAY, number=1257, suffix="Q"),
    dict(kind=CodeKind.FREE_PAY, number=0, suffix="L"),
    dict(kind=CodeKind.K, number=0),
    dict(kind=CodeKind.BR, number=20),
    dict(kind=CodeKind.NT, suffix="T"),
    dict(kind=CodeKind.D3),
])
def test_a_tax_code_value_cannot_hold_an_impossible_code(fields):
    with pytest.raises(TaxCodeError):
        TaxCode(Regime.REST_OF_UK, **fields)

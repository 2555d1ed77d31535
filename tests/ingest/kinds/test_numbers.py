"""``amount``, ``integer`` and ``number``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huaxiang.ingest.kinds import ValueContext, kind_named

from .conftest import FastPath

CTX = ValueContext()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("¥1,299.00", "1299.00"), ("￥1299", "1299.00"), ("1,299.5元", "1299.50"), ("RMB 12.30", "12.30"),
        ("-5.00", "-5.00"), ("1299", "1299.00"), ("-¥5", "-5.00"), ("¥ -5", "-5.00"),
        ("12.3万元", "123000.00"),
        ("1.5亿", "150000000.00"), ("壹仟贰佰叁拾肆元伍角陆分", "1234.56"), ("人民币伍拾元整", "50.00"),
        ("0.125", "0.13"), ("-0.125", "-0.13"), ("-0", "0.00"), ("１２３", "123.00"),
    ],
)  # fmt: skip
def test_amounts(raw: str, expected: str) -> None:
    assert kind_named("amount").normalise(raw, CTX).value == expected


@pytest.mark.parametrize(
    "raw", ["abc", "1.2.3", "1,2,3", "12,34.5", "$5", "--5", "-¥-5", "1e3", "10000000000000000"]
)
def test_rejected_amounts(raw: str) -> None:
    result = kind_named("amount").normalise(raw, CTX)
    assert result.value is None
    assert result.error is not None
    assert result.error.startswith("expected an amount")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1299", "1299"), ("1,299", "1299"), ("-42", "-42"), ("+7", "7"), ("12.0", "12"), ("００７", "7"),
     ("9223372036854775807", "9223372036854775807")],
)  # fmt: skip
def test_integers(raw: str, expected: str) -> None:
    assert kind_named("integer").normalise(raw, CTX).value == expected


@pytest.mark.parametrize("raw", ["12.5", "1_000", "abc", "9223372036854775808", "1e3", "١٢"])
def test_rejected_integers(raw: str) -> None:
    assert kind_named("integer").normalise(raw, CTX).error is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1.5", "1.5"), ("-3", "-3.0"), ("1e3", "1000.0"), ("1,234.5", "1234.5"), (".5", "0.5"), ("0.1", "0.1")],
)
def test_numbers(raw: str, expected: str) -> None:
    assert kind_named("number").normalise(raw, CTX).value == expected


@pytest.mark.parametrize("raw", ["nan", "inf", "1e999", "1.2.3", "abc", "1_0"])
def test_rejected_numbers(raw: str) -> None:
    assert kind_named("number").normalise(raw, CTX).error is not None


AMOUNT_TEXT = st.builds(
    lambda prefix, sign, number, suffix: f"{prefix}{sign}{number}{suffix}",
    st.sampled_from(["", "¥", "￥", "¥ ", "RMB "]),
    st.sampled_from(["", "-", "+"]),
    st.one_of(
        st.decimals(min_value=Decimal("-1e17"), max_value=Decimal("1e17"), places=3, allow_nan=False).map(
            str
        ),
        st.integers(0, 10**17).map(lambda n: f"{n:,}"),
        st.text(alphabet="0123456789.,", min_size=1, max_size=12),
    ),
    st.sampled_from(["", "元", " 元", "万"]),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(AMOUNT_TEXT, min_size=1, max_size=50))
def test_amount_fast_path_agrees_with_python(fast_path: FastPath, values: list[str]) -> None:
    assert fast_path("amount", values).disagreements == []


NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(min_value=-1e15, max_value=1e15).map(lambda x: f"{x:.6f}"),
    st.integers(-(10**20), 10**20).map(str),
    st.text(alphabet="0123456789.-+e,", min_size=1, max_size=20),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(NUMBER_TEXT, min_size=1, max_size=50))
@pytest.mark.parametrize("name", ["integer", "number"])
def test_numeric_fast_path_agrees_with_python(fast_path: FastPath, name: str, values: list[str]) -> None:
    assert fast_path(name, values).disagreements == []


@pytest.mark.parametrize("name", ["amount", "integer", "number"])
def test_fast_path_takes_the_plain_shapes(fast_path: FastPath, name: str) -> None:
    values = {"amount": ["¥1,299.00", "1299", "-5.00", "12.5元"], "integer": ["1299", "-42", "0"]}.get(
        name, ["1.5", "-3", "123456.789"]
    )
    run = fast_path(name, values)
    assert run.hits == len(values)
    assert run.disagreements == []

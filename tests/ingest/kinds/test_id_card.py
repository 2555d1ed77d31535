from __future__ import annotations

import datetime as dt
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric

from huaxiang.ingest.kinds import ValueContext, kind_named

CTX = ValueContext()
ID_CARD = kind_named("id_card")


@cache
def region_codes() -> tuple[str, ...]:
    """Six-digit region codes from stdnum's own table whose county was never renamed (no year range)."""
    codes: list[str] = []

    def walk(prefix: str, nodes: list[tuple[int, str, str, dict[str, str], list]]) -> None:  # type: ignore[type-arg]
        for _, low, high, props, children in nodes:
            if low != high:
                continue
            code = prefix + low
            if len(code) == 6 and not props.get("county", "[").startswith("["):
                codes.append(code)
            walk(code, children)

    walk("", numdb.get("cn/loc").prefixes)
    return tuple(sorted(codes))


@st.composite
def valid_ids(draw: st.DrawFn) -> tuple[str, dt.date, str]:
    region = draw(st.sampled_from(region_codes()))
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)))
    sequence = draw(st.integers(0, 999))
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    number = body + ric.calc_check_digit(body + "0")
    return number, birth, "M" if sequence % 2 else "F"


def test_region_table_is_not_empty() -> None:
    assert len(region_codes()) > 400


@settings(max_examples=300, deadline=None)
@given(generated=valid_ids())
def test_valid_numbers_give_birth_date_and_gender(generated: tuple[str, dt.date, str]) -> None:
    number, birth, gender = generated
    result = ID_CARD.normalise(number.lower(), CTX)
    assert result.error is None
    assert result.value == number
    assert dict(result.derived) == {"birth_date": birth.isoformat(), "gender": gender}
    assert ID_CARD.normalise(result.value, CTX) == result  # idempotent


@settings(max_examples=200, deadline=None)
@given(generated=valid_ids(), position=st.integers(0, 16), delta=st.integers(1, 9))
def test_a_changed_digit_is_caught(generated: tuple[str, dt.date, str], position: int, delta: int) -> None:
    number = generated[0]
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    result = ID_CARD.normalise(changed, CTX)
    assert result.value is None
    assert result.error is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("110105 19491231 002X", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    ],
)
def test_formatting_is_folded(raw: str, expected: str) -> None:
    result = ID_CARD.normalise(raw, CTX)
    assert result.value == expected
    assert dict(result.derived) == {"birth_date": "1949-12-31", "gender": "F"}


def _with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("110105491231002", "old 15-digit"),
        ("1101051949123100", "17 digits and a check digit"),
        ("11010519491231002Y", "17 digits and a check digit"),
        ("11010519491231002_", "17 digits and a check digit"),
        ("110105194912310021", "check digit"),
        (_with_check_digit("11010519491331002"), "birth date"),
        (_with_check_digit("99999919491231002"), "region code"),
    ],
)
def test_rejected_numbers(raw: str, fragment: str) -> None:
    result = ID_CARD.normalise(raw, CTX)
    assert result.value is None
    assert result.error is not None
    assert fragment in result.error
    assert dict(result.derived) == {"birth_date": None, "gender": None}

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huaxiang.ingest.kinds import ValueContext, kind_named

from .conftest import FastPath

CTX = ValueContext()

# Letters, digits, CJK, full-width forms, compatibility ideographs and many kinds of whitespace.
MIXED_TEXT = st.text(
    alphabet=st.sampled_from(
        list("abcXYZ019 -_.,'·") + list("张王李欧阳") + ["\u3000", "\t", "\n", "\xa0", "\u2003"]
        + list("ＡＢｃ１２，") + ["\uf900", "\u2460", "\ufb01", "\u00e9", "\u0301"]
    ),
    min_size=1,
    max_size=12,
)  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Hello   World ", "Hello World"),
        ("ＡＢＣ　１２３", "ABC 123"),
        ("上海\t分公司", "上海 分公司"),
        ("VIP", "VIP"),
    ],
)
def test_string_folds_width_and_whitespace(raw: str, expected: str) -> None:
    assert kind_named("string").normalise(raw, CTX).value == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("  John   Smith ", "John Smith"),
        ("阿卜杜拉·艾山", "阿卜杜拉·艾山"),
        ("Ｌｉ Ｌｅｉ", "Li Lei"),
    ],
)
def test_name_accepts_names(raw: str, expected: str) -> None:
    assert kind_named("name").normalise(raw, CTX).value == expected


@pytest.mark.parametrize("raw", ["12345", "１２３", "--", "3 4"])
def test_name_rejects_values_without_letters(raw: str) -> None:
    result = kind_named("name").normalise(raw, CTX)
    assert result.value is None
    assert result.error is not None
    assert "name" in result.error


def test_text_keeps_inner_layout() -> None:
    raw = "  好评！\n  物流很快，  ＡＢＣ  "
    assert kind_named("text").normalise(raw, CTX).value == "好评！\n  物流很快，  ＡＢＣ"


@settings(max_examples=60, deadline=None)
@given(values=st.lists(MIXED_TEXT, min_size=1, max_size=40))
@pytest.mark.parametrize("name", ["string", "name", "text"])
def test_fast_path_agrees_with_python(fast_path: FastPath, name: str, values: list[str]) -> None:
    assert fast_path(name, values).disagreements == []


def test_fast_path_takes_the_common_shapes(fast_path: FastPath) -> None:
    values = ["Beijing Branch", "上海分公司", "VIP-2", "张三", "Li Lei"]
    for name in ["string", "name", "text"]:
        assert fast_path(name, values).hits == len(values)


def test_every_character_the_string_fast_path_passes_is_its_own_nfkc_form() -> None:
    # the fast path lets printable ASCII and CJK Unified Ideographs through untouched
    for code in [*range(0x21, 0x7F), *range(0x4E00, 0xA000)]:
        char = chr(code)
        assert unicodedata.normalize("NFKC", char) == char
        assert not char.isspace()


@settings(max_examples=100, deadline=None)
@given(raw=MIXED_TEXT)
@pytest.mark.parametrize("name", ["string", "name", "text"])
def test_normalising_twice_changes_nothing(name: str, raw: str) -> None:
    once = kind_named(name).normalise(raw, CTX).value
    if once is not None:
        assert kind_named(name).normalise(once, CTX).value == once

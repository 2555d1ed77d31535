"""``gender`` and ``boolean``: fixed vocabularies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huaxiang.ingest.kinds import ValueContext, kind_named

from .conftest import FastPath

CTX = ValueContext()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("男", "M"), ("女士", "F"), ("先生", "M"), ("M", "M"), ("f", "F"), ("Female", "F"), ("ＭＡＬＥ", "M"),
     ("1", "M"), ("2", "F")],
)  # fmt: skip
def test_gender_spellings(raw: str, expected: str) -> None:
    assert kind_named("gender").normalise(raw, CTX).value == expected


@pytest.mark.parametrize("raw", ["0", "9", "未知", "保密", "Unknown"])
def test_stated_unknown_gender_is_missing(raw: str) -> None:
    assert kind_named("gender").normalise(raw, CTX).value is None
    assert kind_named("gender").normalise(raw, CTX).error is None


@pytest.mark.parametrize("raw", ["x", "男女", "3", "boy"])
def test_unknown_gender_spelling_is_an_error(raw: str) -> None:
    result = kind_named("gender").normalise(raw, CTX)
    assert result.value is None
    assert result.error is not None
    assert "男/女" in result.error


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("是", "true"), ("否", "false"), ("Y", "true"), ("n", "false"), ("TRUE", "true"), ("0", "false"),
     ("１", "true"), ("Yes", "true")],
)  # fmt: skip
def test_boolean_spellings(raw: str, expected: str) -> None:
    assert kind_named("boolean").normalise(raw, CTX).value == expected


@pytest.mark.parametrize("raw", ["maybe", "2", "是的"])
def test_unknown_boolean_spelling_is_an_error(raw: str) -> None:
    assert kind_named("boolean").normalise(raw, CTX).error is not None


WORDISH = st.text(alphabet="mfMFaleyesnotru012是否男女士先生ＭＦ K", min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(WORDISH, min_size=1, max_size=40))
@pytest.mark.parametrize("name", ["gender", "boolean"])
def test_fast_path_agrees_with_python(fast_path: FastPath, name: str, values: list[str]) -> None:
    assert fast_path(name, values).disagreements == []


@pytest.mark.parametrize("name", ["gender", "boolean"])
def test_fast_path_takes_the_plain_spellings(fast_path: FastPath, name: str) -> None:
    values = ["男", "女", "M", "f", "male", "FEMALE"] if name == "gender" else ["是", "否", "Y", "no", "TRUE"]
    run = fast_path(name, values)
    assert run.hits == len(values)
    assert run.disagreements == []

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huaxiang.ingest.kinds import ValueContext, kind_named

from .conftest import FastPath

CTX = ValueContext()
EMAIL = kind_named("email")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zhang.San@Example.COM", "zhang.san@example.com"),
        ("ＺＨＡＮＧ＠ＱＱ．ＣＯＭ", "zhang@qq.com"),
        ("li+promo@163.com", "li+promo@163.com"),
        ("user@xn--fiqs8s.cn", "user@中国.cn"),
    ],
)
def test_accepted_addresses_are_lower_cased(raw: str, expected: str) -> None:
    assert EMAIL.normalise(raw, CTX).value == expected


@pytest.mark.parametrize(
    "raw", ["zhang", "a@b", "a..b@qq.com", ".a@qq.com", "a@x.local", "a@-qq.com", "a b@qq.com"]
)
def test_rejected_addresses(raw: str) -> None:
    result = EMAIL.normalise(raw, CTX)
    assert result.value is None
    assert result.error is not None
    assert result.error.startswith("expected an e-mail address")


LABEL = st.text(alphabet="abcxyzABC019-_.+", min_size=1, max_size=10)
DOMAIN = st.lists(st.text(alphabet="abcqQ01-", min_size=1, max_size=8), min_size=1, max_size=3)
TLD = st.sampled_from(["com", "cn", "COM", "c", "local", "test", "onion", "123", "io", "xn--fiqs8s", "c-m"])


@st.composite
def email_like(draw: st.DrawFn) -> str:
    return f"{draw(LABEL)}@{'.'.join([*draw(DOMAIN), draw(TLD)])}"


@settings(max_examples=40, deadline=None)
@given(values=st.lists(email_like(), min_size=1, max_size=40))
def test_fast_path_agrees_with_email_validator(fast_path: FastPath, values: list[str]) -> None:
    assert fast_path("email", values).disagreements == []


def test_fast_path_takes_ordinary_addresses(fast_path: FastPath) -> None:
    values = ["zhang.san@qq.com", "Li_Lei+1@163.COM", "a-b@mail.example.com.cn"]
    run = fast_path("email", values)
    assert run.hits == len(values)
    assert run.disagreements == []


@settings(max_examples=100, deadline=None)
@given(raw=email_like())
def test_normalising_twice_changes_nothing(raw: str) -> None:
    once = EMAIL.normalise(raw, CTX).value
    if once is not None:
        assert EMAIL.normalise(once, CTX).value == once

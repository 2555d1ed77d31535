from __future__ import annotations

import pytest

from huaxiang.ingest.kinds import ValueContext, kind_named

CTX = ValueContext()
ADDRESS = kind_named("address")


@pytest.mark.parametrize(
    ("raw", "province", "city", "district"),
    [
        ("北京市朝阳区建国路88号", "北京市", "北京市", "朝阳区"),
        ("广东省深圳市南山区科技园", "广东省", "深圳市", "南山区"),
        ("杭州西湖区文三路１２号", "浙江省", "杭州市", "西湖区"),
        ("上海浦东新区世纪大道100号", "上海市", "上海市", "浦东新区"),
    ],
)
def test_addresses_are_completed_and_split(raw: str, province: str, city: str, district: str) -> None:
    result = ADDRESS.normalise(raw, CTX)
    assert result.error is None
    assert dict(result.derived) == {"province": province, "city": city, "district": district}
    assert result.value is not None
    assert result.value.startswith(province)
    assert ADDRESS.normalise(result.value, CTX) == result  # idempotent


def test_fullwidth_digits_are_folded() -> None:
    assert ADDRESS.normalise("杭州西湖区文三路１２号", CTX).value == "浙江省杭州市西湖区文三路12号"


@pytest.mark.parametrize("raw", ["Room 5, 123 Main Street", "建国路88号", "abc"])
def test_addresses_without_province_or_city_are_rejected(raw: str) -> None:
    result = ADDRESS.normalise(raw, CTX)
    assert result.value is None
    assert result.error == "expected a Chinese address with a province or city"
    assert dict(result.derived) == {"province": None, "city": None, "district": None}


def test_importing_the_parser_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    ADDRESS.normalise("北京市海淀区", CTX)
    captured = capfd.readouterr()
    assert "jionlp" not in captured.out + captured.err

from __future__ import annotations

import random

import pytest

from huaxiang.ingest.kinds import ValueContext, kind_named
from huaxiang.ingest.kinds.address import AddressKind
from huaxiang.ingest.kinds.base import Normalised

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


def _addresses_from_the_gazetteer(districts: int, seed: int) -> list[str]:
    """Addresses in real districts, written as people write them: in full, without the province, with short
    names, and on streets named after other places ("重庆路", "南京东路") or after the district itself
    ("南山路", which jionlp does not read as the district 南山)."""
    from huaxiang.ingest.kinds._jionlp import jionlp_module

    def short(info: dict[str, object], full: str) -> str:
        alias = info.get("_alias")
        names = [alias] if isinstance(alias, str) else alias if isinstance(alias, list) else []
        return str(names[0]) if names and names[0] else full

    gazetteer = jionlp_module().china_location_loader()
    units = [
        (province, short(info, province), city, short(cinfo, city), district, short(dinfo, district))
        for province, info in gazetteer.items()
        for city, cinfo in info.items()
        if not city.startswith("_")
        for district, dinfo in cinfo.items()
        if not district.startswith("_")
    ]
    rng = random.Random(seed)
    streets = ["文三路", "重庆路", "南京东路", "深圳路", "人民大街", "建设街", "中山北路", "解放路", "科技园"]
    out = []
    for province, short_province, city, short_city, district, short_district in rng.sample(units, districts):
        for prefix in (
            province + city + district,
            city + district,
            short_city + district,
            f"{short_province}{short_city}{district} ",
            short_city + short_district,
        ):
            out += [f"{prefix}{rng.choice(streets)}{rng.randint(1, 999)}号" for _ in range(2)]
        out.append(f"{short_city}{short_district}路{rng.randint(1, 99)}号")
    return out


def test_known_prefixes_give_jionlps_own_answer_with_far_fewer_scans() -> None:
    """The shortcut (a resolved administrative prefix is reused) must not change a single answer."""
    addresses = _addresses_from_the_gazetteer(60, seed=11)
    shortcut, direct = AddressKind(), AddressKind()
    direct._prefixes.find = lambda text: None  # type: ignore[method-assign]
    scans = 0
    parse = shortcut._parse

    def counted(text: str) -> Normalised:
        nonlocal scans
        scans += 1
        return parse(text)

    shortcut._parse = counted  # type: ignore[method-assign]
    for address in addresses:
        assert shortcut.normalise(address, CTX) == direct.normalise(address, CTX), address
    assert scans < len(addresses)

"""Value-level building blocks: valid variants stay valid, planted flaws really are invalid."""

from __future__ import annotations

import datetime as dt
import random
import re

import phonenumbers
import pytest
from stdnum.cn import ric

from huaxiang.demo import flaws, formats
from huaxiang.demo.places import cities, division_name, id_region_code
from huaxiang.demo.timeline import local_seconds, to_local


def _valid_phone(text: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, "CN"))
    except phonenumbers.NumberParseException:
        return False


@pytest.mark.parametrize("seed", range(5))
def test_phone_variants_stay_valid_and_invalid_phones_do_not(seed: int) -> None:
    rng = random.Random(seed)
    for phone in ("13812345678", "18900001111", "15555550123", "19912345670"):
        for _ in range(30):
            variant = formats.phone_variant(rng, phone, 1.0)
            assert _valid_phone(variant), variant
            assert flaws.digits(variant).endswith(phone)
            broken = flaws.invalid_phone(rng, variant)
            assert not _valid_phone(broken), broken


def test_invalid_id_cards_fail_the_checksum() -> None:
    rng = random.Random(1)
    valid = "110105199001011234"
    valid = valid[:-1] + ric.calc_check_digit(valid)
    assert ric.is_valid(valid)
    for _ in range(50):
        with pytest.raises(Exception, match="checksum"):
            ric.validate(flaws.invalid_id_card(rng, valid))


def test_invalid_emails_are_malformed() -> None:
    rng = random.Random(2)
    pattern = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    assert pattern.match("zhang.wei88@163.com")
    for _ in range(100):
        assert not pattern.match(flaws.invalid_email(rng, "zhang.wei88@163.com"))


def test_typos_change_one_character() -> None:
    rng = random.Random(3)
    for name in ("王伟", "李秀英", "欧阳娜", "张静"):
        typo = flaws.typo(rng, name)
        assert typo is not None and len(typo) == len(name)
        assert sum(a != b for a, b in zip(typo, name, strict=True)) == 1
    assert flaws.typo(rng, "丁一") is None


def test_date_and_time_variants_read_back_to_the_same_moment() -> None:
    rng = random.Random(4)
    day = dt.date(1985, 3, 7)
    readers = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")
    for _ in range(50):
        text = formats.birth_date_variant(rng, day)
        parsed = {dt.datetime.strptime(text, f).date() for f in readers if _parses(text, f)}
        assert parsed == {day}, text
    moment = local_seconds(dt.datetime(2025, 3, 1, 14, 5, 9))
    for _ in range(50):
        iso = dt.datetime.fromisoformat(formats.iso_time_variant(rng, moment))
        assert iso.replace(tzinfo=None) == to_local(moment)
        assert iso.utcoffset() in (None, dt.timedelta(hours=8))
        till = formats.till_time_variant(rng, moment)
        assert till in ("2025/03/01 14:05", "2025-03-01 14:05:09")


def _parses(text: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def test_money_formats_read_back_to_the_amount() -> None:
    rng = random.Random(5)
    assert formats.yuan_online(1299) == "¥1,299.00"
    for amount in (89.5, 1299.0, 12345.6, -59.9):
        for _ in range(10):
            text = formats.yuan_till(rng, amount)
            assert float(text.replace("¥", "").replace(",", "")) == pytest.approx(amount)


def test_district_codes_are_current_in_stdnum() -> None:
    for city in cities():
        for district in city.districts:
            assert division_name(district.code, 2026) == district.name
            assert district.code.startswith(city.prefix)


@pytest.mark.parametrize("year", [1951, 1966, 1979, 1985, 1993, 2001, 2008])
def test_id_regions_were_assigned_in_the_birth_year(year: int) -> None:
    rng = random.Random(year)
    for city in cities():
        for district in city.districts:
            region = id_region_code(city, district, year, rng)
            body = f"{region}{year}0101001"
            assert ric.is_valid(body + ric.calc_check_digit(body + "0")), (region, year)

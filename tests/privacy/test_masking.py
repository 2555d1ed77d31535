"""Masks keep what recognises a value and nothing that identifies it; masking twice equals masking once."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huaxiang.config import Level
from huaxiang.privacy.classification import FieldClass
from huaxiang.privacy.masking import (
    DEFAULT_POLICY,
    mask,
    mask_address,
    mask_email,
    mask_id_card,
    mask_name,
    mask_phone,
    present,
)
from huaxiang.privacy.roles import ROLES


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("+861012345678", "10******78"),  # a Beijing landline: 10 national digits
        ("+14155550123", "41******23"),
    ],
)
def test_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


def test_id_card_name_email() -> None:
    assert mask_id_card("11010519491231002X") == "110105********002X"
    assert mask_name("张伟") == "张*"
    assert mask_name("张三丰") == "张**"
    assert mask_name("John Smith") == "J*** S****"
    assert mask_email("zhang.wei@example.com") == "z***@example.com"
    assert mask_email("a@b.cn") == "a***@b.cn"


def test_address_is_cut_to_city_and_district() -> None:
    assert mask_address("北京市朝阳区建国路88号") == "北京市朝阳区"
    assert mask_address("杭州西湖区文三路") == "浙江省杭州市西湖区"
    assert mask_address("no place here") == "********"
    assert mask_address("anything", ("广东省", "深圳市", "南山区")) == "广东省深圳市南山区"


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["phone", "id_card", "name", "email", "date", "string", "gender", "amount"]),
    value=st.text(min_size=0, max_size=40),
)
def test_masking_twice_equals_masking_once(kind: str, value: str) -> None:
    once = mask(value, kind)
    assert mask(once, kind) == once


@settings(max_examples=25, deadline=None)
@given(
    value=st.sampled_from(["北京市朝阳区建国路88号", "上海市浦东新区张江路1号", "深圳南山", "x"])
    | st.text(max_size=12)
)
def test_address_masking_is_idempotent(value: str) -> None:
    once = mask_address(value)
    assert mask_address(once) == once


@settings(max_examples=200, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_a_masked_mobile_hides_the_middle_four(digits: str) -> None:
    shown = mask_phone("+86" + digits)
    assert shown[:3] == digits[:3] and shown[-4:] == digits[-4:] and shown[3:7] == "****"


def test_policy_covers_every_role_and_level_with_least_privilege() -> None:
    levels: tuple[Level, ...] = ("public", "internal", "personal", "sensitive")
    assert set(DEFAULT_POLICY) == set(ROLES)
    assert all(set(DEFAULT_POLICY[r]) == set(levels) for r in ROLES)
    assert (
        DEFAULT_POLICY["analyst"]["personal"] == "masked"
        and DEFAULT_POLICY["analyst"]["sensitive"] == "hidden"
    )
    assert (
        DEFAULT_POLICY["service"]["personal"] == "clear"
        and DEFAULT_POLICY["service"]["sensitive"] == "masked"
    )
    assert set(DEFAULT_POLICY["dpo"].values()) == {"clear"}
    # Nobody but the DPO sees sensitive data in clear.
    assert [r for r in ROLES if DEFAULT_POLICY[r]["sensitive"] == "clear"] == ["dpo"]


def test_present_applies_the_policy() -> None:
    phone = FieldClass("personal", "phone")
    id_card = FieldClass("sensitive", "id_card")
    assert present("+8613812345678", phone, "analyst").value == "138****5678"
    assert present("+8613812345678", phone, "service").value == "+8613812345678"
    assert present("11010519491231002X", id_card, "analyst").value is None
    assert present("11010519491231002X", id_card, "analyst").visibility == "hidden"
    assert present("11010519491231002X", id_card, "service").value == "110105********002X"
    assert present(None, phone, "dpo").value is None

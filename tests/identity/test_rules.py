"""Identifier-type rules: built-in defaults, ``identity:`` overrides key by key, blocklists as tokens."""

from __future__ import annotations

from typing import get_args

import pytest

from huaxiang.config import MatchSemanticType, parse_config
from huaxiang.errors import ConfigError
from huaxiang.identity.rules import blocked_tokens, rule_book
from huaxiang.identity.semantic_types import SEMANTIC_TYPES
from huaxiang.ingest.kinds import ValueContext
from huaxiang.privacy.crypto import Keyring, token

KEYRING = Keyring(current="k1", keys={"k1": b"\x07" * 32})


def test_defaults_without_an_identity_section() -> None:
    book = rule_book(parse_config("version: 1\n").identity)
    card, crm, device, phone = (book.rule(t) for t in ("id_card", "crm_id", "device_id", "phone"))
    assert (card.priority, card.max_per_person, card.shared) == (100, 1, False)
    assert (crm.priority, crm.max_per_person) == (90, 1)
    assert (device.priority, device.max_persons_per_value, device.shared) == (10, 3, True)
    assert (phone.priority, phone.max_per_person, phone.max_persons_per_value) == (70, None, 1)
    other = book.rule("loyalty_card")
    assert (other.priority, other.max_per_person, other.shared, other.blocklist) == (50, None, False, ())
    assert "test@test.com" in book.rule("email").blocklist


def test_config_overrides_one_key_at_a_time() -> None:
    config = parse_config(
        """
identity:
  default: {priority: 40}
  types:
    phone: {blocklist: ["139 0000 0000"]}
    id_card: {max_per_person: unlimited}
    device_id: {max_persons_per_value: 5}
    loyalty_card: {max_per_person: 2}
    email: {default_blocklist: false, blocklist: [nobody@example.cn]}
"""
    )
    book = rule_book(config.identity)
    phone = book.rule("phone")
    assert phone.priority == 70 and "13800138000" in phone.blocklist and "139 0000 0000" in phone.blocklist
    assert book.rule("id_card").max_per_person is None and book.rule("id_card").priority == 100
    assert book.rule("device_id").max_persons_per_value == 5
    assert (book.rule("loyalty_card").priority, book.rule("loyalty_card").max_per_person) == (40, 2)
    assert book.rule("crm_id").priority == 90  # the default applies to types without built-in rules only
    assert book.rule("wechat_unionid").priority == 40
    assert book.rule("email").blocklist == ("nobody@example.cn",)


def test_blocklisted_values_are_normalised_then_tokenised() -> None:
    config = parse_config('identity:\n  types:\n    phone: {blocklist: ["139 0000 0000", "not a phone"]}\n')
    book = rule_book(config.identity)
    blocked = blocked_tokens(book, {"phone": "phone", "email": "email"}, KEYRING, ValueContext())
    assert blocked[token(KEYRING, "phone", "+8613900000000")] == "phone"
    assert blocked[token(KEYRING, "email", "test@test.com")] == "email"
    assert all(t in {"phone", "email"} for t in blocked.values())


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("identity:\n  types:\n    phone: {priority: -1}\n", "identity.types.phone.priority"),
        ("identity:\n  types:\n    device_id: {max_persons_per_value: 0}\n", "identity.types.device_id"),
        ("identity:\n  match:\n    fields: {name: fullname}\n", "identity.match.fields.name"),
        ("identity:\n  match:\n    threshold: 1.5\n", "identity.match.threshold"),
        ("identity:\n  typo: 1\n", "identity.typo"),
    ],
)
def test_bad_identity_config_points_at_the_key(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    assert where in str(error.value)


def test_config_knows_every_semantic_type() -> None:
    assert set(get_args(MatchSemanticType)) == set(SEMANTIC_TYPES)

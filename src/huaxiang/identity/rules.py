"""Identifier-type rules: priority, per-person and per-value limits, junk values; built-in defaults + config.

Why defaults in code: a workspace with no ``identity:`` section must already resolve sensibly (one ID card and
one CRM number per person, a device shared by a household never merging it, ``test@test.com`` linking
nobody); ``huaxiang.yaml`` overrides a key at a time, so a user who only adds a junk phone keeps the priorities.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from huaxiang.config import IDENTIFIER_KINDS, Config, IdentifierRuleSpec, IdentitySpec
from huaxiang.ingest.kinds import ValueContext, kind_named
from huaxiang.privacy.crypto import Keyring, token

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IdentifierRule:
    """The resolved rules of one identifier type.

    ``max_per_person`` None means no limit. A type whose ``max_persons_per_value`` is above 1 is *shared*:
    its values never merge persons, they attach to the persons they are seen with.
    """

    id_type: str
    priority: int
    max_per_person: int | None
    max_persons_per_value: int
    blocklist: tuple[str, ...]

    @property
    def shared(self) -> bool:
        return self.max_persons_per_value > 1


_BUILT_IN: dict[str, tuple[int, int | None, int]] = {
    # type: (priority, max_per_person, max_persons_per_value)
    "id_card": (100, 1, 1),
    "crm_id": (90, 1, 1),
    "user_id": (80, None, 1),
    "phone": (70, None, 1),
    "email": (60, None, 1),
    "wechat_openid": (60, None, 1),
    "device_id": (10, None, 3),
}
_OTHERS: tuple[int, int | None, int] = (50, None, 1)

#: Values people type when a form insists: placeholders, test accounts, the operator's demo number.
_BUILT_IN_BLOCKLIST: dict[str, tuple[str, ...]] = {
    "phone": (
        "13800138000",
        "13800000000",
        "13000000000",
        "13888888888",
        "13999999999",
        "18888888888",
        "15888888888",
        "13111111111",
        "13333333333",
        "18000000000",
        "+8600000000000",
    ),
    "email": (
        "test@test.com",
        "test@example.com",
        "example@example.com",
        "a@a.com",
        "abc@abc.com",
        "none@none.com",
        "null@null.com",
        "noreply@noreply.com",
        "123@qq.com",
        "123456@qq.com",
        "test@qq.com",
        "xxx@xxx.com",
    ),
    "id_card": ("110101190001011009", "111111111111111111", "000000000000000000"),
    "device_id": (
        "00000000-0000-0000-0000-000000000000",
        "unknown",
        "null",
        "undefined",
        "0",
    ),
    "user_id": ("0", "-1", "null", "guest", "anonymous"),
    "crm_id": ("0", "-1", "null"),
}


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The rules of every identifier type; a type nobody declared gets the rules of ``identity.default``."""

    declared: Mapping[str, IdentifierRule]
    fallback: IdentifierRule

    def rule(self, id_type: str) -> IdentifierRule:
        found = self.declared.get(id_type)
        if found is not None:
            return found
        f = self.fallback
        return IdentifierRule(id_type, f.priority, f.max_per_person, f.max_persons_per_value, f.blocklist)

    def rules(self, id_types: Iterable[str]) -> list[IdentifierRule]:
        return [self.rule(t) for t in sorted(set(id_types))]


def rule_book(spec: IdentitySpec) -> RuleBook:
    """Built-in defaults with ``identity.types`` laid over them, key by key.

    ``identity.default`` applies to types without built-in rules only: a household tablet stays shared and
    an ID card stays one per person whatever the default says.
    """
    others = _overlay(IdentifierRule("*", *_OTHERS, ()), spec.default)
    declared: dict[str, IdentifierRule] = {}
    for name in set(_BUILT_IN) | set(spec.types):
        base = (
            IdentifierRule(name, *_BUILT_IN[name], ())
            if name in _BUILT_IN
            else IdentifierRule(
                name, others.priority, others.max_per_person, others.max_persons_per_value, ()
            )
        )
        built_in_blocklist = _BUILT_IN_BLOCKLIST.get(name, ())
        base = IdentifierRule(
            name, base.priority, base.max_per_person, base.max_persons_per_value, built_in_blocklist
        )
        declared[name] = _overlay(base, spec.types.get(name, IdentifierRuleSpec()))
    return RuleBook(declared, others)


def _overlay(base: IdentifierRule, spec: IdentifierRuleSpec) -> IdentifierRule:
    per_person = base.max_per_person
    if spec.max_per_person == "unlimited":
        per_person = None
    elif spec.max_per_person is not None:
        per_person = spec.max_per_person
    blocklist = [*(base.blocklist if spec.default_blocklist else ()), *spec.blocklist]
    return IdentifierRule(
        id_type=base.id_type,
        priority=base.priority if spec.priority is None else spec.priority,
        max_per_person=per_person,
        max_persons_per_value=(
            base.max_persons_per_value if spec.max_persons_per_value is None else spec.max_persons_per_value
        ),
        blocklist=tuple(dict.fromkeys(blocklist)),
    )


def identifier_kinds(config: Config) -> dict[str, str]:
    """Identifier type → the value kind its sources normalise it with (a user's lookup must normalise alike)."""
    kinds = dict(IDENTIFIER_KINDS)
    for source in config.sources:
        for spec in source.fields:
            if spec.role == "identifier":
                kinds[spec.target] = spec.value_kind
    return kinds


def identifier_token(
    keyring: Keyring, id_type: str, kind: str, raw: str, context: ValueContext
) -> str | None:
    """The token of a value as a user typed it (``138 1234 5678`` finds ``+8613812345678``); None if invalid."""
    result = kind_named(kind).normalise(raw.strip(), context)
    if result.value is None:
        return None
    return token(keyring, id_type, str(result.value))


def blocked_tokens(
    book: RuleBook, kinds: Mapping[str, str], keyring: Keyring, context: ValueContext
) -> dict[str, str]:
    """Token → id type of every blocklisted value of the given types (values that cannot be valid are skipped)."""
    blocked: dict[str, str] = {}
    for rule in book.rules(kinds):
        kind = kinds[rule.id_type]
        for raw in rule.blocklist:
            found = identifier_token(keyring, rule.id_type, kind, raw, context)
            if found is None:
                log.debug("a blocklisted %s value is not a valid %s; skipped", rule.id_type, kind)
                continue
            blocked[found] = rule.id_type
    return blocked

from __future__ import annotations

import pytest

from huaxiang.errors import ConfigError
from huaxiang.ingest.kinds import KIND_NAMES, Kind, ValueContext, kind_named

EXPECTED_KINDS = {
    "string", "name", "text", "phone", "email", "id_card", "gender", "address",
    "amount", "integer", "number", "boolean", "date", "timestamp",
}  # fmt: skip


def test_every_kind_is_registered_under_its_name() -> None:
    assert set(KIND_NAMES) == EXPECTED_KINDS
    for name in KIND_NAMES:
        assert kind_named(name).name == name


def test_unknown_kind_lists_the_known_ones_closest_first() -> None:
    with pytest.raises(ConfigError) as raised:
        kind_named("phon")
    message = str(raised.value)
    assert "'phon'" in message
    listed = message.split("use one of: ")[1].split(", ")
    assert listed[0] == "phone"
    assert set(listed) == set(KIND_NAMES)


@pytest.mark.parametrize("name", KIND_NAMES)
def test_derived_outputs_always_match_the_declared_fields(name: str) -> None:
    kind: Kind = kind_named(name)
    for raw in ["x", "1", "  ", "2024-03-01"]:
        result = kind.normalise(raw, ValueContext())
        assert tuple(field for field, _ in result.derived) == kind.derived_fields
        if result.value is None:
            assert all(value is None for _, value in result.derived)


@pytest.mark.parametrize("name", KIND_NAMES)
def test_kinds_with_derived_fields_have_no_fast_path(name: str) -> None:
    kind = kind_named(name)
    if kind.derived_fields:
        assert kind.sql_fast_path("v", ValueContext()) is None


@pytest.mark.parametrize("name", KIND_NAMES)
def test_blank_is_missing_not_invalid(name: str) -> None:
    result = kind_named(name).normalise(" \u3000\t", ValueContext())
    assert result.value is None
    assert result.error is None


def test_context_rejects_unknown_zone_and_region() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        ValueContext(timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match="phone region"):
        ValueContext(region="XX")
    with pytest.raises(ConfigError, match="directive"):
        ValueContext(date_formats=("dd/mm/yyyy",))

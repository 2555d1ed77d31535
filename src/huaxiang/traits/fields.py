"""The event fields a trait may read, with their types, taken from the workspace's source mappings.

The config is the contract for what events carry: each mapped property or attribute (and the fields a kind
derives, such as ``province`` from an address) becomes a name of the expression language, typed by its
value kind. Sensitive fields are encrypted at rest, so they are left out: no trait can aggregate them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from huaxiang.config import Config, FieldSpec
from huaxiang.expressions import ValueType
from huaxiang.ingest.kinds import kind_named

FieldLocation = Literal["column", "property", "attribute", "both", "absent"]

#: Derived fields whose values are not plain text (all others are); kinds declare only their names.
_DERIVED_TYPES: dict[str, ValueType] = {"birth_date": "date"}


@dataclass(frozen=True, slots=True)
class EventField:
    """A name an event filter or trait value can read, where the value is stored, and its type.

    ``absent`` fields are known to the standard library but not mapped by this workspace: they read as NULL.
    """

    name: str
    type: ValueType
    location: FieldLocation


BASE_FIELDS: dict[str, EventField] = {
    "type": EventField("type", "string", "column"),
    "source": EventField("source", "string", "column"),
    "ts": EventField("ts", "timestamp", "column"),
}


def value_type_of_kind(kind: str) -> ValueType:
    """The expression-language type of a value kind, from the SQL type the kind stores."""
    sql_type = kind_named(kind).sql_type
    if sql_type.startswith(("DECIMAL", "DOUBLE", "BIGINT", "INTEGER")):
        return "number"
    if sql_type == "BOOLEAN":
        return "boolean"
    if sql_type == "DATE":
        return "date"
    if sql_type == "TIMESTAMP":
        return "timestamp"
    return "string"


def event_fields(config: Config) -> dict[str, EventField]:
    """Every readable event field of a workspace: the base columns, then mapped properties and attributes."""
    found: dict[str, tuple[set[ValueType], set[str]]] = {}
    for source in config.sources:
        explicit = {f.target for f in source.fields if f.role != "identifier"}
        for spec in source.fields:
            for name, value_type, place in _field_names(spec, explicit):
                types, places = found.setdefault(name, (set(), set()))
                types.add(value_type)
                places.add(place)
    fields = dict(BASE_FIELDS)
    for name, (types, places) in sorted(found.items()):
        if name in fields:
            continue  # a property called "type" cannot hide the event type
        value_type = types.pop() if len(types) == 1 else "string"  # sources disagree: read it as text
        location: FieldLocation = (
            "both" if len(places) > 1 else "property" if "property" in places else "attribute"
        )
        fields[name] = EventField(name, value_type, location)
    return fields


def _field_names(spec: FieldSpec, explicit: set[str]) -> Iterator[tuple[str, ValueType, str]]:
    """The stored names of one mapped column (mirrors how ingest writes ``attributes`` and ``properties``)."""
    kind = kind_named(spec.value_kind)
    if spec.role == "related_identifier":  # stored as a token property (another person's); derives nothing
        yield spec.target, "string", "property"
        return
    place = "attribute" if spec.role == "identifier" else spec.role
    if spec.role != "identifier" and spec.classification != "sensitive":
        yield spec.target, value_type_of_kind(spec.value_kind), place
    prefix = "" if spec.target in (kind.name, "id_card") else f"{spec.target}_"
    for derived in kind.derived_fields:
        name = prefix + derived
        if name not in explicit:
            yield name, _DERIVED_TYPES.get(derived, "string"), place


def field_types(fields: Mapping[str, EventField]) -> dict[str, ValueType]:
    """The name → type catalogue the expression parser checks against."""
    return {name: f.type for name, f in fields.items()}

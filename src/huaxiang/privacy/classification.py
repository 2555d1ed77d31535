"""The level and value kind of every name a read may show: attributes, identifier types, source columns.

Levels come from ``huaxiang.yaml`` (``FieldSpec.classification``); this module adds what the config does
not list: fields ingest *derives* (birth date and gender from an ID number, province/city/district from an
address), names no current source declares (kept as ``personal``: unknown data is treated as personal, not
public), and PIPL art. 28's rule that a minor's personal information is sensitive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from huaxiang.config import DEFAULT_LEVELS, IDENTIFIER_KINDS, Config, Level

LEVEL_RANK: dict[Level, int] = {"public": 0, "internal": 1, "personal": 2, "sensitive": 3}

#: Fields ingest derives from a value kind (mirrors ``derived_fields`` of the ingest kinds, which this
#: layer may not import; a test holds the two equal).
DERIVED_FIELDS: dict[str, tuple[str, ...]] = {
    "id_card": ("birth_date", "gender"),
    "address": ("province", "city", "district"),
}


@dataclass(frozen=True, slots=True)
class FieldClass:
    """How to treat one named value: its classification level and the kind that picks its mask."""

    level: Level
    kind: str


#: Levels of derived fields: a birth date and gender are personal; the coarse place is what an address
#: is masked *to*, so it is internal.
DERIVED_CLASSES: dict[str, FieldClass] = {
    "birth_date": FieldClass("personal", "date"),
    "gender": FieldClass("personal", "gender"),
    "province": FieldClass("internal", "region"),
    "city": FieldClass("internal", "region"),
    "district": FieldClass("internal", "region"),
}
UNKNOWN = FieldClass("personal", "string")


def stricter(a: FieldClass, b: FieldClass) -> FieldClass:
    return a if LEVEL_RANK[a.level] >= LEVEL_RANK[b.level] else b


def for_minor(field_class: FieldClass) -> FieldClass:
    """PIPL art. 28: personal information of a minor under 14 is sensitive personal information."""
    if field_class.level == "personal":
        return FieldClass("sensitive", field_class.kind)
    return field_class


@dataclass(frozen=True, slots=True)
class Classification:
    """Levels by attribute/property name, identifier type and (source, column)."""

    attributes: Mapping[str, FieldClass] = field(default_factory=dict)
    identifiers: Mapping[str, FieldClass] = field(default_factory=dict)
    columns: Mapping[tuple[str, str], FieldClass] = field(default_factory=dict)

    def attribute(self, name: str) -> FieldClass:
        return self.attributes.get(name, UNKNOWN)

    def identifier(self, id_type: str) -> FieldClass:
        if id_type in self.identifiers:
            return self.identifiers[id_type]
        return FieldClass(DEFAULT_LEVELS.get(id_type, "personal"), IDENTIFIER_KINDS.get(id_type, "string"))

    def column(self, source: str, column: str) -> FieldClass:
        return self.columns.get((source, column), UNKNOWN)


def classify(config: Config) -> Classification:
    """Every name the config declares, with the strictest level where two sources disagree."""
    attributes: dict[str, FieldClass] = {}
    identifiers: dict[str, FieldClass] = {}
    columns: dict[tuple[str, str], FieldClass] = {}

    def put(table: dict[str, FieldClass], name: str, value: FieldClass) -> None:
        table[name] = stricter(table[name], value) if name in table else value

    for source in config.sources:
        for spec in source.fields:
            own = FieldClass(spec.classification, spec.value_kind)
            columns[(source.name, spec.column)] = own
            put(identifiers if spec.role == "identifier" else attributes, spec.target, own)
            prefix = "" if spec.target in (spec.value_kind, "id_card") else f"{spec.target}_"
            for derived in DERIVED_FIELDS.get(spec.value_kind, ()):
                put(attributes, prefix + derived, DERIVED_CLASSES[derived])
        for column in (source.timestamp, source.event_type_column, source.watermark):
            if column and (source.name, column) not in columns:
                columns[(source.name, column)] = FieldClass("internal", "string")
    return Classification(attributes, identifiers, columns)

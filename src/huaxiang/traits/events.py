"""The events a build reads: the event log joined to resolved persons, with typed columns per field.

Each field a trait reads is extracted from the JSON ``properties``/``attributes`` once, in one projection,
and cast to its type (invalid values become NULL rather than failing the build); every trait then reads
plain columns. Fields the standard library knows but this workspace does not map read as typed NULLs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from huaxiang.expressions.builtins import json_text
from huaxiang.expressions.ibis_compiler import IBIS_TYPES
from huaxiang.traits.fields import EventField

PERSONS_TABLE = "event_persons"


def typed_events(
    events: ir.Table, persons: ir.Table, fields: Mapping[str, EventField], reads: Iterable[str]
) -> ir.Table:
    """``person_id, event_id, ts, type, source`` and one typed column per field in ``reads``."""
    joined = events.join(persons, events.event_id == persons.event_id)
    columns: dict[str, Any] = {
        "person_id": persons.person_id,
        "event_id": events.event_id,
        "ts": events.ts,
        "type": events.type,
        "source": events.source,
    }
    for name in sorted(set(reads) - set(columns)):
        columns[name] = _extract(events, fields[name])
    return joined.select(**columns)


def _extract(events: ir.Table, field: EventField) -> ir.Value:
    target = IBIS_TYPES[field.type]
    if field.location == "absent":
        return ibis.null(target)
    path = json_path(field.name)
    texts = []
    if field.location in ("property", "both"):
        texts.append(json_text(events.properties, path))
    if field.location in ("attribute", "both"):
        texts.append(json_text(events.attributes, path))
    text = texts[0] if len(texts) == 1 else ibis.coalesce(*texts)
    return text if field.type == "string" else text.try_cast(target)


def json_path(name: str) -> str:
    return '$."' + name.replace('"', '\\"') + '"'

"""The events a build reads: the event log joined to resolved persons, with typed columns per field.

Each JSON document (``properties``, ``attributes``) is parsed once per event into the members the traits read,
and each member cast to its type (invalid values become NULL rather than failing the build); every trait then reads
plain columns. Fields the standard library knows but this workspace does not map read as typed NULLs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from huaxiang.expressions.ibis_compiler import IBIS_TYPES
from huaxiang.traits.fields import EventField

PERSONS_TABLE = "event_persons"


def typed_events(
    events: ir.Table, persons: ir.Table, fields: Mapping[str, EventField], reads: Iterable[str]
) -> ir.Table:
    """``person_id, event_id, ts, type, source`` and one typed column per field in ``reads``."""
    base = ("person_id", "event_id", "ts", "type", "source")
    wanted = [fields[name] for name in sorted(set(reads) - set(base))]
    joined = events.join(persons, events.event_id == persons.event_id)
    documents: dict[str, Any] = {
        "person_id": persons.person_id,
        "event_id": events.event_id,
        "ts": events.ts,
        "type": events.type,
        "source": events.source,
    }
    for document in _DOCUMENTS:
        members = sorted(f.name for f in wanted if f.location in (document, "both"))
        if members:
            documents[_DOCUMENT + document] = _parsed(events[_DOCUMENT_COLUMNS[document]], members)
    parsed = joined.select(**documents)
    columns: dict[str, Any] = {name: parsed[name] for name in base}
    for field in wanted:
        columns[field.name] = _typed(parsed, field)
    return parsed.select(**columns)


#: Where each field location lives: the event's ``properties`` or ``attributes`` JSON document.
_DOCUMENTS = ("property", "attribute")
_DOCUMENT_COLUMNS = {"property": "properties", "attribute": "attributes"}
_DOCUMENT = "__document_"  # the parsed members of one document, a struct of text


def _parsed(document: ir.Value, members: list[str]) -> ir.Value:
    """Every member a build reads from one JSON document, as text, in one parse (``json_transform``).

    Extracting members one by one (``->>``) parses the document once per member: with the twenty-odd
    members of the standard library that was most of the cost of reading the events. Text values are what
    ``->>`` gives (numbers as written, objects as JSON text), so typing them afterwards is unchanged.
    """
    shape = dt.Struct(dict.fromkeys(members, dt.string))
    structure = json.dumps(dict.fromkeys(members, "VARCHAR"), ensure_ascii=False)
    transform = _TRANSFORMS.setdefault(
        shape,
        ibis.udf.scalar.builtin(
            _json_transform, name="json_transform", signature=((dt.json, dt.string), shape)
        ),
    )
    return transform(document, structure)


def _json_transform(document: Any, structure: Any) -> Any: ...


_TRANSFORMS: dict[dt.DataType, Any] = {}


def _typed(parsed: ir.Table, field: EventField) -> ir.Value:
    target = IBIS_TYPES[field.type]
    if field.location == "absent":
        return ibis.null(target)
    texts = [
        parsed[_DOCUMENT + document][field.name]
        for document in _DOCUMENTS
        if field.location in (document, "both")
    ]
    text = texts[0] if len(texts) == 1 else ibis.coalesce(*texts)
    return text if field.type == "string" else text.try_cast(target)


def json_path(name: str) -> str:
    """The JSON path of one top-level member, quoted so any member name is read literally."""
    return '$."' + name.replace('"', '\\"') + '"'

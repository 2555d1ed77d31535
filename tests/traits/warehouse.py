"""Test helpers: put person-tagged events into a real DuckDB warehouse and run the batch compiler on it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import ibis
import pyarrow as pa

from huaxiang.backends.duckdb import Warehouse
from huaxiang.expressions import EvaluationContext
from huaxiang.traits import EventField, EventRecord, Trait, compile_traits, typed_events

PersonEvent = tuple[str, EventRecord]


def _json(values: Mapping[str, Any]) -> str | None:
    present = {
        k: (v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v)
        for k, v in values.items()
    }
    return json.dumps(present, ensure_ascii=False) if present else None


def load_events(
    warehouse: Warehouse, events: Sequence[PersonEvent], fields: Mapping[str, EventField]
) -> None:
    """Insert events (properties or attributes by the field's location) and their persons, as identity would."""
    warehouse.con.execute("CREATE TABLE IF NOT EXISTS event_persons(event_id VARCHAR, person_id VARCHAR)")
    if not events:
        return
    columns: dict[str, list[Any]] = {
        k: [] for k in ("event_id", "source", "type", "ts", "attributes", "properties")
    }
    for _, event in events:
        properties = {k: v for k, v in event.fields.items() if fields[k].location != "attribute"}
        attributes = {k: v for k, v in event.fields.items() if fields[k].location == "attribute"}
        for name, value in zip(
            columns,
            (event.event_id, event.source, event.type, event.ts, _json(attributes), _json(properties)),
            strict=True,
        ):
            columns[name].append(value)
    batch = pa.table(columns)
    persons = pa.table({"event_id": [e.event_id for _, e in events], "person_id": [p for p, _ in events]})
    warehouse.con.register("new_events", batch)
    warehouse.con.register("new_persons", persons)
    warehouse.con.execute(
        "INSERT INTO events SELECT event_id, source, type, ts, TIMESTAMP '2030-01-01', 'b', event_id, 'test', "
        "attributes::JSON, properties::JSON, NULL FROM new_events; "
        "INSERT INTO event_persons SELECT * FROM new_persons"
    )
    warehouse.con.unregister("new_events")
    warehouse.con.unregister("new_persons")


def compiled_sql(
    traits: Sequence[Trait], fields: Mapping[str, EventField], context: EvaluationContext
) -> str:
    """The batch query for these traits as SQL (compiling is the slow part: property tests reuse it)."""
    backend = ibis.duckdb.connect()
    backend.raw_sql(
        "CREATE TABLE events (event_id VARCHAR, source VARCHAR, type VARCHAR, ts TIMESTAMP, attributes JSON, "
        "properties JSON); CREATE TABLE event_persons (event_id VARCHAR, person_id VARCHAR)"
    )
    reads = set().union(*(t.reads for t in traits))
    table = typed_events(backend.table("events"), backend.table("event_persons"), fields, reads)
    return str(ibis.to_sql(compile_traits(traits, table, context), dialect="duckdb"))


def run_batch(
    warehouse: Warehouse,
    traits: Sequence[Trait],
    fields: Mapping[str, EventField],
    context: EvaluationContext,
    *,
    sql: str | None = None,
) -> dict[str, dict[str, Any]]:
    """person_id → trait name → value, computed by the batch compiler on DuckDB (``sql``: precompiled)."""
    if sql is None:
        backend = ibis.duckdb.from_connection(warehouse.con)
        reads = set().union(*(t.reads for t in traits))
        table = typed_events(backend.table("events"), backend.table("event_persons"), fields, reads)
        result = backend.to_pyarrow(compile_traits(traits, table, context)).to_pylist()
    else:
        warehouse.con.execute("CREATE TABLE IF NOT EXISTS event_persons(event_id VARCHAR, person_id VARCHAR)")
        result = warehouse.con.sql(sql).to_arrow_table().to_pylist()
    return {row.pop("person_id"): row for row in result}

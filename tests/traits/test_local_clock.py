"""The batch pass's local clock: offset arithmetic must equal the engine's own zone conversion.

``local_clock`` replaces DuckDB's per-row ``timezone(zone, ts)`` with ``ts + offset`` picked from the zone's
transitions; these tests run both in DuckDB over instants around every change (DST both ways, half- and
quarter-hour zones, a zone that dropped DST) and require identical wall-clock times.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt
import pytest

from huaxiang.config import TraitSpec
from huaxiang.expressions import EvaluationContext
from huaxiang.expressions.builtins import local_time
from huaxiang.traits import BASE_FIELDS, compile_traits, resolve_trait, typed_events
from huaxiang.traits.localtime import local_clock, offsets

START = datetime(2023, 1, 1)
END = datetime(2025, 1, 1)


@pytest.mark.parametrize(
    "zone",
    ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"],
)
def test_offset_arithmetic_equals_the_engines_conversion(zone: str) -> None:
    changes = offsets(ZoneInfo(zone), START, END)
    around = [since + timedelta(seconds=s) for since, _ in changes for s in (-3601, -1, 0, 1, 1799, 3600)]
    hourly = [START + timedelta(hours=h, seconds=17) for h in range(0, 2 * 366 * 24, 7)]
    instants = sorted(t for t in around + hourly if START <= t <= END)
    backend = ibis.duckdb.connect()
    table = ibis.memtable({"ts": instants}, schema={"ts": "timestamp"})
    utc = table.ts.cast(dt.Timestamp(timezone="UTC"))
    both = table.select(
        "ts", ours=local_clock(table.ts, ZoneInfo(zone), START, END), engine=local_time(zone, utc)
    )
    rows = backend.to_pyarrow(both).to_pylist()
    assert len(rows) == len(instants)
    wrong = [r for r in rows if r["ours"] != r["engine"]]
    assert wrong == []


def test_zones_that_change_report_each_change_once() -> None:
    berlin = offsets(ZoneInfo("Europe/Berlin"), START, END)
    assert [(t.isoformat(), s) for t, s in berlin[1:]] == [
        ("2023-03-26T01:00:00", 7200),
        ("2023-10-29T01:00:00", 3600),
        ("2024-03-31T01:00:00", 7200),
        ("2024-10-27T01:00:00", 3600),
    ]
    assert offsets(ZoneInfo("Asia/Shanghai"), START, END) == [(START, 8 * 3600)]


def _compiled(span: tuple[datetime, datetime] | None) -> str:
    context = EvaluationContext(END, ZoneInfo("Asia/Shanghai"))
    specs = [
        TraitSpec(name="peak_hour", agg="mode", of="hour(ts)"),
        TraitSpec(name="weekdays", agg="top_k", of="weekday(ts)", k=3),
        TraitSpec(name="night_events", agg="count", where="hour(ts) < 6"),
    ]
    traits = [resolve_trait(s, BASE_FIELDS, timezone=context.timezone, where="t") for s in specs]
    events = ibis.table(
        {
            "event_id": "string",
            "source": "string",
            "type": "string",
            "ts": "timestamp",
            "attributes": "json",
            "properties": "json",
        },
        name="events",
    )
    persons = ibis.table({"event_id": "string", "person_id": "string"}, name="event_persons")
    typed = typed_events(events, persons, BASE_FIELDS, {"ts"})
    return str(ibis.to_sql(compile_traits(traits, typed, context, span=span), dialect="duckdb")).lower()


def test_the_local_time_is_derived_once_per_event_for_every_trait_reading_it() -> None:
    assert _compiled(None).count("timezone(") == 1
    assert "timezone(" not in _compiled((START, END))

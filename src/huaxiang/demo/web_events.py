"""Behaviour logs (``web_events/part-*.parquet``): page views, searches, carts, logins, consent.

``user_id`` is empty until a visitor logs in on that device, so anonymous browsing can be tied
to a person only through the device; a family tablet is shared by several persons. Timestamps
are real UTC timestamps (Parquet's type), so a bad one is missing or in the future, never
unparseable.
"""

from __future__ import annotations

import random

import pyarrow as pa

from huaxiang.demo import flaws
from huaxiang.demo.activity import WebEvent
from huaxiang.demo.records import Planter, SourceRecord, SourceTable, set_value
from huaxiang.demo.timeline import to_utc_micros

SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("device_id", pa.string()),
        ("user_id", pa.string()),
        ("event", pa.string()),
        ("page", pa.string()),
        ("sku", pa.string()),
        ("category", pa.string()),
        ("search_query", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("purpose", pa.string()),
        ("granted", pa.bool_()),
    ]
)
KEY = ("event_id",)


def build_web_events(rng: random.Random, events: tuple[WebEvent, ...]) -> SourceTable:
    records = [
        SourceRecord(
            {
                "event_id": f"E{number:09d}",
                "device_id": e.device,
                "user_id": e.user_id,
                "event": e.event,
                "page": e.page,
                "sku": e.sku,
                "category": e.category,
                "search_query": e.query,
                "ts": to_utc_micros(e.ts),
                "purpose": e.purpose,
                "granted": e.granted,
            },
            e.person.true_id,
        )
        for number, e in enumerate(events, start=1)
    ]
    planter = Planter(rng, records)

    def anonymise(r: SourceRecord) -> None:
        r.values["device_id"] = r.values["user_id"] = None

    planter.plant(0.005, "no_identifier", anonymise, quarantine=True)
    planter.plant(0.003, "missing_timestamp", set_value("ts", lambda _: None), quarantine=True)
    planter.plant(
        0.003,
        "future_timestamp",
        set_value("ts", lambda _: to_utc_micros(flaws.future_time(rng))),
        quarantine=True,
    )
    planter.duplicate(0.01)
    planter.garbage(
        [
            {"event_id": f"HB{i:06d}", "event": "__heartbeat__", "page": "/health"}
            for i in range(max(1, round(len(records) * 0.001)))
        ]
    )
    return SourceTable("web_events", tuple(SCHEMA.names), KEY, planter.finish())


def part_count(customers: int) -> int:
    """Two to four files, more for bigger worlds, as an hourly export would roll over."""
    return 2 if customers < 1000 else 3 if customers < 8000 else 4

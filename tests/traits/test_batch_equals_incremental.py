"""Property: the batch compiler (Ibis on DuckDB) and the incremental evaluators agree on any event sequence.

Events arrive in any order (hypothesis shuffles them), share timestamps (ties go to the event id), carry
missing values, and the as-of time falls anywhere, so windows and point-in-time cuts are exercised too.
Amounts are multiples of 0.25, so sums are exact in floating point and compared exactly.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huaxiang.backends.duckdb import Warehouse
from huaxiang.config import TraitSpec
from huaxiang.expressions import EvaluationContext
from huaxiang.traits import BASE_FIELDS, EventField, EventRecord, IncrementalTrait, Trait, fold, resolve_trait
from huaxiang.traits.incremental import EPOCH
from tests.traits.warehouse import PersonEvent, compiled_sql, load_events, run_batch

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 1, 1)
FIELDS = {
    **BASE_FIELDS,
    "amount": EventField("amount", "number", "property"),
    "category": EventField("category", "string", "property"),
    "channel": EventField("channel", "string", "property"),
    "city": EventField("city", "string", "attribute"),
}
SPECS = [
    TraitSpec(name="events", agg="count"),
    TraitSpec(name="purchases", agg="count", where="type = 'purchase'"),
    TraitSpec(name="amounts", agg="count", of="amount"),
    TraitSpec(name="spend", agg="sum", of="amount", where="type = 'purchase'"),
    TraitSpec(name="spend_7d", agg="sum", of="amount", window="7d"),
    TraitSpec(name="avg_amount", agg="avg", of="amount", where="category IN ('a', 'b')"),
    TraitSpec(name="min_amount", agg="min", of="amount"),
    TraitSpec(name="max_amount_30d", agg="max", of="amount", window="30d"),
    TraitSpec(name="first_category", agg="first", of="category"),
    TraitSpec(name="last_category", agg="last", of="category", where="type <> 'identify'"),
    TraitSpec(name="last_channel_7d", agg="last", of="channel", window="7d"),
    TraitSpec(name="first_seen", agg="min", of="ts"),
    TraitSpec(name="last_purchase_at", agg="max", of="ts", where="type = 'purchase'"),
    TraitSpec(name="categories", agg="distinct_count", of="category"),
    TraitSpec(name="channels_30d", agg="distinct_count", of="channel", window="30d"),
    TraitSpec(name="favourite", agg="mode", of="category"),
    TraitSpec(name="top_categories", agg="top_k", of="category", k=2),
    TraitSpec(name="top_channels_7d", agg="top_k", of="channel", k=2, window="7d"),
    TraitSpec(name="active_hours", agg="top_k", of="hour(ts)", k=3),
    TraitSpec(
        name="weighted",
        agg="top_k",
        of="category",
        k=2,
        weight="CASE WHEN type = 'purchase' THEN 3 ELSE 1 END",
    ),
    TraitSpec(name="big_spender_mode", agg="mode", of="amount > 20"),
    TraitSpec(name="city", agg="attribute", of="city", sources=["crm", "shop"]),
    TraitSpec(name="any_city", agg="attribute", of="city"),
]
DECAYED = TraitSpec(name="affinity", agg="top_k", of="category", k=3, decay="5d")
TRAITS = [resolve_trait(s, FIELDS, timezone=ZONE, where=f"traits[{i}]") for i, s in enumerate(SPECS)]
AFFINITY = resolve_trait(DECAYED, FIELDS, timezone=ZONE, where="affinity")
#: As-of times before, inside and after the generated events (hours=7: not on a day boundary).
AS_OF = [START + timedelta(days=days, hours=7) for days in (0, 3, 10, 25, 45, 61)]
_SQL: dict[tuple[str, datetime], str] = {}


def batch_values(
    warehouse: Warehouse, traits: list[Trait], context: EvaluationContext
) -> dict[str, dict[str, Any]]:
    key = (",".join(t.name for t in traits), context.clock())
    if key not in _SQL:
        _SQL[key] = compiled_sql(traits, FIELDS, context)
    return run_batch(warehouse, traits, FIELDS, context, sql=_SQL[key])


@st.composite
def person_events(draw: st.DrawFn) -> list[PersonEvent]:
    count = draw(st.integers(min_value=0, max_value=30))
    events = []
    for number in range(count):
        kind = draw(st.sampled_from(["purchase", "page_view", "identify"]))
        minutes = draw(st.integers(min_value=0, max_value=60 * 24 * 60))
        ts = START + timedelta(minutes=minutes - minutes % draw(st.sampled_from([1, 60 * 24])))  # many ties
        fields: dict[str, Any] = {}
        if kind == "identify":
            city = draw(st.sampled_from([None, "上海市", "北京市", "广州市"]))
            if city is not None:
                fields["city"] = city
        else:
            if draw(st.booleans()):
                fields["amount"] = draw(st.integers(min_value=-40, max_value=400)) / 4
            category = draw(st.sampled_from([None, "a", "b", "c", "数码"]))
            if category is not None:
                fields["category"] = category
            channel = draw(st.sampled_from([None, "app", "web"]))
            if channel is not None:
                fields["channel"] = channel
        source = draw(st.sampled_from(["crm", "shop", "web"]))
        person = draw(st.sampled_from(["p1", "p2", "p3"]))
        events.append((person, EventRecord(f"e{number:03d}", ts, kind, source, fields)))
    return events


def incremental_values(
    traits: list[Trait], events: list[PersonEvent], context: EvaluationContext, order: random.Random
) -> dict[str, dict[str, Any]]:
    """Per person: shuffle their known events (out-of-order arrival), fold them, read at the as-of time."""
    as_of = context.clock()
    by_person: dict[str, list[EventRecord]] = defaultdict(list)
    for person, event in events:
        if event.ts < as_of:
            by_person[person].append(event)
    values = {}
    for person, known in by_person.items():
        order.shuffle(known)
        values[person] = {t.name: IncrementalTrait(t).value(fold(t, known, context), as_of) for t in traits}
    return values


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=person_events(), as_of=st.sampled_from(AS_OF), seed=st.integers(0, 2**16))
def test_batch_equals_incremental_in_any_arrival_order(
    events: list[PersonEvent], as_of: datetime, seed: int
) -> None:
    context = EvaluationContext(as_of, ZONE)
    warehouse = Warehouse(None)
    try:
        load_events(warehouse, events, FIELDS)
        batch = batch_values(warehouse, TRAITS, context)
    finally:
        warehouse.close()
    incremental = incremental_values(TRAITS, events, context, random.Random(seed))
    assert set(batch) == set(incremental), "the same persons exist as of the as-of time"
    for person, values in incremental.items():
        for name, value in values.items():
            assert equal(batch[person][name], value), (
                f"{person}.{name}: batch {batch[person][name]!r} != {value!r}"
            )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=person_events(), seed=st.integers(0, 2**16))
def test_decayed_ranking_agrees_up_to_floating_point_ties(events: list[PersonEvent], seed: int) -> None:
    """Decayed scores are summed differently (batch: directly; incremental: in log2 space), so two values
    whose scores are equal to ~1e-9 may swap places; any other difference is a bug."""
    context = EvaluationContext(START + timedelta(days=61), ZONE)
    warehouse = Warehouse(None)
    try:
        load_events(warehouse, events, FIELDS)
        batch = batch_values(warehouse, [AFFINITY], context)
    finally:
        warehouse.close()
    rng = random.Random(seed)
    for person in batch:
        known = [e for p, e in events if p == person]
        rng.shuffle(known)
        state = fold(AFFINITY, known, context)
        expected = IncrementalTrait(AFFINITY).value(state, context.clock())
        got = batch[person]["affinity"]
        assert (got is None) == (expected is None)
        if got is None:
            continue
        assert len(got) == len(expected)
        for ours, theirs in zip(got, expected, strict=True):
            assert ours == theirs or math.isclose(state[ours], state[theirs], rel_tol=1e-9), (got, expected)


def test_pruning_keeps_every_later_read_equal() -> None:
    trait = next(t for t in TRAITS if t.name == "spend_7d")
    events = [
        EventRecord(f"e{i}", START + timedelta(days=i), "purchase", "shop", {"amount": float(i)})
        for i in range(20)
    ]
    context = EvaluationContext(timezone=ZONE)
    incremental = IncrementalTrait(trait)
    state = fold(trait, events, context)
    latest = events[-1].ts
    assert trait.window is not None
    pruned = incremental.prune(state, latest - trait.window)
    assert len(pruned) < len(state)
    for hours in (1, 24, 24 * 3, 24 * 8):
        as_of = latest + timedelta(hours=hours)
        assert incremental.value(pruned, as_of) == incremental.value(state, as_of)


def test_decayed_state_never_overflows_over_decades() -> None:
    events = [
        EventRecord(f"e{i}", EPOCH + timedelta(days=365 * i), "page_view", "web", {"category": "ab"[i % 2]})
        for i in range(60)
    ]
    hourly = resolve_trait(
        TraitSpec(name="affinity", agg="top_k", of="category", decay="1d"), FIELDS, timezone=ZONE, where="t"
    )
    value = IncrementalTrait(hourly).value(fold(hourly, events, EvaluationContext()), events[-1].ts)
    assert value == ["b", "a"]  # the latest event's category leads

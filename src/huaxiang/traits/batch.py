"""Batch trait evaluation: every trait compiled into Ibis over one pass of the events, grouped per person.

The query has three steps, each shaped by what the engine does quickly (measured on DuckDB with the
standard library; see ``benchmarks/build.py``):

1. **One projection computes every expression once.** Trait values, event filters and windows become
   columns of a narrow per-event table, shared by structure: the purchase filter or the line value that ten
   traits read is evaluated once per event, not ten times, and the local wall-clock time behind ``hour()``
   and ``weekday()`` is derived once (and, given the span of the events, by plain offset arithmetic instead
   of a per-row time-zone lookup: ``localtime.py``).
2. **A ``GROUP BY person_id`` per family of plain aggregations** (arithmetic, distinct counts, ordered
   picks), each with a ``FILTER`` per aggregation, joined on the person: one grouping holding every state
   per person was a third slower.
3. **Rankings** (``mode``, ``top_k``) count per (person, value) in a grouping of their own, shared by every
   trait ranking the same values under the same filter and weight, then keep the k best per person with a
   bounded top-k aggregate (``arg_min(value, (-count, value), k)``, the key packed into one integer for
   counts). Per-person histograms (a map per person, sorted afterwards) were measured at three to five
   times the cost of this form, and an unpivot of all rankings into one grouping about five times slower
   again.

The result is an unexecuted table expression; the engine keeps the narrow table of step 1 once and reads it
in steps 2 and 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir

from huaxiang.expressions import EvaluationContext
from huaxiang.expressions.builtins import local_time
from huaxiang.expressions.ibis_compiler import to_ibis
from huaxiang.traits.definitions import Trait
from huaxiang.traits.localtime import local_clock

_LOCAL = "__local_ts"  # the events' wall-clock time in the workspace zone, derived once per event
_COLUMN = "__x"  # prefix of the projected expression columns


def compile_traits(
    traits: Sequence[Trait],
    events: ir.Table,
    context: EvaluationContext,
    *,
    span: tuple[datetime, datetime] | None = None,
) -> ir.Table:
    """One row per person with an event before the as-of time, one column per trait.

    ``events`` has ``person_id``, ``event_id``, ``ts``, ``type``, ``source`` and a typed column per event
    field the traits read. Only events before ``context.as_of`` are used, whatever the table holds.
    ``span`` (naive UTC, earliest and latest event time) lets local times be derived by offset arithmetic;
    without it each event's time goes through the engine's zone conversion (once per event either way).
    """
    prepared = prepare_traits(traits, events, context, span=span)
    return aggregate_traits(prepared, prepared.table)


@dataclass(frozen=True, slots=True)
class PreparedTraits:
    """Step 1 of the query (the narrow per-event table) and how each trait reads it in steps 2 and 3.

    A large build stores ``table`` first (compressed, so it can leave memory) and aggregates the stored
    copy: as one query, the engine keeps step 1 in memory for the several passes that read it.
    """

    table: ir.Table
    plans: tuple[_Plan, ...]


def prepare_traits(
    traits: Sequence[Trait],
    events: ir.Table,
    context: EvaluationContext,
    *,
    span: tuple[datetime, datetime] | None = None,
) -> PreparedTraits:
    """The per-event columns every trait reads (``person_id``, ``event_id``, ``ts`` and one per distinct
    expression), only for events before the as-of time."""
    as_of = context.clock()
    known = events.filter(events.ts < ibis.literal(as_of, type=dt.timestamp))
    zone = context.timezone
    utc = known.ts.cast(dt.Timestamp(timezone="UTC"))
    local = local_clock(known.ts, zone, *span) if span is not None else local_time(zone.key, utc)
    staged = known.mutate(**{_LOCAL: local})
    projection = _Projection(staged, context)
    plans = tuple(_plan(trait, staged, projection, context) for trait in traits)
    return PreparedTraits(staged.select("person_id", "event_id", "ts", **projection.columns), plans)


def aggregate_traits(prepared: PreparedTraits, events: ir.Table) -> ir.Table:
    """Steps 2 and 3 over ``events``: ``prepared.table`` itself or a stored copy of it."""
    plans = prepared.plans
    families: dict[str, dict[str, ir.Scalar]] = {}
    for plan in plans:
        if plan.ranking is None:
            families.setdefault(_FAMILIES[plan.trait.agg], {})[plan.trait.name] = _aggregate(plan, events)
    groupings = [events.group_by("person_id").aggregate(**metrics) for metrics in families.values()]
    result = groupings[0] if groupings else events.select("person_id").distinct()
    # Every grouping holds every person of ``events`` (a FILTER drops no group): an inner join pairs them.
    for grouping in groupings[1:]:
        result = result.join(grouping, "person_id")
    rankings: dict[tuple[str, str | None, str | None], list[_Plan]] = {}
    for plan in plans:
        if plan.ranking is not None:
            rankings.setdefault(plan.ranking, []).append(plan)
    for key, sharing in rankings.items():
        ranked = _rank(key, sharing, events)
        joined = result.left_join(ranked, result.person_id == ranked.person_id)
        result = joined.select(*[result[c] for c in result.columns], *[ranked[p.trait.name] for p in sharing])
    return result.select("person_id", *[p.trait.name for p in plans])


#: Plain aggregations fall into families, each its own ``GROUP BY person_id`` (joined on the person afterwards):
#: one grouping holding every aggregate state per person (sixty-odd in the standard library) cost DuckDB a
#: third more than the same aggregates split into arithmetic, distinct counts and ordered picks (200k persons,
#: 4M events: 10.1 s against 7.6 s of CPU), the wide per-person states being the slow part, not the scans.
_FAMILIES: dict[str, str] = {
    "count": "arithmetic",
    "sum": "arithmetic",
    "avg": "arithmetic",
    "min": "arithmetic",
    "max": "arithmetic",
    "distinct_count": "distinct",
    "first": "picked",
    "last": "picked",
    "attribute": "picked",
}


class _Projection:
    """Expressions over the staged events, each kept once as a named column (equal expressions share one).

    The per-row zone conversion that ``hour()``/``weekday()`` compile to is swapped for the staged local-time
    column, so it is computed once per event whatever number of traits read it.
    """

    def __init__(self, staged: ir.Table, context: EvaluationContext) -> None:
        utc = staged.ts.cast(dt.Timestamp(timezone="UTC"))
        conversion = local_time(context.timezone.key, utc).op()
        self._swap: dict[ops.Node, ops.Node] = {conversion: staged[_LOCAL].op()}
        self._names: dict[ops.Node, str] = {staged.ts.op(): "ts"}  # kept anyway: not stored twice
        self.columns: dict[str, ir.Value] = {}

    def add(self, expression: ir.Value) -> str:
        node = expression.op().replace(self._swap)
        name = self._names.get(node)
        if name is None:
            name = self._names[node] = f"{_COLUMN}{len(self._names)}"
            self.columns[name] = node.to_expr()
        return name


@dataclass(frozen=True, slots=True)
class _Plan:
    """Which projected columns one trait reads: its value, its filter (and window), its ranking key."""

    trait: Trait
    value: str | None
    condition: str | None
    rank: str | None = None  # attribute traits: the source priority
    ranking: tuple[str, str | None, str | None] | None = None  # (value, filter, score) shared by rankings


def _plan(trait: Trait, events: ir.Table, projection: _Projection, context: EvaluationContext) -> _Plan:
    condition = _condition(trait, events, context)
    value = to_ibis(trait.of, _column(events), context) if trait.of is not None else None
    if not trait.ranked:
        return _Plan(
            trait,
            projection.add(value) if value is not None else None,
            projection.add(condition) if condition is not None else None,
            projection.add(_source_rank(trait, events)) if trait.agg == "attribute" else None,
        )
    assert value is not None  # ranked aggregations always have a value
    keep = _both(condition, value.notnull())
    score: str | None = None
    if trait.weight is not None or trait.half_life is not None:
        weight, keep = _score(trait, events, context, keep)
        score = projection.add(weight)
    value_column = projection.add(value)
    keep_column = projection.add(keep)
    return _Plan(trait, value_column, keep_column, ranking=(value_column, keep_column, score))


def _column(events: ir.Table) -> Any:
    return lambda name: events[name]


def _condition(trait: Trait, events: ir.Table, context: EvaluationContext) -> ir.BooleanValue | None:
    """The event filter and the window, or None when every event counts."""
    parts: list[ir.BooleanValue] = []
    if trait.where is not None:
        parts.append(to_ibis(trait.where, _column(events), context))
    if trait.window is not None:
        parts.append(events.ts >= ibis.literal(context.clock() - trait.window, type=dt.timestamp))
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition = condition & part
    return condition


def _both(first: ir.BooleanValue | None, second: ir.BooleanValue) -> ir.BooleanValue:
    return second if first is None else first & second


def _aggregate(plan: _Plan, events: ir.Table) -> ir.Scalar:
    trait = plan.trait
    condition = events[plan.condition] if plan.condition is not None else None
    if plan.value is None:  # count of events
        return events.count(where=condition)
    value = events[plan.value]
    present = _both(condition, value.notnull())
    match trait.agg:
        case "count":
            return value.count(where=condition)
        case "sum":
            return value.sum(where=condition)
        case "avg":
            return value.mean(where=condition)
        case "min":
            return value.min(where=condition)
        case "max":
            return value.max(where=condition)
        case "distinct_count":
            return value.nunique(where=condition)
        case "first":
            return value.argmin(ibis.struct({"ts": events.ts, "id": events.event_id}), where=present)
        case "last":
            return value.argmax(ibis.struct({"ts": events.ts, "id": events.event_id}), where=present)
        case "attribute":
            assert plan.rank is not None
            order = ibis.struct({"rank": events[plan.rank], "ts": events.ts, "id": events.event_id})
            return value.argmax(order, where=present)
    raise ValueError(
        f"{trait.agg} is not a plain aggregation"
    )  # pragma: no cover - ranked traits go elsewhere


def _source_rank(trait: Trait, events: ir.Table) -> ir.IntegerValue:
    if not trait.sources:
        return ibis.literal(0, type=dt.int32)
    branches = [(events.source == source, trait.source_rank(source)) for source in trait.sources]
    return ibis.cases(*branches, else_=0).cast(dt.int32)


def _score(
    trait: Trait, events: ir.Table, context: EvaluationContext, keep: ir.BooleanValue
) -> tuple[ir.FloatingValue, ir.BooleanValue]:
    """A weighted (and time-decayed) ranking's per-event score, and its filter (only positive weights)."""
    score: Any = ibis.literal(1.0, type=dt.float64)
    if trait.weight is not None:
        weight = to_ibis(trait.weight, _column(events), context).cast(dt.float64)
        keep = keep & (weight > 0)
        score = weight
    if trait.half_life is not None:
        as_of_seconds = ibis.literal(context.clock(), type=dt.timestamp).epoch_seconds()
        age = (as_of_seconds - events.ts.epoch_seconds()) / trait.half_life.total_seconds()
        score = score * ibis.literal(0.5, type=dt.float64).pow(age)
    return score, keep


def _rank(key: tuple[str, str | None, str | None], sharing: list[_Plan], events: ir.Table) -> ir.Table:
    """Per person, the k best values of each trait sharing one ranking: by count (or summed score)
    descending, ties to the smaller value."""
    value, keep, score = key
    kept = events if keep is None else events.filter(events[keep])
    grouped = kept.group_by(["person_id", kept[value].name("value")])
    totals = grouped.aggregate(n=kept.count() if score is None else kept[score].sum())
    order: ir.Value
    if score is None:
        totals, order = _count_order(totals)
    else:
        order = ibis.struct({"n": -totals.n, "v": totals.value})
    best: dict[str, ir.Value] = {}
    for plan in sharing:
        if plan.trait.agg == "mode":
            best[plan.trait.name] = totals.value.argmin(order)
        else:
            smallest = _smallest(totals.value.type(), order.type())
            best[plan.trait.name] = smallest(totals.value, order, plan.trait.k)
    return totals.group_by("person_id").aggregate(**best)


def _count_order(totals: ir.Table) -> tuple[ir.Table, ir.IntegerValue]:
    """Counts ranked by one integer, ``-count · 2³¹ + position of the value``, instead of ``(-count, value)``.

    The values a ranking sees are few (hours, weekdays, categories, stores), so their order is taken once
    from the distinct values and joined back; a top-k over an integer key is then a heap of integers, where
    a struct key makes the engine build and compare a binary sort key per row (DuckDB, hours at 4M events:
    2.4 s against 0.8 s of CPU). Exact while a person has fewer than 2³² events and a ranking fewer than 2³¹
    distinct values.
    """
    values = totals.select("value").distinct()
    positions = values.mutate(position=ibis.row_number().over(order_by=values.value))
    joined = totals.join(positions, "value")
    return joined, -joined.n.cast(dt.int64) * _POSITIONS + joined.position.cast(dt.int64)


_POSITIONS = 2**31


def _smallest(value_type: dt.DataType, key_type: dt.DataType) -> Any:
    """``arg_min(value, key, k)``: the values of the k smallest keys, smallest first (a bounded heap per
    group, no sort of the whole list). Ibis has no k-argument form, so it is declared per type here."""
    signature = ((value_type, key_type, dt.int64), dt.Array(value_type))
    return _SMALLEST.setdefault(
        (value_type, key_type), ibis.udf.agg.builtin(_arg_min, name="arg_min", signature=signature)
    )


def _arg_min(value: Any, key: Any, k: Any) -> Any: ...


_SMALLEST: dict[tuple[dt.DataType, dt.DataType], Any] = {}

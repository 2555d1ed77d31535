"""Incremental trait evaluators: a pure ``state, event → state`` step for every aggregation.

Real-time updates fold one event at a time into a person's state; no clock, database or logging is touched,
so any arrival order gives the same state (every step is commutative: ``first``/``last`` compare the event
time, then the event id). The result is read for an as-of time at or after the last event seen: windowed
traits keep their in-window contributions so old ones can expire (``prune`` drops what no later read needs).
Property tests hold these evaluators equal to the batch compiler on arbitrary event sequences.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from typing import Any, Protocol

from huaxiang.expressions import EvaluationContext, evaluate, holds
from huaxiang.traits.definitions import Trait

#: Decayed scores are kept as log2(Σ weight · 2^((ts - EPOCH) / half-life)): no overflow for any history.
EPOCH = datetime(2000, 1, 1)

TraitState = Any
"""What a trait keeps between events: a number, a value, a set, a mapping, or in-window contributions."""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event of one person, as the incremental evaluators see it (fields typed, ts naive UTC)."""

    event_id: str
    ts: datetime
    type: str
    source: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {**self.fields, "type": self.type, "source": self.source, "ts": self.ts}


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one event adds to a trait: its order key, time, value and weight."""

    key: tuple[Any, ...]
    ts: datetime
    value: Any
    weight: float


class Accumulator(Protocol):
    def empty(self) -> Any: ...
    def add(self, state: Any, item: Contribution) -> Any: ...
    def finish(self, state: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class Count:
    def empty(self) -> int:
        return 0

    def add(self, state: int, item: Contribution) -> int:
        return state + 1

    def finish(self, state: int) -> int:
        return state


@dataclass(frozen=True, slots=True)
class Sum:
    def empty(self) -> float | None:
        return None

    def add(self, state: float | None, item: Contribution) -> float:
        return item.value if state is None else state + item.value  # type: ignore[no-any-return]

    def finish(self, state: float | None) -> float | None:
        return state


@dataclass(frozen=True, slots=True)
class Average:
    def empty(self) -> tuple[float, int]:
        return (0.0, 0)

    def add(self, state: tuple[float, int], item: Contribution) -> tuple[float, int]:
        return (state[0] + item.value, state[1] + 1)

    def finish(self, state: tuple[float, int]) -> float | None:
        return state[0] / state[1] if state[1] else None


@dataclass(frozen=True, slots=True)
class Extreme:
    """``min`` or ``max`` of the values."""

    largest: bool

    def empty(self) -> Any:
        return None

    def add(self, state: Any, item: Contribution) -> Any:
        if state is None:
            return item.value
        return max(state, item.value) if self.largest else min(state, item.value)

    def finish(self, state: Any) -> Any:
        return state


@dataclass(frozen=True, slots=True)
class Ordered:
    """``first``/``last`` (and attribute traits): the value of the event with the smallest/largest key."""

    latest: bool

    def empty(self) -> tuple[tuple[Any, ...], Any] | None:
        return None

    def add(
        self, state: tuple[tuple[Any, ...], Any] | None, item: Contribution
    ) -> tuple[tuple[Any, ...], Any]:
        if state is None or (item.key > state[0] if self.latest else item.key < state[0]):
            return (item.key, item.value)
        return state

    def finish(self, state: tuple[tuple[Any, ...], Any] | None) -> Any:
        return None if state is None else state[1]


@dataclass(frozen=True, slots=True)
class Distinct:
    def empty(self) -> frozenset[Any]:
        return frozenset()

    def add(self, state: frozenset[Any], item: Contribution) -> frozenset[Any]:
        return state if item.value in state else state | {item.value}

    def finish(self, state: frozenset[Any]) -> int:
        return len(state)


@dataclass(frozen=True, slots=True)
class Ranked:
    """``top_k``/``mode``: values by total weight (or decayed weight), ties to the smaller value."""

    k: int
    half_life_seconds: float | None

    def empty(self) -> Mapping[Any, float]:
        return {}

    def add(self, state: Mapping[Any, float], item: Contribution) -> Mapping[Any, float]:
        if self.half_life_seconds is None:
            score = state.get(item.value, 0) + item.weight
        else:
            log_weight = math.log2(item.weight) + (item.ts - EPOCH).total_seconds() / self.half_life_seconds
            previous = state.get(item.value)
            score = log_weight if previous is None else _log2_add(previous, log_weight)
        return {**state, item.value: score}

    def finish(self, state: Mapping[Any, float]) -> list[Any] | None:
        if not state:
            return None
        ranked = sorted(state.items(), key=lambda pair: (-pair[1], pair[0]))
        return [value for value, _ in ranked[: self.k]]


def _log2_add(a: float, b: float) -> float:
    high, low = max(a, b), min(a, b)
    return high + math.log2(1.0 + 2.0 ** (low - high))


def accumulator_of(trait: Trait) -> Accumulator:
    """The accumulator of a trait's aggregation."""
    match trait.agg:
        case "count":
            return Count()
        case "sum":
            return Sum()
        case "avg":
            return Average()
        case "min" | "max":
            return Extreme(largest=trait.agg == "max")
        case "first" | "last" | "attribute":
            return Ordered(latest=trait.agg != "first")
        case "distinct_count":
            return Distinct()
        case "mode" | "top_k":
            half_life = trait.half_life.total_seconds() if trait.half_life else None
            return Ranked(trait.k, half_life)


@dataclass(frozen=True, slots=True)
class IncrementalTrait:
    """The incremental form of one trait: ``initial``, ``step`` per event, ``value`` at an as-of time."""

    trait: Trait

    @property
    def accumulator(self) -> Accumulator:
        return accumulator_of(self.trait)

    def initial(self) -> TraitState:
        return () if self.trait.window is not None else self.accumulator.empty()

    def contribution(self, event: EventRecord, context: EvaluationContext) -> Contribution | None:
        """What an event adds: nothing when the filter fails, the value is NULL or the weight is not > 0."""
        row = event.row()
        trait = self.trait
        if trait.where is not None and not holds(trait.where, row, context):
            return None
        value = True if trait.of is None else evaluate(trait.of, row, context)
        if value is None:
            return None
        weight = 1.0
        if trait.weight is not None:
            given = evaluate(trait.weight, row, context)
            if given is None or given <= 0:
                return None
            weight = given
        key: tuple[Any, ...] = (event.ts, event.event_id)
        if trait.agg == "attribute":
            key = (trait.source_rank(event.source), *key)
        return Contribution(key, event.ts, value, weight)

    def step(self, state: TraitState, event: EventRecord, context: EvaluationContext) -> TraitState:
        item = self.contribution(event, context)
        if item is None:
            return state
        if self.trait.window is not None:
            return (*state, item)
        return self.accumulator.add(state, item)

    def value(self, state: TraitState, as_of: datetime) -> Any:
        """The trait's value at ``as_of`` (which must not precede an event already folded in)."""
        accumulator = self.accumulator
        if self.trait.window is not None:
            start = as_of - self.trait.window
            inside = (item for item in state if start <= item.ts < as_of)
            state = reduce(accumulator.add, inside, accumulator.empty())
        result = accumulator.finish(state)
        if self.trait.agg == "mode":
            return None if result is None else result[0]
        return result

    def prune(self, state: TraitState, before: datetime) -> TraitState:
        """Forget in-window contributions older than ``before`` (safe when every later read is at or after
        ``before + window``); all-time traits keep nothing per event and are returned unchanged."""
        if self.trait.window is None:
            return state
        return tuple(item for item in state if item.ts >= before)


def fold(trait: Trait, events: Iterable[EventRecord], context: EvaluationContext) -> TraitState:
    """Fold events, in the order given, into a trait's state."""
    incremental = IncrementalTrait(trait)
    return reduce(lambda state, event: incremental.step(state, event, context), events, incremental.initial())


def evaluate_traits(
    traits: Iterable[Trait], events: Iterable[EventRecord], as_of: datetime, context: EvaluationContext
) -> dict[str, Any]:
    """Every trait of one person from their events, using only events before ``as_of`` (point in time)."""
    known = [event for event in events if event.ts < as_of]
    return {trait.name: IncrementalTrait(trait).value(fold(trait, known, context), as_of) for trait in traits}

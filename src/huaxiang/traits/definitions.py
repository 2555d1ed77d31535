"""Resolved traits: a declared ``TraitSpec`` with its expressions parsed and checked against the event fields.

Resolution happens once per build; the batch compiler and the incremental evaluators both read the same
``Trait``, so the two can never disagree about what a definition means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from huaxiang.config import Aggregation, TraitSpec
from huaxiang.errors import ConfigError
from huaxiang.expressions import Expression, ValueType, parse_expression
from huaxiang.expressions.functions import ORDERED
from huaxiang.i18n import Label
from huaxiang.traits.fields import EventField, field_types

#: Aggregations whose batch form ranks values per person (one extra grouping, shared by all of them).
RANKED: frozenset[str] = frozenset({"mode", "top_k"})


@dataclass(frozen=True, slots=True)
class Trait:
    """A checked trait definition, ready for either evaluator."""

    name: str
    agg: Aggregation
    of: Expression | None
    where: Expression | None
    weight: Expression | None
    window: timedelta | None
    half_life: timedelta | None
    k: int
    sources: tuple[str, ...]
    type: ValueType
    label: Label
    description: Label | None = None

    @property
    def reads(self) -> frozenset[str]:
        """The event fields this trait reads."""
        names: set[str] = {"ts", "source"} if self.agg == "attribute" else {"ts"}
        for expression in (self.of, self.where, self.weight):
            if expression is not None:
                names |= expression.names
        return frozenset(names)

    @property
    def ranked(self) -> bool:
        return self.agg in RANKED

    def source_rank(self, source: str) -> int:
        """Attribute traits: a higher rank wins; listed sources outrank unlisted ones, the first the most."""
        return len(self.sources) - self.sources.index(source) if source in self.sources else 0


def resolve_trait(
    spec: TraitSpec, fields: Mapping[str, EventField], *, timezone: ZoneInfo, where: str
) -> Trait:
    """Check a trait's expressions against the event fields; errors name the YAML key that holds them."""
    names = field_types(fields)

    def parse(text: str | None, key: str, expect: ValueType | None = None) -> Expression | None:
        if text is None:
            return None
        return parse_expression(
            text, names, expect=expect, allow_clock=False, timezone=timezone, where=f"{where}.{key}"
        )

    of = parse(spec.of, "of")
    condition = parse(spec.where, "where", "boolean")
    weight = parse(spec.weight, "weight")
    if spec.agg == "attribute":
        assert spec.of is not None  # the spec's validator requires it
        attribute = fields.get(spec.of.strip())
        if attribute is None or attribute.location not in ("attribute", "both", "absent"):
            raise ConfigError(
                f"{spec.of!r} is not an attribute of any source",
                location=f"{where}.of",
                hint="agg: attribute reads fields mapped with role: attribute (or derived from them)",
            )
    value_type = _result_type(spec, of, weight, where)
    return Trait(
        name=spec.name,
        agg=spec.agg,
        of=of,
        where=condition,
        weight=weight,
        window=spec.window_period,
        half_life=spec.half_life,
        k=1 if spec.agg == "mode" else spec.k,
        sources=tuple(spec.sources),
        type=value_type,
        label=spec.label or Label(zh=spec.name, en=spec.name),
        description=spec.description,
    )


def _result_type(spec: TraitSpec, of: Expression | None, weight: Expression | None, where: str) -> ValueType:
    value = of.type if of is not None else "null"
    if spec.agg in ("sum", "avg") and value not in ("number", "null"):
        raise ConfigError(f"agg: {spec.agg} needs a number to aggregate, got {value}", location=f"{where}.of")
    if spec.agg in ("min", "max") and value not in (*ORDERED, "null"):
        raise ConfigError(f"agg: {spec.agg} needs ordered values, got {value}", location=f"{where}.of")
    if value == "list":
        raise ConfigError("a trait cannot aggregate a list", location=f"{where}.of")
    if weight is not None and weight.type != "number":
        raise ConfigError(f"weight must be a number, got {weight.type}", location=f"{where}.weight")
    if spec.agg in ("count", "sum", "avg", "distinct_count"):
        return "number"
    if spec.agg == "top_k":
        return "list"
    return value if value != "null" else "string"


def resolve_traits(
    specs: Sequence[tuple[TraitSpec, str]], fields: Mapping[str, EventField], *, timezone: ZoneInfo
) -> list[Trait]:
    """Resolve many traits (each with the YAML location of its spec); the first error stops the build."""
    return [resolve_trait(spec, fields, timezone=timezone, where=where) for spec, where in specs]

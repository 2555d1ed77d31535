"""Resolved tags: a declared ``TagSpec`` with its expressions checked against the traits and other tags.

A tag reads trait values (and tags it depends on) of one person; statistic tags also read the population
(quantile bins, RFM means). Dependencies between tags are ordered into levels, so a build computes each
level in one projection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from zoneinfo import ZoneInfo

from huaxiang.config import Cadence, Dimension, TagKind, TagSpec, TagValue, TagValueType
from huaxiang.errors import ConfigError
from huaxiang.expressions import Expression, ValueType, parse_expression
from huaxiang.i18n import Label

#: Dimensions in display order, with their labels.
DIMENSIONS: dict[str, Label] = {
    "demographic": Label(zh="人口属性", en="Demographics"),
    "behavior": Label(zh="消费行为", en="Behaviour"),
    "interest": Label(zh="兴趣偏好", en="Interests"),
    "social": Label(zh="社交关系", en="Social"),
    "lifecycle": Label(zh="生命周期", en="Lifecycle"),
    "value": Label(zh="客户价值", en="Value"),
    "risk": Label(zh="风险与合规", en="Risk and consent"),
}

#: The eight classic RFM groups by (R high, F high, M high), with their Chinese names.
RFM_GROUPS: dict[tuple[bool, bool, bool], tuple[str, Label]] = {
    (True, True, True): ("important_value", Label(zh="重要价值客户", en="Important value")),
    (True, False, True): ("important_development", Label(zh="重要发展客户", en="Important development")),
    (False, True, True): ("important_retention", Label(zh="重要保持客户", en="Important retention")),
    (False, False, True): ("important_winback", Label(zh="重要挽留客户", en="Important win-back")),
    (True, True, False): ("general_value", Label(zh="一般价值客户", en="General value")),
    (True, False, False): ("general_development", Label(zh="一般发展客户", en="General development")),
    (False, True, False): ("general_retention", Label(zh="一般保持客户", en="General retention")),
    (False, False, False): ("general_winback", Label(zh="一般挽留客户", en="General win-back")),
}


@dataclass(frozen=True, slots=True)
class Quantile:
    of: Expression
    bins: int
    descending: bool


@dataclass(frozen=True, slots=True)
class Rfm:
    recency: str
    frequency: str
    monetary: str


@dataclass(frozen=True, slots=True)
class Tag:
    """A checked tag definition with its catalogue metadata."""

    name: str
    dimension: Dimension
    kind: TagKind
    value_type: TagValueType
    label: Label
    description: Label | None
    cadence: Cadence
    owner: str | None
    of: Expression | None = None
    cases: tuple[tuple[Expression, TagValue], ...] = ()
    otherwise: TagValue | None = None
    quantile: Quantile | None = None
    rfm: Rfm | None = None
    values: Mapping[str, Label] = field(default_factory=dict)

    @property
    def reads(self) -> frozenset[str]:
        """The traits and tags this tag's value is computed from."""
        names: set[str] = set()
        for expression in (self.of, *(condition for condition, _ in self.cases)):
            if expression is not None:
                names |= expression.names
        if self.quantile is not None:
            names |= self.quantile.of.names
        if self.rfm is not None:
            names |= {self.rfm.recency, self.rfm.frequency, self.rfm.monetary}
        return frozenset(names)

    @property
    def statistic(self) -> bool:
        return self.quantile is not None or self.rfm is not None

    def value_label(self, value: object) -> Label | None:
        return self.values.get(str(value))


def resolve_tag(spec: TagSpec, names: Mapping[str, ValueType], *, timezone: ZoneInfo, where: str) -> Tag:
    """Check one tag against the catalogue of trait and tag names (with their types)."""

    def parse(text: str, key: str, expect: ValueType | None = None) -> Expression:
        return parse_expression(text, names, expect=expect, timezone=timezone, where=f"{where}.{key}")

    of = parse(spec.of, "of") if spec.of else None
    if of is not None and of.type not in (spec.value_type, "null"):
        raise ConfigError(
            f"the expression gives a {of.type} value but value_type is {spec.value_type}",
            location=f"{where}.of",
            hint=f"set value_type: {of.type}, or change the expression",
        )
    cases = tuple(
        (
            parse(case.when, f"cases[{i}].when", "boolean"),
            _checked(case.value, spec, f"{where}.cases[{i}].value"),
        )
        for i, case in enumerate(spec.cases)
    )
    otherwise = None if spec.otherwise is None else _checked(spec.otherwise, spec, f"{where}.otherwise")
    quantile = None
    if spec.quantile is not None:
        value = parse(spec.quantile.of, "quantile.of")
        if value.type not in ("number", "timestamp", "date", "null"):
            raise ConfigError(
                f"quantile bins need ordered numbers or times, got {value.type}",
                location=f"{where}.quantile.of",
            )
        quantile = Quantile(value, spec.quantile.bins, spec.quantile.descending)
    rfm = None
    if spec.rfm is not None:
        for key in ("recency", "frequency", "monetary"):
            name = getattr(spec.rfm, key)
            if names.get(name) != "number":
                raise ConfigError(
                    f"rfm.{key} must name a number tag (a 1-5 score), got {name!r}",
                    location=f"{where}.rfm.{key}",
                )
        rfm = Rfm(spec.rfm.recency, spec.rfm.frequency, spec.rfm.monetary)
    values = dict(spec.values)
    if rfm is not None:
        values = dict(RFM_GROUPS.values()) | values
    return Tag(
        name=spec.name,
        dimension=spec.dimension,
        kind=spec.kind,
        value_type=spec.value_type,
        label=spec.label,
        description=spec.description,
        cadence=spec.cadence,
        owner=spec.owner,
        of=of,
        cases=cases,
        otherwise=otherwise,
        quantile=quantile,
        rfm=rfm,
        values=values,
    )


def _checked(value: TagValue, spec: TagSpec, where: str) -> TagValue:
    expected: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "boolean": (bool,)}
    allowed = expected.get(spec.value_type)
    if (
        allowed is None
        or not isinstance(value, allowed)
        or (spec.value_type == "number" and isinstance(value, bool))
    ):
        raise ConfigError(
            f"value {value!r} does not fit value_type {spec.value_type}",
            location=where,
            hint="rule values are strings, numbers or booleans matching value_type",
        )
    return value


def tag_levels(tags: Sequence[Tag]) -> list[list[Tag]]:
    """Tags in dependency levels: each tag comes after every tag it reads (one projection per level)."""
    by_name = {t.name: t for t in tags}
    graph = {t.name: {n for n in t.reads if n in by_name} for t in tags}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        cycle = " → ".join(error.args[1])
        raise ConfigError(f"tags depend on each other in a cycle: {cycle}", hint="break the cycle") from None
    depth: dict[str, int] = {}
    for name in order:
        depth[name] = 1 + max((depth[n] for n in graph[name]), default=-1)
    levels: dict[int, list[Tag]] = {}
    for name in order:
        levels.setdefault(depth[name], []).append(by_name[name])
    return [levels[level] for level in sorted(levels)]

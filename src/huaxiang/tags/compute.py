"""Tag values: rule and attribute tags per person, statistic tags over the population.

Batch: every level of tags becomes one projection over the trait table (``compile_tags``). Statistic tags
are window functions: quantile bins are computed from integer counts (rows at or below a value), not from a
floating ``cume_dist``, so a value on a bin edge never lands a bin too high. Single profile: rule and
attribute tags run through the row evaluator (``evaluate_tag``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from huaxiang.errors import HuaxiangError
from huaxiang.expressions import EvaluationContext, evaluate, holds
from huaxiang.expressions.ibis_compiler import IBIS_TYPES, to_ibis
from huaxiang.tags.definitions import RFM_GROUPS, Quantile, Rfm, Tag, tag_levels

_KEY = "person_id"
_LITERAL_TYPES: dict[str, dt.DataType] = {"string": dt.string, "number": dt.float64, "boolean": dt.boolean}


def compile_tags(tags: Sequence[Tag], profiles: ir.Table, context: EvaluationContext) -> ir.Table:
    """``profiles`` (one row per person, keyed by ``person_id``, a column per trait) with a column added per tag.

    Statistic tags (and the tags they read) are computed first over a narrow table, the key and the traits
    they read, and joined back by person; every other tag is then a plain projection of the joined table,
    one per level. A window function carries every column of its input through its sort: over the whole
    profile (a hundred and more traits and tags, lists among them) the five quantile windows of the standard
    library cost ten times what they cost over the few columns they read (DuckDB, 200k persons: 2.8 s
    against 0.25 s).
    """
    by_name = {tag.name: tag for tag in tags}
    population = _closure([tag for tag in tags if tag.statistic], by_name)
    table = profiles
    if population:
        reads = set().union(*(tag.reads for tag in population)) & set(profiles.columns)
        scored = _levels(population, profiles.select(_KEY, *sorted(reads)), context)
        table = profiles.join(scored.select(_KEY, *[tag.name for tag in population]), _KEY)
    done = {tag.name for tag in population}
    table = _levels([tag for tag in tags if tag.name not in done], table, context)
    return table.select(*profiles.columns, *[tag.name for level in tag_levels(tags) for tag in level])


def _closure(roots: Sequence[Tag], by_name: Mapping[str, Tag]) -> list[Tag]:
    """``roots`` and every tag they read, directly or through other tags."""
    found: dict[str, Tag] = {}
    pending = list(roots)
    while pending:
        tag = pending.pop()
        if tag.name not in found:
            found[tag.name] = tag
            pending += [by_name[name] for name in tag.reads if name in by_name]
    return list(found.values())


def _levels(tags: Sequence[Tag], table: ir.Table, context: EvaluationContext) -> ir.Table:
    """``table`` with ``tags`` added, one projection per dependency level."""
    for level in tag_levels(tags):
        table = table.mutate(**{tag.name: _value(tag, table, context) for tag in level})
    return table


def _value(tag: Tag, table: ir.Table, context: EvaluationContext) -> ir.Value:
    column = table.__getitem__
    if tag.of is not None:
        value = to_ibis(tag.of, column, context)
        return value if tag.value_type == "list" else value.cast(IBIS_TYPES[tag.value_type])
    if tag.cases:
        target = _LITERAL_TYPES[tag.value_type]
        branches = [
            (to_ibis(condition, column, context), ibis.literal(v, type=target)) for condition, v in tag.cases
        ]
        otherwise = ibis.null(target) if tag.otherwise is None else ibis.literal(tag.otherwise, type=target)
        return ibis.cases(*branches, else_=otherwise)
    if tag.quantile is not None:
        return _quantile(tag.quantile, table, context)
    assert tag.rfm is not None  # a TagSpec has exactly one way to compute its value
    return _rfm_group(tag.rfm, table)


def _quantile(rule: Quantile, table: ir.Table, context: EvaluationContext) -> ir.Value:
    """Bin = ⌈bins · k / n⌉, k = people at or below the value (ties share a bin), n = people with a value."""
    value = to_ibis(rule.of, table.__getitem__, context)
    missing = value.isnull()
    beyond = value.asc() if rule.descending else value.desc()  # rank counts people strictly beyond the value
    n = value.count().over(group_by=missing)
    k = n - ibis.rank().over(group_by=missing, order_by=beyond)
    bins = rule.bins
    score = (k * bins + n - 1) // n
    return ibis.ifelse(missing, ibis.null(dt.float64), score.cast(dt.float64))


def _rfm_group(rule: Rfm, table: ir.Table) -> ir.Value:
    """The classic eight groups: each score is high when above its mean over everyone scored."""
    scores = [table[rule.recency], table[rule.frequency], table[rule.monetary]]
    high = [score > score.mean().over() for score in scores]
    scored = scores[0].notnull() & scores[1].notnull() & scores[2].notnull()
    branches = []
    for (r, f, m), (name, _) in RFM_GROUPS.items():
        pattern = (high[0] if r else ~high[0]) & (high[1] if f else ~high[1]) & (high[2] if m else ~high[2])
        branches.append((scored & pattern, ibis.literal(name, type=dt.string)))
    return ibis.cases(*branches, else_=ibis.null(dt.string))


def evaluate_tag(tag: Tag, row: Mapping[str, Any], context: EvaluationContext) -> Any:
    """One person's value of a rule or attribute tag from their trait (and earlier tag) values."""
    if tag.statistic:
        raise HuaxiangError(
            f"{tag.name} is a statistic tag: its value depends on everyone's values",
            hint="read it from the latest build (huaxiang profile), or run huaxiang build",
        )
    if tag.of is not None:
        return evaluate(tag.of, row, context)
    for condition, value in tag.cases:
        if holds(condition, row, context):
            return value
    return tag.otherwise

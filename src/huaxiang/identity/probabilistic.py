"""Probabilistic record matching with Splink, configured only by the semantic types of the fields.

Why the split: ``plan_matching`` is pure and decides, from the declared types alone, the comparisons, the
prediction blocking rules, the EM training blocks and the deterministic rules for the prior, so a plan can be
printed and reviewed; ``match_records`` runs it on DuckDB through Splink and only sizes what depends on the
data (how many pairs a blocking rule makes). Training blocks are chosen so that no block shares a field, or a
field that moves with it, with the comparisons it estimates: a block on the name would make different people
with name-derived e-mails look alike and drag every other m probability down.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import statistics
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

import duckdb
import pyarrow as pa

from huaxiang.errors import ConfigError, HuaxiangError
from huaxiang.i18n import Label, Language, current_language
from huaxiang.identity.name_similarity import NameRole, contains_cjk, name_keys
from huaxiang.identity.semantic_types import (
    RECORD_ID,
    SOURCE_DATASET,
    ComparisonPlan,
    LevelPlan,
    MatchField,
    MatchSettings,
    PlannedField,
    SemanticType,
    comparison_levels,
    correlated,
    plan_fields,
)

if TYPE_CHECKING:  # Splink is imported when matching runs, not when huaxiang.identity is imported
    from splink import SettingsCreator
    from splink.internals.comparison_creator import ComparisonCreator
    from splink.internals.comparison_level_creator import ComparisonLevelCreator

logger = logging.getLogger(__name__)

LinkType = Literal["dedupe_only", "link_only", "link_and_dedupe"]
LINK_TYPES: Final[tuple[LinkType, ...]] = get_args(LinkType)

_MIN_TRAINING_PAIRS: Final = 50
# Every agreement level is taken to occur in at least 1 of 1000 true matches: on clean data EM drives m to
# 1e-13 for the levels it never sees among matches, and a single typo would then veto a certain match.
_M_FLOOR: Final = 1e-3
_EXACT_COUNT_RECORDS: Final = 20_000  # above this, rule sizes are estimated from a sample


class MatchingError(HuaxiangError):
    """Probabilistic matching cannot run on these tables."""


# ---------------------------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """Records are paired when they agree exactly on all these prepared columns.

    A ``broad`` rule (one field of a kind many people share) is a fallback that pays only on small data; it is
    expected to be left out as the data grows, so leaving it out is not reported as a warning.
    """

    columns: tuple[str, ...]
    broad: bool = False


@dataclass(frozen=True, slots=True)
class TrainingPass:
    """One EM pass: pairs blocked on ``block_on``; the fields in ``not_estimated`` move with it and sit out."""

    block_on: tuple[str, ...]
    not_estimated: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatchPlan:
    """Everything decided from the declared fields before any data is read."""

    link_type: LinkType
    fields: tuple[PlannedField, ...]
    comparisons: tuple[ComparisonPlan, ...]
    prediction_rules: tuple[BlockingRule, ...]
    training_passes: tuple[TrainingPass, ...]
    deterministic_rules: tuple[BlockingRule, ...]

    def explain(self, language: Language | None = None) -> str:
        """The plan as readable text, in zh-CN or English, naming the user's columns."""
        lang = language or current_language()

        def show(columns: Sequence[str]) -> str:
            return self.describe(columns, lang)

        lines = [_HEADINGS["comparisons"].text(lang)]
        for comparison in self.comparisons:
            f = comparison.field
            lines.append(f"  {f.field.column} ({f.semantic_type}):")
            lines.extend(
                f"    - {level.label.text(lang)}" + (" [TF]" if level.term_frequencies else "")
                for level in comparison.levels
            )
        lines.append(_HEADINGS["prediction"].text(lang))
        lines.extend(
            f"  - {show(rule.columns)}" + (f"  ({_HEADINGS['broad'].text(lang)})" if rule.broad else "")
            for rule in self.prediction_rules
        )
        lines.append(_HEADINGS["training"].text(lang))
        for training in self.training_passes:
            sits_out = ", ".join(show([c]) for c in training.not_estimated)
            lines.append(f"  - {show(training.block_on)}  ({_HEADINGS['sits_out'].text(lang)}: {sits_out})")
        lines.append(_HEADINGS["prior"].text(lang))
        lines.extend(f"  - {show(rule.columns)}" for rule in self.deterministic_rules)
        return "\n".join(lines)

    def describe(self, columns: Sequence[str], language: Language) -> str:
        """Prepared columns in the user's terms: ``姓名 (pinyin or spelling) + 出生日期``."""
        names: dict[str, str] = {}
        for p in self.fields:
            names[p.name] = p.field.column
            if p.key:
                names[p.key] = f"{p.field.column} ({_HEADINGS['key'].text(language)})"
            if p.sorted_parts:
                names[p.sorted_parts] = f"{p.field.column} ({_HEADINGS['parts'].text(language)})"
        return " + ".join(names.get(c, c) for c in columns)


_HEADINGS: Final = {
    "comparisons": Label(zh="比较字段与相似度等级：", en="Comparisons and their levels:"),
    "prediction": Label(zh="候选对分块规则（取并集）：", en="Blocking rules for candidate pairs (union):"),
    "training": Label(
        zh="EM 训练分块（依次运行，直到每个字段都已估计）：",
        en="EM training blocks (run in order until every field is estimated):",
    ),
    "sits_out": Label(zh="本轮不估计", en="not estimated here"),
    "key": Label(zh="拼音/拼写", en="pinyin or spelling"),
    "parts": Label(zh="姓名各部分", en="name parts"),
    "broad": Label(zh="宽规则，候选对过多时略去", en="broad: left out when it makes too many pairs"),
    "prior": Label(
        zh="先验匹配概率所用的确定性规则：", en="Deterministic rules for the prior match probability:"
    ),
}


def plan_matching(fields: Sequence[MatchField], *, link_type: LinkType) -> MatchPlan:
    """Choose comparisons, blocking rules and training blocks from the fields' semantic types alone."""
    if link_type not in LINK_TYPES:
        raise ConfigError(
            f"unknown link type {link_type!r}", location="identity.link_type", hint=f"use one of {LINK_TYPES}"
        )
    if not fields:
        raise ConfigError("probabilistic matching needs at least one field", location="identity.fields")
    columns = [f.column for f in fields]
    if len(set(columns)) != len(columns):
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        raise ConfigError(f"columns declared twice: {', '.join(duplicated)}", location="identity.fields")
    planned = plan_fields(fields)
    keys = _Keys.of(planned)
    plan = MatchPlan(
        link_type=link_type,
        fields=planned,
        comparisons=tuple(ComparisonPlan(p, comparison_levels(p)) for p in planned),
        prediction_rules=keys.prediction_rules(),
        training_passes=_training_passes(planned, keys),
        deterministic_rules=keys.deterministic_rules(),
    )
    if not plan.prediction_rules or not plan.training_passes:
        raise ConfigError(
            "these fields give nothing to pair records on and train from",
            location="identity.fields",
            hint="declare a name, birth_date, phone, email, id_number, postcode or city, and a second field "
            "of another kind",
        )
    return plan


@dataclass(frozen=True, slots=True)
class _Keys:
    """The blocking keys the declared fields offer, grouped by the kind of evidence they carry."""

    whole_name: tuple[str, ...]
    name_parts: tuple[str, ...]
    birth: str | None
    postcode: str | None
    city: str | None
    street: str | None
    strong: tuple[str, ...]

    @property
    def places(self) -> tuple[str, ...]:
        return tuple(k for k in (self.postcode, self.city) if k)

    @property
    def training_place(self) -> tuple[str, ...]:
        """The narrowest place key: a training block needs a fair share of true matches, and a city has few."""
        if self.postcode:
            return tuple(k for k in (self.postcode, self.city) if k)
        return tuple(k for k in (self.city, self.street) if k)

    @classmethod
    def of(cls, planned: Sequence[PlannedField]) -> _Keys:
        first: dict[SemanticType, PlannedField] = {}
        for p in planned:
            first.setdefault(p.semantic_type, p)

        def key(*types: SemanticType) -> str | None:
            return next((first[t].block_key for t in types if t in first), None)

        given, family, full = key("given_name"), key("family_name"), key("full_name")
        parts = tuple(k for k in (given, family) if k)
        whole = parts if given and family else (full,) if full else ()
        return cls(
            whole_name=whole,
            name_parts=parts or whole,
            birth=key("birth_date"),
            postcode=key("postcode"),
            city=key("city"),
            street=key("street", "address"),
            strong=tuple(p.block_key for p in planned if p.semantic_type in {"id_number", "phone", "email"}),
        )

    def prediction_rules(self) -> tuple[BlockingRule, ...]:
        """Cheap rules first, broad ones last; the union is what gets scored."""
        rules: list[tuple[str, ...]] = [(key,) for key in self.strong]
        if self.whole_name:
            rules.append(self.whole_name)
        others = [k for k in (self.birth, *self.places[:1]) if k is not None]
        rules += [(part, other) for other in others for part in self.name_parts]
        if self.birth is not None:
            rules += [(self.birth, place) for place in self.places]
        if self.street is not None and self.places:
            rules.append((self.street, self.places[0]))
        broad: list[tuple[str, ...]] = [(key,) for key in (self.birth, *self.places[:1]) if key is not None]
        return tuple(BlockingRule(r, broad=r in broad) for r in _unique(rules + broad))

    def deterministic_rules(self) -> tuple[BlockingRule, ...]:
        """Strict rules that two different people almost never both satisfy."""
        rules: list[tuple[str, ...]] = []
        second = (self.birth,) if self.birth else self.whole_name
        if self.whole_name and self.birth:
            rules.append((*self.whole_name, self.birth))
        elif self.whole_name and self.places:
            rules.append((*self.whole_name, self.places[0]))
        rules += [(key, *second) if second else (key,) for key in self.strong]
        if not rules:
            rules = [tuple(k for k in (*self.whole_name, self.birth, *self.places) if k)]
        return tuple(BlockingRule(r) for r in _unique(rules) if r)


def _unique(rules: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    seen: set[frozenset[str]] = set()
    out: list[tuple[str, ...]] = []
    for rule in rules:
        if rule and frozenset(rule) not in seen:
            seen.add(frozenset(rule))
            out.append(rule)
    return out


def _training_passes(planned: Sequence[PlannedField], keys: _Keys) -> tuple[TrainingPass, ...]:
    """Candidate blocks in order of preference, each leaving out the fields that move with it.

    Birth date first (nothing else follows from it), then the narrowest place key, the whole name, and the
    strong identifiers, whose blocks are nearly all matches. ``match_records`` runs them in this order until
    every field has been estimated once, so a block whose EM fails is made up for by the next one.
    """
    by_key = {p.block_key: p for p in planned}
    candidates: list[tuple[str, ...]] = [
        block
        for block in ((keys.birth,) if keys.birth else (), keys.training_place, keys.whole_name)
        if block
    ]
    candidates += [(key,) for key in keys.strong]
    passes: list[TrainingPass] = []
    for block in candidates:
        blocked_types = [by_key[k].semantic_type for k in block]
        sits_out = tuple(
            p.name for p in planned if any(correlated(p.semantic_type, t) for t in blocked_types)
        )
        if len(sits_out) < len(planned):
            passes.append(TrainingPass(block, sits_out))
    return tuple(passes)


# ---------------------------------------------------------------------------------------------- the run


@dataclass(frozen=True, slots=True)
class ParameterEstimate:
    """A trained comparison level: m = P(level | match), u = P(level | non-match), weight = log2(m / u)."""

    comparison: str
    level: str
    m_probability: float | None
    u_probability: float | None
    match_weight: float | None


@dataclass(frozen=True, slots=True)
class RuleSize:
    """How many candidate pairs a prediction blocking rule adds beyond the rules before it, against the cap."""

    rule: BlockingRule
    pairs: int
    cap: int
    kept: bool


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Scored links, the clusters they form, and what the model learned (to check before trusting it).

    ``pairs``: ``record_id_l``, ``record_id_r`` (with ``source_dataset_l``/``_r`` when linking),
    ``match_probability``, ``match_weight`` for pairs at or above the threshold. ``clusters``: ``record_id``
    (with ``source_dataset``) → ``cluster_id`` for every input record. ``model``: Splink's settings JSON with
    the trained parameters, the prior and the prediction rules kept, to score later records without training
    again (:func:`huaxiang.identity.scoring.score_records`).
    """

    pairs: pa.Table
    clusters: pa.Table
    parameters: tuple[ParameterEstimate, ...]
    probability_two_random_records_match: float
    deterministic_recall: float
    rule_sizes: tuple[RuleSize, ...]
    warnings: tuple[Label, ...] = field(default=())
    model: Mapping[str, Any] = field(default_factory=dict)


def match_records(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], plan: MatchPlan, settings: MatchSettings
) -> MatchResult:
    """Train a Splink model without labels on ``tables`` and link records at or above the threshold.

    Each table needs a unique ``record_id`` and the declared columns; when linking, a ``source_dataset``
    column names its source (the table name stands in without one). The connection is left as found.
    """
    from splink import DuckDBAPI

    _check_inputs(con, tables, plan, settings)
    run = uuid.uuid4().hex[:8]
    prepared = [f"__hx_match_{run}_{i}" for i in range(len(tables))]
    db_api = DuckDBAPI(connection=con)
    views_before = _views(con)
    notes: list[Label] = []
    try:
        with _stage("prepare"):
            _prepare(con, tables, prepared, plan)
        frames = [db_api.register(name) for name in prepared]
        inputs: Any = frames if len(frames) > 1 else frames[0]
        counts = [_count(con, name) for name in prepared]
        with _stage("size rules"), _quiet_splink():
            sizes = _size_rules(inputs, plan, settings, sum(counts))
        notes += [_oversized(s, plan) for s in sizes if not s.kept and not s.rule.broad]
        kept = [s.rule for s in sizes if s.kept]
        if not kept:
            raise MatchingError(
                "every blocking rule makes more candidate pairs than max_pairs and max_pairs_per_record allow",
                location="identity.max_pairs",
                hint="raise max_pairs or declare more selective fields (phone, id_number, birth_date)",
            )
        with _quiet_splink():
            model = _train(con, prepared, inputs, plan, kept, settings, notes)
            with _stage("prior"):
                linker, recall = _estimate_prior(con, prepared, inputs, plan, model, counts, notes)
            model = linker.misc.save_model_to_json()
            with _stage("predict and cluster"):
                predictions = linker.inference.predict(threshold_match_probability=settings.threshold)
                clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                    predictions, threshold_match_probability=settings.threshold
                )
        ids = [RECORD_ID] if plan.link_type == "dedupe_only" else [SOURCE_DATASET, RECORD_ID]
        pair_ids = ", ".join(f"{c}_{side}" for side in "lr" for c in ids)
        pairs = con.sql(
            f"SELECT {pair_ids}, match_probability, match_weight FROM {predictions.physical_name}"
        ).to_arrow_table()
        clustered = con.sql(
            f"SELECT {', '.join(ids)}, cluster_id FROM {clusters.physical_name}"
        ).to_arrow_table()
        parameters = _parameters(model, plan)
        return MatchResult(
            pairs=pairs,
            clusters=clustered,
            parameters=parameters,
            probability_two_random_records_match=float(model["probability_two_random_records_match"]),
            deterministic_recall=recall,
            rule_sizes=tuple(sizes),
            warnings=(*notes, *_check_parameters(parameters)),
            model=model,
        )
    finally:
        db_api.delete_tables_created_by_splink_from_db()  # type: ignore[no-untyped-call]
        for leftover in _views(con) - views_before:  # Splink's blocking counts register a view and leave it
            con.unregister(leftover)
        for name in prepared:
            con.execute(f"DROP TABLE IF EXISTS {_q(name)}").fetchall()


def _train(
    con: duckdb.DuckDBPyConnection,
    prepared: Sequence[str],
    inputs: Any,
    plan: MatchPlan,
    rules: Sequence[BlockingRule],
    settings: MatchSettings,
    notes: list[Label],
) -> dict[str, Any]:
    """u from random pairs, m from the EM passes, completed so that every level has a usable weight."""
    from splink import Linker

    trainer = Linker(inputs, _splink_settings(plan, rules), log_level=None)
    with _stage("estimate u"):
        trainer.training.estimate_u_using_random_sampling(
            max_pairs=settings.u_sample_pairs, seed=settings.seed
        )
    with _stage("train m"):
        model = _train_m(con, prepared, inputs, trainer.misc.save_model_to_json(), plan, settings, notes)
    return _complete_model(model, settings, notes)


def _estimate_prior(
    con: duckdb.DuckDBPyConnection,
    prepared: Sequence[str],
    inputs: Any,
    plan: MatchPlan,
    model: dict[str, Any],
    counts: Sequence[int],
    notes: list[Label],
) -> tuple[Any, float]:
    """The linker with λ set from the deterministic rules and their recall (computed from the trained m)."""
    from splink import Linker

    linker = Linker(inputs, model, log_level=None, validate_settings=False)
    recall = _deterministic_recall(con, prepared, plan, model)
    linker.training.estimate_probability_two_random_records_match(
        [_rule_creator(r) for r in plan.deterministic_rules], recall=recall
    )
    estimated = linker.misc.save_model_to_json()
    if estimated["probability_two_random_records_match"]:
        return linker, recall
    # No pair meets the strict rules: price the prior as if one did, rather than rule every match out
    # (a prior of 0 makes every probability 0, and Splink then fails).
    estimated["probability_two_random_records_match"] = 1.0 / (recall * _possible_pairs(counts, plan))
    notes.append(
        Label(
            zh="没有记录对满足确定性规则，先验匹配概率按一对计算",
            en="no pair meets the deterministic rules; the prior assumes one does",
        )
    )
    return Linker(inputs, estimated, log_level=None, validate_settings=False), recall


def _complete_model(model: dict[str, Any], settings: MatchSettings, notes: list[Label]) -> dict[str, Any]:
    """Give every level an m of at least ``_M_FLOOR``, levels training never saw included.

    Why: EM gives a level it never sees among matches an m near zero (Splink uses 1e-6 for one not observed at
    all), so one typo, or a near miss such as the same year and month of birth, would veto a match that every
    other field supports. A comparison no training block could estimate is made neutral (m = u) instead.
    """
    unseen_u = 1.0 / settings.u_sample_pairs
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        trained = any(level.get("m_probability") is not None for level in levels)
        if not trained:
            notes.append(
                Label(
                    zh=f"{name} 没有任何训练分块可以估计，已不计入匹配",
                    en=f"no training block could estimate {name}; it is left out of the score",
                )
            )
        for level in levels:
            level["u_probability"] = level.get("u_probability") or unseen_u
            if not trained:
                level["m_probability"] = level["u_probability"]
                continue
            if level.get("m_probability") is None:
                logger.info("level %r of %s never occurred in training", level.get("label_for_charts"), name)
            level["m_probability"] = min(1.0, max(level.get("m_probability") or 0.0, _M_FLOOR))
    return model


def _check_inputs(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], plan: MatchPlan, settings: MatchSettings
) -> None:
    if tuple(p.field for p in plan.fields) != tuple(settings.fields):
        raise ConfigError(
            "the plan was made for other fields than the settings declare",
            location="identity.fields",
            hint="make the plan with plan_matching(settings.fields, ...)",
        )
    wanted = 1 if plan.link_type == "dedupe_only" else 2
    if len(tables) < wanted or (plan.link_type == "dedupe_only" and len(tables) != 1):
        raise MatchingError(
            f"link type {plan.link_type} needs {'one table' if wanted == 1 else 'two or more tables'}, "
            f"got {len(tables)}",
            location="identity.link_type",
        )
    for table in tables:
        try:
            present = {row[0] for row in con.execute(f"DESCRIBE {_table_ref(table)}").fetchall()}
        except duckdb.CatalogException as error:
            raise MatchingError(f"table {table!r} does not exist", location=table) from error
        missing = [c for c in (RECORD_ID, *(p.field.column for p in plan.fields)) if c not in present]
        if missing:
            raise MatchingError(
                f"table {table!r} lacks the column(s) {', '.join(missing)}",
                location=table,
                hint=f"every table needs a unique {RECORD_ID} column and each declared field",
            )
        total, distinct = con.execute(
            f"SELECT count(*), count(DISTINCT {_q(RECORD_ID)}) FROM {_table_ref(table)}"
        ).fetchall()[0]
        if total != distinct:
            raise MatchingError(
                f"{RECORD_ID} is not unique in {table!r} ({total - distinct} repeated or missing)",
                location=table,
            )


def _prepare(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], prepared: Sequence[str], plan: MatchPlan
) -> None:
    """Normalise each field into the prepared tables; Chinese names get their pinyin keys from a lookup."""
    lookups: dict[str, str] = {}
    for p in plan.fields:
        if p.key is None:
            continue
        raw = _TEXT.format(col=_q(p.field.column))
        union = " UNION ".join(f"SELECT DISTINCT {raw} AS v FROM {_table_ref(t)}" for t in tables)
        values = [
            row[0]
            for row in con.execute(
                f"SELECT v FROM ({union}) WHERE v IS NOT NULL AND regexp_matches(v, '{_CJK_PATTERN}')"
            ).fetchall()
        ]
        values = [v for v in values if contains_cjk(v)]
        if not values:
            continue
        keys = name_keys(values, role=_NAME_ROLES[p.semantic_type])
        lookup = f"__hx_pinyin_{uuid.uuid4().hex[:8]}"
        con.register(
            lookup,
            pa.table(
                {
                    "v": values,
                    "k": [keys[v].key for v in values],
                    "s": [keys[v].sorted_parts for v in values],
                }
            ),
        )
        lookups[p.name] = lookup
    try:
        for i, (table, target) in enumerate(zip(tables, prepared, strict=True)):
            types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {_table_ref(table)}").fetchall()}
            if plan.link_type == "dedupe_only":
                source = ""
            elif SOURCE_DATASET in types:
                source = f', CAST(t."{SOURCE_DATASET}" AS VARCHAR) AS {SOURCE_DATASET}'
            else:
                source = f", '{table.replace(chr(39), '')}_{i}' AS {SOURCE_DATASET}"
            selects, joins = [], []
            for p in plan.fields:
                selects.extend(_field_sql(p, types[p.field.column], lookups.get(p.name)))
                if p.name in lookups:
                    joins.append(
                        f'LEFT JOIN {lookups[p.name]} AS "{p.name}__lk" '
                        f'ON "{p.name}__lk".v = {_TEXT.format(col=_quote_t(p.field.column))}'
                    )
            con.execute(
                f"CREATE TABLE {_q(target)} AS SELECT t.{_q(RECORD_ID)} AS {RECORD_ID}{source}, "
                f"{', '.join(selects)} FROM {_table_ref(table)} AS t {' '.join(joins)}"
            ).fetchall()
    finally:
        for lookup in lookups.values():
            con.unregister(lookup)


_NAME_ROLES: Final[dict[SemanticType, NameRole]] = {
    "full_name": "full",
    "family_name": "family",
    "given_name": "given",
}
_CJK_PATTERN: Final = r"[\x{3400}-\x{9fff}]"
_TEXT: Final = r"nullif(trim(regexp_replace(lower(CAST({col} AS VARCHAR)), '\s+', ' ', 'g')), '')"
_DATE_FORMATS: Final = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%d/%m/%Y", "%d.%m.%Y")


def _quote_t(column: str) -> str:
    return f"t.{_q(column)}"


def _table_ref(name: str) -> str:
    """A table name as given, schema-qualified or not (``temp.people``), quoted part by part."""
    return ".".join(_q(part) for part in name.split("."))


def _field_sql(p: PlannedField, column_type: str, lookup: str | None) -> list[str]:
    """SQL for the prepared columns of one field (DuckDB)."""
    col = _quote_t(p.field.column)
    text = _TEXT.format(col=col)
    t = p.semantic_type
    if p.key is not None:
        latin_key = rf"nullif(regexp_replace(strip_accents({text}), '[^\pL\pN]+', '', 'g'), '')"
        parts = (
            rf"list_sort(list_filter(string_split_regex(strip_accents({text}), '[^\pL\pN]+'), x -> x <> ''))"
        )
        latin_sorted = f"nullif(array_to_string({parts}, ' '), '')"
        key = f'coalesce("{p.name}__lk".k, {latin_key})' if lookup else latin_key
        out = [f'CASE WHEN {key} IS NOT NULL THEN {text} END AS "{p.name}"', f'{key} AS "{p.key}"']
        if p.sorted_parts is not None:
            sorted_parts = f'coalesce("{p.name}__lk".s, {latin_sorted})' if lookup else latin_sorted
            out.append(f'{sorted_parts} AS "{p.sorted_parts}"')
        return out
    if t == "birth_date":
        if column_type.upper().startswith(("DATE", "TIMESTAMP")):
            return [f"strftime({col}, '%Y%m%d') AS \"{p.name}\""]
        formats = ", ".join(f"'{f}'" for f in _DATE_FORMATS)
        digits = f"nullif(regexp_replace(trim(CAST({col} AS VARCHAR)), '[^0-9]', '', 'g'), '')"
        parsed = f"strftime(try_strptime(trim(CAST({col} AS VARCHAR)), [{formats}]), '%Y%m%d')"
        return [f'coalesce({parsed}, {digits}) AS "{p.name}"']
    if t == "phone":
        return [f"nullif(regexp_replace(CAST({col} AS VARCHAR), '[^0-9]', '', 'g'), '') AS \"{p.name}\""]
    if t in {"id_number", "postcode"}:
        return [
            f"nullif(regexp_replace(upper(CAST({col} AS VARCHAR)), '[^0-9A-Z]', '', 'g'), '') AS \"{p.name}\""
        ]
    if t == "email":
        return [f"nullif(lower(trim(CAST({col} AS VARCHAR))), '') AS \"{p.name}\""]
    if t == "gender":
        return [
            f"CASE WHEN {text} IN ('m', 'male', 'man', '男', '男性') THEN 'm' "
            f"WHEN {text} IN ('f', 'female', 'woman', '女', '女性') THEN 'f' ELSE {text} END AS \"{p.name}\""
        ]
    return [f'{text} AS "{p.name}"']


def _possible_pairs(counts: Sequence[int], plan: MatchPlan) -> int:
    total = sum(counts)
    if plan.link_type == "link_only":
        return max(1, (total * total - sum(n * n for n in counts)) // 2)
    return max(1, total * (total - 1) // 2)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {_q(table)}").fetchall()[0][0])


def _rule_creator(rule: BlockingRule) -> Any:
    from splink import block_on

    return block_on(*rule.columns)


def _size_rules(inputs: Any, plan: MatchPlan, settings: MatchSettings, records: int) -> list[RuleSize]:
    """Count each prediction rule's extra pairs with Splink's blocking analysis; drop those over the cap.

    The cap is ``max_pairs`` and at most ``max_pairs_per_record`` pairs per record; above
    ``_EXACT_COUNT_RECORDS`` records the counts are estimated from a sample, which is precise enough to cap.
    """
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    cap = min(settings.max_pairs, settings.max_pairs_per_record * records)
    counts = count_comparisons_from_blocking_rules(
        inputs,
        blocking_rules=[_rule_creator(r) for r in plan.prediction_rules],
        link_type=plan.link_type,
        unique_id_column_name=RECORD_ID,
        source_dataset_column_name=SOURCE_DATASET if plan.link_type != "dedupe_only" else None,
        record_sample_proportion=min(1.0, max(0.01, _EXACT_COUNT_RECORDS / max(records, 1))),
    )
    sizes = [int(c["marginal_comparison_count"]) for c in counts]
    return [RuleSize(rule, n, cap, n <= cap) for rule, n in zip(plan.prediction_rules, sizes, strict=True)]


def _views(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    }


def _oversized(size: RuleSize, plan: MatchPlan) -> Label:
    zh, en = plan.describe(size.rule.columns, "zh"), plan.describe(size.rule.columns, "en")
    return Label(
        zh=f"分块规则 {zh} 约产生 {size.pairs:,} 个候选对，超过上限 {size.cap:,}，已略去",
        en=f"blocking rule {en} makes about {size.pairs:,} candidate pairs, over the cap of {size.cap:,}; left out",
    )


def _splink_settings(plan: MatchPlan, rules: Sequence[BlockingRule]) -> SettingsCreator:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type=plan.link_type,
        unique_id_column_name=RECORD_ID,
        source_dataset_column_name=SOURCE_DATASET,
        comparisons=[_splink_comparison(c) for c in plan.comparisons],
        blocking_rules_to_generate_predictions=[_rule_creator(r) for r in rules],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _splink_comparison(comparison: ComparisonPlan) -> ComparisonCreator:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    levels: list[ComparisonLevelCreator | dict[str, Any]] = [cll.NullLevel(comparison.field.name)]
    for level in comparison.levels:
        creator = _splink_level(level)
        creator.configure(label_for_charts=level.label.en)
        if level.term_frequencies:
            creator.configure(tf_adjustment_column=level.column)
        levels.append(creator)
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(levels, output_column_name=comparison.field.name)


def _splink_level(level: LevelPlan) -> ComparisonLevelCreator:
    import splink.comparison_level_library as cll
    from splink import ColumnExpression

    column = ColumnExpression(level.column)
    threshold = level.threshold or 0
    match level.kind:
        case "exact":
            return cll.ExactMatchLevel(column)
        case "prefix":
            return cll.ExactMatchLevel(column.substr(1, int(threshold)))
        case "levenshtein":
            return cll.LevenshteinLevel(column, int(threshold))
        case "damerau_levenshtein":
            # A transposition is two Levenshtein edits; the cheap bound spares most pairs the slow function.
            return cll.And(
                cll.LevenshteinLevel(column, 2 * int(threshold)),
                cll.DamerauLevenshteinLevel(column, int(threshold)),
            )
        case "jaro_winkler":
            return cll.JaroWinklerLevel(column, threshold)
        case "username":
            return cll.ExactMatchLevel(column.regex_extract("^[^@]+"))
        case "username_jaro_winkler":
            return cll.JaroWinklerLevel(column.regex_extract("^[^@]+"), threshold)


def _train_m(
    con: duckdb.DuckDBPyConnection,
    prepared: Sequence[str],
    inputs: Any,
    base: dict[str, Any],
    plan: MatchPlan,
    settings: MatchSettings,
    notes: list[Label],
) -> dict[str, Any]:
    """Estimate m with EM passes, in plan order, until every field has an estimate; medians where several do.

    Each pass runs on its own linker holding only the comparisons it may estimate, so a field that moves with
    the block (an e-mail made from the name, when blocking on the name) can neither be estimated from it nor
    pull the other estimates towards the non-matches it makes look alike. A pass that fails (too few matches
    in its block for EM to separate) is skipped and reported; the other passes still count.
    """
    from splink import Linker
    from splink.internals.exceptions import SplinkException

    estimates: dict[tuple[str, int], list[float]] = {}
    estimated: set[str] = set()
    for training in plan.training_passes:
        wanted = {p.name for p in plan.fields if p.name not in training.not_estimated}
        if wanted <= estimated:
            continue
        block, zh = plan.describe(training.block_on, "en"), plan.describe(training.block_on, "zh")
        rule = _rule_creator(BlockingRule(training.block_on))
        pairs = _block_pairs(con, prepared, training.block_on, plan.link_type)
        if pairs < _MIN_TRAINING_PAIRS:
            notes.append(
                Label(
                    zh=f"训练分块 {zh} 只有 {pairs} 个记录对，已跳过",
                    en=f"training block {block} has only {pairs} pairs; skipped",
                )
            )
            continue
        model = copy.deepcopy(base)
        model["comparisons"] = [
            c for c in model["comparisons"] if c["output_column_name"] not in training.not_estimated
        ]
        linker = Linker(inputs, model, log_level=None, validate_settings=False)
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=settings.training_max_pairs if pairs > settings.training_max_pairs else None
            )
        except (ValueError, SplinkException) as error:
            logger.info("EM pass on %s failed: %s", block, error)
            notes.append(
                Label(
                    zh=f"训练分块 {zh} 上的 EM 未能收敛，已跳过",
                    en=f"EM on training block {block} did not converge; skipped",
                )
            )
            continue
        for comparison in linker.misc.save_model_to_json()["comparisons"]:
            levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
            for index, level in enumerate(levels):
                if level.get("m_probability") is not None:
                    estimated.add(comparison["output_column_name"])
                    estimates.setdefault((comparison["output_column_name"], index), []).append(
                        float(level["m_probability"])
                    )
    trained = copy.deepcopy(base)
    for comparison in trained["comparisons"]:
        levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
        for index, level in enumerate(levels):
            values = estimates.get((comparison["output_column_name"], index))
            if values:
                level["m_probability"] = statistics.median(values)
    return trained


def _block_pairs(
    con: duckdb.DuckDBPyConnection, prepared: Sequence[str], columns: Sequence[str], link_type: LinkType
) -> int:
    """Exact pair count of a block of equal keys, from group sizes (Splink's count would build every pair)."""
    keys = ", ".join(_q(c) for c in columns)
    union = " UNION ALL ".join(f"SELECT {i} AS source, {keys} FROM {_q(t)}" for i, t in enumerate(prepared))
    not_null = " AND ".join(f"{_q(c)} IS NOT NULL" for c in columns)
    if link_type == "link_only":
        sql = (
            f"SELECT sum(total * total - squares) / 2 FROM (SELECT sum(n) AS total, sum(n * n) AS squares FROM "
            f"(SELECT {keys}, source, count(*) AS n FROM ({union}) WHERE {not_null} GROUP BY ALL) GROUP BY {keys})"
        )
    else:
        sql = f"SELECT sum(n * (n - 1)) / 2 FROM (SELECT count(*) AS n FROM ({union}) WHERE {not_null} GROUP BY {keys})"
    return int(con.execute(sql).fetchall()[0][0] or 0)


def _deterministic_recall(
    con: duckdb.DuckDBPyConnection, prepared: Sequence[str], plan: MatchPlan, model: Mapping[str, Any]
) -> float:
    """The share of true matches the deterministic rules catch, from the trained m values and the null rates.

    Why computed, not assumed: the prior is the deterministic match count divided by this recall, and a fixed
    guess is off by a factor of two between clean and noisy data. Fields are taken as independent given a
    match, which overstates recall (and so understates the prior) when errors cluster in the same records.
    """
    by_column = {p.block_key: p for p in plan.fields}
    agree: dict[str, float] = {}
    columns = sorted({c for rule in plan.deterministic_rules for c in rule.columns})
    union = " UNION ALL ".join(f"SELECT {', '.join(_q(c) for c in columns)} FROM {_q(t)}" for t in prepared)
    filled = con.execute(
        f"SELECT count(*), {', '.join(f'count({_q(c)})' for c in columns)} FROM ({union})"
    ).fetchall()[0]
    total = max(int(filled[0]), 1)
    for column, present in zip(columns, filled[1:], strict=True):
        p = by_column[column]
        comparison = next(c for c in model["comparisons"] if c["output_column_name"] == p.name)
        plan_levels = next(c for c in plan.comparisons if c.field.name == p.name).levels
        trained = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
        m_equal = sum(
            float(lvl.get("m_probability") or 0.0)
            for lvl, planned in zip(trained, plan_levels, strict=False)
            if planned.implies_equal_key
        )
        agree[column] = min(1.0, m_equal) * (int(present) / total) ** 2
    caught = 0.0
    for outcome in itertools.product((True, False), repeat=len(columns)):
        equal = {c for c, o in zip(columns, outcome, strict=True) if o}
        if any(set(rule.columns) <= equal for rule in plan.deterministic_rules):
            probability = 1.0
            for c, o in zip(columns, outcome, strict=True):
                probability *= agree[c] if o else 1.0 - agree[c]
            caught += probability
    return min(1.0, max(0.05, caught))


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _parameters(model: Mapping[str, Any], plan: MatchPlan) -> tuple[ParameterEstimate, ...]:
    columns = {p.name: p.field.column for p in plan.fields}
    out: list[ParameterEstimate] = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            out.append(
                ParameterEstimate(
                    comparison=columns.get(
                        comparison["output_column_name"], comparison["output_column_name"]
                    ),
                    level=level.get("label_for_charts", ""),
                    m_probability=m,
                    u_probability=u,
                    match_weight=math.log2(m / u) if m and u else None,
                )
            )
    return tuple(out)


def _check_parameters(parameters: Sequence[ParameterEstimate]) -> list[Label]:
    """Warn where the trained model looks wrong: agreement that counts against a match, or the reverse."""
    notes: list[Label] = []
    for name, group in itertools.groupby(parameters, key=lambda p: p.comparison):
        levels = list(group)
        first, last = levels[0], levels[-1]
        if first.match_weight is not None and first.match_weight <= 0:
            notes.append(
                Label(
                    zh=f"{name} 完全相同反而降低匹配概率（权重 {first.match_weight:.2f}），请检查语义类型",
                    en=f"exact agreement on {name} counts against a match (weight {first.match_weight:.2f}); "
                    "check its semantic type",
                )
            )
        if last.match_weight is not None and last.match_weight >= 0:
            notes.append(
                Label(
                    zh=f"{name} 完全不同反而提高匹配概率（权重 {last.match_weight:.2f}）",
                    en=f"disagreement on {name} counts for a match (weight {last.match_weight:.2f})",
                )
            )
        if (first.m_probability or 0.0) < (last.m_probability or 0.0):
            notes.append(
                Label(
                    zh=f"训练结果显示多数真实匹配在 {name} 上完全不同，请检查该字段或训练分块",
                    en=f"training says most true matches disagree entirely on {name}; check the field and "
                    "the training blocks",
                )
            )
    return notes


@contextmanager
def _stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    logger.info("matching: %s took %.2f s", name, time.perf_counter() - started)


@contextmanager
def _quiet_splink() -> Iterator[None]:
    """Silence Splink's warnings about what this module handles and reports itself.

    Levels never observed in an EM pass are given weights in ``_complete_model``; sample sizes are chosen in
    ``MatchSettings``; blocking-analysis sample warnings concern estimates used only to cap rules.
    """
    handled = _HandledBySplinkWrapper()
    loggers = [logging.getLogger(name) for name in _SPLINK_WARNING_LOGGERS]
    for splink_logger in loggers:
        splink_logger.addFilter(handled)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        for splink_logger in loggers:
            splink_logger.removeFilter(handled)


_SPLINK_WARNING_LOGGERS: Final = (
    "splink.internals.expectation_maximisation",
    "splink.internals.linker_components.training",
)


class _HandledBySplinkWrapper(logging.Filter):
    _HANDLED: Final = (
        "not observed in dataset",
        "default value for `max_pairs`",
        "led to no observed matches",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in self._HANDLED)

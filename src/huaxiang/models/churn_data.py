"""Point-in-time churn data: each customer's traits at a cutoff, and whether they churned after it.

Features are the catalogue's own traits (every number, yes/no and time trait), compiled with the same
``compile_traits`` a profile build uses, so the model reads exactly what a profile shows and a cutoff in
the past sees only the events before it. The label comes from the other side of the cutoff: a customer
churned when no qualifying event (``churn.event_types``) falls in ``[cutoff, cutoff + horizon)``. An event
at the cutoff itself is therefore a future event: features read ``ts < cutoff`` and labels ``ts >=
cutoff``, so no event is on both sides.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from huaxiang.config import ChurnSpec
from huaxiang.errors import HuaxiangError
from huaxiang.expressions import EvaluationContext
from huaxiang.i18n import Label, bilingual
from huaxiang.models.clv_bgnbd import fit_bgnbd, probability_alive
from huaxiang.models.clv_summary import RfmSummary
from huaxiang.models.row_order import canonical_order
from huaxiang.tags.build import PERSONS, ibis_backend
from huaxiang.tags.library import Catalogue, load_catalogue
from huaxiang.traits import Trait, compile_traits, typed_events
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: Trait types a gradient-boosting model reads as numbers (times become days before the cutoff).
_NUMERIC_TYPES = frozenset({"number", "boolean", "timestamp", "date"})
_SECONDS_PER_DAY = 86_400.0
MIN_BGNBD_CUSTOMERS = 20

#: Features derived from the qualifying events themselves, present whatever the catalogue holds.
ACTIVITY_FEATURES: dict[str, Label] = {
    "churn_recency_days": bilingual("距最近一次合格行为天数", "Days since last qualifying event"),
    "churn_active_days": bilingual("有合格行为的天数", "Days with a qualifying event"),
    "churn_tenure_days": bilingual("首次合格行为至今天数", "Days since first qualifying event"),
    "churn_gap_ratio": bilingual("沉寂时长与平常间隔之比", "Days quiet over usual gap"),
    "churn_p_alive": bilingual("仍活跃概率(BG/NBD)", "Probability alive (BG/NBD)"),
}
_WEEK_DAYS = 7.0


def p_alive(repeat_days: FloatArray, span_days: FloatArray, age_days: FloatArray) -> FloatArray:
    """BG/NBD P(alive) of each customer, fitted on these customers' activity alone (periods of a week).

    It is a feature and a baseline: it weighs a quiet spell against the customer's own purchase rate. NaN
    when the fit is impossible (too few customers, or nobody came back).
    """
    if len(repeat_days) < MIN_BGNBD_CUSTOMERS or not np.any(repeat_days > 0):
        return np.full(len(repeat_days), np.nan)
    # Customers in an order of their own activity, not of their person ids (which differ between
    # workspaces): the optimiser's sums then always run in one order, and the same activity gives the same
    # parameters to the last digit.
    order = canonical_order(np.column_stack([repeat_days, span_days, age_days]))
    summary = RfmSummary.from_arrays(
        repeat_days[order], span_days[order] / _WEEK_DAYS, age_days[order] / _WEEK_DAYS
    )
    try:
        params = fit_bgnbd(summary)
    except HuaxiangError as error:
        log.info("no BG/NBD fit for the churn frame: %s", error.message)
        return np.full(len(repeat_days), np.nan)
    alive = np.empty(len(repeat_days), dtype=np.float64)
    alive[order] = probability_alive(params, summary.frequency, summary.recency, summary.T)
    return alive


@dataclass(frozen=True, slots=True)
class FeatureSet:
    """The columns a churn model reads, in order, with the words a person reads for each."""

    names: tuple[str, ...]
    labels: tuple[Label, ...]
    traits: tuple[Trait, ...]  # the catalogue traits among ``names``

    def label(self, name: str) -> Label:
        return self.labels[self.names.index(name)]


@dataclass(frozen=True, slots=True, eq=False)
class ChurnFrame:
    """The customers at one cutoff: their features, their activity summary and (when known) their label.

    A customer is a person with at least one qualifying event before the cutoff. ``churned`` is None when
    the horizon after the cutoff has not fully passed by ``known_until``.
    """

    cutoff: datetime  # naive UTC
    person_ids: npt.NDArray[np.str_]
    features: FloatArray  # customers × FeatureSet.names; NaN where a trait has no value
    churned: npt.NDArray[np.int8] | None
    recency_days: FloatArray  # days from the last qualifying event to the cutoff
    p_alive: FloatArray  # BG/NBD P(alive) fitted on this frame's activity before the cutoff

    @property
    def size(self) -> int:
        return len(self.person_ids)


def feature_set(catalogue: Catalogue) -> FeatureSet:
    """Every numeric, yes/no and time trait of the catalogue, plus the activity features."""
    traits = tuple(t for t in catalogue.traits if t.type in _NUMERIC_TYPES)
    names = tuple(ACTIVITY_FEATURES) + tuple(t.name for t in traits)
    labels = tuple(ACTIVITY_FEATURES.values()) + tuple(t.label for t in traits)
    return FeatureSet(names, labels, traits)


def feature_set_named(catalogue: Catalogue, names: tuple[str, ...]) -> FeatureSet:
    """The features a trained model was fitted on, looked up again in today's catalogue."""
    available = feature_set(catalogue)
    missing = [n for n in names if n not in available.names]
    if missing:
        raise HuaxiangError(
            f"the churn model reads traits the catalogue no longer has: {', '.join(missing)} / "
            f"流失模型用到的特征已不在标签目录中",
            location="huaxiang.yaml traits",
            hint="restore those trait definitions, or train a new model (`huaxiang churn train`)",
        )
    traits = {t.name: t for t in available.traits}
    return FeatureSet(
        names,
        tuple(available.label(n) for n in names),
        tuple(traits[n] for n in names if n in traits),
    )


def activity_window(workspace: Workspace, spec: ChurnSpec) -> tuple[datetime, datetime] | None:
    """The first and last qualifying event time (naive UTC), or None when there is none."""
    row = workspace.warehouse.rows(
        "SELECT min(e.ts), max(e.ts) FROM events e JOIN event_persons p USING (event_id) "
        "WHERE list_contains($types, e.type)",
        {"types": list(spec.event_types)},
    )
    first, last = row[0] if row else (None, None)
    return None if first is None else (first, last)


def _activity(workspace: Workspace, spec: ChurnSpec, cutoff: datetime, known_until: datetime) -> pa.Table:
    """Per customer at ``cutoff``: activity before it, and qualifying events in the horizon after it."""
    end = cutoff + timedelta(days=spec.horizon_days)
    return workspace.warehouse.con.execute(
        """
        SELECT p.person_id,
               max(e.ts) FILTER (WHERE e.ts < $cutoff) AS last_ts,
               min(e.ts) FILTER (WHERE e.ts < $cutoff) AS first_ts,
               count(DISTINCT e.ts::DATE) FILTER (WHERE e.ts < $cutoff) AS active_days,
               count(*) FILTER (WHERE e.ts >= $cutoff AND e.ts < $end AND e.ts < $known) AS future_events
        FROM events e JOIN event_persons p USING (event_id)
        WHERE list_contains($types, e.type) AND e.ts < $end
        GROUP BY p.person_id
        HAVING count(*) FILTER (WHERE e.ts < $cutoff) > 0
        ORDER BY p.person_id
        """,
        {"types": list(spec.event_types), "cutoff": cutoff, "end": end, "known": known_until},
    ).to_arrow_table()


def _trait_values(
    workspace: Workspace,
    catalogue: Catalogue,
    features: FeatureSet,
    cutoff: datetime,
    persons: npt.NDArray[np.str_],
) -> dict[str, FloatArray]:
    """Trait name → its value as of ``cutoff`` for each of ``persons`` (NaN if none), times as days before it."""
    if not features.traits:
        return {}
    context = EvaluationContext(cutoff, ZoneInfo(workspace.config.workspace.timezone))
    warehouse = workspace.warehouse
    first = warehouse.scalar("SELECT min(ts) FROM events")
    with ibis_backend(warehouse) as backend:
        reads = frozenset().union(*(t.reads for t in features.traits))
        events = typed_events(backend.table("events"), backend.table(PERSONS), catalogue.fields, reads)
        expression = compile_traits(
            features.traits, events, context, span=None if first is None else (first, cutoff)
        )
        sql = ibis.to_sql(expression, dialect="duckdb")
    columns = []
    for trait in features.traits:
        quoted = f'"{trait.name}"'
        if trait.type in ("timestamp", "date"):
            columns.append(f"date_diff('second', {quoted}::TIMESTAMP, $cutoff) / {_SECONDS_PER_DAY}")
        else:
            columns.append(f"{quoted}::DOUBLE")
    selected = ", ".join(f"{c} AS c{i}" for i, c in enumerate(columns))
    table = warehouse.con.execute(
        f"SELECT person_id, {selected} FROM ({sql})", {"cutoff": cutoff}
    ).to_arrow_table()
    frame = table.to_pandas().set_index("person_id").reindex(persons)
    return {t.name: frame[f"c{i}"].to_numpy(dtype=np.float64) for i, t in enumerate(features.traits)}


def churn_frame(
    workspace: Workspace,
    cutoff: datetime,
    *,
    features: FeatureSet | None = None,
    known_until: datetime | None = None,
    catalogue: Catalogue | None = None,
) -> ChurnFrame:
    """The customers at ``cutoff`` (naive UTC) with their features and, if known by then, their labels.

    ``known_until`` is the moment the data runs to (default: the last event); labels need the whole
    horizon before it, else ``churned`` is None. Features never read an event at or after ``cutoff``.
    """
    spec = workspace.config.churn
    catalogue = catalogue or load_catalogue(workspace.config)
    features = features or feature_set(catalogue)
    if known_until is None:
        known_until = workspace.warehouse.scalar("SELECT max(ts) FROM events") or cutoff
    activity = _activity(workspace, spec, cutoff, known_until)
    persons = np.asarray(activity.column("person_id").to_pylist(), dtype=np.str_)

    def moments(column: str) -> npt.NDArray[np.datetime64]:
        return np.asarray(activity.column(column).to_numpy(zero_copy_only=False), dtype="datetime64[us]")

    one_day = np.timedelta64(86_400_000_000, "us")
    now = np.datetime64(cutoff, "us")
    last, first = moments("last_ts"), moments("first_ts")
    recency = np.asarray((now - last) / one_day, dtype=np.float64)
    age = np.asarray((now - first) / one_day, dtype=np.float64)
    span = np.asarray((last - first) / one_day, dtype=np.float64)
    active = np.asarray(activity.column("active_days").to_numpy(zero_copy_only=False), dtype=np.float64)
    traits = _trait_values(workspace, catalogue, features, cutoff, persons)
    repeat = np.maximum(active - 1, 0)
    usual_gap = np.maximum(age, 1.0) / np.maximum(active, 1.0)
    alive = p_alive(repeat, span, age)
    activity_columns = {
        "churn_recency_days": recency,
        "churn_active_days": active,
        "churn_tenure_days": age,
        "churn_gap_ratio": recency / usual_gap,
        "churn_p_alive": alive,
    }
    matrix = np.full((len(persons), len(features.names)), np.nan, dtype=np.float64)
    for j, name in enumerate(features.names):
        if name in activity_columns:
            matrix[:, j] = activity_columns[name]
        else:
            matrix[:, j] = traits[name]
    labelled = cutoff + timedelta(days=spec.horizon_days) <= known_until
    churned = None
    if labelled:
        future = np.asarray(activity.column("future_events").to_numpy(zero_copy_only=False))
        churned = (future == 0).astype(np.int8)
    log.info("churn frame at %s: %d customers", cutoff, len(persons))
    return ChurnFrame(cutoff, persons, _single_precision(matrix), churned, recency, alive)


def _single_precision(matrix: FloatArray) -> FloatArray:
    """Features rounded to single precision (about seven significant digits), held as doubles.

    DuckDB sums floating-point values in parallel, so an average can differ in its last bits from one
    run to the next over the same events; a tree split that falls between two such values would then
    train a different model. Seven digits are far more than any trait means, and the rounding makes the
    same events give the same model.
    """
    return matrix.astype(np.float32).astype(np.float64)


def stack(frames: list[ChurnFrame]) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    """Features and labels of several labelled frames, one under the other."""
    labelled = [(f.features, f.churned) for f in frames if f.churned is not None]
    if not labelled:
        raise HuaxiangError(
            "no churn training cutoff has a known outcome / 没有已知结果的训练截止点",
            location="huaxiang.yaml churn",
            hint="train with an --as-of at least two churn horizons after the first event",
        )
    # Each frame's rows in an order of their own values, not of person ids, so the same events train the
    # same model (huaxiang.models.row_order).
    orders = [canonical_order(x, y) for x, y in labelled]
    features = np.vstack([x[order] for (x, _), order in zip(labelled, orders, strict=True)])
    labels = np.concatenate([y[order] for (_, y), order in zip(labelled, orders, strict=True)])
    return features, labels

"""The behavioural and value features a customer segmentation clusters on, computed point in time.

Features are built from the workspace's own traits (``orders_total``, ``spend_total``, ...), compiled with
the same ``compile_traits`` a profile build uses, so a cluster and a profile never disagree about what an
order or a spend is, and a past ``as_of`` sees only the events before it. Only persons with at least one
order are segmented: a browser who never bought has no value features to compare.

Each feature is declared with the SQL that derives it from those traits (our own text, never a user's),
the transform applied before standardising (``log1p`` for counts and amounts, whose long tails would
otherwise decide every centroid) and the words used when a cluster stands out on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import numpy.typing as npt

from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.expressions import EvaluationContext
from huaxiang.i18n import Label, bilingual
from huaxiang.tags.build import PERSONS, ibis_backend
from huaxiang.tags.library import load_catalogue
from huaxiang.traits import compile_traits, typed_events
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

Transform = Literal["log1p", "identity"]

#: The traits the features are computed from; all are in the standard library.
TRAITS: tuple[str, ...] = (
    "orders_total",
    "spend_total",
    "purchase_lines",
    "first_purchase_at",
    "last_purchase_at",
    "page_views_total",
    "searches_total",
    "add_to_cart_total",
    "complaints_total",
    "refunds",
)


@dataclass(frozen=True, slots=True)
class Feature:
    """One clustering feature: how it is derived, transformed, named, and described when it stands out."""

    name: str
    sql: str  # over the trait columns and ``$as_of``; in natural units (orders, yuan, days, shares)
    transform: Transform
    label: Label
    high: Label  # what a cluster well above the population is called on this feature
    low: Label


FEATURES: tuple[Feature, ...] = (
    Feature(
        "orders",
        "orders_total",
        "log1p",
        bilingual("订单数", "Orders"),
        bilingual("高频", "frequent"),
        bilingual("低频", "infrequent"),
    ),
    Feature(
        "spend",
        "greatest(coalesce(spend_total, 0), 0)",
        "log1p",
        bilingual("累计消费", "Total spend"),
        bilingual("高消费", "high-spending"),
        bilingual("低消费", "low-spending"),
    ),
    Feature(
        "order_value",
        "greatest(coalesce(spend_total, 0), 0) / orders_total",
        "log1p",
        bilingual("客单价", "Average order value"),
        bilingual("高客单价", "big-basket"),
        bilingual("低客单价", "small-basket"),
    ),
    Feature(
        "recency_days",
        "date_diff('second', last_purchase_at, $as_of) / 86400.0",
        "log1p",
        bilingual("距最近购买天数", "Days since last purchase"),
        bilingual("久未购买", "lapsed"),
        bilingual("近期活跃", "recently active"),
    ),
    Feature(
        "tenure_days",
        "date_diff('second', first_purchase_at, $as_of) / 86400.0",
        "log1p",
        bilingual("首购至今天数", "Days since first purchase"),
        bilingual("老客", "long-standing"),
        bilingual("新客", "new"),
    ),
    Feature(
        "browse_share",
        "(coalesce(page_views_total, 0) + coalesce(searches_total, 0) + coalesce(add_to_cart_total, 0)) "
        "/ (coalesce(page_views_total, 0) + coalesce(searches_total, 0) + coalesce(add_to_cart_total, 0) "
        "+ greatest(coalesce(purchase_lines, 0), 1))",
        "identity",
        bilingual("浏览占比", "Browsing share"),
        bilingual("爱浏览", "browse-heavy"),
        bilingual("少浏览", "rarely browsing"),
    ),
    Feature(
        "complaints",
        "coalesce(complaints_total, 0)",
        "log1p",
        bilingual("投诉次数", "Complaints"),
        bilingual("多投诉", "complaining"),
        bilingual("少投诉", "rarely complaining"),
    ),
    Feature(
        "refund_rate",
        "coalesce(refunds, 0) / greatest(coalesce(refunds, 0) + coalesce(purchase_lines, 0), 1)",
        "log1p",
        bilingual("退款率", "Refund rate"),
        bilingual("常退款", "often refunding"),
        bilingual("少退款", "rarely refunding"),
    ),
)

FEATURES_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}


@dataclass(frozen=True, slots=True)
class FeatureMatrix:
    """Every ordering person's features as of one moment: natural units, one row per person."""

    person_ids: tuple[str, ...]
    names: tuple[str, ...]
    values: npt.NDArray[np.float64]  # persons × features, natural units (orders, yuan, days, shares)
    as_of: datetime  # naive UTC
    data_from: datetime | None
    data_to: datetime | None

    def transformed(self) -> npt.NDArray[np.float64]:
        return transform(self.values, self.names)

    def take(self, rows: npt.NDArray[np.intp]) -> FeatureMatrix:
        """The same features for a subset (or reordering) of the persons."""
        ids = tuple(self.person_ids[i] for i in rows)
        return FeatureMatrix(ids, self.names, self.values[rows], self.as_of, self.data_from, self.data_to)


def transform(values: npt.NDArray[np.float64], names: tuple[str, ...]) -> npt.NDArray[np.float64]:
    """Each feature's declared transform, column by column (natural units → the space clusters live in)."""
    out = np.array(values, dtype=np.float64, copy=True)
    for column, name in enumerate(names):
        if FEATURES_BY_NAME[name].transform == "log1p":
            out[:, column] = np.log1p(np.maximum(out[:, column], 0.0))
    return out


def _literal_time(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def read_features(
    workspace: Workspace, *, as_of: datetime | None = None, names: tuple[str, ...] | None = None
) -> FeatureMatrix:
    """The clustering features of every person with an order before ``as_of`` (naive UTC; default now)."""
    moment = as_of or datetime.now(UTC).replace(tzinfo=None)
    chosen = names or tuple(f.name for f in FEATURES)
    unknown = [n for n in chosen if n not in FEATURES_BY_NAME]
    if unknown:
        raise HuaxiangError(
            f"unknown cluster feature(s) {', '.join(unknown)}",
            hint=f"known features: {', '.join(FEATURES_BY_NAME)}",
        )
    warehouse = workspace.warehouse
    if PERSONS not in warehouse.tables():
        raise HuaxiangError(
            "no resolved persons yet: the event_persons table is missing",
            hint="run identity resolution first (`huaxiang identity`), then fit clusters",
        )
    catalogue = load_catalogue(workspace.config)
    try:
        traits = [catalogue.trait(name) for name in TRAITS]
    except NotFoundError as error:
        raise HuaxiangError(
            f"clusters need the standard trait definitions: {error.message}",
            location="huaxiang.yaml traits",
            hint=f"keep the standard library on, or define {', '.join(TRAITS)} yourself",
        ) from None
    context = EvaluationContext(moment, ZoneInfo(workspace.config.workspace.timezone))
    with ibis_backend(warehouse) as backend:
        reads = frozenset().union(*(t.reads for t in traits))
        events = typed_events(backend.table("events"), backend.table(PERSONS), catalogue.fields, reads)
        traits_sql = ibis.to_sql(compile_traits(traits, events, context), dialect="duckdb")
    as_of_sql = _literal_time(moment)
    columns = ", ".join(
        f"CAST({FEATURES_BY_NAME[n].sql.replace('$as_of', as_of_sql)} AS DOUBLE) AS {n}" for n in chosen
    )
    rows = warehouse.con.execute(
        f"SELECT person_id, {columns} FROM ({traits_sql}) AS t WHERE orders_total > 0 ORDER BY person_id"
    ).fetchall()
    window = warehouse.rows(f"SELECT min(ts), max(ts) FROM events WHERE ts < {as_of_sql}")[0]
    values = np.array([r[1:] for r in rows], dtype=np.float64).reshape(len(rows), len(chosen))
    log.info("cluster features as of %s: %d persons with orders", moment, len(rows))
    return FeatureMatrix(
        tuple(str(r[0]) for r in rows), chosen, np.nan_to_num(values), moment, window[0], window[1]
    )

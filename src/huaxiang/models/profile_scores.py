"""Model scores for a profile build: what each trained model says about every person as of the build time.

``huaxiang build`` calls :func:`model_scores` and hands the result to the build, which fills the
catalogue's model outputs (``model_outputs`` in the standard library) and the tags that read them.
Everything here reads only events before the as-of time, so a build dated in the past is scored as it
would have been on that day.

- CLV (BG/NBD + Gamma-Gamma) is refitted on every build: fitting takes seconds even for a million customers
  and the latest purchases are the model's whole input. It is measured first on a holdout (the last
  ``HOLDOUT_DAYS`` before the as-of time) so the registry records accuracy on data the fit did not see.
- Text sentiment uses the shipped model (or the workspace's retrained one) over reviews, complaints and
  survey answers.
- Churn and clusters are trained on request (``huaxiang churn train``, ``huaxiang clusters fit``); a build
  scores with the newest registered version of each.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import ibis
import numpy as np
import pyarrow as pa

from huaxiang.errors import HuaxiangError
from huaxiang.models.churn import churn_scores
from huaxiang.models.clusters import assign_clusters
from huaxiang.models.clv_bgnbd import expected_purchases, fit_bgnbd, probability_alive
from huaxiang.models.clv_gamma_gamma import fit_gamma_gamma
from huaxiang.models.clv_report import ClvReport, fit_clv
from huaxiang.models.clv_summary import summarise_transactions
from huaxiang.models.clv_value import customer_lifetime_value
from huaxiang.models.registry import ModelVersion, list_models, register_model
from huaxiang.models.text import default_sentiment_model, keywords
from huaxiang.tags.build import PERSONS, ibis_backend
from huaxiang.tags.library import Catalogue, load_catalogue
from huaxiang.tags.model_outputs import ModelScores
from huaxiang.traits import typed_events
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

PERIOD_DAYS = 7.0
HOLDOUT_DAYS = 90
CLV_HORIZON_WEEKS = 52
ANNUAL_DISCOUNT = 0.10
MIN_CUSTOMERS = 50  # fewer repeat-purchase histories than this do not identify four BG/NBD parameters
TEXT_TYPES = ("review", "complaint", "survey_response", "service_ticket")
_BOUGHT = "type = 'purchase' AND coalesce(status, 'paid') NOT IN ('refunded', 'cancelled')"

#: A trained model kind's scorer: (workspace, its newest version, as-of time) → scores.
Scorer = Callable[[Workspace, ModelVersion, dt.datetime], ModelScores]


def purchases(workspace: Workspace, as_of: dt.datetime, catalogue: Catalogue | None = None) -> pa.Table:
    """``person_id, ts, spend`` of every purchase line before ``as_of`` (refunds and cancellations left out)."""
    catalogue = catalogue or load_catalogue(workspace.config)
    reads = {"amount", "unit_price", "quantity", "status"}
    with ibis_backend(workspace.warehouse) as backend:
        events = typed_events(backend.table("events"), backend.table(PERSONS), catalogue.fields, reads)
        sql = ibis.to_sql(events, dialect="duckdb")
    return workspace.warehouse.con.execute(
        f"SELECT person_id, ts, coalesce(amount, unit_price * coalesce(quantity, 1))::DOUBLE AS spend "
        f"FROM ({sql}) WHERE ts < ? AND {_BOUGHT}",
        [as_of],
    ).to_arrow_table()


def clv_scores(
    workspace: Workspace, as_of: dt.datetime, catalogue: Catalogue | None = None
) -> ModelScores | None:
    """Fit BG/NBD and Gamma-Gamma on purchases before ``as_of``, register the fit, score every buyer."""
    lines = purchases(workspace, as_of, catalogue)
    if lines.num_rows == 0:
        return None
    day = as_of.date()
    metrics = _clv_holdout_metrics(lines, day)
    summary, _ = summarise_transactions(
        lines, customer="person_id", date="ts", amount="spend", calibration_end=day, period_days=PERIOD_DAYS
    )
    if summary.n_customers < MIN_CUSTOMERS or not np.any(summary.frequency > 0):
        log.info("CLV not fitted: %d customers with purchases", summary.n_customers)
        return None
    bgnbd = fit_bgnbd(summary)
    gamma_gamma = fit_gamma_gamma(summary.frequency, summary.monetary_value)
    weekly_discount = (1 + ANNUAL_DISCOUNT) ** (PERIOD_DAYS / 365) - 1
    value = customer_lifetime_value(bgnbd, gamma_gamma, summary, CLV_HORIZON_WEEKS, weekly_discount)
    alive = probability_alive(bgnbd, summary.frequency, summary.recency, summary.T)
    expected = expected_purchases(
        bgnbd, HOLDOUT_DAYS / PERIOD_DAYS, summary.frequency, summary.recency, summary.T
    )
    first = pa.compute.min(lines.column("ts")).as_py()
    version = register_model(
        workspace.warehouse,
        "clv",
        parameters={
            "bgnbd": bgnbd.to_dict(),
            "gamma_gamma": gamma_gamma.to_dict(),
            "period_days": PERIOD_DAYS,
            "horizon_weeks": CLV_HORIZON_WEEKS,
            "annual_discount": ANNUAL_DISCOUNT,
        },
        metrics={"customers": summary.n_customers, **metrics},
        data_from=first,
        data_to=as_of,
        description="BG/NBD + Gamma-Gamma on the workspace's purchases, refitted at each build",
    )
    table = pa.table(
        {
            "person_id": pa.array(summary.customer_ids.astype(str)),
            "p_alive": pa.array(alive),
            "expected_purchases_90d": pa.array(expected),
            "predicted_clv_365d": pa.array(value),
        }
    )
    return ModelScores("clv", version.version, table)


def clv_holdout(lines: pa.Table, day: dt.date) -> ClvReport | None:
    """BG/NBD and Gamma-Gamma fitted on all but the last ``HOLDOUT_DAYS`` of ``lines``, scored on those days."""
    calibration_end = day - dt.timedelta(days=HOLDOUT_DAYS)
    try:
        summary, holdout = summarise_transactions(
            lines,
            customer="person_id",
            date="ts",
            amount="spend",
            calibration_end=calibration_end,
            observation_end=day,
            period_days=PERIOD_DAYS,
        )
    except HuaxiangError as error:
        log.info("no CLV holdout: %s", error.message)
        return None
    if holdout is None or summary.n_customers < MIN_CUSTOMERS:
        return None
    return fit_clv(
        summary,
        holdout,
        source="workspace purchases",
        calibration_end=calibration_end,
        period_days=PERIOD_DAYS,
        with_spend=True,
    )


def _clv_holdout_metrics(lines: pa.Table, day: dt.date) -> dict[str, float | str]:
    report = clv_holdout(lines, day)
    if report is None or report.holdout is None:
        return {"holdout": "not enough history"}
    accuracy = report.holdout
    return {
        "holdout_days": HOLDOUT_DAYS,
        "holdout_actual_purchases": accuracy.actual_total,
        "holdout_predicted_purchases": accuracy.predicted_total,
        "holdout_mae_per_customer": accuracy.mae_per_customer,
        "holdout_correlation": accuracy.correlation,
    }


def sentiment_scores(workspace: Workspace, as_of: dt.datetime) -> ModelScores | None:
    """Mean positive probability and top keywords of each person's texts before ``as_of``."""
    rows = workspace.warehouse.rows(
        "SELECT person_id, text FROM (SELECT p.person_id, e.ts, json_extract_string(e.properties, '$.text') AS text "
        "FROM events e JOIN event_persons p USING (event_id) WHERE e.ts < $as_of AND list_contains($types, e.type)) "
        "WHERE text IS NOT NULL AND NOT starts_with(text, 'enc:') ORDER BY person_id, ts",
        {"types": list(TEXT_TYPES), "as_of": as_of},
    )
    if not rows:
        return None
    model = default_sentiment_model(workspace.state_dir / "models")
    texts = [text for _, text in rows]
    scores = model.score(texts)
    by_person: dict[str, list[int]] = {}
    for position, (person, _) in enumerate(rows):
        by_person.setdefault(person, []).append(position)
    persons = sorted(by_person)
    mean = [float(np.mean([scores[i].positive_probability for i in by_person[p]])) for p in persons]
    words = keywords([" ".join(texts[i] for i in by_person[p]) for p in persons], top_k=5)
    version = _text_model_version(workspace, {str(k): v for k, v in model.describe().items()})
    table = pa.table(
        {
            "person_id": pa.array(persons),
            "text_sentiment": pa.array(mean),
            "text_keywords": pa.array(words, type=pa.list_(pa.string())),
        }
    )
    return ModelScores("sentiment", version.version, table)


def _text_model_version(workspace: Workspace, description: dict[str, str]) -> ModelVersion:
    """The registry entry of the sentiment model in use, registered the first time it scores."""
    for version in list_models(workspace.warehouse, "sentiment"):
        if version.parameters == {"models": description}:
            return version
    return register_model(
        workspace.warehouse,
        "sentiment",
        parameters={"models": description},
        metrics={"see": "docs/benchmarks.md (text): cross-domain accuracy of the shipped model"},
        description="sentiment of Chinese and English customer texts",
    )


def cluster_scores(workspace: Workspace, version: ModelVersion, as_of: dt.datetime) -> ModelScores:
    """Each customer's cluster under ``version``: its id and its name in both languages."""
    assigned = assign_clusters(workspace, version.version, as_of)
    labels = [
        f"{zh} · {en}"
        for zh, en in zip(
            assigned.column("cluster_label_zh").to_pylist(),
            assigned.column("cluster_label_en").to_pylist(),
            strict=True,
        )
    ]
    table = pa.table(
        {
            "person_id": assigned.column("person_id"),
            "cluster": pa.compute.cast(assigned.column("cluster"), pa.string()),
            "cluster_label": pa.array(labels, pa.string()),
        }
    )
    return ModelScores("clusters", version.version, table)


#: Trained model kinds a build scores with, each by its newest registered version.
TRAINED: tuple[tuple[str, Scorer], ...] = (("churn", churn_scores), ("clusters", cluster_scores))


def model_scores(
    workspace: Workspace, as_of: dt.datetime, *, catalogue: Catalogue | None = None
) -> list[ModelScores]:
    """Scores of every model that can score now: CLV and sentiment always, trained kinds when they have a version."""
    found = [clv_scores(workspace, as_of, catalogue), sentiment_scores(workspace, as_of)]
    for kind, scorer in TRAINED:
        versions = list_models(workspace.warehouse, kind)
        if versions:
            found.append(scorer(workspace, versions[0], as_of))
    return [s for s in found if s is not None]

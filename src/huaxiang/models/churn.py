"""Churn risk: train on point-in-time profiles, validate on a later period, register, score and explain.

Cutoffs are laid out backwards from the as-of time ``A`` with the workspace's ``churn`` settings (horizon
``H``, ``n`` cutoffs ``s`` days apart). The validation cutoff is ``V = A - H``, the last whose outcome is
known by ``A``; training cutoffs are ``V - H - k·s`` (k = 0..n-1), so every training label is settled
before ``V`` and the validation period is one the model never saw (out of time). Each frame holds only
customers at its cutoff (a qualifying event before it) and features from events before it.

Two baselines are measured on the same validation customers: days since the last qualifying event
(turned into a probability by a one-feature logistic regression fitted on the training cutoffs), and
``1 - P(alive)`` of a BG/NBD model fitted on the activity before ``V``. The registered model is the one
evaluated, so the metrics in the registry are the model's own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sklearn.linear_model import LogisticRegression

from huaxiang.config import ChurnSpec
from huaxiang.errors import HuaxiangError
from huaxiang.i18n import Language, current_language
from huaxiang.models.churn_data import (
    ChurnFrame,
    FeatureSet,
    activity_window,
    churn_frame,
    feature_set,
    feature_set_named,
    stack,
)
from huaxiang.models.churn_metrics import CURVES, SCORES, ChurnMetrics, churn_metrics, curves
from huaxiang.models.churn_model import (
    PARAMETERS,
    ROUNDS,
    Importance,
    contributions,
    drivers,
    fit_booster,
    importance,
    load_booster,
    predict,
)
from huaxiang.models.churn_plot import churn_figures
from huaxiang.models.registry import ModelVersion, find_model, register_model
from huaxiang.tags.library import load_catalogue
from huaxiang.tags.model_outputs import ModelScores
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

KIND = "churn"
__all__ = ["KIND", "SCORES", "ChurnResult", "churn_figures", "churn_scores", "score_churn", "train_churn"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class ValidationScores:
    """Every validation customer with its outcome and the three scores (higher = more likely to churn)."""

    cutoff: datetime
    person_ids: npt.NDArray[np.str_]
    churned: npt.NDArray[np.int8]
    scores: dict[str, FloatArray]


@dataclass(frozen=True, slots=True, eq=False)
class ChurnResult:
    """A trained, validated and registered churn model with its baselines and drivers."""

    version: ModelVersion
    training_cutoffs: tuple[datetime, ...]
    training_customers: int
    validation: ValidationScores
    metrics: dict[str, ChurnMetrics]  # "model", "recency", "p_alive"
    importance: list[Importance]
    drivers: list[list[str]] = field(default_factory=list)  # per validation customer, top 3

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.version.to_dict(),
            "training_cutoffs": [c.isoformat() for c in self.training_cutoffs],
            "validation_cutoff": self.validation.cutoff.isoformat(),
            "importance": [
                {"feature": i.name, "label_zh": i.label.zh, "label_en": i.label.en, "share": i.share}
                for i in self.importance[:15]
            ],
        }


def cutoffs(spec: ChurnSpec, as_of: datetime) -> tuple[tuple[datetime, ...], datetime]:
    """Training cutoffs (oldest first) and the validation cutoff for data that runs to ``as_of``."""
    horizon = timedelta(days=spec.horizon_days)
    validation = as_of - horizon
    training = tuple(
        validation - horizon - timedelta(days=spec.cutoff_step_days * k) for k in range(spec.cutoffs)
    )
    return tuple(sorted(training)), validation


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _recency_baseline(training: list[ChurnFrame], validation: ChurnFrame) -> FloatArray:
    """Churn probability from the days since the last qualifying event alone (logistic on its log)."""
    x = np.log1p(np.concatenate([f.recency_days for f in training]))[:, None]
    y = np.concatenate([f.churned for f in training if f.churned is not None])
    fitted = LogisticRegression().fit(x, y)
    return np.asarray(
        fitted.predict_proba(np.log1p(validation.recency_days)[:, None])[:, 1], dtype=np.float64
    )


def train_churn(
    workspace: Workspace,
    *,
    as_of: datetime | None = None,
    language: Language | None = None,
    now: datetime | None = None,
) -> ChurnResult:
    """Train LightGBM on past cutoffs, validate on a later one against both baselines, register the model.

    ``as_of`` (naive UTC, default now) is where the data is taken to end; events after it are ignored.
    """
    spec = workspace.config.churn
    moment = as_of or _now()
    training_cutoffs, validation_cutoff = cutoffs(spec, moment)
    window = activity_window(workspace, spec)
    if window is None or window[0] >= training_cutoffs[0]:
        first = window[0].isoformat() if window else "none"
        raise HuaxiangError(
            f"not enough history to train a churn model: the first qualifying event ({first}) must come "
            f"before the first training cutoff {training_cutoffs[0]:%Y-%m-%d} / "
            f"历史数据不足，无法训练流失模型：最早的合格行为须早于第一个训练截止点 {training_cutoffs[0]:%Y-%m-%d}",
            location="huaxiang.yaml churn",
            hint="lower churn.cutoffs, churn.cutoff_step_days or churn.horizon_days, or load a longer history",
        )
    catalogue = load_catalogue(workspace.config)
    features = feature_set(catalogue)
    frames = [
        churn_frame(workspace, c, features=features, known_until=moment, catalogue=catalogue)
        for c in training_cutoffs
    ]
    frames = [f for f in frames if f.size > 0]
    valid = churn_frame(
        workspace, validation_cutoff, features=features, known_until=moment, catalogue=catalogue
    )
    if not frames or valid.churned is None or valid.size == 0:
        raise HuaxiangError(
            "no customers at the churn cutoffs / 流失模型的截止点上没有客户",
            location="huaxiang.yaml churn.event_types",
            hint=f"check that events of type {', '.join(spec.event_types)} exist before the cutoffs",
        )
    x, y = stack(frames)
    booster = fit_booster(x, y, features.names)
    scores = {
        "model": predict(booster, valid.features),
        "recency": _recency_baseline(frames, valid),
        "p_alive": 1.0 - np.nan_to_num(valid.p_alive, nan=1.0),
    }
    metrics = {name: churn_metrics(valid.churned, s, probability=True) for name, s in scores.items()}
    ranked = importance(booster, features.labels)
    explained = drivers(
        contributions(booster, valid.features),
        valid.features,
        features.labels,
        language or current_language(),
    )
    version = register_model(
        workspace.warehouse,
        KIND,
        parameters={
            "features": list(features.names),
            "lightgbm": PARAMETERS,
            "rounds": ROUNDS,
            "horizon_days": spec.horizon_days,
            "event_types": spec.event_types,
            "training_cutoffs": [c.isoformat() for c in training_cutoffs],
            "validation_cutoff": validation_cutoff.isoformat(),
            "training_customers": len(y),
            "training_churn_rate": float(np.mean(y)),
            "top_features": [i.name for i in ranked[:10]],
        },
        metrics={name: m.to_dict() for name, m in metrics.items()}
        | {
            CURVES: {name: curves(valid.churned, s).sampled() for name, s in scores.items()},
            "validation_cutoff": validation_cutoff.isoformat(),
        },
        data_from=window[0],
        data_to=moment,
        artifact=booster.model_to_string(),
        description=(
            f"LightGBM churn model: no {'/'.join(spec.event_types)} within {spec.horizon_days} days; "
            f"trained on {len(frames)} cutoffs, validated out of time at {validation_cutoff:%Y-%m-%d}"
        ),
        now=now,
    )
    log.info("churn model %s: validation ROC-AUC %.3f", version.version, metrics["model"].roc_auc)
    return ChurnResult(
        version,
        training_cutoffs,
        len(y),
        ValidationScores(validation_cutoff, valid.person_ids, valid.churned, scores),
        metrics,
        ranked,
        explained,
    )


#: Risk from which a customer's main drivers are worked out (the ``medium`` level of ``churn_score_level``).
DRIVERS_FROM = 0.3


def score_churn(
    workspace: Workspace,
    version: str | ModelVersion = KIND,
    as_of: datetime | None = None,
    *,
    language: Language | None = None,
) -> pa.Table:
    """Churn risk of every customer as of ``as_of`` (naive UTC, default now) with a registered model.

    Columns: ``person_id``, ``churn_risk`` (0–1), ``churn_drivers`` (labels of the up to three features that
    raise the risk most, for customers at ``DRIVERS_FROM`` or above; empty below), ``model_version``.
    ``version`` is a version id or ``churn`` for the newest.
    """
    model = version if isinstance(version, ModelVersion) else find_model(workspace.warehouse, version)
    if model.kind != KIND or not model.artifact:
        raise HuaxiangError(
            f"model {model.version} is a {model.kind} model, not a churn model / 该模型不是流失模型",
            hint="`huaxiang models list` shows the churn versions",
        )
    booster = load_booster(model.artifact)
    catalogue = load_catalogue(workspace.config)
    features: FeatureSet = feature_set_named(catalogue, tuple(model.parameters["features"]))
    moment = as_of or _now()
    frame = churn_frame(workspace, moment, features=features, known_until=moment, catalogue=catalogue)
    risk = predict(booster, frame.features) if frame.size else np.zeros(0)
    # Explaining a customer costs about 2 ms (TreeSHAP); only those at medium or high risk need a reason.
    explained = np.flatnonzero(risk >= DRIVERS_FROM)
    reasons: list[list[str]] = [[] for _ in range(frame.size)]
    if explained.size:
        rows = frame.features[explained]
        for position, found in zip(
            explained,
            drivers(contributions(booster, rows), rows, features.labels, language or current_language()),
            strict=True,
        ):
            reasons[position] = found
    return pa.table(
        {
            "person_id": pa.array(frame.person_ids.tolist(), type=pa.string()),
            "churn_risk": pa.array(risk, type=pa.float64()),
            "churn_drivers": pa.array(reasons, type=pa.list_(pa.string())),
            "model_version": pa.array([model.version] * frame.size, type=pa.string()),
        }
    )


def churn_scores(workspace: Workspace, version: ModelVersion, as_of: datetime) -> ModelScores:
    """The churn outputs of a profile build (``churn_probability``, ``churn_drivers``) from ``score_churn``."""
    table = score_churn(workspace, version, as_of)
    return ModelScores(
        KIND,
        version.version,
        pa.table(
            {
                "person_id": table.column("person_id"),
                "churn_probability": table.column("churn_risk"),
                "churn_drivers": table.column("churn_drivers"),
            }
        ),
    )

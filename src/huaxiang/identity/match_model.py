"""The trained matching model kept between resolves, and when to train it again.

Why keep it: training (u sampling, EM passes, the prior) is most of the probabilistic step, and a day's new
``identify`` records do not change what agreement on a name or a birth date is worth; with the model kept,
a daily run scores only the pairs its new records make. Why retrain after growth: what the model learned
from the data (the share of true matches, the rate of typos) drifts as the data grows, so once the records
have grown by more than a share (20% unless told) since training, the next run trains again. The model is
kept in the warehouse (``identity_models``) beside what it produced: Splink's settings JSON, which holds
comparison levels, m and u, the prior and blocking rules — no record values.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import duckdb

from huaxiang.config import MatchSpec
from huaxiang.i18n import Label
from huaxiang.identity.semantic_types import MatchField

#: Retrain once the identify records have grown by more than this share since the model was trained.
RETRAIN_GROWTH: Final = 0.2


@dataclass(frozen=True, slots=True)
class StoredModel:
    """A trained model: Splink settings with parameters, for the fields and settings of ``fingerprint``."""

    model_id: str
    fingerprint: str
    records: int
    settings: Mapping[str, Any] = field(repr=False)
    trained_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ModelDecision:
    """Whether this run trains the model (``reason`` says why) or reuses ``stored``.

    ``records`` counts the identify events now; with no fields to match on, or fewer records than training
    needs, matching does not run and nothing is decided (``reason`` and ``stored`` are None).
    """

    fields: tuple[MatchField, ...]
    fingerprint: str
    records: int
    stored: StoredModel | None = None
    reason: Label | None = None

    @property
    def retrain(self) -> bool:
        return self.reason is not None


def model_fingerprint(fields: Sequence[MatchField], spec: MatchSpec) -> str:
    """What a model is valid for: the matched fields and the settings that shape training (not the threshold)."""
    described = {
        "fields": [[f.column, f.semantic_type] for f in fields],
        "event_types": list(spec.event_types),
        "max_pairs": spec.max_pairs,
        "seed": spec.seed,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


def latest_model(con: duckdb.DuckDBPyConnection) -> StoredModel | None:
    """The most recently trained model, or None before the first training."""
    rows = con.execute(
        "SELECT model_id, fingerprint, records, settings, trained_at FROM identity_models "
        "ORDER BY trained_at DESC, model_id DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    model_id, fingerprint, records, settings, trained_at = rows[0]
    return StoredModel(str(model_id), str(fingerprint), int(records), json.loads(settings), trained_at)


def decide_model(
    con: duckdb.DuckDBPyConnection,
    fields: tuple[MatchField, ...],
    spec: MatchSpec,
    records: int,
    *,
    retrain: bool,
    growth: float,
) -> ModelDecision:
    """Reuse the latest model unless asked to retrain, none fits these fields, or the records grew too much."""
    fingerprint = model_fingerprint(fields, spec)
    stored = latest_model(con)
    reason: Label | None = None
    if retrain:
        reason = Label(zh="按要求重新训练", en="retraining was asked for")
    elif stored is None:
        reason = Label(zh="尚无训练好的模型", en="no trained model yet")
    elif stored.fingerprint != fingerprint:
        reason = Label(
            zh="匹配字段或设置自上次训练以来已改变",
            en="the matched fields or settings changed since training",
        )
    elif records > stored.records * (1.0 + growth):
        share = records / max(stored.records, 1) - 1.0
        reason = Label(
            zh=f"身份记录自训练以来增长 {share:.0%}，超过 {growth:.0%}",
            en=f"identify records grew {share:.0%} since training, more than {growth:.0%}",
        )
    return ModelDecision(
        fields=fields,
        fingerprint=fingerprint,
        records=records,
        stored=None if reason else stored,
        reason=reason,
    )


def new_model(decision: ModelDecision, settings: Mapping[str, Any]) -> StoredModel:
    """The model a run has just trained, to be written with the run's results."""
    return StoredModel(
        model_id=f"idm-{uuid.uuid4().hex[:12]}",
        fingerprint=decision.fingerprint,
        records=decision.records,
        settings=settings,
    )


def store_model(con: duckdb.DuckDBPyConnection, model: StoredModel, *, run_id: str, now: datetime) -> None:
    """Keep a trained model (earlier ones stay, for the record; the newest is used)."""
    con.execute(
        "INSERT INTO identity_models VALUES (?, ?, ?, ?, ?, ?)",
        [model.model_id, now, run_id, model.fingerprint, model.records, json.dumps(model.settings)],
    )

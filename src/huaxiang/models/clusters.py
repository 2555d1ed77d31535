"""Behavioural and value clusters of a workspace's customers: fit, register, show, assign.

``fit_clusters`` reads the point-in-time features (:mod:`huaxiang.models.cluster_features`), fits k-means
(:mod:`huaxiang.models.cluster_fit`) starting from the newest registered cluster model so ids keep their
meaning, and registers the result (centroids, scaler and feature list as a JSON artifact).
``assign_clusters`` puts every customer in a registered model's clusters as of any moment: the profile
build calls it to turn clusters into a tag, naming the model version in the table's metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.models.cluster_features import FeatureMatrix, read_features
from huaxiang.models.cluster_fit import DESCRIBED_FEATURES, K_RANGE, ClusterFit, fit_model
from huaxiang.models.cluster_model import Cluster, ClusterModel
from huaxiang.models.cluster_plot import cluster_figures
from huaxiang.models.registry import ModelVersion, find_model, register_model
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

KIND = "clusters"

__all__ = [
    "KIND",
    "Cluster",
    "ClusterFit",
    "ClusterModel",
    "ClusterRun",
    "assign_clusters",
    "cluster_figures",
    "fit_clusters",
    "load_cluster_model",
]


@dataclass(frozen=True, slots=True)
class ClusterRun:
    """A registered fit: the model (with its version) and its registry record."""

    model: ClusterModel
    record: ModelVersion

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.record.version, "model": self.model.to_dict()}


def load_cluster_model(workspace: Workspace, reference: str = KIND) -> ClusterModel:
    """A registered cluster model by version id, or the newest one (``clusters``)."""
    record = find_model(workspace.warehouse, reference)
    if record.kind != KIND or not record.artifact:
        raise HuaxiangError(
            f"model {record.version} is a {record.kind} model, not a cluster model",
            hint="name a clusters-… version (`huaxiang models list`), or fit one: `huaxiang clusters fit`",
        )
    return ClusterModel.from_artifact(record.artifact, record.version)


def _newest(workspace: Workspace) -> ClusterModel | None:
    try:
        return load_cluster_model(workspace)
    except NotFoundError:
        return None


def fit_clusters(
    workspace: Workspace,
    *,
    as_of: datetime | None = None,
    k: int | None = None,
    k_range: tuple[int, int] = K_RANGE,
    fresh: bool = False,
    random_state: int = 0,
    now: datetime | None = None,
) -> ClusterRun:
    """Segment every customer with an order before ``as_of`` and register the model.

    Unless ``fresh``, the newest registered cluster model is the starting point: clusters that match one of
    its clusters keep their id and (while it still fits) their name.
    """
    moment = as_of or (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    matrix = read_features(workspace, as_of=moment, names=DESCRIBED_FEATURES)
    previous = None if fresh else _newest(workspace)
    fit = fit_model(matrix, k=k, k_range=k_range, previous=previous, random_state=random_state)
    model = fit.model
    chosen = model.scores.get(model.k)
    record = register_model(
        workspace.warehouse,
        KIND,
        parameters={
            "algorithm": "k-means",
            "k": model.k,
            "criterion": model.criterion,
            "k_range": list(k_range),
            "features": list(model.features),
            "described_features": list(DESCRIBED_FEATURES),
            "as_of": model.as_of.isoformat(),
            "random_state": random_state,
            "previous": model.previous,
        },
        metrics={
            "persons": model.persons,
            "silhouette": chosen,
            "silhouette_by_k": {str(c): round(s, 4) for c, s in model.scores.items()},
            "sizes": {str(c.id): c.size for c in model.clusters},
            "agreement_with_previous": model.agreement,
        },
        data_from=matrix.data_from,
        data_to=matrix.data_to,
        artifact=model.to_artifact(),
        description=f"k-means on {len(model.features)} standardised features, k={model.k} ({model.criterion})",
        now=now,
    )
    registered = ClusterModel.from_artifact(model.to_artifact(), record.version)
    log.info("clusters %s: k=%d over %d persons", record.version, model.k, model.persons)
    return ClusterRun(registered, record)


def assign_clusters(workspace: Workspace, version: str = KIND, as_of: datetime | None = None) -> pa.Table:
    """``person_id, cluster, cluster_label_zh, cluster_label_en`` for every customer with an order before
    ``as_of`` (naive UTC; default now), by the nearest centroid of model ``version`` (default: newest).

    The table's schema metadata names the model version (``huaxiang.model_version``) so a tag built from
    it can record which model produced it.
    """
    model = load_cluster_model(workspace, version)
    matrix: FeatureMatrix = read_features(workspace, as_of=as_of, names=model.features)
    ids = model.assign(matrix)
    names = {c.id: c.name for c in model.clusters}
    schema = pa.schema(
        [
            ("person_id", pa.string()),
            ("cluster", pa.int32()),
            ("cluster_label_zh", pa.string()),
            ("cluster_label_en", pa.string()),
        ],
        metadata={"huaxiang.model_version": model.version or ""},
    )
    return pa.table(
        [
            pa.array(matrix.person_ids, pa.string()),
            pa.array(ids.tolist(), pa.int32()),
            pa.array([names[i].zh for i in ids.tolist()], pa.string()),
            pa.array([names[i].en for i in ids.tolist()], pa.string()),
        ],
        schema=schema,
    )

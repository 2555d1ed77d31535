"""A fitted customer segmentation: scaler, centroids and each cluster's name, kept as JSON text.

The artifact stored in the model registry is this object as JSON (features, scaler, centroids, names and
descriptions), never a pickle: assigning a customer needs only the standardisation and the nearest
centroid, which ``assign`` recomputes with scikit-learn's ``pairwise_distances_argmin``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from huaxiang.errors import HuaxiangError
from huaxiang.i18n import Label
from huaxiang.models.cluster_features import FeatureMatrix, transform
from huaxiang.models.cluster_labels import Trait

FORMAT = "huaxiang.clusters/1"


@dataclass(frozen=True, slots=True)
class Cluster:
    """One cluster: a stable id, its name and description, size, centroid and how it differs."""

    id: int
    name: Label
    description: Label
    cited: tuple[Trait, ...]  # the traits the name cites
    size: int
    share: float
    centroid: tuple[float, ...]  # standardised clustering features: the z-scores of the members' mean
    z: dict[str, float]  # every described feature: (members' mean - population mean) / population sd
    medians: dict[str, float]  # natural units (orders, yuan, days, shares), for people to read

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": {"zh": self.name.zh, "en": self.name.en},
            "description": {"zh": self.description.zh, "en": self.description.en},
            "cited": [t.to_text() for t in self.cited],
            "size": self.size,
            "share": self.share,
            "centroid": list(self.centroid),
            "z": self.z,
            "medians": self.medians,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Cluster:
        return Cluster(
            int(data["id"]),
            Label(**data["name"]),
            Label(**data["description"]),
            tuple(Trait.from_text(t) for t in data["cited"]),
            int(data["size"]),
            float(data["share"]),
            tuple(float(v) for v in data["centroid"]),
            {k: float(v) for k, v in data["z"].items()},
            {k: float(v) for k, v in data["medians"].items()},
        )


@dataclass(frozen=True, slots=True)
class ClusterModel:
    """Standardisation, centroids and clusters; ids keep their meaning from one fit to the next."""

    features: tuple[str, ...]  # clustering features, in centroid order
    mean: tuple[float, ...]  # of the transformed features (the scaler)
    scale: tuple[float, ...]
    clusters: tuple[Cluster, ...]  # largest first
    next_id: int  # ids are never reused: a retired cluster's id does not come back with another meaning
    as_of: datetime
    persons: int
    criterion: str
    scores: dict[int, float] = field(default_factory=dict)  # silhouette per candidate k
    previous: str | None = None  # the version whose ids this fit inherited
    agreement: float | None = None  # share of persons the previous model puts in the same cluster
    version: str | None = None  # set once registered

    @property
    def k(self) -> int:
        return len(self.clusters)

    def cluster(self, cluster_id: int) -> Cluster:
        for cluster in self.clusters:
            if cluster.id == cluster_id:
                return cluster
        raise HuaxiangError(
            f"no cluster {cluster_id} in model {self.version or '(unsaved)'}",
            hint=f"clusters: {', '.join(str(c.id) for c in self.clusters)}",
        )

    def centroids(self) -> npt.NDArray[np.float64]:
        return np.array([c.centroid for c in self.clusters], dtype=np.float64)

    def scaled(self, matrix: FeatureMatrix) -> npt.NDArray[np.float64]:
        """The matrix's clustering features, transformed and standardised with this model's scaler."""
        missing = [f for f in self.features if f not in matrix.names]
        if missing:
            raise HuaxiangError(
                f"the feature matrix lacks {', '.join(missing)}, which model {self.version} clusters on",
                hint="read the features with the model's feature list",
            )
        columns = [matrix.names.index(f) for f in self.features]
        values = transform(matrix.values[:, columns], self.features)
        scaled: npt.NDArray[np.float64] = (values - np.array(self.mean)) / np.array(self.scale)
        return scaled

    def assign(self, matrix: FeatureMatrix) -> npt.NDArray[np.int64]:
        """Each person's cluster id: the nearest centroid in standardised space."""
        from sklearn.metrics import pairwise_distances_argmin

        if not matrix.person_ids:
            return np.zeros(0, dtype=np.int64)
        nearest = pairwise_distances_argmin(self.scaled(matrix), self.centroids())
        ids = np.array([c.id for c in self.clusters], dtype=np.int64)
        assigned: npt.NDArray[np.int64] = ids[nearest]
        return assigned

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "features": list(self.features),
            "scaler": {"mean": list(self.mean), "scale": list(self.scale)},
            "clusters": [c.to_dict() for c in self.clusters],
            "next_id": self.next_id,
            "as_of": self.as_of.isoformat(),
            "persons": self.persons,
            "criterion": self.criterion,
            "scores": {str(k): v for k, v in self.scores.items()},
            "previous": self.previous,
            "agreement": self.agreement,
            "version": self.version,
        }

    def to_artifact(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_artifact(text: str, version: str | None = None) -> ClusterModel:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise HuaxiangError(
                f"model {version} is not a cluster model this version reads (format {data.get('format')!r})",
                hint="fit the clusters again: `huaxiang clusters fit`",
            )
        return ClusterModel(
            tuple(data["features"]),
            tuple(float(v) for v in data["scaler"]["mean"]),
            tuple(float(v) for v in data["scaler"]["scale"]),
            tuple(Cluster.from_dict(c) for c in data["clusters"]),
            int(data["next_id"]),
            datetime.fromisoformat(data["as_of"]),
            int(data["persons"]),
            str(data["criterion"]),
            {int(k): float(v) for k, v in data["scores"].items()},
            data.get("previous"),
            data.get("agreement"),
            version or data.get("version"),
        )

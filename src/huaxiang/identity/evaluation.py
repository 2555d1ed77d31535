"""How well predicted clusters of records agree with the known truth: pairwise and cluster-level metrics.

Why these metrics: pairwise precision and recall are what record-linkage papers report, but they weigh a large
cluster quadratically; B-cubed weighs every record once and the adjusted Rand index corrects for chance, so
the three together show whether errors are a few big merges or many small misses. Everything is counted on
scikit-learn's contingency table of (true, predicted) clusters, in time linear in the records; scikit-learn
has the adjusted Rand index but no B-cubed, so that and the pair counts are a few lines here.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from huaxiang.errors import HuaxiangError

Record = TypeVar("Record", bound=Hashable)


@dataclass(frozen=True, slots=True)
class LinkageMetrics:
    """Agreement of a predicted clustering with the truth over the records both know.

    Pairwise: a pair is predicted when both records share a predicted cluster, true when they share a true one.
    ``exact_cluster_rate`` is the share of true clusters reproduced exactly (singletons included),
    ``exact_multi_record_rate`` the same over true clusters of two or more records.
    """

    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    true_clusters: int
    predicted_clusters: int
    exact_cluster_rate: float
    exact_multi_record_rate: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    adjusted_rand_index: float


def evaluate_clusters(
    predicted: Mapping[Record, Hashable], truth: Mapping[Record, Hashable]
) -> LinkageMetrics:
    """Compare record → predicted cluster with record → true cluster.

    Records missing from ``predicted`` count as clusters of their own; records missing from ``truth`` are
    ignored, since nothing is known about them.
    """
    from sklearn.metrics import adjusted_rand_score  # scikit-learn takes seconds to import; only load it here
    from sklearn.metrics.cluster import contingency_matrix

    if not truth:
        raise HuaxiangError("no records with a known true cluster to evaluate against", location="truth")
    records = list(truth)
    true_ids = _codes([truth[r] for r in records])
    predicted_ids = _codes([predicted.get(r, ("__unclustered__", r)) for r in records])
    table = contingency_matrix(true_ids, predicted_ids, sparse=True).tocsr()
    joint = table.data.astype(np.float64)
    true_sizes = np.asarray(table.sum(axis=1)).ravel().astype(np.float64)
    predicted_sizes = np.asarray(table.sum(axis=0)).ravel().astype(np.float64)

    correct = int(_pairs(joint).sum())
    true_pairs = int(_pairs(true_sizes).sum())
    predicted_pairs = int(_pairs(predicted_sizes).sum())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0

    rows, columns = table.nonzero()
    n = float(len(records))
    bcubed_precision = float((joint**2 / predicted_sizes[columns]).sum() / n)
    bcubed_recall = float((joint**2 / true_sizes[rows]).sum() / n)

    exact = (joint == true_sizes[rows]) & (joint == predicted_sizes[columns])
    multi = true_sizes >= 2
    exact_multi = exact & multi[rows]
    return LinkageMetrics(
        records=len(records),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
        precision=precision,
        recall=recall,
        f1=_harmonic(precision, recall),
        true_clusters=len(true_sizes),
        predicted_clusters=len(predicted_sizes),
        exact_cluster_rate=float(exact.sum() / len(true_sizes)),
        exact_multi_record_rate=float(exact_multi.sum() / multi.sum()) if multi.any() else 1.0,
        bcubed_precision=bcubed_precision,
        bcubed_recall=bcubed_recall,
        bcubed_f1=_harmonic(bcubed_precision, bcubed_recall),
        adjusted_rand_index=float(adjusted_rand_score(true_ids, predicted_ids)),
    )


def _codes(labels: list[Hashable]) -> np.ndarray:
    index: dict[Hashable, int] = {}
    codes: np.ndarray = np.fromiter(
        (index.setdefault(label, len(index)) for label in labels), dtype=np.int64, count=len(labels)
    )
    return codes


def _pairs(sizes: np.ndarray) -> np.ndarray:
    pairs: np.ndarray = sizes * (sizes - 1) / 2
    return pairs


def _harmonic(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0

"""How well a churn score ranks and how well it is calibrated: ROC-AUC, PR-AUC, Brier score, top-decile lift.

The area and Brier computations are scikit-learn's (``roc_auc_score``, ``average_precision_score`` as the
PR-AUC, ``brier_score_loss``); only the lift, which scikit-learn lacks, is written here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

from huaxiang.errors import HuaxiangError

#: The scores every churn report compares on the same customers: the model and its two baselines.
SCORES: tuple[str, ...] = ("model", "recency", "p_alive")


@dataclass(frozen=True, slots=True)
class ChurnMetrics:
    """One score's quality on labelled customers (``brier`` is None for a score that is not a probability)."""

    roc_auc: float
    pr_auc: float
    brier: float | None
    top_decile_lift: float
    customers: int
    churn_rate: float

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def top_decile_lift(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Churn rate among the highest-scored tenth (rounded up) divided by the overall churn rate.

    Ties at the boundary are broken by a stable sort on the score, i.e. by the order given.
    """
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    base = float(y.mean())
    if base == 0.0:
        return math.nan
    top = max(1, math.ceil(len(y) / 10))
    order = np.argsort(-s, kind="stable")[:top]
    return float(y[order].mean()) / base


def churn_metrics(labels: npt.ArrayLike, scores: npt.ArrayLike, *, probability: bool = True) -> ChurnMetrics:
    """The metrics of ``scores`` (higher = more likely to churn) against 0/1 ``labels``."""
    y = np.asarray(labels, dtype=np.int8)
    s = np.asarray(scores, dtype=np.float64)
    if len(y) != len(s):
        raise HuaxiangError(f"{len(y)} labels but {len(s)} scores")
    if len(np.unique(y)) < 2:
        raise HuaxiangError(
            "churn metrics need both churned and retained customers among the validated ones / "
            "验证样本中须同时有流失与留存客户",
            hint="use a longer history, or a churn horizon/cutoff that leaves some customers of each kind",
        )
    return ChurnMetrics(
        roc_auc=float(roc_auc_score(y, s)),
        pr_auc=float(average_precision_score(y, s)),
        brier=float(brier_score_loss(y, s)) if probability else None,
        top_decile_lift=top_decile_lift(y, s),
        customers=len(y),
        churn_rate=float(y.mean()),
    )


#: The registry metric holding each score's validation curves (``Curves.sampled``).
CURVES = "validation_curves"


@dataclass(frozen=True, slots=True, eq=False)
class Curves:
    """A score's ROC curve and cumulative gains (share of churners found vs share of customers targeted)."""

    false_positive_rate: npt.NDArray[np.float64]
    true_positive_rate: npt.NDArray[np.float64]
    targeted: npt.NDArray[np.float64]
    found: npt.NDArray[np.float64]

    def sampled(self, points: int = 101) -> dict[str, list[float]]:
        """Both curves at ``points`` evenly spaced x values: small enough to keep in the model registry."""
        grid = np.linspace(0.0, 1.0, points)
        return {
            "grid": grid.round(4).tolist(),
            "true_positive_rate": np.interp(grid, self.false_positive_rate, self.true_positive_rate)
            .round(4)
            .tolist(),
            "found": np.interp(grid, self.targeted, self.found).round(4).tolist(),
        }

    @classmethod
    def from_sampled(cls, data: dict[str, list[float]]) -> Curves:
        grid = np.asarray(data["grid"], dtype=np.float64)
        return cls(
            grid,
            np.asarray(data["true_positive_rate"], dtype=np.float64),
            grid,
            np.asarray(data["found"], dtype=np.float64),
        )


def curves(labels: npt.ArrayLike, scores: npt.ArrayLike) -> Curves:
    y = np.asarray(labels, dtype=np.int8)
    s = np.asarray(scores, dtype=np.float64)
    fpr, tpr, _ = roc_curve(y, s)
    order = np.argsort(-s, kind="stable")
    found = np.concatenate([[0.0], np.cumsum(y[order]) / max(int(y.sum()), 1)])
    targeted = np.arange(len(y) + 1, dtype=np.float64) / max(len(y), 1)
    return Curves(np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64), targeted, found)

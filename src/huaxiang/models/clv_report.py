"""A CLV fit's report: both models' parameters and how well the purchase forecast did on the holdout."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from huaxiang.models.clv_bgnbd import BgNbdParams, expected_purchases, fit_bgnbd
from huaxiang.models.clv_gamma_gamma import GammaGammaParams, fit_gamma_gamma
from huaxiang.models.clv_summary import HoldoutActuals, RfmSummary


@dataclass(frozen=True, slots=True)
class FrequencyBin:
    """Mean holdout purchases, actual and predicted, of customers with one calibration frequency."""

    frequency: str
    customers: int
    actual_mean: float
    predicted_mean: float


@dataclass(frozen=True, slots=True)
class HoldoutAccuracy:
    """How well BG/NBD's conditional expectations forecast the holdout purchases."""

    periods: float
    actual_total: float
    predicted_total: float
    mae_per_customer: float
    correlation: float
    by_frequency: tuple[FrequencyBin, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "periods": self.periods,
            "actual_total": self.actual_total,
            "predicted_total": self.predicted_total,
            "mae_per_customer": self.mae_per_customer,
            "correlation": self.correlation,
            "by_frequency": [
                {
                    "frequency": b.frequency,
                    "customers": b.customers,
                    "actual_mean": b.actual_mean,
                    "predicted_mean": b.predicted_mean,
                }
                for b in self.by_frequency
            ],
        }


def evaluate_holdout(
    params: BgNbdParams, summary: RfmSummary, holdout: HoldoutActuals, max_frequency: int = 7
) -> HoldoutAccuracy:
    """Compare predicted and actual holdout purchases, overall and by calibration frequency 0 … max+."""
    predicted = expected_purchases(params, holdout.duration, summary.frequency, summary.recency, summary.T)
    actual = holdout.frequency
    bins: list[FrequencyBin] = []
    capped = np.minimum(summary.frequency, max_frequency)
    for k in range(max_frequency + 1):
        members = capped == k
        count = int(np.count_nonzero(members))
        bins.append(
            FrequencyBin(
                frequency=f"{k}+" if k == max_frequency else str(k),
                customers=count,
                actual_mean=float(actual[members].mean()) if count else math.nan,
                predicted_mean=float(predicted[members].mean()) if count else math.nan,
            )
        )
    varied = len(actual) > 1 and np.std(actual) > 0 and np.std(predicted) > 0
    return HoldoutAccuracy(
        periods=holdout.duration,
        actual_total=float(actual.sum()),
        predicted_total=float(predicted.sum()),
        mae_per_customer=float(np.mean(np.abs(predicted - actual))),
        correlation=float(np.corrcoef(predicted, actual)[0, 1]) if varied else math.nan,
        by_frequency=tuple(bins),
    )


@dataclass(frozen=True, slots=True)
class ClvReport:
    """Fitted CLV models of one transaction source, with their holdout accuracy."""

    source: str
    n_customers: int
    period_days: float
    calibration_end: dt.date
    observation_end: dt.date | None
    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams | None
    frequency_spend_correlation: float | None
    holdout: HoldoutAccuracy | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers, strings, lists, dicts and ``None`` (NaN becomes ``None``)."""
        data = {
            "source": self.source,
            "n_customers": self.n_customers,
            "period_days": self.period_days,
            "calibration_end": self.calibration_end.isoformat(),
            "observation_end": None if self.observation_end is None else self.observation_end.isoformat(),
            "bgnbd": self.bgnbd.to_dict(),
            "gamma_gamma": None if self.gamma_gamma is None else self.gamma_gamma.to_dict(),
            "frequency_spend_correlation": self.frequency_spend_correlation,
            "holdout": None if self.holdout is None else self.holdout.to_dict(),
        }
        cleaned: dict[str, Any] = _finite_or_none(data)
        return cleaned


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fit_clv(
    summary: RfmSummary,
    holdout: HoldoutActuals | None,
    *,
    source: str,
    calibration_end: dt.date,
    period_days: float,
    with_spend: bool,
) -> ClvReport:
    """Fit BG/NBD (and Gamma-Gamma when spend is known) on a summary and score the holdout."""
    bgnbd = fit_bgnbd(summary)
    gamma_gamma: GammaGammaParams | None = None
    correlation: float | None = None
    if with_spend:
        gamma_gamma = fit_gamma_gamma(summary.frequency, summary.monetary_value)
        repeat = (summary.frequency > 0) & (summary.monetary_value > 0)
        if np.count_nonzero(repeat) > 2:
            correlation = float(np.corrcoef(summary.frequency[repeat], summary.monetary_value[repeat])[0, 1])
    return ClvReport(
        source=source,
        n_customers=summary.n_customers,
        period_days=period_days,
        calibration_end=calibration_end,
        observation_end=None if holdout is None else holdout.observation_end,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        frequency_spend_correlation=correlation,
        holdout=None if holdout is None else evaluate_holdout(bgnbd, summary, holdout),
    )

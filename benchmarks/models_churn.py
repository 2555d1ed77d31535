"""Benchmark: churn training on a million synthetic profiles, with two baselines side by side.

Simulates profiles the way a workspace's churn frames look (counts and spend over 30/90/365 days, days
since the last and first purchase, complaints, ratings, missing values where a customer never reviewed,
and noise columns): each customer buys at their own Poisson rate, some have silently dropped out a while
ago, and churn is "no purchase in the next 90 days". 80% of the rows are the training cutoffs, 20% the
validation cutoff. The same rows then go through

- huaxiang's churn core (``churn_model``: LightGBM with the project's fixed settings and the four
  metrics; per-customer SHAP drivers are timed on the first 20,000 validation customers),
- plain LightGBM (``LGBMClassifier`` defaults on a pandas frame, no drivers),
- a logistic regression on the standardised, mean-imputed features (scikit-learn).

    uv run --frozen python -m benchmarks.models_churn [--profiles 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from huaxiang.i18n import bilingual
from huaxiang.models.churn_metrics import ChurnMetrics, churn_metrics
from huaxiang.models.churn_model import PARAMETERS, contributions, drivers, fit_booster, predict

T = TypeVar("T")
NOISE_COLUMNS = 30
EXPLAINED = 20_000  # per-customer SHAP drivers are timed on this many validation customers


def simulate_profiles(n: int, seed: int) -> tuple[pd.DataFrame, npt.NDArray[np.int8]]:
    """Profiles at a cutoff and whether each customer churned in the 90 days after it."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1 / 12, size=n)  # purchases per day: median about one a month
    tenure = rng.uniform(30, 900, size=n)
    dropped = rng.random(n) < 0.25
    quiet = np.where(dropped, rng.uniform(0, tenure), 0.0)  # days since an eventual dropout
    active = tenure - quiet

    def window(days: float) -> npt.NDArray[np.float64]:
        span = np.clip(np.minimum(days, tenure) - quiet, 0, None)
        return rng.poisson(rate * span).astype(np.float64)

    orders_total = 1 + rng.poisson(rate * active).astype(np.float64)
    gap = rng.exponential(1 / np.maximum(rate, 1e-3))
    recency = np.minimum(quiet + np.minimum(gap, active), tenure)
    complaints = rng.poisson(0.05 + 0.3 * dropped).astype(np.float64)
    reviews = rng.poisson(0.5, size=n).astype(np.float64)
    rating = np.where(reviews > 0, np.clip(rng.normal(4.2 - 1.0 * dropped, 0.8), 1, 5), np.nan)
    basket = rng.lognormal(4.5, 0.6, size=n)
    columns: dict[str, npt.NDArray[np.float64]] = {
        "recency_days": recency,
        "tenure_days": tenure,
        "orders_total": orders_total,
        "orders_30d": window(30),
        "orders_90d": window(90),
        "orders_365d": window(365),
        "spend_total": orders_total * basket,
        "avg_line_value": basket,
        "complaints_total": complaints,
        "reviews_total": reviews,
        "avg_rating": rating,
    }
    for i in range(NOISE_COLUMNS):
        columns[f"noise_{i}"] = rng.normal(size=n)
    future = np.where(dropped, 0, rng.poisson(rate * 90))
    return pd.DataFrame(columns), (future == 0).astype(np.int8)


def timed(label: str, times: dict[str, float], step: Callable[[], T]) -> T:
    start = time.perf_counter()
    value = step()
    times[label] = time.perf_counter() - start
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="LightGBM threads for both LightGBM runs")
    args = parser.parse_args()
    console = Console(width=150)
    started = time.perf_counter()
    frame, labels = simulate_profiles(args.profiles, args.seed)
    split = int(len(frame) * 0.8)
    train, valid = frame.iloc[:split], frame.iloc[split:]
    y_train, y_valid = labels[:split], labels[split:]
    console.print(
        f"simulated {len(frame):,} profiles × {frame.shape[1]} features (churn rate {labels.mean():.1%}) "
        f"in {time.perf_counter() - started:.1f} s; training {split:,}, validation {len(valid):,}"
    )
    names = list(frame.columns)
    x_train, x_valid = train.to_numpy(np.float64), valid.to_numpy(np.float64)
    rows: list[tuple[str, dict[str, float], ChurnMetrics, str]] = []

    times: dict[str, float] = {}
    parameters = dict(PARAMETERS, num_threads=args.threads)
    booster = timed("fit", times, lambda: fit_booster(x_train, y_train, names, parameters=parameters))
    scores = timed("predict", times, lambda: predict(booster, x_valid))
    labels_text = [bilingual(n, n) for n in names]
    sample = x_valid[:EXPLAINED]
    explained = timed(
        "explain", times, lambda: drivers(contributions(booster, sample), sample, labels_text, "en")
    )
    rows.append(
        ("huaxiang churn (LightGBM, 200 rounds)", times, churn_metrics(y_valid, scores), explained[0][0])
    )

    times = {}
    plain = lgb.LGBMClassifier(verbosity=-1, n_jobs=args.threads, random_state=args.seed)
    timed("fit", times, lambda: plain.fit(train, y_train))
    scores = timed("predict", times, lambda: plain.predict_proba(valid)[:, 1])
    rows.append(("plain LightGBM (defaults, pandas)", times, churn_metrics(y_valid, scores), "—"))

    times = {}
    logistic = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=200))
    timed("fit", times, lambda: logistic.fit(train, y_train))
    scores = timed("predict", times, lambda: logistic.predict_proba(valid)[:, 1])
    rows.append(("logistic regression (scikit-learn)", times, churn_metrics(y_valid, scores), "—"))

    table = Table(title=f"Churn training on {len(frame):,} profiles (validation {len(valid):,})")
    for header in (
        "method",
        "fit s",
        "predict s",
        f"drivers s ({EXPLAINED:,})",
        "ROC-AUC",
        "PR-AUC",
        "Brier",
        "lift@10%",
    ):
        table.add_column(header, justify="left" if header == "method" else "right")
    for name, spent, m, _ in rows:
        table.add_row(
            name,
            f"{spent['fit']:.1f}",
            f"{spent['predict']:.1f}",
            f"{spent['explain']:.1f}" if "explain" in spent else "—",
            f"{m.roc_auc:.4f}",
            f"{m.pr_auc:.4f}",
            f"{m.brier:.4f}" if m.brier is not None else "—",
            f"{m.top_decile_lift:.2f}",
        )
    console.print(table)
    console.print(f"example drivers of the first validation customer: {explained[0]}")


if __name__ == "__main__":
    main()

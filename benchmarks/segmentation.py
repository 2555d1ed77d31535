"""Benchmark: customer clusters on a million customers, and the cohort query on millions of purchases.

Clusters: a million simulated customers in five overlapping segments (frequency, basket, recency and
tenure drawn per segment, like the demo retailer's). Times ``fit_model`` (k chosen by silhouette over
3-8 on a 20,000-customer sample, the chosen k fitted on everyone), a refit from that model (ids matched)
and assigning everyone, beside the plain approach: scikit-learn's k-means with its defaults fitted on
every customer for each k, silhouette on the same 3,000-customer sample.

Cohorts: simulated purchases of ``--buyers`` customers over two years. Times the set-based DuckDB cohort
query (``huaxiang cohorts --by month``) beside the same retention grid computed with pandas, and checks
that the two agree.

    uv run --frozen python -m benchmarks.segmentation [--customers 1000000] [--buyers 300000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from huaxiang.models import cohorts
from huaxiang.models.cluster_features import FeatureMatrix
from huaxiang.models.cluster_fit import CLUSTER_FEATURES, DESCRIBED_FEATURES, K_RANGE, fit_model

T = TypeVar("T")
#: (share, orders per month, order value, days since last purchase scale, tenure days range)
SEGMENTS = (
    (0.15, 1.3, 450.0, 20.0, (300, 730)),  # loyal
    (0.25, 1.0, 250.0, 30.0, (200, 730)),  # price-sensitive
    (0.15, 0.9, 350.0, 25.0, (10, 115)),  # new
    (0.15, 0.7, 350.0, 150.0, (200, 730)),  # at risk
    (0.30, 0.2, 400.0, 200.0, (150, 730)),  # occasional
)


def simulate_features(n: int, seed: int) -> tuple[FeatureMatrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    segment = rng.choice(len(SEGMENTS), size=n, p=[s[0] for s in SEGMENTS])
    rate = np.array([s[1] for s in SEGMENTS])[segment]
    basket = np.array([s[2] for s in SEGMENTS])[segment]
    lapse = np.array([s[3] for s in SEGMENTS])[segment]
    low = np.array([s[4][0] for s in SEGMENTS])[segment]
    high = np.array([s[4][1] for s in SEGMENTS])[segment]
    tenure = rng.uniform(low, high)
    orders = 1 + rng.poisson(rate * tenure / 30.0)
    order_value = rng.gamma(4.0, basket / 4.0)
    recency = np.minimum(rng.exponential(lapse), tenure)
    values = np.zeros((n, len(DESCRIBED_FEATURES)))
    columns = {name: i for i, name in enumerate(DESCRIBED_FEATURES)}
    values[:, columns["orders"]] = orders
    values[:, columns["spend"]] = orders * order_value
    values[:, columns["order_value"]] = order_value
    values[:, columns["recency_days"]] = recency
    values[:, columns["tenure_days"]] = tenure
    values[:, columns["browse_share"]] = rng.beta(2, 2, n)
    values[:, columns["complaints"]] = rng.poisson(0.05, n)
    values[:, columns["refund_rate"]] = rng.beta(1, 30, n)
    ids = tuple(f"p{i:07d}" for i in range(n))
    return FeatureMatrix(ids, DESCRIBED_FEATURES, values, datetime(2026, 12, 1), None, None), segment


def plain_kmeans(matrix: FeatureMatrix, seed: int) -> tuple[int, dict[int, float]]:
    """The baseline: scikit-learn defaults (all threads, n_init='auto') on everyone, for every k."""
    columns = [matrix.names.index(f) for f in CLUSTER_FEATURES]
    scaled = StandardScaler().fit_transform(matrix.transformed()[:, columns])
    scores: dict[int, float] = {}
    for k in range(K_RANGE[0], K_RANGE[1] + 1):
        labels = KMeans(k, random_state=seed).fit_predict(scaled)
        scores[k] = float(silhouette_score(scaled, labels, sample_size=3000, random_state=seed))
    return max(scores, key=lambda k: scores[k]), scores


def simulate_purchases(buyers: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-12-01")
    first = start + rng.integers(0, 730, buyers).astype("timedelta64[D]")
    repeat = rng.poisson(8, buyers)
    person = np.concatenate([np.arange(buyers), np.repeat(np.arange(buyers), repeat)])
    gap = rng.exponential(120, int(repeat.sum())).astype("timedelta64[D]")
    day = np.concatenate([first, first[np.repeat(np.arange(buyers), repeat)] + gap])
    keep = day < np.datetime64("2026-12-01")
    frame = pd.DataFrame(
        {
            "person_id": pd.Series(person[keep]).map("p{:07d}".format),
            "ts": day[keep].astype("datetime64[s]"),
            "revenue": np.round(rng.gamma(2.0, 150.0, int(keep.sum())), 2),
            "channel": rng.choice(["app", "web", "store"], int(keep.sum())),
        }
    )
    frame["month"] = frame["ts"].dt.to_period("M").dt.to_timestamp()
    return frame


def pandas_retention(frame: pd.DataFrame, last_month: date, periods: int) -> dict[tuple[str, int], int]:
    """Active customers per (cohort, period), the way it is often written by hand in pandas."""
    acquired = frame.groupby("person_id")["month"].min().rename("acquired")
    joined = frame.join(acquired, on="person_id")
    joined = joined[joined["month"] <= pd.Timestamp(last_month)]
    months = (pd.to_datetime(joined["month"]).dt.year - pd.to_datetime(joined["acquired"]).dt.year) * 12 + (
        pd.to_datetime(joined["month"]).dt.month - pd.to_datetime(joined["acquired"]).dt.month
    )
    joined = joined.assign(period=months, cohort=pd.to_datetime(joined["acquired"]).dt.strftime("%Y-%m"))
    joined = joined[joined["period"] <= periods]
    active = joined.groupby(["cohort", "period"])["person_id"].nunique()
    return {(str(c), int(p)): int(v) for (c, p), v in active.items()}


def timed(results: list[tuple[str, float, str]], label: str, step: Callable[[], T], note: str = "") -> T:
    start = time.perf_counter()
    value = step()
    results.append((label, time.perf_counter() - start, note))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--buyers", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    console = Console()
    steps: list[tuple[str, float, str]] = []

    matrix, segment = simulate_features(args.customers, args.seed)
    fit = timed(steps, "clusters: fit_model (k by silhouette)", lambda: fit_model(matrix), "")
    model = fit.model
    steps[-1] = (
        steps[-1][0],
        steps[-1][1],
        f"k={model.k}, AMI vs planted {adjusted_mutual_info_score(segment, fit.labels):.2f}",
    )
    grown, _ = simulate_features(args.customers + args.customers // 20, args.seed + 1)
    refit = timed(
        steps, "clusters: refit from the model (+5% customers)", lambda: fit_model(grown, previous=model)
    )
    steps[-1] = (steps[-1][0], steps[-1][1], f"agreement {refit.model.agreement or 0:.3f}")
    timed(steps, "clusters: assign everyone", lambda: model.assign(matrix), f"{args.customers:,} customers")
    best, _ = timed(
        steps, "baseline: sklearn defaults on everyone, each k", lambda: plain_kmeans(matrix, args.seed)
    )
    steps[-1] = (steps[-1][0], steps[-1][1], f"k={best}")

    frame = simulate_purchases(args.buyers, args.seed)
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(
        f"CREATE TEMP TABLE {cohorts._PURCHASES} AS SELECT * REPLACE (month::DATE AS month) FROM frame"
    )
    last, current, periods = date(2026, 11, 1), date(2026, 12, 1), 24
    sql = cohorts._cohort_sql("month", cohorts._month(last), cohorts._month(current), periods)
    rows = timed(
        steps,
        "cohorts: DuckDB set-based query",
        lambda: con.execute(sql).fetchall(),
        f"{len(frame):,} purchases",
    )
    expected = timed(
        steps, "baseline: pandas groupby (active only)", lambda: pandas_retention(frame, last, periods)
    )
    got = {(r[0], int(r[5])): int(r[7]) for r in rows if int(r[7]) > 0}
    steps.append(("cohorts agree with pandas", 0.0, str(got == expected)))

    table = Table(title=f"Segmentation benchmark ({args.customers:,} customers, {len(frame):,} purchases)")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("note")
    for label, seconds, note in steps:
        table.add_row(label, f"{seconds:.2f}", note)
    console.print(table)


if __name__ == "__main__":
    main()

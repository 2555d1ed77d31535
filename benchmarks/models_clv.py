"""Benchmark: CLV fit and scoring for a million simulated customers (target: under 60 s).

Simulates a CDNOW-like BG/NBD + Gamma-Gamma population (first purchases spread over 12 weeks, a 39-week
calibration period and a 39-week holdout), writes its transactions to a CSV file, then times each step:
summarising in DuckDB, both fits, scoring (P(alive), holdout forecast, expected spend, one-year CLV
discounted at 10% a year) and the whole ``fit_clv_file`` path that ``huaxiang clv fit`` takes.

The recovered parameters sit a few per cent from the truth (alpha most) because simulated purchase times
are cut to whole days and same-day purchases merge, as they do in real logs; fitted on the continuous
times, the same million customers give every BG/NBD parameter within 1%.

    uv run --frozen python benchmarks/models_clv.py [--customers 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from rich.console import Console
from rich.table import Table

from huaxiang.models.clv import (
    customer_lifetime_value,
    evaluate_holdout,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_clv_file,
    fit_gamma_gamma,
    probability_alive,
    summarise_transactions,
)
from huaxiang.models.clv_simulate import simulate_bgnbd, simulate_spend

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CALIBRATION_END = dt.date(1997, 9, 30)
HOLDOUT_DAYS = 273
T = TypeVar("T")


def simulate_transactions(n: int, seed: int) -> pa.Table:
    """One row per purchase: the first on day 0 of each customer, repeats on the day after their time."""
    rng = np.random.default_rng(seed)
    age_days = rng.integers(189, 273, size=n, endpoint=True)  # first purchase in the first 12 weeks
    purchases = simulate_bgnbd(**TRUTH, durations=(age_days + HOLDOUT_DAYS) / 7.0, seed=seed + 1)
    customer = np.concatenate([np.arange(n, dtype=np.int64), purchases.customer])
    offset = np.concatenate([np.zeros(n, dtype=np.int64), np.ceil(purchases.time * 7.0).astype(np.int64)])
    first_day = np.datetime64(CALIBRATION_END, "D") - age_days.astype("timedelta64[D]")
    day = first_day[customer] + offset.astype("timedelta64[D]")
    amount = simulate_spend(**SPEND, customer=customer, n_customers=n, seed=seed + 2)
    return pa.table({"customer": customer, "date": day, "amount": np.round(amount, 2)})


def timed(results: list[tuple[str, float, str]], label: str, step: Callable[[], T], note: str = "") -> T:
    start = time.perf_counter()
    value = step()
    results.append((label, time.perf_counter() - start, note))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    console = Console()

    started = time.perf_counter()
    transactions = simulate_transactions(args.customers, args.seed)
    console.print(
        f"simulated {args.customers:,} customers, {transactions.num_rows:,} purchases "
        f"in {time.perf_counter() - started:.1f} s"
    )

    steps: list[tuple[str, float, str]] = []
    summary, holdout = timed(
        steps,
        "summarise (DuckDB, from Arrow)",
        lambda: summarise_transactions(
            transactions, customer="customer", date="date", amount="amount", calibration_end=CALIBRATION_END
        ),
        f"{transactions.num_rows:,} rows",
    )
    assert holdout is not None
    bgnbd = timed(steps, "fit BG/NBD", lambda: fit_bgnbd(summary), f"{summary.n_customers:,} customers")
    gamma_gamma = timed(
        steps,
        "fit Gamma-Gamma",
        lambda: fit_gamma_gamma(summary.frequency, summary.monetary_value),
        "repeat customers",
    )
    timed(
        steps,
        "score P(alive)",
        lambda: probability_alive(bgnbd, summary.frequency, summary.recency, summary.T),
    )
    timed(
        steps,
        "score expected purchases (39 weeks)",
        lambda: expected_purchases(bgnbd, holdout.duration, summary.frequency, summary.recency, summary.T),
    )
    timed(
        steps,
        "score expected spend",
        lambda: expected_spend(gamma_gamma, summary.frequency, summary.monetary_value),
    )
    weekly_rate = 1.10 ** (1 / 52) - 1.0
    clv = timed(
        steps,
        "score CLV (52 weeks, 10%/year)",
        lambda: customer_lifetime_value(bgnbd, gamma_gamma, summary, 52, weekly_rate),
        "per-week discounting",
    )
    accuracy = timed(steps, "holdout accuracy", lambda: evaluate_holdout(bgnbd, summary, holdout))
    in_memory_total = sum(seconds for _, seconds, _ in steps)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transactions.csv"
        pa_csv.write_csv(transactions, path)
        size = path.stat().st_size
        report = timed(
            steps,
            "fit_clv_file (CSV → report)",
            lambda: fit_clv_file(
                path, customer="customer", date="date", amount="amount", calibration_end=CALIBRATION_END
            ),
            f"{size / 1e6:.0f} MB CSV, the CLI's path",
        )

    table = Table(title=f"CLV fit and scoring, {summary.n_customers:,} customers")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("note")
    for label, seconds, note in steps:
        table.add_row(label, f"{seconds:.2f}", note)
    table.add_row(
        "[bold]summarise + fit + score (in memory)[/bold]", f"[bold]{in_memory_total:.2f}[/bold]", ""
    )
    console.print(table)

    fitted = Table(title="Recovered parameters (simulation truth vs fit)")
    fitted.add_column("parameter")
    fitted.add_column("truth", justify="right")
    fitted.add_column("fit", justify="right")
    for name, truth in TRUTH.items():
        fitted.add_row(name, f"{truth:.3f}", f"{getattr(bgnbd, name):.3f}")
    for name, truth in SPEND.items():
        fitted.add_row(name, f"{truth:.3f}", f"{getattr(gamma_gamma, name):.3f}")
    console.print(fitted)
    console.print(
        f"holdout: actual {accuracy.actual_total:,.0f} purchases, predicted {accuracy.predicted_total:,.0f}; "
        f"MAE {accuracy.mae_per_customer:.3f} per customer, correlation {accuracy.correlation:.3f}; "
        f"mean CLV {float(np.mean(clv)):.2f}; file path r={report.bgnbd.r:.3f}"
    )


if __name__ == "__main__":
    main()

"""Simulate purchase histories from a BG/NBD population, for parameter-recovery tests and benchmarks.

Fully vectorised: each customer's potential repeat purchases in (0, D] are Poisson(λD) points placed
uniformly, and the customer drops out after a Geometric(p)-th repeat purchase, so a million customers
take about a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from huaxiang.models.clv_summary import RfmSummary

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedPurchases:
    """Repeat purchases of simulated customers, in periods after each customer's first purchase (time 0)."""

    n_customers: int
    customer: IntArray
    time: FloatArray

    def summary(self, T: FloatArray) -> tuple[RfmSummary, FloatArray]:  # noqa: N803 - the literature's name
        """The calibration summary at ages ``T``, and each customer's purchase count after T."""
        big_t = np.asarray(T, dtype=np.float64)
        calibration = self.time <= big_t[self.customer]
        frequency = np.bincount(self.customer[calibration], minlength=self.n_customers).astype(np.float64)
        recency = np.zeros(self.n_customers)
        np.maximum.at(recency, self.customer[calibration], self.time[calibration])
        later = np.bincount(self.customer[~calibration], minlength=self.n_customers).astype(np.float64)
        return RfmSummary.from_arrays(frequency, recency, big_t), later


def simulate_bgnbd(
    *, r: float, alpha: float, a: float, b: float, durations: FloatArray, seed: int
) -> SimulatedPurchases:
    """Repeat purchases in (0, duration] for each customer of a BG/NBD population with these parameters."""
    rng = np.random.default_rng(seed)
    span = np.asarray(durations, dtype=np.float64)
    n = len(span)
    rate = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    dropout = rng.beta(a, b, size=n)
    purchases_until_dropout = rng.geometric(dropout)  # dropout right after this repeat purchase
    potential = rng.poisson(rate * span)
    owner = np.repeat(np.arange(n, dtype=np.int64), potential)
    times = rng.uniform(0.0, 1.0, size=len(owner)) * span[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    starts = np.cumsum(potential) - potential
    rank = np.arange(len(owner)) - np.repeat(starts, potential)
    kept = rank < purchases_until_dropout[owner]
    return SimulatedPurchases(n, owner[kept], times[kept])


def simulate_spend(
    *, p: float, q: float, gamma: float, customer: IntArray, n_customers: int, seed: int
) -> FloatArray:
    """Spend per purchase under Gamma-Gamma: z ~ Gamma(p, rate nu), per customer nu ~ Gamma(q, rate gamma).

    Use a seed other than the purchase simulation's: one stream for both would tie spend to frequency.
    """
    rng = np.random.default_rng(seed)
    rate = rng.gamma(shape=q, scale=1.0 / gamma, size=n_customers)
    spend: FloatArray = rng.gamma(shape=p, scale=1.0 / rate[np.asarray(customer)])
    return spend

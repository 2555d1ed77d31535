"""BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005): fit, P(alive), conditional expectations.

Written with numpy/scipy because no maintained library fits this project: ``lifetimes`` has been
unmaintained since 2020 and breaks on current pandas/scipy; its successor ``btyd`` stopped at a beta for
Python 3.8/3.9 and moved into ``pymc-marketing``, whose releases since 1.0 need Python 3.12 (we support
3.11) and pull in PyMC/PyTensor, a compiler toolchain, for a four-parameter maximum-likelihood fit; newer
small packages (``clvkit`` 0.2) are young one-author projects that require matplotlib. The likelihood is
a dozen lines of ``scipy.special``; writing it lets the fit use the analytic gradient and run on distinct
(x, t_x, T) rows with weights, which keeps a million-customer fit to a second or two.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from huaxiang.errors import HuaxiangError
from huaxiang.i18n import bilingual
from huaxiang.models.clv_summary import RfmSummary, distinct_rows

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

_LOG_BOUND = 30.0  # parameters are optimised as logs, kept within e^±30
_CONCENTRATED = 1e3  # a and b both above this at the bound: a fixed dropout probability, not a failed fit


@dataclass(frozen=True, slots=True)
class BgNbdParams:
    """Fitted BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
            "n_customers": self.n_customers,
        }


def bgnbd_log_likelihood(
    r: float,
    alpha: float,
    a: float,
    b: float,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,  # noqa: N803 - the literature's name for a customer's age
) -> FloatArray:
    """Each customer's log-likelihood (FHL 2005, eq. 6), computed with ``logaddexp`` so it never overflows."""
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    big_t = np.asarray(T, dtype=np.float64)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    still_alive = -(r + x) * np.log(alpha + big_t)
    dropped = np.full_like(x, -np.inf)
    repeat = x > 0
    xr = x[repeat]
    dropped[repeat] = np.log(a) - np.log(b + xr - 1.0) - (r + xr) * np.log(alpha + t_x[repeat])
    result: FloatArray = common + np.logaddexp(still_alive, dropped)
    return result


def fit_bgnbd(summary: RfmSummary) -> BgNbdParams:
    """Maximum-likelihood BG/NBD fit on log-parameters (L-BFGS-B with the analytic gradient).

    Customers with the same (x, t_x, T) share a likelihood term and the gamma-function terms depend on x
    alone, so each evaluation works on distinct rows with weights and on distinct x: the result is the
    plain maximum-likelihood estimate, at a fraction of the cost.
    """
    n = summary.n_customers
    if n == 0:
        raise HuaxiangError(
            bilingual(zh="没有可用于拟合 BG/NBD 的客户", en="no customers to fit the BG/NBD model on").text(),
            hint=bilingual(
                zh="检查校准期结束日期是否晚于首次购买日期",
                en="check that the calibration end is after first purchases",
            ).text(),
        )
    if not np.any(summary.frequency > 0):
        raise HuaxiangError(
            bilingual(
                zh="校准期内没有任何重复购买，无法估计 BG/NBD 参数",
                en="no customer made a repeat purchase in the calibration period; BG/NBD cannot be estimated",
            ).text(),
            hint=bilingual(zh="延长校准期", en="use a later calibration end").text(),
        )
    data = _FitData.of(summary)
    start = np.array([0.0, np.log(max(float(np.mean(summary.T)), 1e-3)), 0.0, 0.0])
    result = minimize(
        data.negative_log_likelihood,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4,
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
    )
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    at_bound = np.abs(result.x) >= _LOG_BOUND - 1e-6
    # When every customer has about the same dropout probability p, the likelihood keeps rising as a and b
    # grow together with a/(a+b) = p: the maximum lies at the limit, the fixed-dropout model. The fit stops
    # at the bound with p, r and alpha well determined, and every prediction has a finite limit there
    # (see expected_purchases_if_alive), so that is a result, not a failure.
    concentrated = bool(at_bound[2] or at_bound[3]) and min(a, b) > _CONCENTRATED
    if concentrated:
        at_bound[2:] = False
        log.info(
            "BG/NBD: the dropout probability is the same for every customer (a=%.3g, b=%.3g at the bound; "
            "p = a/(a+b) = %.4g): the fixed-dropout limit is used",
            a,
            b,
            a / (a + b),
        )
    if not np.isfinite(result.fun) or np.any(at_bound):
        raise HuaxiangError(
            bilingual(zh="BG/NBD 拟合未收敛", en="the BG/NBD fit did not converge").text()
            + f" (r={r:.4g}, alpha={alpha:.4g}, a={a:.4g}, b={b:.4g}: {result.message})",
            hint=bilingual(
                zh="数据可能太少或周期单位不合适；检查 --period 和校准期",
                en="too little data or an unsuitable period? check the period and the calibration end",
            ).text(),
        )
    log.info(
        "BG/NBD fit on %d customers (%d distinct rows, %d evaluations): r=%.4f alpha=%.4f a=%.4f b=%.4f",
        n,
        len(data.x),
        result.nfev,
        r,
        alpha,
        a,
        b,
    )
    return BgNbdParams(r, alpha, a, b, -float(result.fun) * n, n)


def _weighted_sum(weights: FloatArray, values: FloatArray) -> float:
    """Σ weights·values without BLAS: ``np.dot`` wakes OpenBLAS threads, which spin on a busy machine."""
    return float(np.sum(weights * values))


@dataclass(frozen=True, slots=True, eq=False)
class _FitData:
    """A summary reduced for fitting: distinct (x, t_x, T) rows and distinct x, each with its share."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray
    repeat: NDArray[np.bool_]
    x_values: FloatArray
    x_weight: FloatArray

    @classmethod
    def of(cls, summary: RfmSummary) -> _FitData:
        rows = distinct_rows(summary.frequency, summary.recency, summary.T)
        x, t_x, big_t = rows.columns
        weight = rows.counts / summary.n_customers
        x_values, x_index = np.unique(x, return_inverse=True)
        x_weight = np.bincount(x_index.reshape(-1), weights=weight, minlength=len(x_values)).astype(
            np.float64
        )
        return cls(x, t_x, big_t, weight, x > 0, x_values, x_weight)

    def negative_log_likelihood(self, log_params: FloatArray) -> tuple[float, FloatArray]:
        """Mean negative log-likelihood per customer and its gradient with respect to the log-parameters."""
        r, alpha, a, b = np.exp(log_params)
        xv, wv = self.x_values, self.x_weight
        # Terms that depend on x only: gamma functions, evaluated once per distinct x.
        x_part = (
            gammaln(r + xv) - gammaln(r) + gammaln(a + b) + gammaln(b + xv) - gammaln(b) - gammaln(a + b + xv)
        )
        d_r = digamma(r + xv) - digamma(r) + np.log(alpha)
        d_a = digamma(a + b) - digamma(a + b + xv)
        d_b = digamma(b + xv) - digamma(b) + d_a
        # Terms that depend on the whole row: alive through T, or dropped out after the last purchase.
        x, w = self.x, self.weight
        log_age = np.log(alpha + self.T)
        log_recency = np.log(alpha + self.t_x)
        still_alive = -(r + x) * log_age
        gap = np.where(self.repeat, b + x - 1.0, 1.0)
        dropped = np.where(self.repeat, np.log(a) - np.log(gap) - (r + x) * log_recency, -np.inf)
        total = np.logaddexp(still_alive, dropped)
        share_dropped = np.exp(dropped - total)
        share_alive = 1.0 - share_dropped
        log_likelihood = float(_weighted_sum(wv, x_part)) + r * np.log(alpha) + float(_weighted_sum(w, total))
        gradient = np.array(
            [
                r
                * (
                    _weighted_sum(wv, d_r)
                    - _weighted_sum(w, share_alive * log_age + share_dropped * log_recency)
                ),
                r
                - alpha
                * _weighted_sum(
                    w, (r + x) * (share_alive / (alpha + self.T) + share_dropped / (alpha + self.t_x))
                ),
                a * (_weighted_sum(wv, d_a) + _weighted_sum(w, share_dropped) / a),
                b * (_weighted_sum(wv, d_b) - _weighted_sum(w, share_dropped / gap)),
            ]
        )
        return -log_likelihood, -gradient


def probability_alive(
    params: BgNbdParams,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,  # noqa: N803 - the literature's name for a customer's age
) -> FloatArray:
    """P(still active at T | x, t_x, T); 1 for customers without repeat purchases, as BG/NBD assumes."""
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    big_t = np.asarray(T, dtype=np.float64)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_odds_dead = np.full_like(x, -np.inf)
    repeat = x > 0
    xr = x[repeat]
    log_odds_dead[repeat] = (
        np.log(a)
        - np.log(b + xr - 1.0)
        + (r + xr) * (np.log(alpha + big_t[repeat]) - np.log(alpha + t_x[repeat]))
    )
    result: FloatArray = expit(-log_odds_dead)
    return result


def expected_purchases(
    params: BgNbdParams,
    t: float | FloatArray,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,  # noqa: N803 - the literature's name for a customer's age
) -> FloatArray:
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10): P(alive) times the purchases if alive."""
    result: FloatArray = expected_purchases_if_alive(params, t, frequency, T) * probability_alive(
        params, frequency, recency, T
    )
    return result


def expected_purchases_if_alive(
    params: BgNbdParams,
    t: float | FloatArray,
    frequency: FloatArray,
    T: FloatArray,  # noqa: N803 - the literature's name for a customer's age
) -> FloatArray:
    """E[purchases in (T, T + t] | x, T, still active at T].

    The Gaussian hypergeometric term is evaluated after a Pfaff transformation,
    2F1(r+x, a-1; a+b+x-1; -t/(alpha+T)) = (1 + t/(alpha+T))^(1-a) 2F1(a+b-1-r, a-1; a+b+x-1; w),
    whose first two parameters do not grow with x: the textbook form returns NaN for heavy buyers over
    long horizons, this one stays accurate for any x and t.
    """
    x = np.asarray(frequency, dtype=np.float64)
    big_t = np.asarray(T, dtype=np.float64)
    horizon = np.asarray(t, dtype=np.float64)
    r, alpha, b = params.r, params.alpha, params.b
    a = params.a if abs(params.a - 1.0) > 1e-9 else 1.0 + 1e-9  # the closed form is 0/0 at exactly a = 1
    w = horizon / (alpha + big_t + horizon)
    shrink = np.exp((a - 1.0) * (np.log(alpha + big_t) - np.log(alpha + big_t + horizon)))
    with np.errstate(invalid="ignore", over="ignore"):
        remaining = 1.0 - shrink * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, w)
        result: FloatArray = (a + b + x - 1.0) / (a - 1.0) * remaining
    unstable = ~np.isfinite(result)
    if np.any(unstable):
        # A very concentrated Beta (a and b in the millions: the fit found one dropout probability for all)
        # overflows the hypergeometric term. Its limit is the fixed-dropout model: purchases at rate λ until
        # a purchase ends the relationship with probability p = a/(a+b), so E = (1 - E[e^(-λpt)]) / p with
        # λ ~ Gamma(r+x, alpha+T).
        p = a / (a + b)
        base = alpha + big_t
        limit = (1.0 - (base / (base + p * horizon)) ** (r + x)) / p
        result = np.where(unstable, limit, result)
    return result

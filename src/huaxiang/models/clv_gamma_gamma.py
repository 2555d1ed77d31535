"""Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005; Fader & Hardie's 2013 note).

Hand-written with scipy for the reasons given in :mod:`huaxiang.models.clv_bgnbd`: no maintained
library offers it without PyMC. The model is fitted on customers with at least one repeat purchase and a
positive mean repeat spend, as the published estimates were; it assumes spend is independent of purchase
frequency, so the report shows their correlation next to the estimates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from huaxiang.errors import HuaxiangError
from huaxiang.i18n import bilingual

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

_LOG_BOUND = 30.0


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters: spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase, p·gamma/(q-1) (infinite when q <= 1)."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")

    def to_dict(self) -> dict[str, float | int]:
        return {
            "p": self.p,
            "q": self.q,
            "gamma": self.gamma,
            "log_likelihood": self.log_likelihood,
            "n_customers": self.n_customers,
            "mean_spend": self.mean_spend,
        }


def gamma_gamma_log_likelihood(
    p: float, q: float, gamma: float, frequency: FloatArray, monetary_value: FloatArray
) -> FloatArray:
    """Each customer's log density of their mean spend over ``frequency`` purchases."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    px = p * x
    result: FloatArray = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )
    return result


def fit_gamma_gamma(frequency: FloatArray, monetary_value: FloatArray) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on customers with repeat purchases and positive mean spend."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    usable = (x > 0) & (m > 0) & np.isfinite(m)
    skipped = int(np.count_nonzero((x > 0) & ~usable))
    if skipped:
        log.info("Gamma-Gamma fit leaves out %d repeat customers whose mean spend is not positive", skipped)
    x, m = x[usable], m[usable]
    n = len(x)
    if n < 3:
        raise HuaxiangError(
            bilingual(
                zh=f"只有 {n} 位客户有重复购买且金额为正，无法估计 Gamma-Gamma 参数",
                en=f"only {n} customers have repeat purchases with positive spend: too few for Gamma-Gamma",
            ).text(),
            hint=bilingual(
                zh="延长校准期或检查金额列", en="use a later calibration end or check the amount column"
            ).text(),
        )

    # Gamma functions depend on x alone: evaluate them once per distinct x, weighted by its count.
    x_values, x_counts = np.unique(x, return_counts=True)
    share = x_counts / n
    log_m = np.log(m)
    mean_x_log_m = float(np.mean(x * log_m))
    mean_log_m = float(np.mean(log_m))
    mean_x_log_x = float(np.sum(share * x_values * np.log(x_values)))

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        """Mean negative log-likelihood and its gradient with respect to the log-parameters."""
        p, q, gamma = np.exp(log_params)
        pv = p * x_values
        digamma_all = digamma(pv + q)
        total = gamma + m * x
        log_total = np.log(total)
        mean_log_total = float(np.mean(log_total))
        mean_x_log_total = float(np.mean(x * log_total))
        log_likelihood = (
            float(np.sum(share * (gammaln(pv + q) - gammaln(pv))))
            - gammaln(q)
            + q * np.log(gamma)
            + p * (mean_x_log_m + mean_x_log_x - mean_x_log_total)
            - mean_log_m
            - q * mean_log_total
        )
        gradient = np.array(
            [
                p
                * (
                    float(np.sum(share * x_values * (digamma_all - digamma(pv))))
                    + mean_x_log_m
                    + mean_x_log_x
                    - mean_x_log_total
                ),
                q * (float(np.sum(share * digamma_all)) - digamma(q) + np.log(gamma) - mean_log_total),
                q - gamma * float(np.mean((p * x + q) / total)),
            ]
        )
        return -float(log_likelihood), -gradient

    start = np.array([0.0, 0.0, np.log(float(np.mean(m)))])
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
    )
    p, q, gamma = (float(v) for v in np.exp(result.x))
    if not np.isfinite(result.fun) or np.any(np.abs(result.x) >= _LOG_BOUND - 1e-6):
        raise HuaxiangError(
            bilingual(zh="Gamma-Gamma 拟合未收敛", en="the Gamma-Gamma fit did not converge").text()
            + f" (p={p:.4g}, q={q:.4g}, gamma={gamma:.4g}: {result.message})",
            hint=bilingual(
                zh="检查金额列是否为每笔消费金额", en="check that the amount column holds spend per purchase"
            ).text(),
        )
    log.info("Gamma-Gamma fit on %d customers: p=%.4f q=%.4f gamma=%.4f", n, p, q, gamma)
    return GammaGammaParams(p, q, gamma, -float(result.fun) * n, n)


def expected_spend(params: GammaGammaParams, frequency: FloatArray, monetary_value: FloatArray) -> FloatArray:
    """E[spend per purchase | x, mean spend]: the customer's mean shrunk towards the population mean.

    The weight of the customer's own mean grows with their repeat purchases; customers without any get
    the population mean p·gamma/(q-1).
    """
    if params.q <= 1.0:
        raise HuaxiangError(
            bilingual(
                zh=f"Gamma-Gamma 参数 q={params.q:.3g} ≤ 1，期望消费金额无穷大",
                en=f"Gamma-Gamma q={params.q:.3g} <= 1: expected spend is infinite",
            ).text(),
            hint=bilingual(zh="检查金额是否有极端值", en="look for extreme amounts in the data").text(),
        )
    x = np.asarray(frequency, dtype=np.float64)
    m = np.where(x > 0, np.asarray(monetary_value, dtype=np.float64), 0.0)
    result: FloatArray = params.p * (params.gamma + m * x) / (params.p * x + params.q - 1.0)
    return result

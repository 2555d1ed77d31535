"""Discounted customer lifetime value from fitted BG/NBD and Gamma-Gamma models.

Value is discounted per period, E[purchases in period k] · E[spend per purchase] / (1 + d)^k, because
BG/NBD has no closed form for discounted expected transactions. Customers with the same (x, t_x, T)
share the purchase forecast, so a year of weekly periods for a million customers takes seconds.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from huaxiang.errors import HuaxiangError
from huaxiang.i18n import bilingual
from huaxiang.models.clv_bgnbd import BgNbdParams, expected_purchases_if_alive, probability_alive
from huaxiang.models.clv_gamma_gamma import GammaGammaParams, expected_spend
from huaxiang.models.clv_summary import RfmSummary, distinct_rows

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


def customer_lifetime_value(
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    summary: RfmSummary,
    horizon_periods: int,
    discount_rate_per_period: float,
) -> FloatArray:
    """Each customer's expected spend over the next ``horizon_periods`` periods, discounted per period."""
    if horizon_periods < 1:
        raise HuaxiangError(
            bilingual(zh="预测期至少为 1 个周期", en="the horizon must be at least one period").text()
            + f" (horizon_periods={horizon_periods})"
        )
    if not discount_rate_per_period > -1.0:
        raise HuaxiangError(
            bilingual(zh="折现率必须大于 -1", en="the discount rate must be greater than -1").text()
            + f" ({discount_rate_per_period})"
        )
    spend = expected_spend(gamma_gamma, summary.frequency, summary.monetary_value)
    rows = distinct_rows(summary.frequency, summary.recency, summary.T)
    x, t_x, big_t = rows.columns
    discounted = np.zeros_like(x)
    previous = np.zeros_like(x)
    for k in range(1, horizon_periods + 1):
        cumulative = expected_purchases_if_alive(bgnbd, float(k), x, big_t)
        discounted += (cumulative - previous) / (1.0 + discount_rate_per_period) ** k
        previous = cumulative
    discounted *= probability_alive(bgnbd, x, t_x, big_t)
    log.debug("CLV over %d periods on %d distinct rows", horizon_periods, len(x))
    value: FloatArray = discounted[rows.inverse] * spend
    return value

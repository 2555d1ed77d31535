"""Customer lifetime value from any transaction log: BG/NBD purchases, Gamma-Gamma spend, discounted value.

``fit_clv_file`` is what ``huaxiang clv fit`` calls: read a file, summarise a calibration period, fit
both models, and measure the purchase forecast on the holdout that follows. This module is the public
face; the parts live in ``clv_summary`` (transactions to RFM), ``clv_source`` (reading files),
``clv_bgnbd`` and ``clv_gamma_gamma`` (the models, hand-written on scipy; the reasons are in their
docstrings), ``clv_value`` (discounted value), ``clv_report`` and ``clv_plot``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import duckdb

from huaxiang.backends.duckdb import connect
from huaxiang.errors import HuaxiangError
from huaxiang.i18n import bilingual
from huaxiang.models.clv_bgnbd import (
    BgNbdParams,
    expected_purchases,
    fit_bgnbd,
    probability_alive,
)
from huaxiang.models.clv_gamma_gamma import GammaGammaParams, expected_spend, fit_gamma_gamma
from huaxiang.models.clv_plot import plot_calibration_holdout
from huaxiang.models.clv_report import ClvReport, FrequencyBin, HoldoutAccuracy, evaluate_holdout, fit_clv
from huaxiang.models.clv_source import open_transaction_file, unreadable
from huaxiang.models.clv_summary import (
    HoldoutActuals,
    RfmSummary,
    TransactionDataError,
    resolve_columns,
    summarise_transactions,
    summarise_view,
)
from huaxiang.models.clv_value import customer_lifetime_value

__all__ = [
    "BgNbdParams",
    "ClvReport",
    "FrequencyBin",
    "GammaGammaParams",
    "HoldoutAccuracy",
    "HoldoutActuals",
    "RfmSummary",
    "TransactionDataError",
    "customer_lifetime_value",
    "evaluate_holdout",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_clv",
    "fit_clv_file",
    "fit_gamma_gamma",
    "parse_period",
    "plot_calibration_holdout",
    "probability_alive",
    "summarise_file",
    "summarise_transactions",
]

log = logging.getLogger(__name__)


def summarise_file(
    path: Path,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    calibration_end: dt.date,
    observation_end: dt.date | None = None,
    period_days: float = 7.0,
    date_format: str | None = None,
    sep: str | None = None,
    header: bool | None = None,
    decimals: int | None = 2,
) -> tuple[RfmSummary, HoldoutActuals | None]:
    """Summarise a transaction file (CSV, whitespace-separated text, Parquet or JSON lines).

    Columns are names or 1-based positions; ``sep=None`` and ``header=None`` let the reader detect the
    layout. Transactions up to and including ``calibration_end`` are the calibration period; those after
    it, up to ``observation_end`` (default: the last date in the file), are the holdout.
    """
    con = connect()
    try:
        view = open_transaction_file(con, path, sep=sep, header=header, date_format=date_format)
        columns = resolve_columns(
            view.columns, customer=customer, date=date, amount=amount, location=view.location
        )
        return summarise_view(
            con,
            view.name,
            columns,
            location=view.location,
            calibration_end=calibration_end,
            observation_end=observation_end,
            period_days=period_days,
            date_format=date_format,
            decimals=decimals,
        )
    except duckdb.Error as error:  # a malformed row beyond what the reader sniffed
        raise unreadable(str(path), error) from error
    finally:
        con.close()


def fit_clv_file(
    path: Path,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    calibration_end: dt.date,
    observation_end: dt.date | None = None,
    period_days: float = 7.0,
    date_format: str | None = None,
    sep: str | None = None,
    header: bool | None = None,
    decimals: int | None = 2,
) -> ClvReport:
    """Fit BG/NBD, and Gamma-Gamma when there is an amount, on a file read as ``summarise_file`` reads it."""
    summary, holdout = summarise_file(
        path,
        customer=customer,
        date=date,
        amount=amount,
        calibration_end=calibration_end,
        observation_end=observation_end,
        period_days=period_days,
        date_format=date_format,
        sep=sep,
        header=header,
        decimals=decimals,
    )
    log.info("%s: %d customers summarised at %s", path, summary.n_customers, calibration_end)
    return fit_clv(
        summary,
        holdout,
        source=str(path),
        calibration_end=calibration_end,
        period_days=period_days,
        with_spend=amount is not None,
    )


_PERIOD_UNITS = {"d": 1.0, "day": 1.0, "days": 1.0, "w": 7.0, "week": 7.0, "weeks": 7.0, "m": 365.25 / 12}
_PERIOD_UNITS |= {"month": 365.25 / 12, "months": 365.25 / 12, "y": 365.25, "year": 365.25, "years": 365.25}
_PERIOD = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*([a-zA-Z]*)\s*$")


def parse_period(text: str) -> float:
    """A period length in days from ``D``, ``W``, ``M``, ``Y``, ``2W``, ``14d`` or a plain number of days."""
    match = _PERIOD.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or (unit and unit not in _PERIOD_UNITS) or not (match.group(1) or unit):
        raise HuaxiangError(
            bilingual(zh=f"无法识别的周期 {text!r}", en=f"unknown period {text!r}").text(),
            location="--period",
            hint=bilingual(
                zh="可用 D（天）、W（周）、M（月）、Y（年），可带倍数如 2W，或天数如 14",
                en="use D, W, M or Y, optionally with a multiple such as 2W, or a number of days such as 14",
            ).text(),
        )
    count = float(match.group(1)) if match.group(1) else 1.0
    days = count * (_PERIOD_UNITS[unit] if unit else 1.0)
    if days <= 0:
        raise HuaxiangError(
            bilingual(zh="周期必须为正", en="the period must be positive").text() + f" ({text!r})",
            location="--period",
        )
    return days

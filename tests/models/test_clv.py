"""CLV models: the published CDNOW estimates, the summaries they were fitted on, and model properties."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from huaxiang.errors import HuaxiangError, SourceError
from huaxiang.models.clv import (
    BgNbdParams,
    ClvReport,
    GammaGammaParams,
    RfmSummary,
    TransactionDataError,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_clv_file,
    fit_gamma_gamma,
    parse_period,
    plot_calibration_holdout,
    probability_alive,
    summarise_file,
    summarise_transactions,
)
from huaxiang.models.clv_simulate import simulate_bgnbd, simulate_spend

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("HUAXIANG_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))
CDNOW = SHARED_DATA / "cdnow"
CDNOW_TRANSACTIONS = CDNOW / "CDNOW_sample.txt"
needs_cdnow = pytest.mark.skipif(
    not CDNOW_TRANSACTIONS.is_file(),
    reason=f"CDNOW sample not found under {CDNOW} (set HUAXIANG_SHARED_DATA)",
)

CALIBRATION_END = dt.date(1997, 9, 30)
OBSERVATION_END = dt.date(1998, 6, 30)


def significant(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


@pytest.fixture(scope="module")
def shipped_summary() -> pd.DataFrame:
    """The published CDNOW calibration summary: ID, x, t_x, T, zbar."""
    if not CDNOW_TRANSACTIONS.is_file():
        pytest.skip(f"CDNOW sample not found under {CDNOW}")
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def cdnow_rows() -> pd.DataFrame:
    """The raw CDNOW transactions, read as the data README says."""
    if not CDNOW_TRANSACTIONS.is_file():
        pytest.skip(f"CDNOW sample not found under {CDNOW}")
    frame = pd.read_csv(CDNOW_TRANSACTIONS, sep=r"\s+", header=None, dtype={0: str, 1: str, 2: str})
    frame.columns = ["master_id", "customer", "date", "cds", "amount"]
    return frame


@pytest.fixture(scope="module")
def cdnow_report() -> ClvReport:
    if not CDNOW_TRANSACTIONS.is_file():
        pytest.skip(f"CDNOW sample not found under {CDNOW}")
    return fit_clv_file(
        CDNOW_TRANSACTIONS, customer="2", date="3", amount="5", calibration_end=CALIBRATION_END
    )


@pytest.fixture(scope="module")
def cdnow_bgnbd(shipped_summary: pd.DataFrame) -> BgNbdParams:
    return fit_bgnbd(
        RfmSummary.from_arrays(shipped_summary["x"], shipped_summary["t_x"], shipped_summary["T"])
    )


# --- the summaries the published numbers were fitted on -------------------------------------------


def assert_matches_shipped(summary: RfmSummary, shipped: pd.DataFrame) -> None:
    ids = np.array([int(i) for i in summary.customer_ids])
    np.testing.assert_array_equal(ids, shipped["ID"].to_numpy())
    np.testing.assert_array_equal(summary.frequency, shipped["x"].to_numpy(dtype=float))
    # Both sides hold 2-decimal numbers: equal to far below the last printed digit.
    np.testing.assert_allclose(summary.recency, shipped["t_x"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(summary.T, shipped["T"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(summary.monetary_value, shipped["zbar"], rtol=0, atol=0.005 + 1e-9)


@needs_cdnow
def test_file_summary_reproduces_the_shipped_cdnow_summary(shipped_summary: pd.DataFrame) -> None:
    summary, holdout = summarise_file(
        CDNOW_TRANSACTIONS, customer="2", date="3", amount="5", calibration_end=CALIBRATION_END
    )
    assert_matches_shipped(summary, shipped_summary)
    assert holdout is not None
    assert holdout.observation_end == OBSERVATION_END
    assert holdout.duration == 39.0


@needs_cdnow
def test_frame_summary_reproduces_the_shipped_cdnow_summary(
    cdnow_rows: pd.DataFrame, shipped_summary: pd.DataFrame
) -> None:
    summary, _ = summarise_transactions(
        cdnow_rows, customer="customer", date="date", amount="amount", calibration_end=CALIBRATION_END
    )
    assert_matches_shipped(summary, shipped_summary)


@needs_cdnow
def test_holdout_counts_purchase_days_after_the_calibration_end(cdnow_rows: pd.DataFrame) -> None:
    summary, holdout = summarise_file(
        CDNOW_TRANSACTIONS, customer="2", date="3", amount="5", calibration_end=CALIBRATION_END
    )
    days = pd.to_datetime(cdnow_rows["date"], format="%Y%m%d")
    later = cdnow_rows[
        (days > pd.Timestamp(CALIBRATION_END)) & (days <= pd.Timestamp(OBSERVATION_END))
    ].assign(day=days)
    per_customer = later.groupby("customer")["day"].nunique()
    expected = per_customer.reindex(summary.customer_ids, fill_value=0).to_numpy(dtype=float)
    assert holdout is not None
    np.testing.assert_array_equal(holdout.frequency, expected)


# --- the published estimates --------------------------------------------------------------------


@needs_cdnow
def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow_bgnbd: BgNbdParams) -> None:
    assert significant(cdnow_bgnbd.r) == 0.243
    assert significant(cdnow_bgnbd.alpha) == 4.41
    assert significant(cdnow_bgnbd.a) == 0.793
    assert significant(cdnow_bgnbd.b) == 2.43
    assert round(cdnow_bgnbd.log_likelihood, 1) == -9582.4


@needs_cdnow
def test_gamma_gamma_reproduces_fader_hardie(shipped_summary: pd.DataFrame) -> None:
    params = fit_gamma_gamma(shipped_summary["x"].to_numpy(float), shipped_summary["zbar"].to_numpy(float))
    assert params.n_customers == 946  # the repeat buyers
    assert (significant(params.p), significant(params.q), significant(params.gamma)) == (6.25, 3.74, 15.4)


@needs_cdnow
def test_fit_from_the_raw_file_reproduces_both_models(cdnow_report: ClvReport) -> None:
    bgnbd, gamma_gamma = cdnow_report.bgnbd, cdnow_report.gamma_gamma
    assert [significant(v) for v in (bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b)] == [0.243, 4.41, 0.793, 2.43]
    assert round(bgnbd.log_likelihood, 1) == -9582.4
    assert gamma_gamma is not None
    assert [significant(v) for v in (gamma_gamma.p, gamma_gamma.q, gamma_gamma.gamma)] == [6.25, 3.74, 15.4]
    assert cdnow_report.n_customers == 2357


@needs_cdnow
def test_without_amounts_or_holdout_only_purchases_are_modelled(cdnow_bgnbd: BgNbdParams) -> None:
    report = fit_clv_file(CDNOW_TRANSACTIONS, customer="2", date="3", calibration_end=CALIBRATION_END)
    assert report.gamma_gamma is None
    assert report.bgnbd.r == pytest.approx(cdnow_bgnbd.r, rel=1e-6)
    everything = fit_clv_file(CDNOW_TRANSACTIONS, customer="2", date="3", calibration_end=OBSERVATION_END)
    assert everything.holdout is None
    assert everything.to_dict()["holdout"] is None
    with pytest.raises(HuaxiangError, match="holdout"):
        plot_calibration_holdout(everything, language="en")


@needs_cdnow
def test_conditional_expectation_of_the_published_example(cdnow_bgnbd: BgNbdParams) -> None:
    # FHL 2005: a customer with x = 2, t_x = 30.43, T = 38.86 is expected to buy 1.226 times in 39 weeks.
    value = expected_purchases(cdnow_bgnbd, 39.0, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert round(float(value[0]), 3) == 1.226


@needs_cdnow
def test_report_is_json_and_tracks_holdout_by_frequency(
    cdnow_report: ClvReport, cdnow_rows: pd.DataFrame
) -> None:
    data = json.loads(json.dumps(cdnow_report.to_dict(), allow_nan=False))
    assert data["calibration_end"] == "1997-09-30"
    assert data["observation_end"] == "1998-06-30"
    assert set(data["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(data["gamma_gamma"]) >= {"p", "q", "gamma"}
    holdout = data["holdout"]
    assert holdout["periods"] == 39.0
    bins = holdout["by_frequency"]
    assert [b["frequency"] for b in bins] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(b["customers"] for b in bins) == 2357
    predicted = [b["predicted_mean"] for b in bins]
    assert predicted == sorted(predicted)  # more calibration purchases, more expected later
    days = pd.to_datetime(cdnow_rows["date"], format="%Y%m%d")
    later = cdnow_rows[days > pd.Timestamp(CALIBRATION_END)].assign(day=days)
    assert holdout["actual_total"] == later.groupby("customer")["day"].nunique().sum()
    assert holdout["predicted_total"] == pytest.approx(
        sum(b["predicted_mean"] * b["customers"] for b in bins)
    )


@needs_cdnow
def test_calibration_holdout_chart(cdnow_report: ClvReport) -> None:
    figure = plot_calibration_holdout(cdnow_report, language="en")
    assert len(figure.data) == 2
    assert list(figure.data[0].x) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert figure.data[1].y[3] == pytest.approx(cdnow_report.holdout.by_frequency[3].predicted_mean)  # type: ignore[union-attr]
    assert "留出期" in plot_calibration_holdout(cdnow_report, language="zh").layout.title.text


# --- model properties -----------------------------------------------------------------------------

PARAMS = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=float("nan"), n_customers=0)


def test_probability_alive_is_a_probability_that_falls_with_inactivity() -> None:
    x = np.array([0.0, 1.0, 2.0, 5.0, 20.0])
    for t_x in (0.0, 10.0, 30.0):
        alive = probability_alive(PARAMS, x, np.full(5, t_x), np.full(5, 38.86))
        assert np.all((alive >= 0) & (alive <= 1))
        assert alive[0] == 1.0  # BG/NBD: no repeat purchase, no chance to drop out yet
    recencies = np.linspace(1.0, 38.0, 20)
    alive = probability_alive(PARAMS, np.full(20, 3.0), recencies, np.full(20, 38.86))
    assert np.all(np.diff(alive) > 0)  # a more recent last purchase, more likely alive
    ages = np.linspace(11.0, 80.0, 20)
    alive = probability_alive(PARAMS, np.full(20, 3.0), np.full(20, 10.0), ages)
    assert np.all(np.diff(alive) < 0)  # a longer silence since, less likely alive


def test_expected_purchases_grow_with_the_horizon_and_stay_finite_for_heavy_buyers() -> None:
    horizons = np.array([1.0, 4.0, 13.0, 39.0, 104.0, 520.0])
    for x in (0.0, 2.0, 50.0, 300.0, 5000.0):
        values = expected_purchases(PARAMS, horizons, np.full(6, x), np.full(6, 35.0), np.full(6, 38.86))
        assert np.all(np.isfinite(values))
        assert np.all(np.diff(values) > 0)
    # Against the textbook form (FHL 2005, eq. 10) where that one is still finite.
    from scipy.special import hyp2f1

    r, alpha, a, b = PARAMS.r, PARAMS.alpha, PARAMS.a, PARAMS.b
    x, t_x, big_t, t = 20.0, 30.0, 38.86, 39.0
    w = t / (alpha + big_t + t)
    shrink = ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
    alive = 1 / (1 + a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x))
    textbook = (a + b + x - 1) / (a - 1) * (1 - shrink * hyp2f1(r + x, b + x, a + b + x - 1, w)) * alive
    ours = expected_purchases(PARAMS, t, np.array([x]), np.array([t_x]), np.array([big_t]))
    assert float(ours[0]) == pytest.approx(textbook, rel=1e-10)


def test_fit_recovers_a_simulated_population() -> None:
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    n = 40_000
    ages = np.random.default_rng(1).uniform(27.0, 39.0, n)
    purchases = simulate_bgnbd(**truth, durations=ages, seed=2)
    summary, _ = purchases.summary(ages)
    fitted = fit_bgnbd(summary)
    assert fitted.r == pytest.approx(truth["r"], rel=0.10)
    assert fitted.alpha == pytest.approx(truth["alpha"], rel=0.10)
    assert fitted.a == pytest.approx(truth["a"], rel=0.25)
    assert fitted.b == pytest.approx(truth["b"], rel=0.25)
    # The mean dropout probability a / (a + b) is pinned down much better than a and b apart.
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(0.793 / (0.793 + 2.426), rel=0.08)

    spend = simulate_spend(p=6.25, q=3.74, gamma=15.44, customer=purchases.customer, n_customers=n, seed=3)
    totals = np.bincount(purchases.customer, weights=spend, minlength=n)
    mean_spend = np.where(summary.frequency > 0, totals / np.maximum(summary.frequency, 1.0), 0.0)
    gg = fit_gamma_gamma(summary.frequency, mean_spend)
    assert gg.p == pytest.approx(6.25, rel=0.15)
    assert gg.q == pytest.approx(3.74, rel=0.10)
    assert gg.gamma == pytest.approx(15.44, rel=0.25)
    assert gg.mean_spend == pytest.approx(6.25 * 15.44 / 2.74, rel=0.05)


def test_expected_spend_shrinks_towards_the_population_mean() -> None:
    params = GammaGammaParams(p=6.25, q=3.74, gamma=15.44, log_likelihood=float("nan"), n_customers=0)
    x = np.array([0.0, 1.0, 5.0, 50.0])
    spend = expected_spend(params, x, np.array([0.0, 100.0, 100.0, 100.0]))
    assert spend[0] == pytest.approx(params.mean_spend)
    assert np.all(np.diff(spend[1:]) > 0)  # more purchases, more weight on the customer's own mean
    assert np.all((spend[1:] > params.mean_spend) & (spend[1:] < 100.0))


def test_lifetime_value_discounts_the_expected_purchases() -> None:
    gg = GammaGammaParams(p=6.25, q=3.74, gamma=15.44, log_likelihood=float("nan"), n_customers=0)
    summary = RfmSummary.from_arrays(
        frequency=[0, 1, 2, 2, 7], recency=[0, 5.0, 30.43, 30.43, 36.0], T=[30, 38, 38.86, 38.86, 38.86],
        monetary_value=[0, 20.0, 22.35, 22.35, 40.0],
    )  # fmt: skip
    undiscounted = customer_lifetime_value(PARAMS, gg, summary, 52, 0.0)
    purchases = expected_purchases(PARAMS, 52.0, summary.frequency, summary.recency, summary.T)
    spend = expected_spend(gg, summary.frequency, summary.monetary_value)
    np.testing.assert_allclose(undiscounted, purchases * spend, rtol=1e-12)
    discounted = customer_lifetime_value(PARAMS, gg, summary, 52, 1.10 ** (1 / 52) - 1.0)
    assert np.all(discounted < undiscounted)
    assert discounted[2] == discounted[3]  # same history, same value
    longer = customer_lifetime_value(PARAMS, gg, summary, 104, 1.10 ** (1 / 52) - 1.0)
    assert np.all(longer > discounted)
    with pytest.raises(HuaxiangError, match="horizon"):
        customer_lifetime_value(PARAMS, gg, summary, 0, 0.0)


# --- summarising by hand-checked rules ------------------------------------------------------------


def test_summary_rules_on_a_small_log() -> None:
    frame = pd.DataFrame(
        {
            "who": ["a", "a", "a", "a", "a", "b", "c", "c"],
            "when": [
                "2024-01-01", "2024-01-01", "2024-01-15", "2024-01-29", "2024-02-05",
                "2024-01-22", "2024-02-02", "2024-02-03",
            ],
            "paid": [10.0, 5.0, 20.0, 30.0, 7.0, 12.0, 1.0, 1.0],
        }
    )  # fmt: skip
    summary, holdout = summarise_transactions(
        frame, customer="who", date="when", amount="paid", calibration_end=dt.date(2024, 1, 31)
    )
    # a: days 01-01 (merged 15.0), 01-15, 01-29 in calibration -> x = 2, t_x = 28 days, T = 30 days,
    # mean repeat spend (20 + 30) / 2; one purchase day (02-05) in the holdout.
    # b: one purchase on 01-22 -> x = 0, T = 9 days. c first bought after the calibration end: left out.
    assert list(summary.customer_ids) == ["a", "b"]
    np.testing.assert_array_equal(summary.frequency, [2.0, 0.0])
    np.testing.assert_allclose(summary.recency, [4.0, 0.0])
    np.testing.assert_allclose(summary.T, [round(30 / 7, 2), round(9 / 7, 2)])
    np.testing.assert_allclose(summary.monetary_value, [25.0, 0.0])
    assert holdout is not None
    assert holdout.observation_end == dt.date(2024, 2, 5)
    np.testing.assert_array_equal(holdout.frequency, [1.0, 0.0])
    np.testing.assert_allclose(holdout.monetary_value, [7.0, 0.0])
    assert holdout.duration == round(5 / 7, 2)

    daily, _ = summarise_transactions(
        frame, customer="who", date="when", calibration_end=dt.date(2024, 1, 31), period_days=1.0
    )
    np.testing.assert_allclose(daily.recency, [28.0, 0.0])
    np.testing.assert_allclose(daily.T, [30.0, 9.0])


@needs_cdnow
def test_every_file_format_gives_the_same_summary(tmp_path: Path, cdnow_rows: pd.DataFrame) -> None:
    reference, _ = summarise_file(
        CDNOW_TRANSACTIONS, customer="2", date="3", amount="5", calibration_end=CALIBRATION_END
    )
    frame = cdnow_rows.assign(date=pd.to_datetime(cdnow_rows["date"], format="%Y%m%d"))
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).to_csv(tmp_path / "tx.csv", index=False)
    frame.assign(date=frame["date"].dt.strftime("%d/%m/%Y")).to_csv(
        tmp_path / "tx.tsv", sep="\t", index=False
    )
    frame.to_parquet(tmp_path / "tx.parquet")
    plain = frame.assign(date=frame["date"].dt.strftime("%m/%d/%Y"))
    plain.to_csv(tmp_path / "headerless.csv", index=False, header=False)
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")).to_json(
        tmp_path / "tx.jsonl", orient="records", lines=True
    )
    cases: dict[str, dict[str, str]] = {
        "tx.csv": {},
        "tx.tsv": {"date_format": "%d/%m/%Y"},
        "tx.parquet": {},
        "tx.jsonl": {},
        "headerless.csv": {"date_format": "%m/%d/%Y"},
    }
    for name, options in cases.items():
        positions = name == "headerless.csv"  # columns column1 … column5, picked by position
        summary, holdout = summarise_file(
            tmp_path / name,
            customer="2" if positions else "customer",
            date="3" if positions else "date",
            amount="5" if positions else "amount",
            calibration_end=CALIBRATION_END,
            date_format=options.get("date_format"),
        )
        assert [str(int(i)) for i in summary.customer_ids] == [str(int(i)) for i in reference.customer_ids], (
            name
        )
        np.testing.assert_array_equal(summary.frequency, reference.frequency, err_msg=name)
        np.testing.assert_array_equal(summary.recency, reference.recency, err_msg=name)
        np.testing.assert_array_equal(summary.T, reference.T, err_msg=name)
        np.testing.assert_allclose(summary.monetary_value, reference.monetary_value, rtol=1e-12, err_msg=name)
        assert holdout is not None
        assert holdout.duration == 39.0


# --- errors that say where and how to fix ---------------------------------------------------------


@needs_cdnow
def test_a_missing_column_names_the_file_the_column_and_the_choices() -> None:
    with pytest.raises(TransactionDataError) as caught:
        fit_clv_file(CDNOW_TRANSACTIONS, customer="cust_id", date="3", calibration_end=CALIBRATION_END)
    message = str(caught.value)
    assert str(CDNOW_TRANSACTIONS) in message
    assert "cust_id" in message
    assert "column1" in message
    assert "column5" in message
    with pytest.raises(TransactionDataError, match="'9'"):
        summarise_file(CDNOW_TRANSACTIONS, customer="2", date="9", calibration_end=CALIBRATION_END)


def test_values_of_the_wrong_kind_are_reported_with_an_example(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,day,amount\n1,2024-01-01,10\n1,2024-31-01,12\n2,2024-01-03,9\n", encoding="utf-8")
    with pytest.raises(TransactionDataError) as caught:
        summarise_file(path, customer="id", date="day", amount="amount", calibration_end=dt.date(2024, 1, 2))
    message = str(caught.value)
    assert str(path) in message
    assert "'day'" in message
    assert "2024-31-01" in message
    path.write_text("id,day,amount\n1,2024-01-01,10\n1,2024-01-05,¥12\n", encoding="utf-8")
    with pytest.raises(TransactionDataError, match="¥12"):
        summarise_file(path, customer="id", date="day", amount="amount", calibration_end=dt.date(2024, 1, 2))
    with pytest.raises(TransactionDataError, match="2023-12-31"):
        summarise_file(path, customer="id", date="day", calibration_end=dt.date(2023, 12, 31))
    with pytest.raises(SourceError, match="not found"):
        summarise_file(tmp_path / "none.csv", customer="id", date="day", calibration_end=dt.date(2024, 1, 2))


def test_parse_period() -> None:
    assert parse_period("W") == 7.0
    assert parse_period("d") == 1.0
    assert parse_period("2W") == 14.0
    assert parse_period("14") == 14.0
    assert parse_period("M") == pytest.approx(30.4375)
    with pytest.raises(HuaxiangError, match="fortnight"):
        parse_period("fortnight")


def test_expected_purchases_stay_finite_when_the_dropout_beta_is_very_concentrated() -> None:
    """a, b in the millions overflow the hypergeometric term; the fixed-dropout limit takes over smoothly."""
    from huaxiang.models.clv_bgnbd import BgNbdParams, expected_purchases_if_alive

    x = np.array([0.0, 2.0, 10.0])
    T = np.full(3, 38.86)  # noqa: N806 - the literature's name
    moderate = expected_purchases_if_alive(BgNbdParams(0.243, 4.414, 793.0, 2426.0, 0.0, 1), 39.0, x, T)
    extreme = expected_purchases_if_alive(BgNbdParams(0.243, 4.414, 7.93e6, 2.426e7, 0.0, 1), 39.0, x, T)
    assert np.all(np.isfinite(extreme))
    np.testing.assert_allclose(extreme, moderate, rtol=0.01)


def test_a_fixed_dropout_probability_is_fitted_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every customer with the same dropout probability: a and b run to the bound together, p = a/(a+b) and
    r, alpha are still estimated, and the predictions stay finite. (The bound is lowered so this population
    reaches it for sure: where a flat likelihood stops the optimiser otherwise varies with the sample.)"""
    from huaxiang.models import clv_bgnbd
    from huaxiang.models.clv_simulate import simulate_bgnbd

    monkeypatch.setattr(clv_bgnbd, "_LOG_BOUND", 12.0)
    durations = np.full(20_000, 104.0)
    summary, _ = simulate_bgnbd(r=1.5, alpha=10.0, a=2e6, b=1.8e8, durations=durations, seed=3).summary(
        durations
    )
    params = clv_bgnbd.fit_bgnbd(summary)
    assert params.b == pytest.approx(np.exp(12.0), rel=1e-6)  # at the bound
    assert params.a / (params.a + params.b) == pytest.approx(0.011, rel=0.2)
    assert params.r == pytest.approx(1.5, rel=0.1) and params.alpha == pytest.approx(10.0, rel=0.1)
    forecast = clv_bgnbd.expected_purchases(params, 13.0, summary.frequency, summary.recency, summary.T)
    alive = clv_bgnbd.probability_alive(params, summary.frequency, summary.recency, summary.T)
    assert np.all(np.isfinite(forecast)) and np.all((alive >= 0) & (alive <= 1))

"""Churn risk: metrics by hand, no leakage across the cutoff, and accuracy against the demo's planted churners."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from huaxiang.cli import app
from huaxiang.config import ChurnSpec
from huaxiang.demo import demo_sources_yaml, generate_demo_data
from huaxiang.demo.evaluation import churn_auc_against_planted, planted_churners
from huaxiang.errors import HuaxiangError
from huaxiang.identity.resolve import resolve_identities
from huaxiang.ingest.pipeline import ingest_all
from huaxiang.models.churn import DRIVERS_FROM, ChurnResult, churn_figures, cutoffs, score_churn, train_churn
from huaxiang.models.churn_data import ChurnFrame, churn_frame, p_alive, stack
from huaxiang.models.churn_metrics import churn_metrics, top_decile_lift
from huaxiang.models.churn_model import fit_booster, predict
from huaxiang.models.registry import find_model
from huaxiang.tags.library import load_catalogue
from huaxiang.workspace import Workspace

CUSTOMERS = 1500
SEED = 7
#: The demo's reference "now" (2026-11-30 23:59 in Shanghai) rounded up to the minute, in UTC.
DEMO_NOW = datetime(2026, 11, 30, 16)


# ── metrics on cases small enough to check by hand ──


def test_metrics_by_hand() -> None:
    # pairs (churned, retained): 0.9>0.8, 0.9>0.1, 0.3<0.8, 0.3>0.1 → AUC 3/4
    # ranked: 0.9 churned (precision 1, recall 1/2), 0.8 no, 0.3 churned (precision 2/3, recall 1)
    # → average precision 1/2·1 + 1/2·2/3; Brier (0.1² + 0.8² + 0.7² + 0.1²)/4; top tenth = 1 row, churned
    m = churn_metrics([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1])
    assert m.roc_auc == pytest.approx(0.75)
    assert m.pr_auc == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert m.brier == pytest.approx((0.01 + 0.64 + 0.49 + 0.01) / 4)
    assert m.top_decile_lift == pytest.approx(1 / 0.5)
    assert (m.customers, m.churn_rate) == (4, 0.5)


def test_top_decile_lift_takes_a_tenth_rounded_up() -> None:
    labels = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]  # 12 customers, 3 churned: the top tenth is 2 rows
    scores = [0.99, 0.2, 0.98, 0.5, 0.4, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05]
    assert top_decile_lift(labels, scores) == pytest.approx((1 / 2) / (3 / 12))
    assert math.isnan(top_decile_lift([0, 0], [0.1, 0.2]))
    assert churn_metrics([1, 0], [0.7, 0.2], probability=False).brier is None


def test_cutoffs_leave_the_validation_period_unseen() -> None:
    training, validation = cutoffs(ChurnSpec(horizon_days=90, cutoffs=3, cutoff_step_days=30), DEMO_NOW)
    assert validation == DEMO_NOW - timedelta(days=90)
    assert training == tuple(validation - timedelta(days=d) for d in (150, 120, 90))
    assert all(c + timedelta(days=90) <= validation for c in training)


# ── the same activity trains the same model, whatever order (person ids) its customers come in ──


def _frame(rng: np.random.Generator, customers: int) -> ChurnFrame:
    repeat = rng.poisson(3, customers).astype(np.float64)
    age = rng.uniform(30, 400, customers)
    span = np.where(repeat > 0, age * rng.uniform(0.1, 1.0, customers), 0.0)
    recency = age - span
    features = np.column_stack([recency, repeat, age, p_alive(repeat, span, age), rng.normal(size=customers)])
    features[rng.random(customers) < 0.1, 4] = np.nan
    churned = (rng.random(customers) < 1 / (1 + np.exp(-(recency - 120) / 40))).astype(np.int8)
    ids = np.asarray([f"P{i:04d}" for i in range(customers)], dtype=np.str_)
    return ChurnFrame(DEMO_NOW, ids, features, churned, recency, features[:, 3])


def _shuffled(frame: ChurnFrame, rng: np.random.Generator) -> ChurnFrame:
    order = rng.permutation(frame.size)
    assert frame.churned is not None
    return ChurnFrame(
        frame.cutoff,
        frame.person_ids[order],
        frame.features[order],
        frame.churned[order],
        frame.recency_days[order],
        frame.p_alive[order],
    )


def test_p_alive_does_not_depend_on_the_order_of_customers() -> None:
    """Person ids differ between workspaces holding the same events, and frames are listed by person id."""
    rng = np.random.default_rng(3)
    repeat = rng.poisson(2, 3000).astype(np.float64)
    age = rng.uniform(10, 500, 3000)
    span = np.where(repeat > 0, age * rng.uniform(0, 1, 3000), 0.0)
    order = rng.permutation(3000)
    alive = p_alive(repeat, span, age)
    assert np.array_equal(p_alive(repeat[order], span[order], age[order]), alive[order])  # to the last bit
    assert 0.0 < alive.min() < alive.max() <= 1.0


def test_the_same_customers_in_another_order_train_the_same_model() -> None:
    rng = np.random.default_rng(5)
    frames = [_frame(rng, 800), _frame(rng, 900)]
    names = ["recency", "repeat", "age", "p_alive", "noise"]
    x, y = stack(frames)
    x2, y2 = stack([_shuffled(f, rng) for f in frames])
    assert np.array_equal(x, x2, equal_nan=True) and np.array_equal(y, y2)
    probe = _frame(rng, 300).features
    first, second = (predict(fit_booster(a, b, names), probe) for a, b in ((x, y), (x2, y2)))
    assert np.array_equal(first, second)


# ── the demo world: planted churners stop buying at least 120 days before its "now" ──


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("churn-demo") / "ws"
    workspace = Workspace.init(root, name="demo", sources_yaml=demo_sources_yaml())
    try:
        generate_demo_data(root / "data", customers=CUSTOMERS, seed=SEED)
        ingest_all(workspace)
        resolve_identities(workspace)
    finally:
        workspace.close()
    return root


def _copy(template: Path, target: Path) -> Workspace:
    shutil.copytree(template, target)
    return Workspace.open(target)


@pytest.fixture(scope="module")
def trained(
    template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Workspace, ChurnResult]]:
    workspace = _copy(template, tmp_path_factory.mktemp("churn-trained") / "ws")
    yield workspace, train_churn(workspace, as_of=DEMO_NOW, language="en")
    workspace.close()


def test_beats_both_baselines_against_the_planted_churners(trained: tuple[Workspace, ChurnResult]) -> None:
    """Scored at the validation cutoff (90 days before the demo's now), every planted churner has already
    made their last purchase, so their future is known: they never buy again. Everyone else keeps buying at
    their own rate, so an infrequent customer's quiet spell is not churn, and the score must tell them apart."""
    workspace, result = trained
    validation = result.validation
    planted = planted_churners(workspace, workspace.root / "data" / "truth")
    truth = np.array([planted[p] for p in validation.person_ids])
    assert truth.sum() >= 100  # enough planted churners among the validated customers to measure
    auc = churn_auc_against_planted(workspace, result, workspace.root / "data" / "truth")
    assert auc["model"] >= 0.80, auc
    assert auc["model"] > auc["recency"] and auc["model"] > auc["p_alive"], auc
    # on the configured label too (no purchase within 90 days after the cutoff)
    assert result.metrics["model"].roc_auc > max(result.metrics[b].roc_auc for b in ("recency", "p_alive"))
    assert all(validation.churned[truth] == 1)  # a planted churner is churned by the configured label


def test_registered_model_scores_like_the_validated_one(trained: tuple[Workspace, ChurnResult]) -> None:
    workspace, result = trained
    version = find_model(workspace.warehouse, "churn")
    assert version.version == result.version.version
    assert version.metrics["model"]["roc_auc"] == pytest.approx(result.metrics["model"].roc_auc)
    assert version.parameters["validation_cutoff"] == result.validation.cutoff.isoformat()
    assert version.data_to == DEMO_NOW and version.artifact and version.artifact.startswith("tree")
    table = score_churn(workspace, version.version, result.validation.cutoff, language="en")
    assert table.column_names == ["person_id", "churn_risk", "churn_drivers", "model_version"]
    assert table.column("person_id").to_pylist() == result.validation.person_ids.tolist()
    risk = np.asarray(table.column("churn_risk").to_pylist())
    np.testing.assert_allclose(risk, result.validation.scores["model"], rtol=1e-9)
    assert ((risk >= 0) & (risk <= 1)).all()
    drivers = table.column("churn_drivers").to_pylist()
    explained = risk >= DRIVERS_FROM  # only customers at medium or high risk get their reasons worked out
    assert 0 < explained.sum() < len(risk)

    def names(rows: list[list[str]]) -> list[list[str]]:  # values are sums DuckDB may add in another order
        return [
            [text.rsplit(": ", 1)[0] for text in row] for row, e in zip(rows, explained, strict=True) if e
        ]

    assert names(drivers) == names(result.drivers)
    assert not any(d for d, e in zip(drivers, explained, strict=True) if not e)
    labels = {t.label.en for t in load_catalogue(workspace.config).traits} | {
        "Days since last qualifying event",
        "Days with a qualifying event",
        "Days since first qualifying event",
        "Days quiet over usual gap",
        "Probability alive (BG/NBD)",
    }
    assert all(1 <= len(d) <= 3 for d, e in zip(drivers, explained, strict=True) if e)
    assert all(text.rsplit(": ", 1)[0] in labels for d in drivers for text in d)
    assert set(table.column("model_version").to_pylist()) == {version.version}


def test_figures_and_commands(trained: tuple[Workspace, ChurnResult]) -> None:
    workspace, result = trained
    roc, gains = churn_figures(result.version, "en")
    assert [len(f.data) for f in (roc, gains)] == [4, 4]  # model, two baselines, chance
    assert gains.data[0].y[-1] == pytest.approx(1.0)
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "--workspace", str(workspace.root), "--json"])
    assert listed.exit_code == 0, listed.output
    assert [v["version"] for v in json.loads(listed.output)] == [result.version.version]
    shown = runner.invoke(app, ["models", "show", "churn", "--workspace", str(workspace.root), "--json"])
    assert json.loads(shown.output)["metrics"]["model"]["roc_auc"] == pytest.approx(
        result.metrics["model"].roc_auc
    )
    missing = runner.invoke(app, ["models", "show", "nope", "--workspace", str(workspace.root)])
    assert missing.exit_code == 1


# ── no leakage: what happens after a cutoff changes its labels, never its features ──


def test_future_events_change_labels_not_features(template: Path, tmp_path: Path) -> None:
    workspace = _copy(template, tmp_path / "ws")
    try:
        cutoff = DEMO_NOW - timedelta(days=200)
        before = churn_frame(workspace, cutoff, known_until=DEMO_NOW)
        assert before.churned is not None
        churned = [p for p, c in zip(before.person_ids, before.churned, strict=True) if c == 1][:25]
        assert churned
        # Every event type, copied to the cutoff itself and to 10 days after it, for every person; and a
        # purchase after the cutoff for the churned customers picked above.
        con = workspace.warehouse.con
        for suffix, shift in (("at", "0 seconds"), ("after", "10 days")):
            con.execute(
                f"""
                CREATE TEMP TABLE copied AS
                SELECT e.* REPLACE (e.event_id || '-{suffix}' AS event_id, $cutoff + INTERVAL {shift} AS ts),
                       p.person_id
                FROM events e JOIN event_persons p USING (event_id)
                WHERE e.ts < $cutoff AND (e.type <> 'purchase' OR list_contains($churned, p.person_id))
                QUALIFY row_number() OVER (PARTITION BY p.person_id, e.type ORDER BY e.ts DESC) = 1
                """,
                {"cutoff": cutoff, "churned": churned},
            )
            con.execute("INSERT INTO events SELECT * EXCLUDE (person_id) FROM copied")
            con.execute("INSERT INTO event_persons SELECT event_id, person_id, 'test' FROM copied")
            con.execute("DROP TABLE copied")
        after = churn_frame(workspace, cutoff, known_until=DEMO_NOW)
        assert after.person_ids.tolist() == before.person_ids.tolist()
        # equal up to the order DuckDB sums in (a leaked event would move a value by whole units)
        np.testing.assert_allclose(after.features, before.features, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(after.p_alive, before.p_alive, rtol=1e-9, equal_nan=True)
        assert after.churned is not None
        flipped = {
            p for p, b, a in zip(before.person_ids, before.churned, after.churned, strict=True) if b != a
        }
        assert flipped == set(churned)  # the label reads the future purchases
    finally:
        workspace.close()


def test_too_short_a_history_names_the_settings(trained: tuple[Workspace, ChurnResult]) -> None:
    workspace, _ = trained
    first = workspace.warehouse.scalar("SELECT min(ts) FROM events WHERE type = 'purchase'")
    with pytest.raises(HuaxiangError) as caught:
        train_churn(workspace, as_of=first + timedelta(days=200))
    assert caught.value.location == "huaxiang.yaml churn"
    assert "churn.cutoffs" in (caught.value.hint or "")

"""Models inside a profile build, and the model report, on a small resolved demo retailer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.models.segmentation_world import demo_workspace

from huaxiang import api
from huaxiang.demo.evaluation import reference_time
from huaxiang.models.registry import list_models
from huaxiang.tags import history
from huaxiang.tags.model_outputs import model_versions_of
from huaxiang.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, api.BuildReport]]:
    workspace = demo_workspace(tmp_path_factory, "profile-scores")
    api.fit_clusters(workspace, as_of=reference_time())
    report = api.build(workspace, as_of=reference_time())
    yield workspace, report
    workspace.close()


def test_every_model_that_can_score_fills_its_outputs_and_tags(
    built: tuple[Workspace, api.BuildReport],
) -> None:
    workspace, report = built
    buyers, alive, clustered, labelled, sentiment, tones, untouched_churn = workspace.warehouse.rows(
        f"SELECT count(*) FILTER (WHERE orders_total > 0), count(p_alive), count(cluster), "
        f"count(behaviour_cluster), count(text_sentiment), count(feedback_tone), count(churn_probability) "
        f"FROM {history.CURRENT}"
    )[0]
    assert buyers > 0 and alive == buyers and clustered == buyers and labelled == buyers
    assert 0 < sentiment == tones < buyers  # only people who wrote to us
    assert untouched_churn == 0  # no churn model trained here: its outputs stay empty
    bad = workspace.warehouse.scalar(
        f"SELECT count(*) FROM {history.CURRENT} WHERE p_alive NOT BETWEEN 0 AND 1 OR predicted_clv_365d < 0 "
        "OR isnan(expected_purchases_90d)"
    )
    assert bad == 0
    versions = model_versions_of(workspace.warehouse, report.build.build_id)
    assert set(versions) == {"clv", "sentiment", "clusters"}
    assert versions["clusters"] == list_models(workspace.warehouse, "clusters")[0].version
    clv = list_models(workspace.warehouse, "clv")[0]
    assert clv.metrics["holdout_days"] == 90 and clv.data_to == reference_time()


def test_people_who_complain_read_as_negative(built: tuple[Workspace, api.BuildReport]) -> None:
    workspace, _ = built
    complainers, others = workspace.warehouse.rows(
        f"SELECT avg(text_sentiment) FILTER (WHERE complaints_total > 0), "
        f"avg(text_sentiment) FILTER (WHERE complaints_total = 0) FROM {history.CURRENT}"
    )[0]
    assert complainers < others


def test_the_model_report_is_one_offline_page(
    built: tuple[Workspace, api.BuildReport], tmp_path: Path
) -> None:
    workspace, _ = built
    page = api.model_report(workspace, out=tmp_path / "models.html", as_of=reference_time())
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js is embedded, nothing is fetched
    for section in ('id="clv"', 'id="churn"', 'id="clusters"', 'id="cohorts"', 'id="registry"'):
        assert section in html
    assert html.count('class="plotly-graph-div"') >= 5  # CLV holdout, 2 cluster charts, 2 cohort heatmaps

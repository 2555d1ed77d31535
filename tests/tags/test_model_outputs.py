"""Model outputs in a build: supplied scores fill their columns and the tags reading them; absent ones are NULL."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from huaxiang.tags import history
from huaxiang.tags.build import build_profiles
from huaxiang.tags.library import load_catalogue
from huaxiang.tags.model_outputs import ModelScores, model_versions_of
from tests.tags.conftest import END_OF_MARCH, OpenShop

NOW = datetime(2024, 6, 1)


def test_the_standard_catalogue_declares_model_outputs_that_tags_read(open_shop: OpenShop) -> None:
    catalogue = load_catalogue(open_shop("").config)
    outputs = {o.name: o for o in catalogue.model_outputs}
    assert {"p_alive", "churn_probability", "cluster_label", "text_sentiment"} <= set(outputs)
    assert outputs["churn_drivers"].type == "list"
    assert catalogue.tag("churn_score").reads == frozenset({"churn_probability"})
    assert catalogue.columns.index("churn_probability") < catalogue.columns.index("churn_score")


def test_scores_fill_outputs_and_tags_and_the_build_names_the_model_version(open_shop: OpenShop) -> None:
    workspace = open_shop("")
    build_profiles(workspace, as_of=END_OF_MARCH, now=NOW)
    persons = sorted(r[0] for r in workspace.warehouse.rows(f"SELECT person_id FROM {history.CURRENT}"))
    scored, unscored = persons[0], persons[1:]
    scores = ModelScores(
        "churn",
        "churn-test-1",
        pa.table(
            {"person_id": [scored], "churn_probability": [0.75], "churn_drivers": [["recency", "orders"]]}
        ),
    )
    report = build_profiles(workspace, as_of=END_OF_MARCH, now=NOW, model_scores=[scores])
    query = f"SELECT person_id, churn_probability, churn_score_level, churn_reasons, p_alive FROM {history.CURRENT}"
    rows = {r[0]: r[1:] for r in workspace.warehouse.rows(query)}
    assert rows[scored] == (0.75, "high", ["recency", "orders"], None)
    assert all(rows[p][:3] == (None, None, None) for p in unscored)
    assert report.build.changed == 1  # only the scored person's values changed
    assert model_versions_of(workspace.warehouse, report.build.build_id) == {"churn": "churn-test-1"}

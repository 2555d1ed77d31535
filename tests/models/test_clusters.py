"""Customer clusters: they recover the demo's planted segments, keep their ids across refits, are registered
as JSON, are assigned point in time, and are described in both languages."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score
from tests.models.segmentation_world import demo_workspace, true_segments
from typer.testing import CliRunner

from huaxiang.cli import app
from huaxiang.models.cluster_features import FEATURES, FeatureMatrix, read_features
from huaxiang.models.cluster_fit import DESCRIBED_FEATURES, MAX_SHIFT, fit_model
from huaxiang.models.cluster_labels import Trait, choose_name, describe
from huaxiang.models.cluster_model import ClusterModel
from huaxiang.models.clusters import assign_clusters, cluster_figures, fit_clusters, load_cluster_model
from huaxiang.models.registry import find_model, list_models
from huaxiang.workspace import Workspace

AS_OF = datetime(2026, 12, 1)  # the demo's history ends on 30 November 2026 (Shanghai)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    opened = demo_workspace(tmp_path_factory, "clusters")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def matrix(workspace: Workspace) -> FeatureMatrix:
    return read_features(workspace, as_of=AS_OF, names=DESCRIBED_FEATURES)


def _bought_before(workspace: Workspace, moment: datetime) -> set[str]:
    """Persons with a paid order line before ``moment``, read straight from the event log."""
    rows = workspace.warehouse.rows(
        "SELECT DISTINCT p.person_id FROM events e JOIN event_persons p USING (event_id) "
        "WHERE e.type = 'purchase' AND e.ts < $moment "
        "AND coalesce(json_extract_string(e.properties, '$.status'), 'paid') NOT IN ('refunded', 'cancelled') "
        "AND json_extract_string(e.properties, '$.order_id') IS NOT NULL",
        {"moment": moment},
    )
    return {r[0] for r in rows}


@pytest.mark.slow
def test_features_cover_every_buyer_in_natural_units(workspace: Workspace, matrix: FeatureMatrix) -> None:
    assert set(matrix.person_ids) == _bought_before(workspace, AS_OF)
    orders = matrix.values[:, matrix.names.index("orders")]
    recency = matrix.values[:, matrix.names.index("recency_days")]
    tenure = matrix.values[:, matrix.names.index("tenure_days")]
    assert (orders >= 1).all() and (recency >= 0).all() and (tenure >= recency - 1e-6).all()
    share = matrix.values[:, matrix.names.index("browse_share")]
    assert ((share >= 0) & (share <= 1)).all()


@pytest.mark.slow
def test_clusters_recover_the_planted_segments(workspace: Workspace, matrix: FeatureMatrix) -> None:
    fit = fit_model(matrix)
    truth = true_segments(workspace)
    segments = [truth.get(p, "?") for p in fit.person_ids]
    found = adjusted_mutual_info_score(segments, fit.labels)
    shuffled = adjusted_mutual_info_score(np.random.default_rng(1).permutation(segments), fit.labels)
    assert found > 0.25 and found > 10 * abs(shuffled)
    assert fit.model.criterion == "silhouette" and fit.model.k == max(
        fit.model.scores, key=lambda k: fit.model.scores[k]
    )

    def members(trait: Trait) -> Counter[str]:
        """Planted segments of the customers in the clusters whose name cites ``trait``."""
        ids = {c.id for c in fit.model.clusters if trait in c.cited}
        assert ids, f"no cluster is named for {trait}"
        return Counter(s for s, label in zip(segments, fit.labels, strict=True) if label in ids)

    new = members(Trait("tenure_days", -1))  # the clusters named "new"
    assert new["new_customer"] / sum(new.values()) > 0.6
    assert new["new_customer"] / segments.count("new_customer") > 0.6
    frequent = members(Trait("orders", 1))  # loyal and price-sensitive customers buy most often
    assert (frequent["loyal_high_value"] + frequent["price_sensitive"]) / sum(frequent.values()) > 0.8


def _relabelled(model: ClusterModel, ids: list[int]) -> ClusterModel:
    clusters = tuple(dataclasses.replace(c, id=i) for c, i in zip(model.clusters, ids, strict=True))
    return dataclasses.replace(model, clusters=clusters, next_id=max(ids) + 1, version="clusters-test")


def _perturbed(matrix: FeatureMatrix, seed: int) -> FeatureMatrix:
    """The same customers shuffled, with 2% noise on every value, plus 5% more customers (resampled)."""
    rng = np.random.default_rng(seed)
    rows = np.concatenate([rng.permutation(len(matrix.person_ids)), rng.choice(len(matrix.person_ids), 30)])
    grown = matrix.take(rows)
    ids = tuple(f"{p}-{n}" for n, p in enumerate(grown.person_ids))
    noisy = grown.values * rng.normal(1.0, 0.02, grown.values.shape)
    return dataclasses.replace(grown, person_ids=ids, values=noisy)


def test_the_same_customers_in_another_order_give_the_same_clusters(matrix: FeatureMatrix) -> None:
    """Person ids, and so the order customers are read in, differ between workspaces over the same events."""
    first = fit_model(matrix)
    order = np.random.default_rng(4).permutation(len(matrix.person_ids))
    shuffled = fit_model(matrix.take(order))
    assert shuffled.model.k == first.model.k
    assert [c.centroid for c in shuffled.model.clusters] == [c.centroid for c in first.model.clusters]
    assert np.array_equal(shuffled.labels, first.labels[order])
    assert shuffled.person_ids == tuple(matrix.person_ids[i] for i in order)


@pytest.mark.slow
def test_refit_keeps_ids_and_names_of_the_previous_model(matrix: FeatureMatrix) -> None:
    first = fit_model(matrix)
    # ids no ordering rule would produce: only matching to the previous centroids can bring them back
    odd_ids = [17, 4, 9, 23, 11, 2, 30, 6][: first.model.k]
    previous = _relabelled(first.model, odd_ids)
    for seed in (1, 2, 3):
        changed = _perturbed(matrix, seed)
        refit = fit_model(changed, previous=previous, random_state=seed)
        assert refit.model.k == previous.k and refit.model.previous == "clusters-test"
        assert {c.id for c in refit.model.clusters} == set(odd_ids)
        for cluster in refit.model.clusters:
            assert cluster.name == previous.cluster(cluster.id).name
        assert refit.model.agreement is not None and refit.model.agreement > 0.9
        # person by person: the refit puts each customer where the previous model puts them
        assert np.mean(previous.assign(changed) == refit.labels) > 0.9
        # without the previous model, ids are only ordered by size
        fresh = fit_model(changed, random_state=seed)
        assert {c.id for c in fresh.model.clusters} == set(range(1, fresh.model.k + 1))


@pytest.mark.slow
def test_a_cluster_that_moved_far_gets_a_new_id(matrix: FeatureMatrix) -> None:
    first = fit_model(matrix, k=4)
    far = first.model.clusters[-1]
    moved = dataclasses.replace(far, centroid=tuple(v + 2 * MAX_SHIFT for v in far.centroid))
    previous = dataclasses.replace(
        first.model, clusters=(*first.model.clusters[:-1], moved), version="clusters-test"
    )
    refit = fit_model(matrix, k=4, previous=previous)
    ids = {c.id for c in refit.model.clusters}
    assert far.id not in ids and previous.next_id in ids
    assert refit.model.next_id == previous.next_id + 1
    assert ids - {previous.next_id} == {c.id for c in first.model.clusters} - {far.id}


@pytest.mark.slow
def test_fit_registers_json_and_assigns_point_in_time(workspace: Workspace) -> None:
    run = fit_clusters(workspace, as_of=AS_OF, fresh=True)
    record = find_model(workspace.warehouse, "clusters")
    assert record.version == run.record.version == run.model.version
    artifact = json.loads(record.artifact or "")
    assert artifact["features"] == list(run.model.features)
    assert len(artifact["scaler"]["mean"]) == len(artifact["scaler"]["scale"]) == len(run.model.features)
    assert [c["id"] for c in artifact["clusters"]] == [c.id for c in run.model.clusters]
    assert record.parameters["k"] == run.model.k and record.metrics["persons"] == run.model.persons
    assert load_cluster_model(workspace, record.version) == run.model

    table = assign_clusters(workspace, record.version, AS_OF)
    assert table.column_names == ["person_id", "cluster", "cluster_label_zh", "cluster_label_en"]
    assert table.schema.metadata[b"huaxiang.model_version"] == record.version.encode()
    assert set(table.column("person_id").to_pylist()) == _bought_before(workspace, AS_OF)
    names = {c.id: (c.name.zh, c.name.en) for c in run.model.clusters}
    for cluster, zh, en in zip(*(table.column(n).to_pylist() for n in table.column_names[1:]), strict=True):
        assert names[cluster] == (zh, en)
    sizes = Counter(table.column("cluster").to_pylist())
    assert sizes == {c.id: c.size for c in run.model.clusters}  # same data, same moment: same clusters

    earlier = datetime(2025, 6, 1)
    past = assign_clusters(workspace, "clusters", earlier)
    assert set(past.column("person_id").to_pylist()) == _bought_before(workspace, earlier)
    assert past.num_rows < table.num_rows

    second = fit_clusters(workspace, as_of=AS_OF)
    assert second.model.previous == record.version
    assert [c.id for c in second.model.clusters] == [c.id for c in run.model.clusters]
    assert second.model.agreement == 1.0
    assert [m.version for m in list_models(workspace.warehouse, "clusters")][:2] == [
        second.record.version,
        record.version,
    ]


def test_names_and_descriptions_say_how_a_cluster_differs() -> None:
    z = {"orders": 1.2, "spend": 0.9, "recency_days": -0.7, "tenure_days": 0.1, "complaints": 0.0}
    cited, name = choose_name(z, set())
    assert cited == (Trait("orders", 1), Trait("spend", 1))
    assert name.zh == "高频·高消费客户" and name.en == "Frequent, high-spending customers"
    text = describe(z, 0.25)
    assert text.zh.startswith("占客户的25%；高频、高消费、近期活跃") and "订单数偏高（+1.2σ）" in text.zh
    assert "25% of customers; frequent, high-spending, recently active" in text.en
    assert "tenure" not in text.en and "首购" not in text.zh  # 0.1 sd is not a difference worth a word
    # a taken name cites a third trait; a kept name survives a small drift, not a reversal
    assert choose_name(z, {name.en})[1].en == "Frequent, high-spending, recently active customers"
    drifted = {**z, "spend": 0.4}
    assert choose_name(drifted, set(), previous=cited)[1] == name
    reversed_ = {**z, "spend": -0.6}
    assert choose_name(reversed_, set(), previous=cited)[1] != name
    plain, typical = choose_name({"orders": 0.1}, set())
    assert plain == () and typical.en == "Typical customers"
    assert {f.name for f in FEATURES} == set(DESCRIBED_FEATURES)


@pytest.mark.slow
def test_figures_show_sizes_and_the_z_scores(matrix: FeatureMatrix) -> None:
    model = fit_model(matrix, k=4).model
    sizes, heatmap = cluster_figures(model, language="en")
    assert list(sizes.data[0].x) == [c.size for c in model.clusters]
    assert [list(row) for row in heatmap.data[0].z] == [list(c.z.values()) for c in model.clusters]
    assert heatmap.data[0].zmid == 0


@pytest.mark.slow
def test_cli_fits_and_shows(workspace: Workspace) -> None:
    runner = CliRunner()
    fitted = runner.invoke(
        app, ["clusters", "fit", "-w", str(workspace.root), "--k", "3", "--as-of", "2026-11-30", "--json"]
    )
    assert fitted.exit_code == 0, fitted.output
    data = json.loads(fitted.stdout)
    assert len(data["clusters"]) == 3 and data["criterion"] == "fixed"
    shown = runner.invoke(app, ["clusters", "show", data["version"], "-w", str(workspace.root)])
    assert shown.exit_code == 0, shown.output
    assert data["clusters"][0]["name"]["en"].split(",")[0] in shown.stdout
    missing = runner.invoke(app, ["clusters", "show", "clusters-nope", "-w", str(workspace.root)])
    assert missing.exit_code == 1 and "clusters-nope" in missing.output

"""Cluster metrics against brute-force pair counting on small clusterings."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from huaxiang.errors import HuaxiangError
from huaxiang.identity import evaluate_clusters


def _pairs(clusters: dict[str, int]) -> set[frozenset[str]]:
    return {frozenset(p) for p in itertools.combinations(clusters, 2) if clusters[p[0]] == clusters[p[1]]}


clusterings = st.integers(min_value=1, max_value=25).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
    )
)


@given(clusterings)
@settings(max_examples=200, deadline=None)
def test_pairwise_and_bcubed_agree_with_brute_force(labels: tuple[list[int], list[int]]) -> None:
    predicted_labels, true_labels = labels
    records = [f"r{i}" for i in range(len(true_labels))]
    predicted = dict(zip(records, predicted_labels, strict=True))
    truth = dict(zip(records, true_labels, strict=True))

    metrics = evaluate_clusters(predicted, truth)

    predicted_pairs, true_pairs = _pairs(predicted), _pairs(truth)
    correct = predicted_pairs & true_pairs
    assert metrics.predicted_pairs == len(predicted_pairs)
    assert metrics.true_pairs == len(true_pairs)
    assert metrics.correct_pairs == len(correct)
    assert metrics.precision == pytest.approx(len(correct) / len(predicted_pairs) if predicted_pairs else 1.0)
    assert metrics.recall == pytest.approx(len(correct) / len(true_pairs) if true_pairs else 1.0)

    def members(mapping: dict[str, int], record: str) -> set[str]:
        return {r for r in records if mapping[r] == mapping[record]}

    b3_precision = sum(
        len(members(predicted, r) & members(truth, r)) / len(members(predicted, r)) for r in records
    ) / len(records)
    b3_recall = sum(
        len(members(predicted, r) & members(truth, r)) / len(members(truth, r)) for r in records
    ) / len(records)
    assert metrics.bcubed_precision == pytest.approx(b3_precision)
    assert metrics.bcubed_recall == pytest.approx(b3_recall)
    assert metrics.adjusted_rand_index == pytest.approx(adjusted_rand_score(true_labels, predicted_labels))

    true_groups = {frozenset(members(truth, r)) for r in records}
    predicted_groups = {frozenset(members(predicted, r)) for r in records}
    assert metrics.exact_cluster_rate == pytest.approx(len(true_groups & predicted_groups) / len(true_groups))


def test_perfect_clustering_scores_one_everywhere() -> None:
    truth = {"a": "x", "b": "x", "c": "y", "d": "z", "e": "z"}
    predicted = {"a": 7, "b": 7, "c": 8, "d": 9, "e": 9}
    metrics = evaluate_clusters(predicted, truth)
    assert (metrics.precision, metrics.recall, metrics.f1) == (1.0, 1.0, 1.0)
    assert (metrics.exact_cluster_rate, metrics.exact_multi_record_rate, metrics.adjusted_rand_index) == (
        1.0,
        1.0,
        1.0,
    )


def test_one_wrong_merge_costs_precision_not_recall() -> None:
    truth = {"a": 1, "b": 1, "c": 2, "d": 3}
    predicted = {"a": 1, "b": 1, "c": 1, "d": 3}  # c wrongly joined to a and b
    metrics = evaluate_clusters(predicted, truth)
    assert metrics.recall == 1.0
    assert metrics.precision == pytest.approx(1 / 3)
    assert metrics.exact_multi_record_rate == 0.0
    assert metrics.exact_cluster_rate == pytest.approx(1 / 3)  # only {d} survives intact


def test_records_missing_from_the_prediction_count_as_singletons() -> None:
    truth = {"a": 1, "b": 1, "c": 2}
    metrics = evaluate_clusters({"a": 5, "zz": 5}, truth)  # b unclustered; zz unknown to the truth
    assert metrics.records == 3
    assert metrics.predicted_pairs == 0
    assert metrics.recall == 0.0
    assert metrics.precision == 1.0


def test_empty_truth_is_an_error() -> None:
    with pytest.raises(HuaxiangError, match="no records"):
        evaluate_clusters({"a": 1}, {})

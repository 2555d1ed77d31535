"""Connected components under per-person limits and cannot-links (the pure core, no database)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from huaxiang.identity.components import LinkGraph, find_components


def graph(
    nodes: int,
    edges: list[tuple[int, int]],
    *,
    limited: dict[int, int] | None = None,
    limit: int = 1,
    forced: set[int] | None = None,
    cannot: list[tuple[int, int]] | None = None,
) -> LinkGraph:
    """Edges in the given order of strength; ``limited`` maps a node to the limited type (column) it holds."""
    columns = 1 + max((limited or {}).values(), default=0)
    counts = np.zeros((nodes, columns), dtype=np.int64)
    for node, column in (limited or {}).items():
        counts[node, column] = 1
    return LinkGraph(
        nodes=nodes,
        source=np.array([a for a, _ in edges], dtype=np.int64),
        target=np.array([b for _, b in edges], dtype=np.int64),
        rank=np.arange(len(edges), dtype=np.int64),
        forced=np.array([i in (forced or set()) for i in range(len(edges))], dtype=bool),
        counts=counts,
        limits=np.full(columns, limit, dtype=np.int64),
        cannot=np.array(cannot or [], dtype=np.int64).reshape(-1, 2),
    )


def same(labels: np.ndarray, *nodes: int) -> bool:
    return len({int(labels[n]) for n in nodes}) == 1


def test_plain_components_need_no_repair() -> None:
    found = find_components(graph(5, [(0, 1), (1, 2), (3, 4)]))
    assert found.count == 2 and found.cuts == () and found.repaired == 0
    assert same(found.labels, 0, 1, 2) and same(found.labels, 3, 4) and not same(found.labels, 0, 3)


def test_a_second_id_card_cuts_the_weakest_link() -> None:
    # id cards 0 and 3; crm 1 and 4; a phone 2 seen with both crm numbers. Strong links first.
    edges = [(0, 1), (3, 4), (1, 2), (4, 2)]
    found = find_components(graph(5, edges, limited={0: 0, 3: 0}))
    assert [c.edge for c in found.cuts] == [3]
    assert found.cuts[0].reason == "limit" and found.cuts[0].limit_types == (0,)
    assert same(found.labels, 0, 1, 2) and same(found.labels, 3, 4) and not same(found.labels, 0, 3)
    assert found.repaired == 1


def test_the_repair_touches_only_broken_components() -> None:
    edges = [(0, 1), (1, 2), (3, 4), (5, 6)]
    found = find_components(graph(7, edges, limited={0: 0, 2: 0}))
    assert found.repaired == 1 and len(found.cuts) == 1
    assert same(found.labels, 3, 4) and same(found.labels, 5, 6)
    assert not same(found.labels, 0, 2)


def test_cannot_link_splits_a_chain_at_its_weakest_edge() -> None:
    edges = [(0, 1), (1, 2), (2, 3)]
    found = find_components(graph(4, edges, cannot=[(0, 3)]))
    assert [(c.edge, c.reason) for c in found.cuts] == [(2, "cannot_link")]
    assert same(found.labels, 0, 1, 2) and not same(found.labels, 2, 3)


def test_must_link_overrides_a_limit_but_not_a_cannot_link() -> None:
    forced_limit = find_components(graph(2, [(0, 1)], limited={0: 0, 1: 0}, forced={0}))
    assert forced_limit.count == 1 and forced_limit.cuts == ()
    forced_cannot = find_components(graph(2, [(0, 1)], forced={0}, cannot=[(0, 1)]))
    assert forced_cannot.count == 2 and forced_cannot.cuts[0].reason == "cannot_link"


def test_limits_above_one_allow_that_many_values() -> None:
    edges = [(0, 1), (1, 2), (2, 3)]
    found = find_components(graph(4, edges, limited={0: 0, 2: 0, 3: 0}, limit=2))
    assert same(found.labels, 0, 1, 2) and not same(found.labels, 0, 3)


def test_empty_graph() -> None:
    assert find_components(graph(0, [])).count == 0


@st.composite
def random_graphs(draw: st.DrawFn) -> tuple[LinkGraph, list[tuple[int, int]]]:
    nodes = draw(st.integers(1, 30))
    node = st.integers(0, nodes - 1)
    edges = draw(st.lists(st.tuples(node, node), max_size=60))
    limited = draw(st.dictionaries(node, st.integers(0, 1), max_size=nodes))
    cannot = draw(st.lists(st.tuples(node, node).filter(lambda p: p[0] != p[1]), max_size=3))
    return graph(nodes, edges, limited=limited, limit=draw(st.integers(1, 2)), cannot=cannot), cannot


@settings(max_examples=200, deadline=None)
@given(case=random_graphs())
def test_no_component_breaks_a_rule_and_none_joins_what_the_links_do_not(
    case: tuple[LinkGraph, list[tuple[int, int]]],
) -> None:
    g, cannot = case
    found = find_components(g)
    for label in range(found.count):
        members = found.labels == label
        assert (g.counts[members].sum(axis=0) <= g.limits).all() or members.sum() == 1
    for a, b in cannot:
        assert found.labels[a] != found.labels[b]
    _, unconstrained = connected_components(
        coo_matrix((np.ones(len(g.source)), (g.source, g.target)), shape=(g.nodes, g.nodes)), directed=False
    )
    for a in range(g.nodes):
        for b in range(g.nodes):
            if found.labels[a] == found.labels[b]:
                assert unconstrained[a] == unconstrained[b]
    kept = [e for e in range(len(g.source)) if e not in {c.edge for c in found.cuts}]
    for e in kept:
        assert found.labels[g.source[e]] == found.labels[g.target[e]]

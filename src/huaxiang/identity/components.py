"""Connected components of the identity graph under per-person limits and cannot-links.

Why two passes: ``scipy.sparse.csgraph.connected_components`` labels millions of nodes at C speed, and almost
every component it finds breaks no rule. Only the components that do (two ID-card numbers, a cannot-link
inside) are rebuilt, in Python, Kruskal-style: their edges are re-added strongest first and an edge whose
union would break a rule is cut. Those components are few and small, so the Python loop stays off the bulk of
the data. No library offers union-find under per-type capacity limits, hence the hand-written repair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IntArray = npt.NDArray[np.int64]
CutReason = Literal["limit", "cannot_link"]


@dataclass(frozen=True, slots=True)
class LinkGraph:
    """Nodes ``0..nodes-1`` and undirected edges.

    ``rank`` orders the edges from strongest (0) to weakest; ``forced`` edges (a steward's must-link) come
    before all others and ignore per-person limits, but never a cannot-link. ``counts[node, t]`` is how many
    values of limited type ``t`` the node holds (1 for an identifier of that type; a sum for a node that is
    itself a group) and ``limits[t]`` the most one component may hold. ``cannot`` lists node pairs that must
    end in different components.
    """

    nodes: int
    source: IntArray
    target: IntArray
    rank: IntArray
    forced: npt.NDArray[np.bool_]
    counts: npt.NDArray[np.int64]
    limits: IntArray
    cannot: IntArray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    def __post_init__(self) -> None:
        edges = len(self.source)
        if not (len(self.target) == len(self.rank) == len(self.forced) == edges):
            raise ValueError("source, target, rank and forced must have one entry per edge")
        if self.counts.shape != (self.nodes, len(self.limits)):
            raise ValueError("counts must have one row per node and one column per limited type")


@dataclass(frozen=True, slots=True)
class Cut:
    """An edge left out because adding it would break a rule; ``limit_types`` are the columns it would exceed."""

    edge: int
    reason: CutReason
    limit_types: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Components:
    """``labels[node]`` in ``0..count-1``; ``cuts`` in the order the repair met them."""

    labels: IntArray
    count: int
    cuts: tuple[Cut, ...]
    repaired: int  # components that broke a rule and were rebuilt


def find_components(graph: LinkGraph) -> Components:
    """Components of the graph in which no component exceeds a limit or holds both ends of a cannot-link."""
    if graph.nodes == 0:
        return Components(np.zeros(0, dtype=np.int64), 0, (), 0)
    adjacency = coo_matrix(
        (np.ones(len(graph.source), dtype=np.int8), (graph.source, graph.target)),
        shape=(graph.nodes, graph.nodes),
    )
    count, found = connected_components(adjacency, directed=False)
    labels = found.astype(np.int64)
    broken = _broken(graph, labels, count)
    if not broken.any():
        return Components(labels, int(count), (), 0)
    cuts = _repair(graph, labels, broken, count)
    _, compact = np.unique(labels, return_inverse=True)
    compact = compact.astype(np.int64)
    return Components(compact, int(compact.max()) + 1, cuts, int(broken.sum()))


def _broken(graph: LinkGraph, labels: IntArray, count: int) -> npt.NDArray[np.bool_]:
    """Components holding more values of a limited type than allowed, or both ends of a cannot-link."""
    broken = np.zeros(count, dtype=bool)
    for column, limit in enumerate(graph.limits):
        held = np.bincount(labels, weights=graph.counts[:, column], minlength=count)
        broken |= held > limit
    if len(graph.cannot):
        left, right = labels[graph.cannot[:, 0]], labels[graph.cannot[:, 1]]
        broken[left[left == right]] = True
    return broken


def _repair(graph: LinkGraph, labels: IntArray, broken: npt.NDArray[np.bool_], count: int) -> tuple[Cut, ...]:
    """Rebuild the broken components in place (new labels from ``count`` up); return the edges cut."""
    members = np.flatnonzero(broken[labels])
    inside = np.flatnonzero(broken[labels[graph.source]] & (graph.source != graph.target))
    order = inside[np.lexsort((graph.rank[inside], ~graph.forced[inside]))]
    parent = {int(node): int(node) for node in members}
    held = {int(node): graph.counts[node].copy() for node in members}
    forbidden: dict[int, set[int]] = {int(node): set() for node in members}
    for a, b in graph.cannot:
        if int(a) in forbidden and int(b) in forbidden:
            forbidden[int(a)].add(int(b))
            forbidden[int(b)].add(int(a))

    def find(node: int) -> int:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    cuts: list[Cut] = []
    for edge in order:
        ra, rb = find(int(graph.source[edge])), find(int(graph.target[edge]))
        if ra == rb:
            continue
        if any(find(other) == rb for other in forbidden[ra]):
            cuts.append(Cut(int(edge), "cannot_link"))
            continue
        if not graph.forced[edge]:
            both = (held[ra] > 0) & (held[rb] > 0) & (held[ra] + held[rb] > graph.limits)
            if both.any():
                cuts.append(Cut(int(edge), "limit", tuple(int(t) for t in np.flatnonzero(both))))
                continue
        if len(forbidden[ra]) < len(forbidden[rb]):
            ra, rb = rb, ra
        parent[rb] = ra
        held[ra] = held[ra] + held.pop(rb)
        forbidden[ra] |= forbidden.pop(rb)
    roots: dict[int, int] = {}
    for node in members:
        root = find(int(node))
        labels[node] = roots.setdefault(root, count + len(roots))
    return tuple(cuts)

"""The referral graph: who referred whom, as persons, and each person's influence and reach in it.

A referral event belongs to the referrer; the referee is named by a *related identifier* (``role:
related_identifier`` in the source mapping), stored as ``"tok:" + token``: the same keyed HMAC as the
referee's own identifiers, so it joins ``event_identifiers`` → ``event_persons`` without any plaintext.
Unlike every other trait, these values depend on other persons' events, so they are computed set-based over
the whole graph at build time rather than per person (there is no incremental form; a real-time update
leaves them to the next build).

Point in time: only referral events before the as-of time are edges, and a referee is known only through
events before the as-of time. A token that belongs to several persons (a shared phone) names no one.

Measures, per person in the graph:

- ``referrals_received``: how many different people referred them; ``referred_by``: the first of them.
- ``referral_influence``: PageRank over "referee endorses referrer" edges (damping 0.85), scaled so that the
  mean over the graph's persons is 1: referring people who themselves refer many counts for more.
- ``referral_reach``: people brought in directly and indirectly, i.e. the size of the person's subtree in the
  referral tree, where each person hangs under their *first* referrer.

PageRank is a sparse power iteration in scipy (networkx is not a dependency and would hold the graph in
Python objects); the tree sizes use ``scipy.sparse.csgraph``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.backends.duckdb as ibis_duckdb
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy import sparse
from scipy.sparse import csgraph

from huaxiang.expressions import ValueType
from huaxiang.expressions.builtins import json_text
from huaxiang.i18n import Label
from huaxiang.traits.events import PERSONS_TABLE, json_path

#: The event type and the related-identifier property the standard library reads (docs/tags.md).
REFERRAL_EVENT = "referral"
REFEREE_FIELD = "referee_phone"
RELATED_PREFIX = "tok:"
DAMPING = 0.85
_TABLE = "build_referral_graph"


@dataclass(frozen=True, slots=True)
class GraphTrait:
    """A trait computed over the referral graph: its name, type and labels for the catalogue."""

    name: str
    type: ValueType
    label: Label
    description: Label


REFERRAL_TRAITS: tuple[GraphTrait, ...] = (
    GraphTrait(
        "referrals_received",
        "number",
        Label(zh="被推荐次数", en="Referrals received"),
        Label(zh="推荐过此人的不同客户数", en="How many different people referred this person"),
    ),
    GraphTrait(
        "referred_by",
        "string",
        Label(zh="推荐人", en="Referred by"),
        Label(zh="最早推荐此人的客户编号", en="Person id of the first person who referred them"),
    ),
    GraphTrait(
        "referral_influence",
        "number",
        Label(zh="推荐影响力", en="Referral influence"),
        Label(
            zh="推荐网络中的PageRank得分,网络内平均为1;不在推荐网络中为空",
            en="PageRank in the referral graph, 1 on average over its members; empty outside the graph",
        ),
    ),
    GraphTrait(
        "referral_reach",
        "number",
        Label(zh="推荐覆盖人数", en="Referral reach"),
        Label(
            zh="直接和间接带来的客户数(按每人的首位推荐人构成的推荐树)",
            en="People brought in directly and indirectly (the tree of each person's first referrer)",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class ReferralMeasures:
    """Per graph member (aligned arrays): the pure result, before it becomes a table."""

    person_id: list[str]
    referrals_received: npt.NDArray[np.int64]
    referred_by: list[str | None]
    referral_influence: npt.NDArray[np.float64]
    referral_reach: npt.NDArray[np.int64]

    def to_arrow(self) -> pa.Table:
        return pa.table(
            {
                "person_id": pa.array(self.person_id, type=pa.string()),
                "referrals_received": pa.array(self.referrals_received, type=pa.int64()),
                "referred_by": pa.array(self.referred_by, type=pa.string()),
                "referral_influence": pa.array(self.referral_influence, type=pa.float64()),
                "referral_reach": pa.array(self.referral_reach, type=pa.int64()),
            }
        )


def referral_edges(
    backend: ibis.BaseBackend,
    as_of: datetime,
    *,
    event_type: str = REFERRAL_EVENT,
    field: str = REFEREE_FIELD,
) -> ir.Table:
    """``referrer, referee, ts``: one row per referral event before ``as_of`` whose referee is one person."""
    events = backend.table("events")
    persons = backend.table(PERSONS_TABLE)
    identifiers = backend.table("event_identifiers")
    known = events.filter(events.ts < ibis.literal(as_of, type=dt.timestamp))
    referrals = known.filter(known.type == event_type).select(
        "event_id", "ts", related=json_text(known.properties, json_path(field))
    )
    referrals = referrals.filter(referrals.related.startswith(RELATED_PREFIX)).select(
        "event_id", "ts", token=referrals.related.substr(len(RELATED_PREFIX))
    )
    wanted = identifiers.filter(identifiers.token.isin(referrals.token))
    seen = wanted.join(known.select("event_id"), "event_id").join(persons, "event_id")
    owners = (
        seen.group_by("token")
        .aggregate(referee=seen.person_id.min(), owners=seen.person_id.nunique())
        .filter(lambda t: t.owners == 1)
    )
    edges = referrals.join(persons, "event_id").join(owners, "token")
    edges = edges.select(referrer=edges.person_id, referee=edges.referee, ts=edges.ts)
    return edges.filter(edges.referrer != edges.referee)


def measure_referrals(
    referrers: Sequence[str], referees: Sequence[str], times: Sequence[datetime] | npt.NDArray[np.datetime64]
) -> ReferralMeasures:
    """Received counts, first referrer, PageRank influence and tree reach for every person on an edge."""
    nodes, index = np.unique(np.asarray([*referrers, *referees], dtype=object), return_inverse=True)
    n = len(nodes)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return ReferralMeasures([], empty, [], np.zeros(0), empty)
    source, target = index[: len(referrers)], index[len(referrers) :]
    pairs = np.unique(np.stack([source, target], axis=1), axis=0)
    received = np.bincount(pairs[:, 1], minlength=n).astype(np.int64)
    parent = first_referrer(source, target, times, n)
    # Influence flows from the referee to the referrer: being referred is an endorsement of who referred you.
    influence = pagerank(pairs[:, 1], pairs[:, 0], n) * n
    return ReferralMeasures(
        person_id=[str(p) for p in nodes],
        referrals_received=received,
        referred_by=[str(nodes[p]) if p >= 0 else None for p in parent],
        referral_influence=influence,
        referral_reach=tree_reach(parent),
    )


def first_referrer(
    source: npt.NDArray[np.intp],
    target: npt.NDArray[np.intp],
    times: Sequence[datetime] | npt.NDArray[np.datetime64],
    n: int,
) -> npt.NDArray[np.intp]:
    """Each node's earliest referrer (ties to the smaller referrer), or -1 for none."""
    parent = np.full(n, -1, dtype=np.intp)
    if len(source) == 0:
        return parent
    stamps = np.asarray(times, dtype="datetime64[us]")
    order = np.lexsort((source, stamps, target))  # by referee, then time, then referrer
    ordered = target[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    parent[ordered[first]] = source[order][first]
    return parent


def pagerank(
    source: npt.NDArray[np.intp], target: npt.NDArray[np.intp], n: int, *, tolerance: float = 1e-12
) -> npt.NDArray[np.float64]:
    """PageRank of ``n`` nodes over edges ``source → target`` (each pair once); sums to 1.

    Dangling nodes (no out-edge) spread their rank evenly, the usual convention, so the result is the
    stationary distribution of the Google matrix and does not depend on iteration order.
    """
    adjacency = sparse.csr_matrix((np.ones(len(source)), (source, target)), shape=(n, n))
    adjacency.data[:] = 1.0  # a pair referred twice is one endorsement
    out_degree = np.asarray(adjacency.sum(axis=1)).ravel()
    dangling = out_degree == 0
    scale = np.divide(1.0, out_degree, out=np.zeros(n), where=~dangling)
    transposed = (sparse.diags(scale) @ adjacency).T.tocsr()
    rank = np.full(n, 1.0 / n)
    for _ in range(1000):
        spread = rank[dangling].sum() / n
        updated = DAMPING * (transposed @ rank + spread) + (1.0 - DAMPING) / n
        change = float(np.abs(updated - rank).sum())
        rank = updated
        if change < tolerance:
            break
    return np.asarray(rank / rank.sum(), dtype=np.float64)


def tree_reach(parent: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    """Descendants of each node in the first-referrer tree (self excluded).

    Each node has at most one parent, so every weak component is a tree or holds exactly one cycle (bad data:
    A first referred by B and B by A). Every member of such a component descends from each cycle node, so a
    cycle node reaches the whole component; other nodes count their subtree once the cycle edges are cut.
    """
    n = len(parent)
    children = np.flatnonzero(parent >= 0)
    links = sparse.csr_matrix((np.ones(len(children)), (parent[children], children)), shape=(n, n))
    _, strong = csgraph.connected_components(links, directed=True, connection="strong")
    on_cycle = np.bincount(strong, minlength=n)[strong] > 1
    tree_parent = np.where(on_cycle & (parent >= 0) & on_cycle[np.maximum(parent, 0)], -1, parent)
    kept = np.flatnonzero(tree_parent >= 0)
    roots = np.flatnonzero(tree_parent < 0)
    # A virtual root above every tree root gives one breadth-first order over the whole forest.
    rows = np.concatenate([np.full(len(roots), n), tree_parent[kept]])
    cols = np.concatenate([roots, kept])
    forest = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1))
    order = csgraph.breadth_first_order(forest, n, directed=True, return_predecessors=False)
    size = np.ones(n, dtype=np.int64)
    # Children before parents (reverse breadth-first order); a loop over graph members only, not all persons.
    for node in order[:0:-1].tolist():
        up = tree_parent[node]
        if up >= 0:
            size[up] += size[node]
    _, weak = csgraph.connected_components(links, directed=True, connection="weak")
    component = np.bincount(weak, minlength=n)[weak]
    return np.where(on_cycle, component, size).astype(np.int64) - 1


def referral_measures(
    backend: ibis_duckdb.Backend,
    as_of: datetime,
    *,
    event_type: str = REFERRAL_EVENT,
    field: str = REFEREE_FIELD,
) -> ir.Table:
    """``person_id, referrals_received, referred_by, referral_influence, referral_reach`` for every person in
    the referral graph as of ``as_of`` (a temp table of the backend); persons outside it have no row."""
    edges = backend.to_pyarrow(referral_edges(backend, as_of, event_type=event_type, field=field))
    measures = measure_referrals(
        edges.column("referrer").to_pylist(),
        edges.column("referee").to_pylist(),
        edges.column("ts").to_numpy(),
    )
    # Ibis 12's create_table emits SQL this DuckDB rejects, so the result goes through the DuckDB connection.
    con = backend.con
    con.register("hx_referral_measures", measures.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_TABLE} AS SELECT * FROM hx_referral_measures")
    finally:
        con.unregister("hx_referral_measures")
    return backend.table(_TABLE)


def with_referral_measures(
    traits: ir.Table, backend: ibis_duckdb.Backend, as_of: datetime, names: Sequence[str] | None = None
) -> ir.Table:
    """``traits`` (one row per person) with the referral graph's traits ``names`` (default: all) added; outside
    the graph the counts are 0 and ``referred_by`` and ``referral_influence`` are empty."""
    measures = referral_measures(backend, as_of)
    joined = traits.left_join(measures, traits.person_id == measures.person_id)
    values = {
        "referrals_received": measures.referrals_received.fill_null(0),
        "referred_by": measures.referred_by,
        "referral_influence": measures.referral_influence,
        "referral_reach": measures.referral_reach.fill_null(0),
    }
    wanted = list(values) if names is None else list(names)
    return joined.select(*[traits[c] for c in traits.columns], **{n: values[n] for n in wanted})

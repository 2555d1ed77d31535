"""The identity graph of a set of events, built in DuckDB: identifier nodes and the links between them.

Why a star per event: linking an event's highest-priority identifier (its *anchor*) to each of its others
needs one edge per extra identifier instead of one per pair, and the anchor decides whose event it is when
a rule later cuts a link. Links are made distinct in SQL, so the graph has one edge per identifier pair with
its evidence (events, first seen), however many events repeat it. Shared values (a family tablet) are no
nodes: they never merge persons (see :mod:`huaxiang.identity.attribution`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from huaxiang.identity.components import Components, LinkGraph
from huaxiang.identity.rules import RuleBook

#: An event carrying only blocklisted values gets a node of its own, named by this prefix and its id.
EVENT_NODE = "event:"


@dataclass(frozen=True, slots=True)
class GraphShape:
    """What the built graph holds, for the run report."""

    nodes: int
    identifier_links: int
    match_links: int
    must_links: int
    cannot_links: int
    limited_types: tuple[str, ...]


def register_rules(
    con: duckdb.DuckDBPyConnection, book: RuleBook, id_types: Sequence[str], blocked: Mapping[str, str]
) -> tuple[str, ...]:
    """Temp tables ``hx_rules`` (one row per identifier type) and ``hx_blocked``; returns the limited types."""
    rules = book.rules(id_types)
    limited = tuple(r.id_type for r in rules if r.max_per_person is not None and not r.shared)
    table = pa.table(
        {
            "id_type": pa.array([r.id_type for r in rules], pa.string()),
            "priority": pa.array([r.priority for r in rules], pa.int64()),
            "shared": pa.array([r.shared for r in rules], pa.bool_()),
            "per_value": pa.array([r.max_persons_per_value for r in rules], pa.int64()),
            "per_person": pa.array([r.max_per_person for r in rules], pa.int64()),
            "limit_col": pa.array(
                [limited.index(r.id_type) if r.id_type in limited else None for r in rules], pa.int64()
            ),
        }
    )
    _replace(con, "hx_rules", table)
    _replace(con, "hx_blocked", pa.table({"token": pa.array(list(blocked), pa.string())}))
    return limited


def _replace(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register(f"{name}_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


def stage_identifiers(con: duckdb.DuckDBPyConnection, *, scoped: bool) -> None:
    """Integer-keyed working tables of the events in scope and their usable identifiers.

    ``hx_events(eid, event_id, ts)``, ``hx_tokens(tid, token, id_type, priority, shared, per_value)``,
    ``hx_ids(eid, tid, ts, priority, shared)`` and ``hx_anchor(eid, node, ts)``. Events and tokens get integer
    ids once (the event's row id; the token's rank in token order, so runs are repeatable), and every later
    join and grouping runs on integers instead of 32- and 64-character strings. ``scoped``: only the events in
    the temp table ``hx_scope`` (an incremental run), else every event. An event whose identifiers are all
    blocklisted is anchored to a node of its own, numbered after the tokens.
    """
    scope_join = "SEMI JOIN hx_scope s ON s.event_id = e.event_id" if scoped else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE hx_events AS SELECT e.rowid AS eid, e.event_id, e.ts FROM events e {scope_join}"
    )
    in_scope = "SEMI JOIN hx_events e ON e.event_id = i.event_id" if scoped else ""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hx_tokens AS
        SELECT (row_number() OVER (ORDER BY t.token) - 1)::BIGINT AS tid, t.token, t.id_type,
               r.priority, r.shared, r.per_value
        FROM (
            SELECT i.token, any_value(i.id_type) AS id_type FROM event_identifiers i {in_scope}
            ANTI JOIN hx_blocked b ON b.token = i.token
            GROUP BY i.token
        ) t
        JOIN hx_rules r ON r.id_type = t.id_type
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_ids AS
        SELECT e.eid, t.tid, e.ts, t.priority, t.shared
        FROM event_identifiers i JOIN hx_events e ON e.event_id = i.event_id JOIN hx_tokens t ON t.token = i.token
        """
    )
    tokens = int(con.sql("SELECT count(*) FROM hx_tokens").fetchall()[0][0])
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hx_anchor AS
        SELECT eid, arg_max(tid, priority * {_PRIORITY_SCALE} + tid) AS node, any_value(ts) AS ts
        FROM hx_ids WHERE NOT shared GROUP BY eid
        UNION ALL
        SELECT e.eid, {tokens} + row_number() OVER (ORDER BY e.event_id) - 1, e.ts
        FROM hx_events e ANTI JOIN hx_ids i ON i.eid = e.eid
        """
    )


# Orders anchors by priority, then token rank, in one integer: priorities stay below 1,001 and ranks below 2^40.
_PRIORITY_SCALE = 1 << 40


def build_graph(
    con: duckdb.DuckDBPyConnection, limited: Sequence[str], *, matches: str | None
) -> tuple[LinkGraph, GraphShape]:
    """Nodes ``hx_nodes`` and ranked links ``hx_links`` (row ``edge`` = position in the graph's edge arrays).

    Rank: a steward's must-links first, then identifier links by the weaker end's priority, the stronger
    end's, the events that carry them and their age; probabilistic links last, most probable first. So the
    repair of a component that breaks a rule keeps strong, old, often-seen links and cuts the weakest.
    ``matches``: a table of probabilistic record pairs (``event_id_l``, ``event_id_r``,
    ``match_probability``, ``match_weight``) to add, or None.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hx_nodes AS
        SELECT tid AS idx, token, id_type, priority FROM hx_tokens WHERE NOT shared
        UNION ALL
        SELECT a.node, '{EVENT_NODE}' || e.event_id, '', -1
        FROM hx_anchor a JOIN hx_events e ON e.eid = a.eid
        WHERE a.node >= (SELECT count(*) FROM hx_tokens)
        """
    )
    match_sql = ""
    if matches is not None:
        match_sql = f"""
        UNION ALL
        SELECT 2, least(aa.node, ab.node), greatest(aa.node, ab.node), 0, NULL::TIMESTAMP,
               0, 0, max(m.match_probability), max(m.match_weight), NULL
        FROM {matches} m
        JOIN hx_events el ON el.event_id = m.event_id_l JOIN hx_anchor aa ON aa.eid = el.eid
        JOIN hx_events er ON er.event_id = m.event_id_r JOIN hx_anchor ab ON ab.eid = er.eid
        WHERE aa.node <> ab.node
        GROUP BY ALL
        """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hx_links AS
        WITH raw (kind, a, b, events, first_ts, weak, strong, probability, weight, override_id) AS (
            SELECT 0, least(na.idx, nb.idx), greatest(na.idx, nb.idx), 0, any_value(o.created_at),
                   0, 0, NULL::DOUBLE, NULL::DOUBLE, any_value(o.override_id)
            FROM identity_overrides o
            JOIN hx_nodes na ON na.token = o.token_a JOIN hx_nodes nb ON nb.token = o.token_b
            WHERE o.kind = 'must_link' AND o.removed_at IS NULL AND na.idx <> nb.idx
            GROUP BY ALL
            UNION ALL
            SELECT 1, least(an.node, i.tid), greatest(an.node, i.tid), count(*), min(i.ts),
                   least(any_value(i.priority), any_value(ta.priority)),
                   greatest(any_value(i.priority), any_value(ta.priority)), NULL, NULL, NULL
            FROM hx_ids i
            JOIN hx_anchor an ON an.eid = i.eid
            JOIN hx_tokens ta ON ta.tid = an.node
            WHERE NOT i.shared AND i.tid <> an.node
            GROUP BY least(an.node, i.tid), greatest(an.node, i.tid)
            {match_sql}
        )
        SELECT (row_number() OVER (
                   ORDER BY kind, weak DESC, strong DESC, events DESC, probability DESC, first_ts, a, b) - 1
               )::BIGINT AS edge, *
        FROM raw
        """
    )
    links = con.sql("SELECT a, b, kind FROM hx_links ORDER BY edge").fetchnumpy()
    nodes = int(con.sql("SELECT coalesce(max(idx) + 1, 0) FROM hx_nodes").fetchall()[0][0])
    kinds = np.asarray(links["kind"], dtype=np.int64)
    counts = np.zeros((nodes, len(limited)), dtype=np.int64)
    if limited:
        typed = con.sql(
            "SELECT n.idx, r.limit_col FROM hx_nodes n JOIN hx_rules r ON r.id_type = n.id_type "
            "WHERE r.limit_col IS NOT NULL"
        ).fetchnumpy()
        counts[np.asarray(typed["idx"], dtype=np.int64), np.asarray(typed["limit_col"], dtype=np.int64)] = 1
    limits = np.array(
        [
            int(con.execute("SELECT per_person FROM hx_rules WHERE id_type = ?", [t]).fetchall()[0][0])
            for t in limited
        ],
        dtype=np.int64,
    )
    cannot = con.sql(
        """
        SELECT DISTINCT na.idx AS a, nb.idx AS b FROM identity_overrides o
        JOIN hx_nodes na ON na.token = o.token_a JOIN hx_nodes nb ON nb.token = o.token_b
        WHERE o.kind = 'cannot_link' AND o.removed_at IS NULL AND na.idx <> nb.idx
        """
    ).fetchnumpy()
    cannot_pairs = np.column_stack(
        [np.asarray(cannot["a"], dtype=np.int64), np.asarray(cannot["b"], dtype=np.int64)]
    ).reshape(-1, 2)
    graph = LinkGraph(
        nodes=nodes,
        source=np.asarray(links["a"], dtype=np.int64),
        target=np.asarray(links["b"], dtype=np.int64),
        rank=np.arange(len(kinds), dtype=np.int64),
        forced=kinds == 0,
        counts=counts,
        limits=limits,
        cannot=cannot_pairs,
    )
    shape = GraphShape(
        nodes=int(con.sql("SELECT count(*) FROM hx_nodes").fetchall()[0][0]),
        identifier_links=int((kinds == 1).sum()),
        match_links=int((kinds == 2).sum()),
        must_links=int((kinds == 0).sum()),
        cannot_links=len(cannot_pairs),
        limited_types=tuple(limited),
    )
    return graph, shape


def store_labels(con: duckdb.DuckDBPyConnection, components: Components, limited: Sequence[str]) -> None:
    """``hx_labels(idx, label)`` for every node and ``hx_cut(edge, reason, id_type)`` for the links cut."""
    labels = components.labels
    _replace(
        con,
        "hx_labels",
        pa.table({"idx": pa.array(np.arange(len(labels), dtype=np.int64)), "label": pa.array(labels)}),
    )
    cuts = components.cuts
    _replace(
        con,
        "hx_cut",
        pa.table(
            {
                "edge": pa.array([c.edge for c in cuts], pa.int64()),
                "reason": pa.array([c.reason for c in cuts], pa.string()),
                "id_type": pa.array(
                    [", ".join(limited[t] for t in c.limit_types) or None for c in cuts], pa.string()
                ),
            }
        ),
    )

"""Shared values and the events that carry nothing else: a family tablet, a web session before login.

Why attach instead of link: a value that may belong to several persons (``max_persons_per_value`` > 1)
proves nothing about who is who, so it never merges persons; it is attached to each person it was seen with.
An event that carries only shared values goes to the person who used that value most recently before it
(the last login on the device); if nobody had yet, to the first who did afterwards (a session that later
logged in); if nobody ever did, to a person of its own for that value. A value seen with more persons than
its limit allows (a shop's demo tablet) identifies nobody: its anonymous events go to that value's own person.
"""

from __future__ import annotations

import duckdb


def attribute_events(con: duckdb.DuckDBPyConnection, label_count: int) -> int:
    """Build ``hx_event_labels(event_id, label, via)``, ``hx_shared`` and ``hx_label_seed``; return the labels.

    Labels ``0..label_count-1`` are the graph's components; value-only persons get labels after them.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_event_node AS
        SELECT a.eid, a.ts, l.label, a.node FROM hx_anchor a JOIN hx_labels l ON l.idx = a.node
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_shared_seen AS
        SELECT i.tid, e.label, i.ts FROM hx_ids i JOIN hx_event_node e ON e.eid = i.eid WHERE i.shared
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_shared AS
        SELECT s.tid, any_value(t.token) AS token, any_value(t.id_type) AS id_type,
               count(DISTINCT s.label) AS persons, any_value(t.per_value) AS per_value,
               count(DISTINCT s.label) <= any_value(t.per_value) AS attached
        FROM hx_shared_seen s JOIN hx_tokens t ON t.tid = s.tid
        GROUP BY s.tid
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_anonymous AS
        SELECT i.eid, i.tid, i.ts, i.priority FROM hx_ids i ANTI JOIN hx_anchor a ON a.eid = i.eid
        WHERE i.shared
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_logins AS
        SELECT s.tid, s.ts, s.label FROM hx_shared_seen s SEMI JOIN hx_shared h ON h.tid = s.tid AND h.attached
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_attributed AS
        WITH before AS (
            SELECT a.eid, arg_max(l.label, l.ts) AS label
            FROM hx_anonymous a ASOF JOIN hx_logins l ON l.tid = a.tid AND a.ts >= l.ts
            GROUP BY a.eid
        ), after AS (
            SELECT a.eid, arg_min(l.label, l.ts) AS label
            FROM hx_anonymous a ASOF JOIN hx_logins l ON l.tid = a.tid AND a.ts <= l.ts
            ANTI JOIN before b ON b.eid = a.eid
            GROUP BY a.eid
        )
        SELECT eid, label, 'last_login' AS via FROM before
        UNION ALL
        SELECT eid, label, 'next_login' FROM after
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hx_value_only AS
        WITH own AS (
            SELECT a.eid, arg_max(a.tid, (a.priority, a.tid)) AS tid
            FROM hx_anonymous a ANTI JOIN hx_attributed t ON t.eid = a.eid
            GROUP BY a.eid
        )
        SELECT o.eid, o.tid, t.token, t.id_type, {label_count} + dense_rank() OVER (ORDER BY o.tid) - 1 AS label
        FROM own o JOIN hx_tokens t ON t.tid = o.tid
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_event_labels AS
        SELECT e.event_id, l.label, l.via FROM (
            SELECT eid, label, CASE WHEN node >= (SELECT count(*) FROM hx_tokens) THEN 'event' ELSE 'identifier' END AS via
            FROM hx_event_node
            UNION ALL
            SELECT eid, label, via FROM hx_attributed
            UNION ALL
            SELECT eid, label, 'device' FROM hx_value_only
        ) l JOIN hx_events e ON e.eid = l.eid
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_label_seed AS
        SELECT s.label, n.token AS seed, CASE WHEN n.priority < 0 THEN 'event' ELSE 'identified' END AS kind
        FROM (
            SELECT l.label, arg_max(n.idx, (n.priority, n.idx)) AS idx
            FROM hx_nodes n JOIN hx_labels l ON l.idx = n.idx GROUP BY l.label
        ) s JOIN hx_nodes n ON n.idx = s.idx
        UNION ALL
        SELECT label, 'value:' || any_value(token), 'device' FROM hx_value_only GROUP BY label
        """
    )
    extra = con.sql("SELECT count(DISTINCT label) FROM hx_value_only").fetchall()[0][0]
    return label_count + int(extra)

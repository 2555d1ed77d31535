"""Write one resolve's results: assignments, event persons, aliases, new persons, matches, log, run record.

Everything is written inside one transaction by the caller, so a killed run leaves the previous resolution
whole. A full run replaces the derived tables; an incremental run replaces only what its scope covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from huaxiang.identity.evidence import LogEntry
from huaxiang.identity.matching import PAIRS
from huaxiang.identity.stable_ids import Merge


def write_resolution(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    now: datetime,
    full: bool,
    merges: Sequence[Merge],
    entries: Sequence[LogEntry],
) -> None:
    """Replace the scope's assignments with this run's; needs the ``hx_*`` tables of the run."""
    if full:
        con.execute("DELETE FROM event_persons")
        con.execute("DELETE FROM identity_assignments")
        con.execute("DELETE FROM identity_matches")
    else:
        con.execute("DELETE FROM event_persons WHERE event_id IN (SELECT event_id FROM hx_event_labels)")
        con.execute(
            "DELETE FROM identity_assignments WHERE token IN (SELECT token FROM hx_scope_tokens) "
            "OR person_id IN (SELECT old FROM hx_overlap)"
        )
    con.execute(
        """
        INSERT INTO event_persons
        SELECT l.event_id, p.person_id, l.via FROM hx_event_labels l JOIN hx_label_person p ON p.label = l.label
        """
    )
    con.execute(
        """
        INSERT INTO identity_assignments
        SELECT n.token, n.id_type, p.person_id, 'member'
        FROM hx_nodes n JOIN hx_labels l ON l.idx = n.idx JOIN hx_label_person p ON p.label = l.label
        WHERE n.priority >= 0
        UNION ALL
        SELECT DISTINCT h.token, h.id_type, p.person_id, 'shared'
        FROM hx_shared_seen s JOIN hx_shared h ON h.tid = s.tid AND h.attached
        JOIN hx_label_person p ON p.label = s.label
        UNION ALL
        SELECT DISTINCT v.token, v.id_type, p.person_id, 'device'
        FROM hx_value_only v JOIN hx_label_person p ON p.label = v.label
        """
    )
    if merges:
        con.executemany(
            "INSERT INTO person_aliases VALUES (?, ?, ?, ?)",
            [[m.absorbed, m.survivor, run_id, now] for m in merges],
        )
        con.executemany(
            "UPDATE person_aliases SET person_id = ? WHERE person_id = ?",
            [[m.survivor, m.absorbed] for m in merges],
        )
    con.execute(
        """
        INSERT INTO identity_persons
        SELECT p.person_id, $now, $run, s.kind FROM hx_label_person p JOIN hx_label_seed s ON s.label = p.label
        WHERE p.is_new
        """,
        {"now": now, "run": run_id},
    )
    con.execute(
        f"""
        INSERT INTO identity_matches
        SELECT n.event_id_l, n.event_id_r, n.match_probability, n.match_weight, $run FROM {PAIRS} n
        ANTI JOIN identity_matches m ON m.event_id_l = n.event_id_l AND m.event_id_r = n.event_id_r
        """,
        {"run": run_id},
    )
    if entries:
        con.executemany(
            "INSERT INTO identity_log VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[run_id, now, *entry.row()] for entry in entries],
        )

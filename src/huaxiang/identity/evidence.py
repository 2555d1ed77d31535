"""The merge log's entries: why persons were merged or split, and which links the rules cut.

Evidence names identifier types and token prefixes (the first 8 hex digits of the HMAC), never values: the
log is read by stewards who may not see the identifiers, and a prefix is enough to find the link again in
``huaxiang identity explain``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from huaxiang.identity.graph import EVENT_NODE
from huaxiang.identity.stable_ids import Merge, Split

LINK_KINDS = {0: "must_link", 1: "identifier", 2: "match"}
RULES = {"must_link": "steward must-link", "identifier": "shared identifier", "match": "probabilistic match"}
_MAX_LINKS = 5


@dataclass(frozen=True, slots=True)
class LogEntry:
    action: str
    person_id: str | None
    other_id: str | None
    subject: str | None
    evidence: dict[str, Any]

    def row(self) -> tuple[str, str | None, str | None, str | None, str]:
        return (
            self.action,
            self.person_id,
            self.other_id,
            self.subject,
            json.dumps(self.evidence, ensure_ascii=False, sort_keys=True),
        )


def short(token: str) -> str:
    """A token's first 8 hex digits; a record's own node shows as ``record:`` + its event id prefix."""
    if token.startswith(EVENT_NODE):
        return "record:" + token[len(EVENT_NODE) : len(EVENT_NODE) + 8]
    return token[:8]


def _link(row: Sequence[Any]) -> dict[str, Any]:
    kind, a_type, a, b_type, b, events, probability, weight = row
    link: dict[str, Any] = {
        "kind": LINK_KINDS[int(kind)],
        "a_type": a_type or "record",
        "a": short(a),
        "b_type": b_type or "record",
        "b": short(b),
    }
    if int(kind) == 1:
        link["events"] = int(events)
    if int(kind) == 2:
        link["probability"] = round(float(probability), 6)
        link["weight"] = round(float(weight), 3)
    return link


_LINK_COLUMNS = "k.kind, na.id_type, na.token, nb.id_type, nb.token, k.events, k.probability, k.weight"


def merge_entries(con: duckdb.DuckDBPyConnection, merges: Sequence[Merge]) -> list[LogEntry]:
    """One entry per absorbed person: the kept links leaving its identifiers inside the merged component."""
    if not merges:
        return []
    table = pa.table(
        {
            "survivor": [m.survivor for m in merges],
            "absorbed": [m.absorbed for m in merges],
            "label": pa.array([m.label for m in merges], pa.int64()),
        }
    )
    con.register("hx_merges", table)
    try:
        rows = con.execute(
            f"""
            WITH old_nodes AS (
                SELECT n.idx, any_value(a.person_id) AS person_id
                FROM identity_assignments a JOIN hx_nodes n ON n.token = a.token
                WHERE a.role = 'member' AND a.person_id IN (SELECT absorbed FROM hx_merges)
                GROUP BY n.idx
            ), touching AS (
                SELECT k.*, oa.person_id AS pa, ob.person_id AS pb
                FROM hx_links k ANTI JOIN hx_cut c ON c.edge = k.edge
                LEFT JOIN old_nodes oa ON oa.idx = k.a LEFT JOIN old_nodes ob ON ob.idx = k.b
                WHERE oa.idx IS NOT NULL OR ob.idx IS NOT NULL
            ), leaving AS (
                SELECT pa AS absorbed, * FROM touching WHERE pa IS NOT NULL AND pb IS DISTINCT FROM pa
                UNION ALL
                SELECT pb AS absorbed, * FROM touching WHERE pb IS NOT NULL AND pa IS DISTINCT FROM pb
            )
            SELECT k.absorbed, {_LINK_COLUMNS}
            FROM leaving k JOIN hx_nodes na ON na.idx = k.a JOIN hx_nodes nb ON nb.idx = k.b
            ORDER BY k.absorbed, k.edge
            """
        ).fetchall()
        moved = con.execute(
            """
            SELECT m.absorbed, l.via, count(*) FROM hx_merges m
            JOIN event_persons p ON p.person_id = m.absorbed
            JOIN hx_event_labels l ON l.event_id = p.event_id
            GROUP BY ALL
            """
        ).fetchall()
    finally:
        con.unregister("hx_merges")
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for absorbed, *link in rows:
        if len(links[absorbed]) < _MAX_LINKS:
            links[absorbed].append(_link(link))
    via: dict[str, dict[str, int]] = defaultdict(dict)
    for absorbed, how, count in moved:
        via[absorbed][how] = int(count)
    entries = []
    for merge in merges:
        found = links.get(merge.absorbed, [])
        kinds = sorted({link["kind"] for link in found}, key=list(RULES).index)
        rule = ", ".join(RULES[k] for k in kinds) if kinds else "anonymous events attributed to a login"
        entries.append(
            LogEntry(
                "merge",
                merge.survivor,
                merge.absorbed,
                None,
                {"rule": rule, "links": found, "events": via.get(merge.absorbed, {})},
            )
        )
    return entries


def split_entries(con: duckdb.DuckDBPyConnection, splits: Sequence[Split]) -> list[LogEntry]:
    """One entry per split part: the links cut between it and the rest of the original person."""
    if not splits:
        return []
    parts = con.execute("SELECT old, label FROM hx_overlap").fetchall()
    labels_of: dict[str, set[int]] = defaultdict(set)
    for old, label in parts:
        labels_of[old].add(int(label))
    cut_rows = con.execute(
        f"""
        SELECT la.label, lb.label, c.reason, c.id_type, {_LINK_COLUMNS}
        FROM hx_cut c JOIN hx_links k ON k.edge = c.edge
        JOIN hx_labels la ON la.idx = k.a JOIN hx_labels lb ON lb.idx = k.b
        JOIN hx_nodes na ON na.idx = k.a JOIN hx_nodes nb ON nb.idx = k.b
        ORDER BY c.edge
        """
    ).fetchall()
    entries = []
    for split in splits:
        others = labels_of[split.original] - {split.label}
        cuts = [
            {"reason": _reason(reason, id_type), **_link(link)}
            for la, lb, reason, id_type, *link in cut_rows
            if (la == split.label and lb in others) or (lb == split.label and la in others)
        ][:_MAX_LINKS]
        rule = "; ".join(sorted({c["reason"] for c in cuts})) if cuts else "rules, overrides or data changed"
        entries.append(
            LogEntry(
                "split",
                split.person,
                split.original,
                None,
                {"rule": rule, "cut": cuts, "events": split.events},
            )
        )
    return entries


def _reason(reason: str, id_type: str | None) -> str:
    if reason == "limit":
        return f"max_per_person of {id_type}"
    return "steward cannot-link"


def conflict_entries(con: duckdb.DuckDBPyConnection) -> list[LogEntry]:
    """One entry per link cut by a rule, not logged before (the same cut recurs in every later run)."""
    rows = con.execute(
        f"""
        SELECT pa.person_id, pb.person_id, na.token || '|' || nb.token AS subject, c.reason, c.id_type,
               {_LINK_COLUMNS}
        FROM hx_cut c JOIN hx_links k ON k.edge = c.edge
        JOIN hx_nodes na ON na.idx = k.a JOIN hx_nodes nb ON nb.idx = k.b
        JOIN hx_labels la ON la.idx = k.a JOIN hx_labels lb ON lb.idx = k.b
        LEFT JOIN hx_label_person pa ON pa.label = la.label LEFT JOIN hx_label_person pb ON pb.label = lb.label
        WHERE (na.token || '|' || nb.token) NOT IN (
            SELECT subject FROM identity_log WHERE action = 'conflict' AND subject IS NOT NULL
        )
        ORDER BY c.edge
        """
    ).fetchall()
    return [
        LogEntry(
            "conflict",
            person,
            other,
            subject,
            {"rule": _reason(reason, id_type), "link": _link(link)},
        )
        for person, other, subject, reason, id_type, *link in rows
    ]


def shared_entries(con: duckdb.DuckDBPyConnection) -> list[LogEntry]:
    """Shared values seen with more persons than their limit: they identify nobody (logged once)."""
    rows = con.execute(
        """
        SELECT token, id_type, persons, per_value FROM hx_shared
        WHERE NOT attached AND token NOT IN (
            SELECT subject FROM identity_log WHERE action = 'shared_over_limit' AND subject IS NOT NULL
        )
        ORDER BY token
        """
    ).fetchall()
    return [
        LogEntry(
            "shared_over_limit",
            None,
            None,
            token,
            {
                "rule": f"max_persons_per_value of {id_type}",
                "id_type": id_type,
                "value": short(token),
                "persons": int(persons),
                "limit": int(limit),
            },
        )
        for token, id_type, persons, limit in rows
    ]

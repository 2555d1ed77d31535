"""Stable person ids: each component of this run inherits the id of the persons whose events it holds.

Rules: every earlier person picks as its *main* component the one holding most of its events. A component
that is the main of one earlier person keeps that id; of several, the oldest id survives and the others
become its aliases (a merge); of none, it gets a new id (a split part, or a new person). The common case
(one earlier person, one component, both ways) is settled in SQL; only merges and splits reach Python.

Ids are ``P`` + 12 hex digits of SHA-256 over the component's strongest identifier token: rebuilding the
same data from scratch gives the same ids, and the id reveals nothing the token does not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

PERSON_ID_PATTERN = r"^P[0-9a-f]{12}$"


@dataclass(frozen=True, slots=True)
class Merge:
    """``absorbed`` joined ``survivor`` (the older id) in component ``label``."""

    survivor: str
    absorbed: str
    label: int


@dataclass(frozen=True, slots=True)
class Split:
    """Part ``label`` of ``original`` now belongs to ``person`` (a new id, or another earlier person's)."""

    person: str
    original: str
    label: int
    events: int


@dataclass(frozen=True, slots=True)
class IdAssignment:
    """``hx_label_person(label, person_id, is_new)`` holds the ids; these are the changes worth logging."""

    merges: tuple[Merge, ...]
    splits: tuple[Split, ...]
    created: int


def assign_person_ids(con: duckdb.DuckDBPyConnection) -> IdAssignment:
    """Give every label of ``hx_event_labels`` a person id, keeping the ids of ``event_persons``."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_overlap AS
        SELECT o.*, count(*) OVER (PARTITION BY o.old) AS old_parts,
               count(*) OVER (PARTITION BY o.label) AS label_parts
        FROM (
            SELECT p.person_id AS old, l.label, count(*) AS events
            FROM hx_event_labels l JOIN event_persons p ON p.event_id = l.event_id
            GROUP BY ALL
        ) o
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_label_person AS
        SELECT label, old AS person_id, false AS is_new FROM hx_overlap WHERE old_parts = 1 AND label_parts = 1
        """
    )
    complex_rows = con.execute(
        """
        SELECT o.old, o.label, o.events, coalesce(p.created_at, TIMESTAMP '1970-01-01') AS created_at
        FROM hx_overlap o LEFT JOIN identity_persons p ON p.person_id = o.old
        WHERE o.old_parts > 1 OR o.label_parts > 1
        ORDER BY o.old, o.label
        """
    ).fetchall()
    kept, merges, splits, orphaned = _settle(complex_rows)
    if kept:
        table = pa.table({"label": [k[0] for k in kept], "person_id": [k[1] for k in kept]})
        con.register("hx_kept", table)
        try:
            con.execute("INSERT INTO hx_label_person SELECT label, person_id, false FROM hx_kept")
        finally:
            con.unregister("hx_kept")
    created = _new_ids(con)
    ids = dict(con.execute("SELECT label, person_id FROM hx_label_person").fetchall()) if orphaned else {}
    split_list = list(splits)
    for label, original, events in orphaned:
        split_list.append(Split(ids[label], original, label, events))
    return IdAssignment(tuple(merges), tuple(split_list), created)


def _settle(
    rows: list[tuple[str, int, int, datetime]],
) -> tuple[list[tuple[int, str]], list[Merge], list[Split], list[tuple[int, str, int]]]:
    """Merges and splits among the labels and earlier persons that do not pair one to one.

    Returns the labels that keep an earlier id, the merges, the splits into an earlier person's component,
    and the split parts that still need a new id (label, original person, events).
    """
    by_old: dict[str, list[tuple[int, int]]] = defaultdict(list)
    by_label: dict[int, list[tuple[str, int]]] = defaultdict(list)
    created: dict[str, datetime] = {}
    for old, label, events, created_at in rows:
        by_old[old].append((label, events))
        by_label[label].append((old, events))
        created[old] = created_at
    main = {old: max(parts, key=lambda p: (p[1], -p[0]))[0] for old, parts in by_old.items()}
    claims: dict[int, list[str]] = defaultdict(list)
    for old, label in main.items():
        claims[label].append(old)
    owner: dict[int, str] = {}
    merges: list[Merge] = []
    for label in sorted(by_label):
        claimants = sorted(claims.get(label, []), key=lambda old: (created[old], old))
        if claimants:
            owner[label] = claimants[0]
            merges += [Merge(claimants[0], absorbed, label) for absorbed in claimants[1:]]
    splits: list[Split] = []
    orphaned: list[tuple[int, str, int]] = []
    seen: set[int] = set()
    for old, parts in sorted(by_old.items()):
        for label, events in parts:
            if label == main[old]:
                continue
            if label in owner:
                if owner[label] != old:
                    splits.append(Split(owner[label], old, label, events))
            elif label not in seen:
                seen.add(label)
                original, size = max(by_label[label], key=lambda p: (p[1], p[0]))
                orphaned.append((label, original, size))
    return sorted(owner.items()), merges, splits, orphaned


def _new_ids(con: duckdb.DuckDBPyConnection) -> int:
    """New ids for the labels without one, unique among every id ever given (aliases included).

    A label holding no event (an identifier cut off by a rule, seen only on events anchored elsewhere) gets no
    person: a person is made of events.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_needs_id AS
        SELECT s.label, s.seed, 0 AS attempt, NULL::VARCHAR AS person_id
        FROM hx_label_seed s ANTI JOIN hx_label_person p ON p.label = s.label
        SEMI JOIN hx_event_labels e ON e.label = s.label
        """
    )
    total = int(con.sql("SELECT count(*) FROM hx_needs_id").fetchall()[0][0])
    pending = total
    while pending:
        con.execute(
            """
            UPDATE hx_needs_id SET person_id = 'P' || left(sha256(seed || chr(31) || attempt::VARCHAR), 12)
            WHERE person_id IS NULL
            """
        )
        con.execute(
            """
            UPDATE hx_needs_id SET person_id = NULL, attempt = attempt + 1
            WHERE person_id IN (SELECT person_id FROM identity_persons)
               OR person_id IN (SELECT alias_id FROM person_aliases)
               OR person_id IN (SELECT person_id FROM hx_label_person)
               OR label IN (
                   SELECT label FROM (
                       SELECT label, row_number() OVER (PARTITION BY person_id ORDER BY label) AS n
                       FROM hx_needs_id WHERE person_id IS NOT NULL
                   ) WHERE n > 1
               )
            """
        )
        pending = int(con.sql("SELECT count(*) FROM hx_needs_id WHERE person_id IS NULL").fetchall()[0][0])
    con.execute("INSERT INTO hx_label_person SELECT label, person_id, true FROM hx_needs_id")
    return total

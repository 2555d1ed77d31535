"""The part of the warehouse an incremental resolve must recompute: new events and all they can reach.

Why a closure: a new event that carries a known phone changes that phone's person, and through the person
every identifier and event of it; a shared tablet reaches every person it is attached to. Starting from the
new events (and the identifiers of new steward decisions and new probabilistic pairs), the scope grows by
turns — identifiers of its events, events with those identifiers, persons of either, all their events —
until nothing is added. Everything outside is untouched by construction, so a daily run costs what the new
data reaches, not the size of the warehouse. Blocklisted values reach nothing: they are no links.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb

log = logging.getLogger(__name__)

_MAX_ROUNDS = 50


@dataclass(frozen=True, slots=True)
class Scope:
    """Sizes of an incremental run's scope (``hx_scope``)."""

    new_events: int
    events: int
    persons: int
    rounds: int


def count_new_events(con: duckdb.DuckDBPyConnection) -> int:
    return int(
        con.sql(
            "SELECT count(*) FROM events e ANTI JOIN event_persons p ON p.event_id = e.event_id"
        ).fetchall()[0][0]
    )


def stage_scope(con: duckdb.DuckDBPyConnection, *, since: datetime, pairs: str) -> Scope:
    """``hx_scope(event_id)``: new events, events of changed overrides and new pairs, and their closure."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hx_scope AS
        WITH changed_tokens AS (
            SELECT token_a AS token FROM identity_overrides WHERE created_at >= $since OR removed_at >= $since
            UNION
            SELECT token_b FROM identity_overrides WHERE created_at >= $since OR removed_at >= $since
        )
        SELECT e.event_id FROM events e ANTI JOIN event_persons p ON p.event_id = e.event_id
        UNION
        SELECT i.event_id FROM event_identifiers i SEMI JOIN changed_tokens c ON c.token = i.token
        UNION
        SELECT event_id_l FROM {pairs}
        UNION
        SELECT event_id_r FROM {pairs}
        """,
        {"since": since},
    )
    new_events = count_new_events(con)
    size = _count(con, "hx_scope")
    rounds = 0
    while size and rounds < _MAX_ROUNDS:
        rounds += 1
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE hx_scope_tokens AS
            SELECT DISTINCT i.token FROM event_identifiers i
            SEMI JOIN hx_scope s ON s.event_id = i.event_id
            ANTI JOIN hx_blocked b ON b.token = i.token
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE hx_scope_persons AS
            SELECT p.person_id FROM event_persons p SEMI JOIN hx_scope s ON s.event_id = p.event_id
            UNION
            SELECT a.person_id FROM identity_assignments a SEMI JOIN hx_scope_tokens t ON t.token = a.token
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE hx_scope_next AS
            SELECT event_id FROM hx_scope
            UNION
            SELECT i.event_id FROM event_identifiers i SEMI JOIN hx_scope_tokens t ON t.token = i.token
            UNION
            SELECT p.event_id FROM event_persons p SEMI JOIN hx_scope_persons q ON q.person_id = p.person_id
            """
        )
        grown = _count(con, "hx_scope_next")
        con.execute("CREATE OR REPLACE TEMP TABLE hx_scope AS SELECT * FROM hx_scope_next")
        if grown == size:
            break
        size = grown
    persons = _count(con, "hx_scope_persons") if rounds else 0
    log.info("incremental scope: %d new events reach %d events of %d persons", new_events, size, persons)
    return Scope(new_events=new_events, events=size, persons=persons, rounds=rounds)


def full_scope(con: duckdb.DuckDBPyConnection) -> Scope:
    """A full run: every event is in scope (no ``hx_scope`` table is needed)."""
    events = _count(con, "events")
    persons = int(con.sql("SELECT count(DISTINCT person_id) FROM event_persons").fetchall()[0][0])
    return Scope(new_events=count_new_events(con), events=events, persons=persons, rounds=0)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0])

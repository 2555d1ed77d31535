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
    """``hx_scope(event_id)``, ``hx_scope_tokens(token)`` and ``hx_scope_persons(person_id)``: the closure.

    Semi-naive: each turn expands only the events the turn before added, and a turn whose new events bring
    no new identifier and no new person ends the closure without scanning for their events again. The new
    events are found once (an anti join over the event log) and counted from that table.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hx_scope_changed AS
        SELECT token_a AS token FROM identity_overrides WHERE created_at >= $since OR removed_at >= $since
        UNION
        SELECT token_b FROM identity_overrides WHERE created_at >= $since OR removed_at >= $since
        """,
        {"since": since},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE hx_scope_new AS "
        "SELECT e.event_id FROM events e ANTI JOIN event_persons p ON p.event_id = e.event_id"
    )
    changed = (
        "UNION SELECT i.event_id FROM event_identifiers i SEMI JOIN hx_scope_changed c ON c.token = i.token"
        if _count(con, "hx_scope_changed")
        else ""
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hx_scope AS
        SELECT event_id FROM hx_scope_new
        UNION SELECT event_id_l FROM {pairs}
        UNION SELECT event_id_r FROM {pairs}
        {changed}
        """
    )
    new_events = _count(con, "hx_scope_new")
    con.execute("CREATE OR REPLACE TEMP TABLE hx_scope_delta AS SELECT event_id FROM hx_scope")
    con.execute("CREATE OR REPLACE TEMP TABLE hx_scope_tokens (token VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE hx_scope_persons (person_id VARCHAR)")
    rounds = 0
    while rounds < _MAX_ROUNDS and _count(con, "hx_scope_delta"):
        rounds += 1
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE hx_scope_delta_tokens AS
            SELECT DISTINCT i.token FROM event_identifiers i
            SEMI JOIN hx_scope_delta d ON d.event_id = i.event_id
            ANTI JOIN hx_blocked b ON b.token = i.token
            ANTI JOIN hx_scope_tokens t ON t.token = i.token
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE hx_scope_delta_persons AS
            SELECT p.person_id FROM event_persons p SEMI JOIN hx_scope_delta d ON d.event_id = p.event_id
            UNION
            SELECT a.person_id FROM identity_assignments a SEMI JOIN hx_scope_delta_tokens t ON t.token = a.token
            EXCEPT
            SELECT person_id FROM hx_scope_persons
            """
        )
        con.execute("INSERT INTO hx_scope_tokens SELECT token FROM hx_scope_delta_tokens")
        con.execute("INSERT INTO hx_scope_persons SELECT person_id FROM hx_scope_delta_persons")
        if not _count(con, "hx_scope_delta_tokens") and not _count(con, "hx_scope_delta_persons"):
            break
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE hx_scope_delta AS
            SELECT i.event_id FROM event_identifiers i SEMI JOIN hx_scope_delta_tokens t ON t.token = i.token
            UNION
            SELECT p.event_id FROM event_persons p SEMI JOIN hx_scope_delta_persons q ON q.person_id = p.person_id
            EXCEPT
            SELECT event_id FROM hx_scope
            """
        )
        con.execute("INSERT INTO hx_scope SELECT event_id FROM hx_scope_delta")
    size = _count(con, "hx_scope")
    persons = _count(con, "hx_scope_persons")
    log.info("incremental scope: %d new events reach %d events of %d persons", new_events, size, persons)
    return Scope(new_events=new_events, events=size, persons=persons, rounds=rounds)


def full_scope(con: duckdb.DuckDBPyConnection) -> Scope:
    """A full run: every event is in scope (no ``hx_scope`` table is needed)."""
    events = _count(con, "events")
    persons = int(con.sql("SELECT count(DISTINCT person_id) FROM event_persons").fetchall()[0][0])
    return Scope(new_events=count_new_events(con), events=events, persons=persons, rounds=0)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0])

"""Versioned profiles: every person's trait and tag values kept with ``valid_from``/``valid_to``.

One row per person per version, wide (a column per trait and tag), written only when something changed: a
build compares each person's digest of values with the version valid at its as-of time. That keeps a full
build at one row per changed person instead of one row per value, and an as-of read is one row. A value's
own validity is the span of consecutive versions holding it. A build dated before later builds is slotted
in: the version it splits ends at its as-of time and the new one runs to where the old one ran.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from huaxiang.backends.duckdb import Warehouse
from huaxiang.errors import HuaxiangError, NotFoundError

VERSIONS = "profile_versions"
BUILDS = "profile_builds"
CURRENT = "profiles"
_BOOKKEEPING = ("person_id", "valid_from", "valid_to", "build_id", "digest")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {BUILDS} (
    build_id     VARCHAR NOT NULL,
    as_of        TIMESTAMP NOT NULL,   -- UTC; only events before it were used
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    persons      BIGINT NOT NULL,
    changed      BIGINT NOT NULL,      -- persons with a new version
    removed      BIGINT NOT NULL,      -- persons whose version ended without a successor (erased)
    traits       JSON NOT NULL,        -- names
    tags         JSON NOT NULL,
    skipped      JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS {VERSIONS} (
    person_id   VARCHAR NOT NULL,
    valid_from  TIMESTAMP NOT NULL,
    valid_to    TIMESTAMP,             -- NULL: still valid
    build_id    VARCHAR NOT NULL,
    digest      UBIGINT NOT NULL       -- hash of every value, to find what changed without comparing columns
);
"""


@dataclass(frozen=True, slots=True)
class Build:
    build_id: str
    as_of: datetime
    started_at: datetime
    finished_at: datetime
    persons: int
    changed: int
    removed: int


@dataclass(frozen=True, slots=True)
class VersionCounts:
    persons: int
    changed: int
    removed: int


@dataclass(frozen=True, slots=True)
class TagChange:
    """Persons who entered and left one value of one tag between two builds."""

    tag: str
    value: str
    entered: int
    left: int
    now: int


def _text(moment: datetime) -> str:
    """A naive UTC time as ISO text, cast back to TIMESTAMP in SQL (never shifted by a session time zone)."""
    return moment.isoformat(sep=" ")


def _literal(text: str) -> str:
    """A SQL string literal of our own values (build ids, times, names), inlined rather than bound.

    Binding parameters makes the DuckDB client import pandas on first use (seconds on a busy machine), and a
    build binds nothing else; nothing user-typed ever goes through here.
    """
    return "'" + text.replace("'", "''") + "'"


def ensure_schema(warehouse: Warehouse) -> None:
    warehouse.con.execute(SCHEMA)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def record_versions(
    warehouse: Warehouse, snapshot: str, columns: Sequence[str], *, build_id: str, as_of: datetime
) -> VersionCounts:
    """Merge a build's snapshot table (``person_id`` + ``columns``) into the history, as of ``as_of``."""
    con = warehouse.con
    ensure_schema(warehouse)
    types = _add_columns(warehouse, snapshot, columns)
    values = ", ".join(_digested(c, types[c]) for c in sorted(columns))
    moment = f"{_literal(_text(as_of))}::TIMESTAMP"
    # Only the key and the digest are kept: the snapshot's values are read again for the changed persons alone,
    # rather than copied once more in full (a wide copy costs as much as the comparison itself).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE build_digests AS SELECT person_id, hash({values}) AS digest FROM {snapshot}"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE build_changes AS
        WITH covering AS (
            SELECT person_id, valid_from, valid_to, digest FROM {VERSIONS}
            WHERE valid_from <= {moment} AND (valid_to IS NULL OR valid_to > {moment})
        ), nexts AS (
            SELECT person_id, min(valid_from) AS next_from FROM {VERSIONS} WHERE valid_from > {moment} GROUP BY 1
        ), moved AS (
            SELECT coalesce(s.person_id, c.person_id) AS person_id, s.person_id IS NOT NULL AS present,
                   c.person_id IS NOT NULL AS covered, c.valid_from AS old_from, c.valid_to AS old_to
            FROM build_digests s FULL JOIN covering c ON s.person_id = c.person_id
            WHERE s.digest IS DISTINCT FROM c.digest
        )
        SELECT m.person_id, m.present, m.covered, m.old_from,
               CASE WHEN m.covered THEN m.old_to ELSE n.next_from END AS new_to
        FROM moved m LEFT JOIN nexts n ON n.person_id = m.person_id"""
    )
    with warehouse.transaction():
        con.execute(
            f"DELETE FROM {VERSIONS} v USING build_changes ch WHERE v.person_id = ch.person_id "
            f"AND ch.covered AND v.valid_from = ch.old_from AND ch.old_from = {moment}"
        )
        con.execute(
            f"UPDATE {VERSIONS} v SET valid_to = {moment} FROM build_changes ch WHERE v.person_id = ch.person_id "
            f"AND ch.covered AND v.valid_from = ch.old_from AND ch.old_from < {moment}"
        )
        con.execute(
            f"INSERT INTO {VERSIONS} BY NAME SELECT s.*, d.digest, {moment} AS valid_from, ch.new_to AS valid_to, "
            f"{_literal(build_id)} AS build_id FROM {snapshot} s JOIN build_changes ch USING (person_id) "
            "JOIN build_digests d USING (person_id)"
        )
    counts = warehouse.rows(
        "SELECT (SELECT count(*) FROM build_digests), count(*) FILTER (WHERE present), "
        "count(*) FILTER (WHERE NOT present) FROM build_changes"
    )[0]
    con.execute(
        f"CREATE OR REPLACE VIEW {CURRENT} AS SELECT * EXCLUDE (digest) FROM {VERSIONS} WHERE valid_to IS NULL"
    )
    con.execute("DROP TABLE build_digests; DROP TABLE build_changes")
    return VersionCounts(int(counts[0]), int(counts[1]), int(counts[2]))


def _digested(name: str, sql_type: str) -> str:
    """A column as it enters the digest. Doubles enter at single precision: a parallel sum adds in no fixed
    order, so two builds over the same events can differ in the last bits, and that is not a change."""
    return f"{quote(name)}::FLOAT" if sql_type == "DOUBLE" else quote(name)


def _add_columns(warehouse: Warehouse, snapshot: str, columns: Sequence[str]) -> dict[str, str]:
    """New traits and tags become new columns; a name whose type changed is refused with a way out.

    Returns the snapshot's column types.
    """
    have = dict(warehouse.rows(f"SELECT column_name, column_type FROM (DESCRIBE {VERSIONS})"))
    new = dict(warehouse.rows(f"SELECT column_name, column_type FROM (DESCRIBE {snapshot})"))
    added = [name for name in columns if name not in have]
    for name in columns:
        if name in have and have[name] != new[name] and not (_numeric(have[name]) and _numeric(new[name])):
            raise HuaxiangError(
                f"{name} was kept as {have[name]} and is now {new[name]}",
                hint="give the changed definition a new name, or rebuild the history with "
                "`huaxiang build --reset-history`",
            )
    if added:  # one rewrite instead of an ALTER per column (each ALTER is a catalogue change of its own)
        extra = ", ".join(f"NULL::{new[name]} AS {quote(name)}" for name in added)
        warehouse.con.execute(f"CREATE OR REPLACE TABLE {VERSIONS} AS SELECT *, {extra} FROM {VERSIONS}")
    return new


def _numeric(sql_type: str) -> bool:
    return sql_type in ("BIGINT", "DOUBLE", "INTEGER", "HUGEINT") or sql_type.startswith("DECIMAL")


def record_build(
    warehouse: Warehouse,
    build: Build,
    *,
    traits: Sequence[str],
    tags: Sequence[str],
    skipped: Sequence[dict[str, str]],
) -> None:
    values = [
        _literal(build.build_id),
        *(f"{_literal(_text(t))}::TIMESTAMP" for t in (build.as_of, build.started_at, build.finished_at)),
        str(int(build.persons)),
        str(int(build.changed)),
        str(int(build.removed)),
        *(_literal(json.dumps(list(items), ensure_ascii=False)) for items in (traits, tags, skipped)),
    ]
    warehouse.con.execute(f"INSERT INTO {BUILDS} VALUES ({', '.join(values)})")


def reset_history(warehouse: Warehouse) -> None:
    """Forget every version and build (the event log is untouched; the next build starts afresh)."""
    warehouse.con.execute(
        f"DROP VIEW IF EXISTS {CURRENT}; DROP TABLE IF EXISTS {VERSIONS}; DROP TABLE IF EXISTS {BUILDS}"
    )
    ensure_schema(warehouse)


def list_builds(warehouse: Warehouse) -> list[Build]:
    if BUILDS not in warehouse.tables():
        return []
    rows = warehouse.rows(
        f"SELECT build_id, as_of, started_at, finished_at, persons, changed, removed FROM {BUILDS} ORDER BY started_at"
    )
    return [Build(*row) for row in rows]


def find_build(warehouse: Warehouse, reference: str) -> Build:
    """A build by id, unique id prefix, ``latest`` or ``previous``."""
    builds = list_builds(warehouse)
    if not builds:
        raise NotFoundError("no profile build yet", hint="run `huaxiang build` first")
    if reference == "latest":
        return builds[-1]
    if reference == "previous":
        if len(builds) < 2:
            raise NotFoundError("there is only one build", hint="run `huaxiang build` again to compare")
        return builds[-2]
    matches = [b for b in builds if b.build_id.startswith(reference)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(b.build_id for b in builds[-5:])
    what = "more than one build starts with" if matches else "no build"
    raise NotFoundError(f"{what} {reference!r}", hint=f"recent builds: {known}; or use latest / previous")


def version_at(warehouse: Warehouse, person_id: str, moment: datetime) -> dict[str, Any] | None:
    """A person's trait and tag values as the builds knew them at ``moment`` (None: no version then)."""
    if VERSIONS not in warehouse.tables():
        return None
    cursor = warehouse.con.execute(
        f"SELECT * EXCLUDE (digest) FROM {VERSIONS} WHERE person_id = $person AND valid_from <= $at::TIMESTAMP "
        f"AND (valid_to IS NULL OR valid_to > $at::TIMESTAMP)",
        {"person": person_id, "at": _text(moment)},
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def value_columns(warehouse: Warehouse) -> list[str]:
    return [
        name
        for (name,) in warehouse.rows(f"SELECT column_name FROM (DESCRIBE {VERSIONS})")
        if name not in _BOOKKEEPING
    ]


def tag_changes(
    warehouse: Warehouse, tags: Sequence[str], since: datetime, until: datetime
) -> list[TagChange]:
    """Per tag and value: persons who hold it at ``until`` but not at ``since`` (entered), and the reverse."""
    present = set(value_columns(warehouse))
    names = [t for t in tags if t in present]
    if not names:
        return []
    as_text = ", ".join(f"{quote(n)}::VARCHAR AS {quote(n)}" for n in names)
    on = ", ".join(quote(n) for n in names)

    def state(parameter: str) -> str:
        return (
            f"SELECT person_id, {as_text} FROM {VERSIONS} WHERE valid_from <= ${parameter}::TIMESTAMP "
            f"AND (valid_to IS NULL OR valid_to > ${parameter}::TIMESTAMP)"
        )

    rows = warehouse.rows(
        f"""WITH a AS ({state("since")}), b AS ({state("until")}),
        la AS (UNPIVOT a ON {on} INTO NAME tag VALUE value),
        lb AS (UNPIVOT b ON {on} INTO NAME tag VALUE value),
        entered AS (SELECT tag, value FROM lb ANTI JOIN la USING (person_id, tag, value)),
        left_ AS (SELECT tag, value FROM la ANTI JOIN lb USING (person_id, tag, value)),
        now_ AS (SELECT tag, value, count(*) AS n FROM lb GROUP BY ALL),
        moves AS (
            SELECT tag, value, count(*) AS entered, 0 AS left FROM entered GROUP BY ALL
            UNION ALL SELECT tag, value, 0, count(*) FROM left_ GROUP BY ALL
        )
        SELECT m.tag, m.value, sum(m.entered)::BIGINT, sum(m.left)::BIGINT, coalesce(any_value(n.n), 0)::BIGINT
        FROM moves m LEFT JOIN now_ n USING (tag, value)
        GROUP BY m.tag, m.value ORDER BY m.tag, m.value""",
        {"since": _text(since), "until": _text(until)},
    )
    order = {name: position for position, name in enumerate(names)}
    changes = [TagChange(str(tag), str(value), int(e), int(left), int(n)) for tag, value, e, left, n in rows]
    return sorted(changes, key=lambda c: (order[c.tag], c.value))

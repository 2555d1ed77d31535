"""Where a person's data is held: every warehouse row that names one of their events, tokens or ids.

Tables and columns are found by type, not from a list, so a derived table added by a later stage (identity
links and merge log, traits, tags and profile history, model scores, segment members) is reached by export
and erasure without changing this code. Every text column is compared with the person's identifier tokens,
event ids and person ids (HMAC tokens and random ids: equality cannot match by accident); in tables without
an event-id column a ``|``-joined pair holding one (the merge log's token pairs) and a JSON string value
(merge-log evidence) count too. JSON of event tables is not parsed (it describes the event itself and is
reached through the event id), which keeps a request from parsing every event of the warehouse.

A row is the person's *own* when the match is in an owner column (``event_id``, ``token``, ``person_id``),
in a table without one, or in a column that may not be NULL: it is exported and erased. A match in any
other column is another person's row *referring* to them (a profile's ``referred_by``, the merge log's
``other_id``, an event's ``"tok:" + token`` related identifier): not exported, not deleted; erasure sets the
reference to null.

Event-id columns are recognised by name (``event_id``, ``event_id_l``, ``first_event_id``): retention uses
them to purge what derived from expired events. The quarantine holds records that never became events;
they are matched by event id (a rejected version of the same record) and by the person's identifier values
appearing in the raw record (best effort: the raw text is not normalised, so separators and the +86 prefix
are ignored when comparing).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy.crypto import FieldCipher
from huaxiang.privacy.persons import PersonRecords
from huaxiang.privacy.schema import PRIVACY_TABLES, USER_COLUMNS

QUARANTINE = "quarantine"
RELATED_PREFIX = "tok:"  # a related identifier (another person's) as a record stores it: "tok:" + token
_EVENT_COLUMN = re.compile(r"(^|_)event_id(_|$)")
_TEXT, _JSON = "VARCHAR", "JSON"
_JSON_STRING = r'"([^"\\]+)"'  # a JSON string value (or key) without escapes: ids and tokens never have any


#: Columns whose match makes a row the person's own: it is deleted (and exported). A match in any other
#: column is a reference from someone else's row (a profile's ``referred_by``, the merge log's ``other_id``):
#: that column is set to NULL and the row stays, unless the column may not be NULL.
OWNER_COLUMNS = ("event_id", "token", "person_id")


@dataclass(frozen=True, slots=True)
class PersonTable:
    """A table that may hold a person: its text columns, searched JSON columns and which columns may be NULL."""

    name: str
    columns: tuple[str, ...]
    json_columns: tuple[str, ...] = ()
    reference_columns: tuple[str, ...] = ()  # JSON of event tables: searched only for ``tok:`` references
    nullable: frozenset[str] = frozenset()

    @property
    def event_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if _EVENT_COLUMN.search(c.lower()))

    @property
    def owner_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c in OWNER_COLUMNS)

    @property
    def referring_columns(self) -> tuple[str, ...]:
        """Text columns a match in only redacts: nullable, not an owner column, in a table that has one."""
        if not self.owner_columns:
            return ()
        return tuple(c for c in self.columns if c not in OWNER_COLUMNS and c in self.nullable)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def warehouse_tables(warehouse: Warehouse, *, include_privacy: bool = False) -> list[PersonTable]:
    """Every table with a text or JSON column (the privacy layer's own only when asked), quarantine excluded."""
    rows = warehouse.rows(
        f"SELECT table_name, list(column_name ORDER BY column_index) FILTER (data_type = '{_TEXT}'), "
        f"list(column_name ORDER BY column_index) FILTER (data_type = '{_JSON}'), "
        f"list(column_name) FILTER (is_nullable) FROM ({USER_COLUMNS}) "
        f"WHERE data_type IN ('{_TEXT}', '{_JSON}') GROUP BY table_name ORDER BY 1"
    )
    tables = []
    for name, text, documents, nullable in rows:
        if name == QUARANTINE or (name in PRIVACY_TABLES and not include_privacy):
            continue
        table = PersonTable(name, tuple(text or ()), nullable=frozenset(nullable or ()))
        if documents and not table.event_columns:
            table = PersonTable(name, table.columns, tuple(documents), nullable=table.nullable)
        elif documents:
            table = PersonTable(
                name, table.columns, reference_columns=tuple(documents), nullable=table.nullable
            )
        tables.append(table)
    return tables


def person_tables(warehouse: Warehouse) -> list[PersonTable]:
    """Every table whose rows may hold a person, except the privacy layer's own and the quarantine."""
    return warehouse_tables(warehouse)


def names_sql(table: PersonTable, column: str) -> str:
    """True when ``column`` is one of ``$needles``, or (outside event tables) a ``|`` pair holding one.

    Event tables are compared by equality only: their record keys contain ``|`` too, and splitting every key
    of the event log would make each request scan it several times over for nothing.
    """
    term = f"{quote(column)} IN (SELECT unnest($needles))"
    if table.event_columns:
        return term
    return f"({term} OR (contains({quote(column)}, '|') AND list_has_any(string_split({quote(column)}, '|'), $needles)))"


def predicate(table: PersonTable) -> str:
    """True for a row that is the person's own: an owner column names them (a table without one: any text
    column), or a column that cannot be NULL names them, or a JSON string value of a table without event
    ids does (merge-log evidence). Such rows are exported and erased."""
    owning = [c for c in table.columns if c not in table.referring_columns]
    terms = [names_sql(table, c) for c in owning]
    terms += [
        f"list_has_any(regexp_extract_all({quote(c)}::VARCHAR, '{_JSON_STRING}', 1), $needles)"
        for c in table.json_columns
    ]
    return " OR ".join(terms) or "false"


def reference_pattern(person: PersonRecords) -> str | None:
    """A regular expression matching a JSON string ``"tok:<token>"`` of one of the person's tokens.

    That is how another person's record names them (a related identifier: the referee of a referral). The
    record belongs to the other person and stays; erasure replaces the reference with null.
    """
    if not person.tokens:
        return None
    return (
        '"' + re.escape(RELATED_PREFIX) + "(?:" + "|".join(re.escape(t) for t in sorted(person.tokens)) + ')"'
    )


def references_sql(column: str) -> str:
    """True for a row whose JSON ``column`` matches ``$pattern`` (:func:`reference_pattern`); the cheap
    substring test first, so the regular expression runs only on the few records holding any reference."""
    text = f"{quote(column)}::VARCHAR"
    return f"(contains({text}, '\"{RELATED_PREFIX}') AND regexp_matches({text}, $pattern))"


def needles(person: PersonRecords) -> list[str]:
    """Every value that names the person in a row: their tokens, event ids and person ids."""
    return sorted(person.tokens | person.event_ids | person.person_ids)


def used_parameters(table: PersonTable, person: PersonRecords) -> dict[str, list[str]]:
    """The values :func:`predicate` binds (none for a table without searched columns: DuckDB refuses extras)."""
    return {"needles": needles(person)} if table.columns or table.json_columns else {}


def referring_rows_sql(table: PersonTable) -> str | None:
    """True for a row of someone else that names the person in a nullable, non-owner column (None: no such
    column). Erasure nulls those columns; verification counts them."""
    if not table.referring_columns:
        return None
    return " OR ".join(names_sql(table, c) for c in table.referring_columns)


def _comparable(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    return "".join(c for c in folded if c not in " -()")


def comparable_values(identifiers: Iterable[tuple[str, str]]) -> set[str]:
    """The forms in which a person's identifier values may appear in a raw record."""
    values = set()
    for _, value in identifiers:
        values.add(_comparable(value))
        if value.startswith("+86"):
            values.add(_comparable(value[3:]))
    return {v for v in values if v}


def quarantined_of(
    warehouse: Warehouse, cipher: FieldCipher, person: PersonRecords, identifiers: Collection[tuple[str, str]]
) -> list[str]:
    """Quarantine ids of records that belong to the person (same event id, or one of their identifier values)."""
    wanted = comparable_values(identifiers)
    found = []
    for quarantine_id, sealed in warehouse.rows("SELECT quarantine_id, raw_enc FROM quarantine"):
        if quarantine_id in person.event_ids:
            found.append(quarantine_id)
            continue
        try:
            raw = json.loads(cipher.decrypt(sealed, context="quarantine"))
        except ValueError:
            continue
        values = raw.values() if isinstance(raw, dict) else ()
        if any(isinstance(v, str | int) and _comparable(str(v)) in wanted for v in values):
            found.append(quarantine_id)
    return sorted(set(found))

"""Where a person's data is held: every warehouse table that links rows to their events, tokens or ids.

Tables are found by their columns, not from a list: a table with an ``event_id``, ``token`` or ``person_id``
column holds per-person rows, so a derived table added by a later stage (identity links, traits, tags,
segment members) is reached by export, erasure and retention without changing this code. The quarantine
holds records that never became events; they are matched by event id (a rejected version of the same
record) and by the person's identifier values appearing in the raw record (best effort: the raw text is
not normalised, so separators and the +86 prefix are ignored when comparing).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy.crypto import FieldCipher
from huaxiang.privacy.persons import PersonRecords
from huaxiang.privacy.schema import PRIVACY_TABLES, USER_COLUMNS

LINK_COLUMNS = ("event_id", "token", "person_id")
QUARANTINE = "quarantine"


@dataclass(frozen=True, slots=True)
class PersonTable:
    """A table holding per-person rows and the columns that link them to a person."""

    name: str
    columns: tuple[str, ...]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def person_tables(warehouse: Warehouse) -> list[PersonTable]:
    """Every table with a linking column, except the privacy layer's own and the quarantine."""
    rows = warehouse.rows(
        f"SELECT table_name, list(column_name ORDER BY column_index) FROM ({USER_COLUMNS}) "
        "WHERE column_name IN (SELECT unnest($c)) GROUP BY table_name ORDER BY 1",
        {"c": list(LINK_COLUMNS)},
    )
    return [
        PersonTable(name, tuple(columns))
        for name, columns in rows
        if name not in PRIVACY_TABLES and name != QUARANTINE
    ]


_PARAMETER = {"event_id": "events", "token": "tokens", "person_id": "persons"}


def predicate(table: PersonTable) -> str:
    """``event_id IN $events OR token IN $tokens OR person_id IN $persons`` for the table's columns."""
    return " OR ".join(f"{quote(c)}::VARCHAR IN (SELECT unnest(${_PARAMETER[c]}))" for c in table.columns)


def used_parameters(table: PersonTable, person: PersonRecords) -> dict[str, list[str]]:
    """The values :func:`predicate` binds for this table (only those it names: DuckDB refuses extra ones)."""
    values = {"events": person.event_ids, "tokens": person.tokens, "persons": person.person_ids}
    return {_PARAMETER[c]: sorted(values[_PARAMETER[c]]) for c in table.columns}


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

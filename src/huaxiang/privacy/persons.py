"""Who "a person" is for privacy requests: a seam until identity resolution assigns ``person_id``.

:class:`PersonLocator` answers two questions: which events and identifier tokens belong to the person
holding a given identifier, and which person each event belongs to. The default,
:class:`TokenClosure`, follows shared identifier tokens transitively through ``event_identifiers``,
bounded so a junk value shared by thousands (``00000000000``) cannot turn one request into a mass
erasure. :class:`IdentityLinks` answers the same from ``event_persons(event_id, person_id)`` once identity
resolution writes it (with the ids merges absorbed, from ``person_aliases``); :func:`default_locator` picks
it when that table exists. Table names are the seam: privacy sits below identity and never imports it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy.crypto import Keyring, token
from huaxiang.privacy.roles import InvalidInputError
from huaxiang.privacy.schema import table_exists

log = logging.getLogger(__name__)

MAX_IDENTIFIER_LENGTH = 320  # the longest e-mail address RFC 5321 allows; every identifier kind is shorter
_TYPE = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True, slots=True)
class Identifier:
    """An identifier type and its *normalised* value (as ingest stores it, e.g. ``+8613812345678``)."""

    type: str
    value: str = ""

    def __post_init__(self) -> None:
        if not _TYPE.fullmatch(self.type):
            raise InvalidInputError(
                f"invalid identifier type {self.type[:40]!r} / 标识类型无效",
                hint="identifier types are lower_snake_case names from huaxiang.yaml, such as phone or id_card",
            )
        if not self.value or len(self.value) > MAX_IDENTIFIER_LENGTH:
            raise InvalidInputError(
                f"identifier value must have 1 to {MAX_IDENTIFIER_LENGTH} characters, got {len(self.value)} / 标识值长度无效",
                hint="give the value as TYPE:VALUE, e.g. phone:13812345678",
            )
        if any(ord(c) < 32 or ord(c) == 127 for c in self.value):
            raise InvalidInputError("identifier value contains control characters / 标识值含控制字符")

    def __repr__(self) -> str:  # never print the value into logs or tracebacks
        return f"Identifier(type={self.type!r}, value=<{len(self.value)} chars>)"

    def token(self, keyring: Keyring) -> str:
        return token(keyring, self.type, self.value)


@dataclass(frozen=True, slots=True)
class PersonRecords:
    """Everything that makes up one person: events, identifier tokens and (once resolved) person ids.

    ``truncated`` means the search stopped at its bound: the set may be incomplete, or several people.
    """

    tokens: frozenset[str]
    event_ids: frozenset[str]
    person_ids: frozenset[str] = frozenset()
    truncated: bool = False

    @property
    def found(self) -> bool:
        return bool(self.event_ids)

    @property
    def key(self) -> str:
        """A stable name for the person within one run: a person id, else the smallest token."""
        return min(self.person_ids) if self.person_ids else min(self.tokens, default="")


class PersonLocator(Protocol):
    """Finds a person's records, and assigns every event to a person."""

    def locate(self, warehouse: Warehouse, tokens: Collection[str]) -> PersonRecords: ...

    def assign(self, warehouse: Warehouse, table: str) -> None:
        """Create temp table ``table(event_id VARCHAR, person_key VARCHAR)`` covering every event."""
        ...


@dataclass(frozen=True, slots=True)
class TokenClosure:
    """Persons as connected components of events linked by shared identifier tokens.

    Bounded by ``max_rounds`` expansion steps and ``max_events`` events; hitting either marks the result
    ``truncated`` (erasure refuses to act on it).
    """

    max_rounds: int = 12
    max_events: int = 50_000

    def locate(self, warehouse: Warehouse, tokens: Collection[str]) -> PersonRecords:
        known_tokens = set(tokens)
        held: set[str] = set()
        events: set[str] = set()
        frontier = set(tokens)
        truncated = False
        for _ in range(self.max_rounds):
            if not frontier:
                break
            found = {
                r[0]
                for r in warehouse.rows(
                    "SELECT DISTINCT event_id FROM event_identifiers WHERE token IN (SELECT unnest($t))",
                    {"t": sorted(frontier)},
                )
            }
            new_events = found - events
            events |= new_events
            if len(events) > self.max_events:
                truncated = True
                break
            if not new_events:
                frontier = set()
                break
            linked = {
                r[0]
                for r in warehouse.rows(
                    "SELECT DISTINCT token FROM event_identifiers WHERE event_id IN (SELECT unnest($e))",
                    {"e": sorted(new_events)},
                )
            }
            frontier = linked - known_tokens
            known_tokens |= linked
            held |= linked
        else:
            truncated = bool(frontier)
        if truncated:
            log.warning("person search stopped at its bound (%d events, %d tokens)", len(events), len(held))
        return PersonRecords(frozenset(held), frozenset(events), truncated=truncated)

    def assign(self, warehouse: Warehouse, table: str) -> None:
        """Label propagation: each component is named by its smallest token."""
        con = warehouse.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _labels AS SELECT DISTINCT token, token AS label FROM event_identifiers"
        )
        for _ in range(256):
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _event_labels AS SELECT i.event_id, min(l.label) AS label "
                "FROM event_identifiers i JOIN _labels l USING (token) GROUP BY i.event_id"
            )
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _next_labels AS SELECT i.token, min(e.label) AS label "
                "FROM event_identifiers i JOIN _event_labels e USING (event_id) GROUP BY i.token"
            )
            changed = warehouse.scalar(
                "SELECT count(*) FROM _next_labels n JOIN _labels l USING (token) WHERE n.label <> l.label"
            )
            con.execute("CREATE OR REPLACE TEMP TABLE _labels AS SELECT * FROM _next_labels")
            if not changed:
                break
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE "{table}" AS SELECT event_id, label AS person_key FROM _event_labels'
        )
        for temporary in ("_labels", "_event_labels", "_next_labels"):
            con.execute(f"DROP TABLE IF EXISTS {temporary}")


@dataclass(frozen=True, slots=True)
class IdentityLinks:
    """Persons as identity resolution assigned them: ``event_persons(event_id, person_id)``."""

    def locate(self, warehouse: Warehouse, tokens: Collection[str]) -> PersonRecords:
        persons = {
            r[0]
            for r in warehouse.rows(
                "SELECT DISTINCT l.person_id FROM event_persons l JOIN event_identifiers i USING (event_id) "
                "WHERE i.token IN (SELECT unnest($t))",
                {"t": sorted(tokens)},
            )
        }
        if not persons:
            return PersonRecords(frozenset(), frozenset())
        events = {
            r[0]
            for r in warehouse.rows(
                "SELECT DISTINCT event_id FROM event_persons WHERE person_id IN (SELECT unnest($p))",
                {"p": sorted(persons)},
            )
        }
        found_tokens = {
            r[0]
            for r in warehouse.rows(
                "SELECT DISTINCT token FROM event_identifiers WHERE event_id IN (SELECT unnest($e))",
                {"e": sorted(events)},
            )
        }
        return PersonRecords(
            frozenset(found_tokens), frozenset(events), frozenset(persons | _former_ids(warehouse, persons))
        )

    def assign(self, warehouse: Warehouse, table: str) -> None:
        warehouse.con.execute(
            f'CREATE OR REPLACE TEMP TABLE "{table}" AS '
            "SELECT DISTINCT event_id, person_id::VARCHAR AS person_key FROM event_persons"
        )


def _former_ids(warehouse: Warehouse, persons: set[str]) -> set[str]:
    """Ids the persons had before merges absorbed them (``person_aliases``): the merge log still names them."""
    if not table_exists(warehouse, "person_aliases"):
        return set()
    former: set[str] = set()
    frontier = set(persons)
    for _ in range(16):  # an alias of an alias: follow chains of merges, bounded
        found = {
            r[0]
            for r in warehouse.rows(
                "SELECT DISTINCT alias_id FROM person_aliases WHERE person_id IN (SELECT unnest($p))",
                {"p": sorted(frontier)},
            )
        }
        frontier = found - former - persons
        if not frontier:
            break
        former |= frontier
    return former


def default_locator(warehouse: Warehouse) -> PersonLocator:
    """``event_persons`` once identity resolution has written it, else the token closure."""
    return IdentityLinks() if table_exists(warehouse, "event_persons") else TokenClosure()

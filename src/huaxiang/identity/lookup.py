"""Find persons by what a user types: a person id (absorbed ids too) or an identifier value.

An identifier is normalised by the kind its sources use (``138 1234 5678`` → ``+8613812345678``), then
tokenised with the workspace key: lookups, like matching, compare tokens and never read plaintext.
``phone:138…`` names the type; without one, every identifier type in the warehouse is tried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.identity.rules import identifier_kinds, identifier_token, rule_book
from huaxiang.identity.schema import ensure_identity_schema
from huaxiang.identity.stable_ids import PERSON_ID_PATTERN
from huaxiang.ingest.kinds import ValueContext
from huaxiang.workspace import Workspace

_PERSON_ID = re.compile(PERSON_ID_PATTERN)
_TYPED = re.compile(r"^(?P<type>[a-z][a-z0-9_]{0,62}):(?P<value>.+)$")


@dataclass(frozen=True, slots=True)
class IdentifierRef:
    """One identifier value, as its type and token."""

    id_type: str
    token: str


@dataclass(frozen=True, slots=True)
class Found:
    """What a reference resolved to: persons (current ids), and the identifiers or alias that led there."""

    reference: str
    persons: tuple[str, ...]
    identifiers: tuple[IdentifierRef, ...] = ()
    alias_of: str | None = None  # the reference was an absorbed id of this person


def current_person(workspace: Workspace, person_id: str) -> str | None:
    """The current id of a person id (itself, or the person that absorbed it); None if never given."""
    warehouse = workspace.warehouse
    ensure_identity_schema(warehouse)
    alias = warehouse.scalar("SELECT person_id FROM person_aliases WHERE alias_id = ?", [person_id])
    if alias is not None:
        return str(alias)
    exists = warehouse.scalar(
        "SELECT EXISTS (SELECT 1 FROM event_persons WHERE person_id = $p) "
        "OR EXISTS (SELECT 1 FROM identity_persons WHERE person_id = $p)",
        {"p": person_id},
    )
    return person_id if exists else None


def identifier_refs(workspace: Workspace, text: str) -> list[IdentifierRef]:
    """Tokens the text can stand for: of the named type (``phone:…``), else of every type in the warehouse."""
    warehouse = workspace.warehouse
    present = [r[0] for r in warehouse.rows("SELECT DISTINCT id_type FROM event_identifiers ORDER BY 1")]
    typed = _TYPED.match(text.strip())
    if typed and typed["type"] in present:
        candidates, value = [typed["type"]], typed["value"]
    else:
        candidates, value = present, text
    kinds = identifier_kinds(workspace.config)
    context = ValueContext(
        timezone=workspace.config.workspace.timezone, region=workspace.config.workspace.region
    )
    refs = []
    for id_type in candidates:
        found = identifier_token(workspace.keyring, id_type, kinds.get(id_type, "string"), value, context)
        if found is not None:
            refs.append(IdentifierRef(id_type, found))
    return refs


def find_persons(workspace: Workspace, reference: str) -> Found:
    """Persons a person id or an identifier value refers to; raises NotFoundError when there is none."""
    text = reference.strip()
    if not text:
        raise HuaxiangError(
            "empty reference", hint="give a person id (P + 12 hex digits) or an identifier value"
        )
    ensure_identity_schema(workspace.warehouse)
    if _PERSON_ID.match(text):
        current = current_person(workspace, text)
        if current is None:
            raise NotFoundError(
                f"no person {text}", hint="ids look like P3fa9c2d1e0b4; see `identity export`"
            )
        return Found(text, (current,), alias_of=current if current != text else None)
    matched: list[IdentifierRef] = []
    persons: list[str] = []
    for ref in identifier_refs(workspace, text):
        rows = workspace.warehouse.rows(
            "SELECT DISTINCT person_id FROM identity_assignments WHERE token = ? ORDER BY 1", [ref.token]
        )
        if rows:
            matched.append(ref)
            persons += [r[0] for r in rows if r[0] not in persons]
    if not persons:
        raise NotFoundError(
            "no person holds this identifier",
            hint="check the value (or name its type, e.g. phone:13812345678); "
            "blocklisted values and events not yet resolved belong to nobody",
        )
    return Found(text, tuple(persons), tuple(matched))


def strongest_identifier(workspace: Workspace, person_id: str) -> IdentifierRef:
    """The person's identifier that stands for it in an override: highest priority, then most seen."""
    book = rule_book(workspace.config.identity)
    rows = workspace.warehouse.rows(
        """
        SELECT a.token, a.id_type, count(i.event_id) AS events FROM identity_assignments a
        LEFT JOIN event_identifiers i ON i.token = a.token
        WHERE a.person_id = ? AND a.role = 'member'
        GROUP BY ALL
        """,
        [person_id],
    )
    if not rows:
        raise HuaxiangError(
            f"person {person_id} has no identifier of its own to link by",
            hint="persons made only of anonymous events on a shared device cannot be linked; "
            "link the device's other identifiers instead",
        )
    token, id_type, _ = max(rows, key=lambda r: (book.rule(r[1]).priority, r[2], r[0]))
    return IdentifierRef(id_type, token)

"""A steward's must-link and cannot-link decisions, kept and honoured by every later resolve.

Why decisions are stored on identifier tokens and not on person ids: person ids merge and split, tokens do
not; a cannot-link between two tokens keeps whatever persons hold them apart. A person id given by the
steward stands for its strongest identifier. A new decision on a pair replaces the opposite one (kept, with
``removed_at``), so the history of decisions stays readable.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.identity.lookup import IdentifierRef, current_person, identifier_refs, strongest_identifier
from huaxiang.identity.rules import rule_book
from huaxiang.identity.schema import ensure_identity_schema
from huaxiang.identity.stable_ids import PERSON_ID_PATTERN
from huaxiang.workspace import Workspace

OverrideKind = Literal["must_link", "cannot_link"]


@dataclass(frozen=True, slots=True)
class Override:
    """One decision, on two identifier tokens (never values)."""

    override_id: str
    kind: OverrideKind
    type_a: str
    token_a: str
    type_b: str
    token_b: str
    note: str | None
    created_by: str
    created_at: datetime
    removed_at: datetime | None


def resolve_reference(workspace: Workspace, reference: str) -> IdentifierRef:
    """The one identifier a steward's reference names: a person id's strongest, or a value seen in the data."""
    text = reference.strip()
    if re.match(PERSON_ID_PATTERN, text):
        current = current_person(workspace, text)
        if current is None:
            raise NotFoundError(f"no person {text}")
        return strongest_identifier(workspace, current)
    seen = [
        ref
        for ref in identifier_refs(workspace, text)
        if workspace.warehouse.scalar("SELECT count(*) FROM event_identifiers WHERE token = ?", [ref.token])
    ]
    if not seen:
        raise NotFoundError(
            "no record carries this identifier",
            hint="check the value, or name its type, e.g. phone:13812345678",
        )
    if len(seen) > 1:
        types = ", ".join(r.id_type for r in seen)
        raise HuaxiangError(
            f"the value is a valid identifier of several types ({types})",
            hint=f"name the type, e.g. {seen[0].id_type}:{text}",
        )
    ref = seen[0]
    if rule_book(workspace.config.identity).rule(ref.id_type).shared:
        raise HuaxiangError(
            f"{ref.id_type} is a shared identifier type: it never links persons",
            hint="link or separate the persons' own identifiers (or person ids) instead",
        )
    return ref


def record_override(
    workspace: Workspace,
    kind: OverrideKind,
    first: str,
    second: str,
    *,
    note: str | None = None,
    author: str = "unknown",
) -> Override:
    """Store a must-link or cannot-link between two references; it takes effect at the next resolve."""
    a, b = resolve_reference(workspace, first), resolve_reference(workspace, second)
    if a.token == b.token:
        raise HuaxiangError(
            "both references name the same identifier",
            hint="name two different identifiers; `huaxiang identity explain` lists a person's identifiers",
        )
    if (b.token, b.id_type) < (a.token, a.id_type):
        a, b = b, a
    warehouse = workspace.warehouse
    ensure_identity_schema(warehouse)
    now = datetime.now(UTC).replace(tzinfo=None)
    opposite: OverrideKind = "cannot_link" if kind == "must_link" else "must_link"
    pair = {"a": a.token, "b": b.token}
    existing = warehouse.rows(
        "SELECT override_id FROM identity_overrides WHERE kind = $kind AND token_a = $a AND token_b = $b "
        "AND removed_at IS NULL",
        {"kind": kind, **pair},
    )
    with warehouse.transaction() as con:
        con.execute(
            "UPDATE identity_overrides SET removed_at = $now WHERE kind = $kind AND token_a = $a AND token_b = $b "
            "AND removed_at IS NULL",
            {"now": now, "kind": opposite, **pair},
        )
        if existing:
            override_id = str(existing[0][0])
        else:
            override_id = f"ovr-{uuid.uuid4().hex[:12]}"
            con.execute(
                "INSERT INTO identity_overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [override_id, kind, a.token, a.id_type, b.token, b.id_type, note, author, now],
            )
    return next(o for o in list_overrides(workspace, include_removed=True) if o.override_id == override_id)


def list_overrides(workspace: Workspace, *, include_removed: bool = False) -> list[Override]:
    """The steward's decisions, newest first."""
    ensure_identity_schema(workspace.warehouse)
    where = "" if include_removed else "WHERE removed_at IS NULL"
    rows = workspace.warehouse.rows(
        "SELECT override_id, kind, type_a, token_a, type_b, token_b, note, created_by, created_at, removed_at "
        f"FROM identity_overrides {where} ORDER BY created_at DESC, override_id"
    )
    return [Override(*row) for row in rows]

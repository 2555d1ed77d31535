"""Why a person is who it is: its records, its identifiers (masked) and every link with its reason.

Links are recomputed from the person's events with the current rules rather than stored, so an explanation
is exactly what the next resolve would see. Identifier values are decrypted only to be masked
(``138****5678``) here; the full value never leaves this module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from huaxiang.config import IDENTIFIER_KINDS
from huaxiang.errors import NotFoundError
from huaxiang.identity.graph import register_rules
from huaxiang.identity.lookup import find_persons
from huaxiang.identity.rules import blocked_tokens, identifier_kinds, rule_book
from huaxiang.ingest.kinds import ValueContext
from huaxiang.privacy.masking import mask
from huaxiang.workspace import Workspace

DEFAULT_RECORDS = 20


def mask_value(id_type: str, value: str) -> str:
    """A display form that shows enough to recognise a value and not enough to use it; idempotent.

    The privacy layer's masks, chosen by the identifier type's value kind (``138****5678``,
    ``110105********002X``, ``z***@example.com``; other types keep their first and last character).
    """
    return mask(value, IDENTIFIER_KINDS.get(id_type, "string"))


@dataclass(frozen=True, slots=True)
class ExplainedIdentifier:
    id_type: str
    masked: str
    token: str  # first 8 hex digits
    role: str  # member | shared | device
    events: int
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class ExplainedRecord:
    source: str
    record_key: str
    type: str
    ts: datetime
    via: str


@dataclass(frozen=True, slots=True)
class ExplainedLink:
    """A reason two identifiers (or records) belong together, or were kept apart."""

    kind: str  # identifier | match | must_link | cannot_link | shared | attributed | cut
    a: str  # "type masked" of one side
    b: str
    events: int = 0
    sources: tuple[str, ...] = ()
    probability: float | None = None
    weight: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ExplainedChange:
    run_id: str
    at: datetime
    action: str
    person_id: str | None
    other_id: str | None
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Explanation:
    """One person, for a steward: everything needed to see why its records were joined."""

    person_id: str
    reference: str
    alias_of: str | None
    kind: str | None
    created_at: datetime | None
    aliases: tuple[str, ...]
    events: int
    sources: dict[str, int]
    records: tuple[ExplainedRecord, ...]
    identifiers: tuple[ExplainedIdentifier, ...]
    links: tuple[ExplainedLink, ...]
    history: tuple[ExplainedChange, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if hasattr(value, "__slots__") and not isinstance(value, dict):
                return {n: plain(getattr(value, n)) for n in value.__slots__}
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            if isinstance(value, datetime):
                return value.isoformat()
            return value

        result = plain(self)
        assert isinstance(result, dict)
        return result


def explain(workspace: Workspace, reference: str, *, records: int = DEFAULT_RECORDS) -> list[Explanation]:
    """Explain every person the reference (person id or identifier value) refers to."""
    found = find_persons(workspace, reference)
    return [
        _explain_person(workspace, person, reference, found.alias_of, records) for person in found.persons
    ]


def _explain_person(
    workspace: Workspace, person_id: str, reference: str, alias_of: str | None, limit: int
) -> Explanation:
    warehouse = workspace.warehouse
    con = warehouse.con
    config = workspace.config
    book = rule_book(config.identity)
    present = [r[0] for r in warehouse.rows("SELECT DISTINCT id_type FROM event_identifiers")]
    kinds = identifier_kinds(config)
    context = ValueContext(timezone=config.workspace.timezone, region=config.workspace.region)
    blocked = blocked_tokens(book, {t: kinds.get(t, "string") for t in present}, workspace.keyring, context)
    register_rules(con, book, present, blocked)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE hx_x_events AS SELECT event_id, via FROM event_persons WHERE person_id = ?",
            [person_id],
        )
        total = int(con.sql("SELECT count(*) FROM hx_x_events").fetchall()[0][0])
        if not total:
            raise NotFoundError(f"person {person_id} holds no events", hint="run `huaxiang identity resolve`")
        identifiers, display, hidden = _identifiers(workspace, person_id)
        return Explanation(
            person_id=person_id,
            reference=reference,
            alias_of=alias_of,
            kind=warehouse.scalar("SELECT kind FROM identity_persons WHERE person_id = ?", [person_id]),
            created_at=warehouse.scalar(
                "SELECT created_at FROM identity_persons WHERE person_id = ?", [person_id]
            ),
            aliases=tuple(
                r[0]
                for r in warehouse.rows(
                    "SELECT alias_id FROM person_aliases WHERE person_id = ? ORDER BY merged_at, alias_id",
                    [person_id],
                )
            ),
            events=total,
            sources=dict(
                warehouse.rows(
                    "SELECT e.source, count(*) FROM events e SEMI JOIN hx_x_events x ON x.event_id = e.event_id "
                    "GROUP BY 1 ORDER BY 2 DESC"
                )
            ),
            records=tuple(
                ExplainedRecord(source, _mask_key(key, hidden), kind, ts, via)
                for source, key, kind, ts, via in warehouse.rows(
                    "SELECT e.source, e.record_key, e.type, e.ts, x.via FROM events e "
                    "JOIN hx_x_events x ON x.event_id = e.event_id ORDER BY e.ts DESC, e.source, e.record_key LIMIT ?",
                    [limit],
                )
            ),
            identifiers=identifiers,
            links=(
                *_identifier_links(workspace, display),
                *_other_links(workspace, person_id, display, hidden),
            ),
            history=_history(workspace, person_id),
        )
    finally:
        for table in ("hx_x_events", "hx_rules", "hx_blocked"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _identifiers(
    workspace: Workspace, person_id: str
) -> tuple[tuple[ExplainedIdentifier, ...], dict[str, str], dict[str, str]]:
    """The person's identifiers, masked; token → "type masked" for the links; plaintext → masked for keys."""
    rows = workspace.warehouse.rows(
        """
        SELECT a.token, a.id_type, a.role, count(i.event_id), min(e.ts), max(e.ts), any_value(v.value_enc)
        FROM identity_assignments a
        LEFT JOIN event_identifiers i ON i.token = a.token
        LEFT JOIN events e ON e.event_id = i.event_id
        LEFT JOIN identifier_values v ON v.token = a.token
        WHERE a.person_id = ?
        GROUP BY a.token, a.id_type, a.role
        """,
        [person_id],
    )
    book = rule_book(workspace.config.identity)
    cipher = workspace.cipher
    found: list[ExplainedIdentifier] = []
    display: dict[str, str] = {}
    hidden: dict[str, str] = {}
    for token, id_type, role, events, first, last, sealed in rows:
        plain = cipher.decrypt(bytes(sealed), context=id_type) if sealed else ""
        masked = mask_value(id_type, plain) if plain else "***"
        found.append(ExplainedIdentifier(id_type, masked, token[:8], role, int(events), first, last))
        display[token] = f"{id_type} {masked}"
        if plain:
            hidden[plain] = masked
            if plain.startswith("+86"):
                hidden[plain[3:]] = masked
    found.sort(key=lambda i: (-book.rule(i.id_type).priority, i.id_type, -i.events, i.token))
    return tuple(found), display, hidden


def _mask_key(record_key: str, hidden: dict[str, str]) -> str:
    """A record key with the person's identifier values in it masked (a CRM key holds the member number)."""
    for plain in sorted(hidden, key=len, reverse=True):
        if len(plain) >= 4 and plain in record_key:
            record_key = record_key.replace(plain, hidden[plain])
    return record_key


def _side(display: dict[str, str], token: str, id_type: str | None = None) -> str:
    return display.get(token) or f"{id_type or 'identifier'} #{token[:8]}"


def _identifier_links(workspace: Workspace, display: dict[str, str]) -> list[ExplainedLink]:
    """Identifiers seen in the same record: each record links its strongest identifier to its others."""
    rows = workspace.warehouse.rows(
        """
        WITH ids AS (
            SELECT i.event_id, i.id_type, i.token, r.priority, r.shared
            FROM event_identifiers i SEMI JOIN hx_x_events x ON x.event_id = i.event_id
            JOIN hx_rules r ON r.id_type = i.id_type ANTI JOIN hx_blocked b ON b.token = i.token
        ), anchors AS (
            SELECT event_id, arg_max(token, (priority, token)) AS anchor, arg_max(id_type, (priority, token)) AS t
            FROM ids WHERE NOT shared GROUP BY event_id
        )
        SELECT an.anchor, an.t, i.token, i.id_type, i.shared, count(*) AS events,
               list(DISTINCT e.source ORDER BY e.source)
        FROM ids i JOIN anchors an ON an.event_id = i.event_id JOIN events e ON e.event_id = i.event_id
        WHERE i.token <> an.anchor
        GROUP BY ALL ORDER BY i.shared, events DESC, an.anchor, i.token
        """
    )
    links = []
    for anchor, anchor_type, token, id_type, shared, events, sources in rows:
        links.append(
            ExplainedLink(
                kind="shared" if shared else "identifier",
                a=_side(display, anchor, anchor_type),
                b=_side(display, token, id_type),
                events=int(events),
                sources=tuple(sources),
            )
        )
    return links


def _other_links(
    workspace: Workspace, person_id: str, display: dict[str, str], hidden: dict[str, str]
) -> list[ExplainedLink]:
    """Probabilistic matches, the steward's decisions, anonymous events attributed, and links the rules cut."""
    warehouse = workspace.warehouse
    links: list[ExplainedLink] = []
    for source_l, key_l, source_r, key_r, probability, weight in warehouse.rows(
        """
        SELECT el.source, el.record_key, er.source, er.record_key, m.match_probability, m.match_weight
        FROM identity_matches m
        JOIN events el ON el.event_id = m.event_id_l JOIN events er ON er.event_id = m.event_id_r
        WHERE m.event_id_l IN (SELECT event_id FROM hx_x_events) OR m.event_id_r IN (SELECT event_id FROM hx_x_events)
        ORDER BY m.match_probability DESC
        """
    ):
        links.append(
            ExplainedLink(
                "match",
                f"{source_l} {_mask_key(key_l, hidden)}",
                f"{source_r} {_mask_key(key_r, hidden)}",
                probability=float(probability),
                weight=float(weight),
            )
        )
    tokens = list(display)
    for kind, token_a, type_a, token_b, type_b, note, author, created in warehouse.rows(
        """
        SELECT kind, token_a, type_a, token_b, type_b, note, created_by, created_at FROM identity_overrides
        WHERE removed_at IS NULL AND (list_contains($t, token_a) OR list_contains($t, token_b))
        ORDER BY created_at
        """,
        {"t": tokens},
    ):
        detail = f"{author}, {created:%Y-%m-%d %H:%M}" + (f": {note}" if note else "")
        links.append(
            ExplainedLink(
                kind, _side(display, token_a, type_a), _side(display, token_b, type_b), detail=detail
            )
        )
    for via, count in warehouse.rows(
        "SELECT via, count(*) FROM hx_x_events WHERE via IN ('last_login', 'next_login', 'device') GROUP BY 1 ORDER BY 1"
    ):
        links.append(ExplainedLink("attributed", "records", via, events=int(count)))
    for evidence in warehouse.rows(
        "SELECT evidence FROM identity_log WHERE action = 'conflict' AND (person_id = $p OR other_id = $p) "
        "ORDER BY logged_at",
        {"p": person_id},
    ):
        data = json.loads(evidence[0])
        link = data.get("link", {})
        links.append(
            ExplainedLink(
                "cut",
                f"{link.get('a_type')} #{link.get('a')}",
                f"{link.get('b_type')} #{link.get('b')}",
                events=int(link.get("events", 0)),
                detail=str(data.get("rule", "")),
            )
        )
    return links


def _history(workspace: Workspace, person_id: str) -> tuple[ExplainedChange, ...]:
    ids: Sequence[str] = [
        person_id,
        *(
            r[0]
            for r in workspace.warehouse.rows(
                "SELECT alias_id FROM person_aliases WHERE person_id = ?", [person_id]
            )
        ),
    ]
    rows = workspace.warehouse.rows(
        """
        SELECT run_id, logged_at, action, person_id, other_id, evidence FROM identity_log
        WHERE action IN ('merge', 'split') AND (list_contains($ids, person_id) OR list_contains($ids, other_id))
        ORDER BY logged_at, action
        """,
        {"ids": list(ids)},
    )
    return tuple(ExplainedChange(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows)

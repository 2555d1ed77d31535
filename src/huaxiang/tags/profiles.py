"""Reading one profile: who the person is, their attributes, traits and tags, and their latest events.

Values come from the versioned history (the build valid at the requested moment); identifiers and personal
attributes are decrypted only to be shown as the reader's role may see them (``huaxiang.privacy.masking``),
and the read is written to the audit log like any other read of a person. A person is found by id or by any
identifier value, compared as a keyed token like everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from huaxiang.config import IDENTIFIER_KINDS
from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.i18n import Label
from huaxiang.ingest.kinds import ValueContext, kind_named
from huaxiang.privacy import audit
from huaxiang.privacy.classification import classify
from huaxiang.privacy.context import audit_anchor_path, utc_now
from huaxiang.privacy.crypto import token
from huaxiang.privacy.masking import present
from huaxiang.privacy.roles import Principal, Role, check_purpose, require
from huaxiang.tags import history
from huaxiang.tags.build import PERSONS
from huaxiang.tags.definitions import DIMENSIONS
from huaxiang.tags.library import Catalogue, load_catalogue
from huaxiang.workspace import Workspace

#: Event properties shown in the timeline: facts about the event, never about the person.
TIMELINE_FIELDS = (
    "category",
    "amount",
    "unit_price",
    "quantity",
    "channel",
    "store",
    "status",
    "rating",
    "nps",
    "purpose",
    "granted",
    "page",
)


@dataclass(frozen=True, slots=True)
class Identity:
    id_type: str
    value: str  # masked (or clear) as the role may see it
    visibility: str


@dataclass(frozen=True, slots=True)
class ShownValue:
    """A trait or tag value with its labels (``value_label`` for categorical tag values)."""

    name: str
    label: Label
    value: Any
    value_label: Label | None = None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    ts: datetime
    type: str
    source: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ProfileCard:
    """A 360° profile as known at ``moment`` (from the build whose version covers it)."""

    person_id: str
    moment: datetime
    build_id: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    identities: tuple[Identity, ...]
    attributes: tuple[ShownValue, ...]
    traits: tuple[ShownValue, ...]
    tags: dict[str, tuple[ShownValue, ...]] = field(default_factory=dict)
    timeline: tuple[TimelineEvent, ...] = ()

    def to_dict(self, language: str = "en") -> dict[str, Any]:
        def shown(item: ShownValue) -> dict[str, Any]:
            out = {
                "name": item.name,
                "label": item.label.text("zh" if language == "zh" else "en"),
                "value": item.value,
            }
            if item.value_label is not None:
                out["value_label"] = item.value_label.text("zh" if language == "zh" else "en")
            return out

        return {
            "person_id": self.person_id,
            "as_of": self.moment.isoformat(),
            "build_id": self.build_id,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "identities": [
                {"type": i.id_type, "value": i.value, "visibility": i.visibility} for i in self.identities
            ],
            "attributes": [shown(a) for a in self.attributes],
            "traits": [shown(t) for t in self.traits],
            "tags": {dimension: [shown(t) for t in tags] for dimension, tags in self.tags.items()},
            "timeline": [
                {"ts": e.ts.isoformat(), "type": e.type, "source": e.source, **e.details}
                for e in self.timeline
            ],
        }


def find_person(workspace: Workspace, reference: str) -> str:
    """A person id from a person id or any identifier value (``13812345678``, ``a@b.cn``, ``phone:138…``)."""
    warehouse = workspace.warehouse
    if PERSONS not in warehouse.tables():
        raise HuaxiangError("no resolved persons yet", hint="run identity resolution, then `huaxiang build`")
    text = reference.strip()
    if warehouse.scalar(f"SELECT count(*) FROM {PERSONS} WHERE person_id = ?", [text]):
        return text
    wanted, _, value = text.partition(":") if ":" in text and not text.startswith("+") else ("", "", text)
    types = [t for (t,) in warehouse.rows("SELECT DISTINCT id_type FROM event_identifiers ORDER BY 1")]
    tokens = []
    context = ValueContext(
        timezone=workspace.config.workspace.timezone, region=workspace.config.workspace.region
    )
    for id_type in types:
        if wanted and id_type != wanted:
            continue
        normalised = kind_named(IDENTIFIER_KINDS.get(id_type, "string")).normalise(value, context).value
        if normalised is not None:
            tokens.append(token(workspace.keyring, id_type, str(normalised)))
    found = [
        p
        for (p,) in warehouse.rows(
            f"SELECT DISTINCT p.person_id FROM event_identifiers i JOIN {PERSONS} p USING (event_id) "
            "WHERE i.token IN (SELECT unnest($tokens))",
            {"tokens": tokens or [""]},
        )
    ]
    if len(found) == 1:
        return str(found[0])
    if found:
        raise HuaxiangError(
            f"{len(found)} persons share this identifier",
            hint="name the type (phone:…, email:…) or use a person id",
        )
    raise NotFoundError(
        "no person with this id or identifier", hint="check the value, or search by another identifier"
    )


def profile_card(
    workspace: Workspace,
    reference: str,
    principal: Principal,
    *,
    purpose: str = "analytics",
    moment: datetime | None = None,
    events: int = 10,
    catalogue: Catalogue | None = None,
) -> ProfileCard:
    """The profile of the person ``reference`` names, as of ``moment`` (default: the latest build),
    shown as ``principal``'s role may see it; the read is audited with its purpose."""
    require(principal, "read_person")
    purpose = check_purpose(purpose)
    role = principal.role
    person = find_person(workspace, reference)
    warehouse = workspace.warehouse
    builds = history.list_builds(warehouse)
    if not builds:
        raise NotFoundError("no profile build yet", hint="run `huaxiang build` first")
    at = moment or max(b.as_of for b in builds)
    version = history.version_at(warehouse, person, at)
    if version is None:
        raise NotFoundError(
            f"no build knew this person at {at:%Y-%m-%d %H:%M} UTC",
            hint="choose a later --as-of, or run `huaxiang build --as-of DATE` for that day",
        )
    catalogue = catalogue or load_catalogue(workspace.config)
    classification = classify(workspace.config)
    attributes, traits = [], []
    for trait in catalogue.traits:
        if trait.name not in version:
            continue
        value = version[trait.name]
        if trait.agg == "attribute" and value is not None:
            shown = present(value, classification.attribute(trait.name), role)
            if shown.value is not None:
                attributes.append(ShownValue(trait.name, trait.label, shown.value))
        elif trait.agg != "attribute":
            traits.append(ShownValue(trait.name, trait.label, value))
    tags: dict[str, tuple[ShownValue, ...]] = {}
    for dimension, members in catalogue.tags_by_dimension().items():
        values = tuple(
            ShownValue(t.name, t.label, version[t.name], t.value_label(_key(version[t.name])))
            for t in members
            if t.name in version and version[t.name] is not None
        )
        if values:
            tags[dimension] = values
    card = ProfileCard(
        person_id=person,
        moment=at,
        build_id=version.get("build_id"),
        valid_from=version.get("valid_from"),
        valid_to=version.get("valid_to"),
        identities=_identities(workspace, person, role),
        attributes=tuple(attributes),
        traits=tuple(traits),
        tags={d: tags[d] for d in DIMENSIONS if d in tags},
        timeline=_timeline(workspace, person, at, events),
    )
    _audit(workspace, principal, purpose, card)
    return card


def _audit(workspace: Workspace, principal: Principal, purpose: str, card: ProfileCard) -> None:
    tokens = workspace.warehouse.rows(
        f"SELECT DISTINCT i.token FROM event_identifiers i JOIN {PERSONS} p USING (event_id) WHERE p.person_id = ?",
        [card.person_id],
    )
    audit.record(
        workspace.warehouse,
        workspace.keyring,
        audit_anchor_path(workspace),
        principal,
        action="read_profile",
        purpose=purpose,
        subjects=[audit.subject_ref(t) for (t,) in tokens],
        fields=[f"{i.id_type}:{i.visibility}" for i in card.identities] + [a.name for a in card.attributes],
        detail={"build_id": card.build_id, "as_of": card.moment.isoformat(), "events": len(card.timeline)},
        at=utc_now(),
    )


def _key(value: Any) -> Any:
    """Tag values are stored typed; value labels are keyed by text (``True`` → ``"True"``, 3.0 → ``"3"``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _identities(workspace: Workspace, person: str, role: Role) -> tuple[Identity, ...]:
    classification = classify(workspace.config)
    cipher = workspace.cipher
    rows = workspace.warehouse.rows(
        f"SELECT v.id_type, v.value_enc FROM identifier_values v WHERE v.token IN (SELECT i.token FROM "
        f"event_identifiers i JOIN {PERSONS} p USING (event_id) WHERE p.person_id = ?) ORDER BY 1, 2",
        [person],
    )
    shown: dict[tuple[str, str], Identity] = {}
    for id_type, sealed in rows:
        seen = present(
            cipher.decrypt(bytes(sealed), context=id_type), classification.identifier(id_type), role
        )
        if seen.value is not None:
            shown.setdefault((id_type, seen.value), Identity(id_type, seen.value, seen.visibility))
    return tuple(shown.values())


def _timeline(workspace: Workspace, person: str, moment: datetime, limit: int) -> tuple[TimelineEvent, ...]:
    picked = ", ".join(f"e.properties->>'{name}' AS {name}" for name in TIMELINE_FIELDS)
    cursor = workspace.warehouse.con.execute(
        f"SELECT e.ts, e.type, e.source, {picked} FROM events e JOIN {PERSONS} p USING (event_id) "
        "WHERE p.person_id = $person AND e.ts < $at::TIMESTAMP ORDER BY e.ts DESC, e.event_id DESC LIMIT $limit",
        {"person": person, "at": moment.isoformat(sep=" "), "limit": limit},
    )
    rows = cursor.fetchall()
    return tuple(
        TimelineEvent(ts, kind, source, _details(dict(zip(TIMELINE_FIELDS, rest, strict=True))))
        for ts, kind, source, *rest in rows
    )


def _details(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and not str(v).startswith("enc:")}

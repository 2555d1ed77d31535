"""Reading personal data: decrypt, mask by role, and audit, in one place every read path goes through.

:func:`read_person` is the profile read (CLI, Python API, later the HTTP API), :func:`read_consent` the
consent ledger's, :func:`mask_quarantined_record` the quarantine's raw-record read. Both write the audit entry before returning anything, so no caller
can show data without it being logged; a lookup that finds nobody is logged too (someone looked).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from huaxiang.config import Level
from huaxiang.privacy import audit
from huaxiang.privacy.classification import Classification, FieldClass, classify, for_minor
from huaxiang.privacy.consent import ID_CARD, MINOR_AGE, PersonConsent, age_on, person_consent
from huaxiang.privacy.context import PrivacyContext, audit_anchor_path, utc_now
from huaxiang.privacy.crypto import FieldCipher
from huaxiang.privacy.masking import Shown, Visibility, present
from huaxiang.privacy.persons import Identifier, PersonLocator, PersonRecords, default_locator
from huaxiang.privacy.roles import Principal, check_purpose, require
from huaxiang.privacy.suppression import not_found

ENCRYPTED_PREFIX = "enc:"


@dataclass(frozen=True, slots=True)
class ShownField:
    """One field of a profile as the reader's role may see it (hidden fields are left out)."""

    name: str
    value: str | None
    visibility: Visibility
    level: Level
    source: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PersonView:
    """A person as one principal may see them; ``subject`` is the audit log's name for the person."""

    subject: str
    identifiers: tuple[ShownField, ...]
    attributes: tuple[ShownField, ...]
    events: int
    sources: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    minor: bool
    audit_seq: int


def decrypt_json_values(values: Mapping[str, Any], cipher: FieldCipher) -> dict[str, Any]:
    """An ``attributes``/``properties`` object with its ``enc:`` values decrypted (context = the key)."""
    return {
        key: cipher.decrypt(base64.b64decode(value[len(ENCRYPTED_PREFIX) :]), context=key)
        if isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)
        else value
        for key, value in values.items()
    }


def decrypted_identifiers(context: PrivacyContext, person: PersonRecords) -> list[tuple[str, str]]:
    """The person's distinct (type, value) identifiers, decrypted."""
    rows = context.warehouse.rows(
        "SELECT id_type, value_enc FROM identifier_values "
        "WHERE token IN (SELECT token FROM event_identifiers WHERE event_id IN (SELECT unnest($e)))",
        {"e": sorted(person.event_ids)},
    )
    cipher = context.cipher
    return sorted({(id_type, cipher.decrypt(sealed, context=id_type)) for id_type, sealed in rows})


def _birth_dates(identifiers: list[tuple[str, str]]) -> set[date]:
    found = set()
    for id_type, value in identifiers:
        if id_type == ID_CARD:
            try:
                found.add(ric.get_birth_date(value))
            except ValidationError:
                continue
    return found


def _address_parts(name: str, attributes: Mapping[str, Any]) -> tuple[str | None, ...]:
    prefix = "" if name == "address" else f"{name}_"
    return tuple(attributes.get(prefix + part) for part in ("province", "city", "district"))


def _latest_attributes(
    context: PrivacyContext, person: PersonRecords
) -> dict[str, tuple[Any, str, datetime, dict[str, Any]]]:
    """Latest non-null value of every attribute (by event time, then arrival), with its source and event."""
    rows = context.warehouse.rows(
        "SELECT source, ts, attributes::VARCHAR FROM events WHERE event_id IN (SELECT unnest($e)) "
        "AND attributes IS NOT NULL ORDER BY ts, received_at, event_id",
        {"e": sorted(person.event_ids)},
    )
    latest: dict[str, tuple[Any, str, datetime, dict[str, Any]]] = {}
    for source, ts, text in rows:
        values = decrypt_json_values(json.loads(text), context.cipher)
        for key, value in values.items():
            if value is not None:
                latest[key] = (value, source, ts, values)
    return latest


def read_person(
    context: PrivacyContext,
    principal: Principal,
    identifier: Identifier,
    purpose: str,
    *,
    locator: PersonLocator | None = None,
    as_of: date | None = None,
) -> PersonView:
    """The profile of the person holding ``identifier``, masked for ``principal``'s role, and audited."""
    require(principal, "read_person")
    purpose = check_purpose(purpose)
    warehouse = context.warehouse
    looked_up = identifier.token(context.keyring)
    person = (locator or default_locator(warehouse)).locate(warehouse, [looked_up])
    now = utc_now()
    anchor = audit_anchor_path(context)
    if not person.found:
        audit.record(
            warehouse,
            context.keyring,
            anchor,
            principal,
            action="read_person",
            purpose=purpose,
            subjects=[audit.subject_ref(looked_up)],
            detail={"found": False, "identifier_type": identifier.type},
            at=now,
        )
        raise not_found(warehouse, looked_up, identifier.type)
    classification = classify(context.config)
    identifiers = decrypted_identifiers(context, person)
    births = _birth_dates(identifiers)
    minor = any(age_on(b, as_of or now.date()) < MINOR_AGE for b in births)
    shown_ids = _shown_identifiers(identifiers, classification, principal, minor)
    shown_attributes = _shown_attributes(
        _latest_attributes(context, person), classification, principal, minor
    )
    summary = warehouse.rows(
        "SELECT count(*), list(DISTINCT source ORDER BY source), min(ts), max(ts) FROM events "
        "WHERE event_id IN (SELECT unnest($e))",
        {"e": sorted(person.event_ids)},
    )[0]
    fields = [f"{f.name}:{f.visibility}" for f in (*shown_ids, *shown_attributes)]
    entry = audit.record(
        warehouse,
        context.keyring,
        anchor,
        principal,
        action="read_person",
        purpose=purpose,
        subjects=[audit.subject_ref(t) for t in person.tokens],
        fields=fields,
        detail={"found": True, "identifier_type": identifier.type, "events": int(summary[0]), "minor": minor},
        at=now,
    )
    return PersonView(
        subject=audit.subject_ref(person.key),
        identifiers=shown_ids,
        attributes=shown_attributes,
        events=int(summary[0]),
        sources=tuple(summary[1] or ()),
        first_seen=summary[2],
        last_seen=summary[3],
        minor=minor,
        audit_seq=entry.seq,
    )


def _classified(field_class: FieldClass, minor: bool) -> FieldClass:
    return for_minor(field_class) if minor else field_class


def _shown_identifiers(
    identifiers: list[tuple[str, str]], classification: Classification, principal: Principal, minor: bool
) -> tuple[ShownField, ...]:
    shown = []
    for id_type, value in identifiers:
        field_class = _classified(classification.identifier(id_type), minor)
        seen = present(value, field_class, principal.role)
        if seen.visibility != "hidden":
            shown.append(ShownField(id_type, seen.value, seen.visibility, field_class.level))
    return tuple(dict.fromkeys(shown))  # two values can mask alike; show each masked form once


def _shown_attributes(
    latest: Mapping[str, tuple[Any, str, datetime, dict[str, Any]]],
    classification: Classification,
    principal: Principal,
    minor: bool,
) -> tuple[ShownField, ...]:
    shown = []
    for name in sorted(latest):
        value, source, ts, event_values = latest[name]
        field_class = _classified(classification.attribute(name), minor)
        parts = _address_parts(name, event_values) if field_class.kind == "address" else None
        seen: Shown = present(
            value, field_class, principal.role, address_parts=parts if parts and any(parts) else None
        )
        if seen.visibility != "hidden":
            shown.append(ShownField(name, seen.value, seen.visibility, field_class.level, source, ts))
    return tuple(shown)


def mask_quarantined_record(
    context: PrivacyContext,
    principal: Principal,
    source: str,
    quarantine_id: str,
    raw: Mapping[str, Any],
    *,
    purpose: str = "quarantine_review",
) -> dict[str, str | None]:
    """A quarantined raw record as ``principal`` may see it (hidden columns left out), audited.

    Levels come from the source's field mapping in ``huaxiang.yaml``; columns it does not map are treated
    as personal, since a rejected record may hold anything.
    """
    require(principal, "read_quarantine")
    purpose = check_purpose(purpose)
    classification = classify(context.config)
    shown: dict[str, str | None] = {}
    fields = []
    for column, value in raw.items():
        seen = present(value, classification.column(source, column), principal.role)
        if seen.visibility == "hidden":
            continue
        shown[column] = seen.value
        fields.append(f"{column}:{seen.visibility}")
    audit.record(
        context.warehouse,
        context.keyring,
        audit_anchor_path(context),
        principal,
        action="read_quarantine",
        purpose=purpose,
        fields=fields,
        detail={"quarantine_id": quarantine_id, "source": source},
        at=utc_now(),
    )
    return shown


def read_consent(
    context: PrivacyContext,
    principal: Principal,
    identifier: Identifier,
    *,
    purpose: str = "consent_review",
    locator: PersonLocator | None = None,
    as_of: date | None = None,
) -> PersonConsent:
    """One person's consent ledger and current states (decisions and evidence, no profile fields), audited."""
    require(principal, "read_consent")
    purpose = check_purpose(purpose)
    warehouse = context.warehouse
    looked_up = identifier.token(context.keyring)
    person = (locator or default_locator(warehouse)).locate(warehouse, [looked_up])
    now = utc_now()
    subjects = [audit.subject_ref(t) for t in person.tokens] or [audit.subject_ref(looked_up)]
    consent = (
        person_consent(warehouse, context.cipher, person, as_of=as_of or now.date()) if person.found else None
    )
    audit.record(
        warehouse,
        context.keyring,
        audit_anchor_path(context),
        principal,
        action="read_consent",
        purpose=purpose,
        subjects=subjects,
        fields=["consent"],
        detail={"found": person.found, "identifier_type": identifier.type},
        at=now,
    )
    if consent is None:
        raise not_found(warehouse, looked_up, identifier.type)
    return consent

"""The consent ledger: per person and purpose, what was decided, when, on what evidence.

Consent is read from ``consent_change`` events, never stored apart from them: the event log is the source
of truth, and each decision keeps its evidence (source system, event time, file and line, an evidence
reference). A ``consent_change`` event carries ``purpose`` (lower_snake_case), ``granted`` (true/false in
English or Chinese spellings) and optionally ``guardian`` (the consent was given by a parent or guardian)
and ``evidence`` (a form id, recording id, …) as properties or attributes.

Rules: the latest decision wins (event time, then arrival, then event id); no decision means no consent
(privacy by default); a person under 14 by the birth date in their ID number is a minor, whose consent
counts only when given by a guardian (PIPL art. 31). Refusing purpose ``personalisation`` is the PIPL art. 24
refusal of personalised recommendation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy.crypto import FieldCipher
from huaxiang.privacy.persons import PersonLocator, PersonRecords
from huaxiang.privacy.roles import InvalidInputError, check_purpose

log = logging.getLogger(__name__)

CONSENT_EVENT = "consent_change"
PERSONALISATION = "personalisation"
STANDARD_PURPOSES: tuple[str, ...] = (
    "marketing_sms",
    "marketing_email",
    PERSONALISATION,
    "analytics",
    "third_party_sharing",
)
MINOR_AGE = 14
ID_CARD = "id_card"

_YES = ("true", "1", "yes", "y", "t", "granted", "grant", "opt_in", "opt-in", "是", "同意", "允许")
_NO = (
    "false",
    "0",
    "no",
    "n",
    "f",
    "denied",
    "deny",
    "withdrawn",
    "revoked",
    "opt_out",
    "opt-out",
    "否",
    "拒绝",
    "撤回",
)

ConsentStatus = Literal["granted", "denied", "no_record", "needs_guardian"]


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One consent decision with its evidence."""

    event_id: str
    purpose: str
    granted: bool
    guardian: bool
    at: datetime
    received_at: datetime
    source: str
    record_ref: str
    evidence: str | None


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The current state for one person and purpose, and the decision it rests on."""

    person_key: str
    purpose: str
    status: ConsentStatus
    decided_by: ConsentRecord | None
    minor: bool

    @property
    def allowed(self) -> bool:
        return self.status == "granted"


@dataclass(frozen=True, slots=True)
class PersonConsent:
    """One person's consent history (oldest first), current state per purpose, and minor status."""

    person_key: str
    minor: bool
    birth_dates: tuple[date, ...]
    history: tuple[ConsentRecord, ...]
    states: dict[str, ConsentState]

    def state(self, purpose: str) -> ConsentState:
        return self.states.get(purpose) or ConsentState(
            self.person_key, purpose, "no_record", None, self.minor
        )


@dataclass(frozen=True, slots=True)
class ActivationFilter:
    """Candidates split by consent for one purpose; ``excluded`` says why each was left out."""

    purpose: str
    allowed: frozenset[str]
    excluded: dict[str, ConsentStatus]
    minors: frozenset[str] = frozenset()  # candidates under 14: their data is sensitive (PIPL art. 28)


def _flag(expression: str) -> str:
    text = f"lower(trim(({expression})::VARCHAR))"
    yes = ", ".join(f"'{w}'" for w in _YES)
    no = ", ".join(f"'{w}'" for w in _NO)
    return f"CASE WHEN {text} IN ({yes}) THEN true WHEN {text} IN ({no}) THEN false END"


def _field(name: str) -> str:
    return f"coalesce(e.properties->>'{name}', e.attributes->>'{name}')"


_RECORDS = (
    f"SELECT e.event_id, lower(trim({_field('purpose')})) AS purpose, {_flag(_field('granted'))} AS granted, "
    f"coalesce({_flag(_field('guardian'))}, false) AS guardian, e.ts, e.received_at, e.source, e.record_ref, "
    f"{_field('evidence')} AS evidence FROM events e WHERE e.type = '{CONSENT_EVENT}'"
)


def _records(rows: Iterable[tuple[Any, ...]]) -> list[ConsentRecord]:
    kept: list[ConsentRecord] = []
    skipped = 0
    for event_id, purpose, granted, guardian, at, received_at, source, ref, evidence in rows:
        if granted is None or not isinstance(purpose, str) or not _valid_purpose(purpose):
            skipped += 1
            continue
        kept.append(
            ConsentRecord(
                str(event_id),
                purpose,
                bool(granted),
                bool(guardian),
                at,
                received_at,
                str(source),
                str(ref),
                None if evidence is None else str(evidence),
            )
        )
    if skipped:
        log.warning("%d consent_change events without a valid purpose or granted flag were ignored", skipped)
    return kept


def _valid_purpose(purpose: str) -> bool:
    try:
        check_purpose(purpose)
    except InvalidInputError:
        return False
    return True


def _order(record: ConsentRecord) -> tuple[datetime, datetime, str]:
    return (record.at, record.received_at, record.event_id)


def _id_card_birth_dates(cipher: FieldCipher, rows: Sequence[tuple[Any, ...]]) -> dict[str, set[date]]:
    """Birth dates from ID numbers (decrypted here only; never stored), by the row's key."""
    found: dict[str, set[date]] = {}
    for key, sealed in rows:
        try:
            number = cipher.decrypt(sealed, context=ID_CARD)
            found.setdefault(key, set()).add(ric.get_birth_date(number))
        except ValidationError:
            continue
    return found


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _state(person_key: str, purpose: str, history: Sequence[ConsentRecord], minor: bool) -> ConsentState:
    decisions = [r for r in history if r.purpose == purpose]
    if not decisions:
        return ConsentState(person_key, purpose, "no_record", None, minor)
    latest = max(decisions, key=_order)
    if not latest.granted:
        return ConsentState(person_key, purpose, "denied", latest, minor)
    if minor and not latest.guardian:
        return ConsentState(person_key, purpose, "needs_guardian", latest, minor)
    return ConsentState(person_key, purpose, "granted", latest, minor)


def person_consent(
    warehouse: Warehouse, cipher: FieldCipher, person: PersonRecords, *, as_of: date
) -> PersonConsent:
    """The ledger of one person: every decision with its evidence, and the state of every purpose."""
    events = sorted(person.event_ids)
    history = sorted(
        _records(warehouse.rows(f"{_RECORDS} AND e.event_id IN (SELECT unnest($e))", {"e": events})),
        key=_order,
    )
    sealed = warehouse.rows(
        "SELECT 'person', value_enc FROM identifier_values WHERE id_type = ? "
        "AND token IN (SELECT token FROM event_identifiers WHERE event_id IN (SELECT unnest(?)))",
        [ID_CARD, events],
    )
    births = tuple(sorted(_id_card_birth_dates(cipher, sealed).get("person", set())))
    minor = any(age_on(b, as_of) < MINOR_AGE for b in births)
    purposes = dict.fromkeys([*STANDARD_PURPOSES, *(r.purpose for r in history)])
    states = {p: _state(person.key, p, history, minor) for p in purposes}
    return PersonConsent(person.key, minor, births, tuple(history), states)


def consent_states(
    warehouse: Warehouse, cipher: FieldCipher, purpose: str, locator: PersonLocator, *, as_of: date
) -> list[ConsentState]:
    """The state of ``purpose`` for every person in the warehouse (persons as the locator assigns them)."""
    purpose = check_purpose(purpose)
    locator.assign(warehouse, "_consent_persons")
    try:
        keys = [r[0] for r in warehouse.rows("SELECT DISTINCT person_key FROM _consent_persons ORDER BY 1")]
        rows = warehouse.rows(
            f"SELECT p.person_key, r.* FROM ({_RECORDS}) r JOIN _consent_persons p USING (event_id) "
            "WHERE r.purpose = ?",
            [purpose],
        )
        history: dict[str, list[ConsentRecord]] = {}
        for row in rows:
            for record in _records([row[1:]]):
                history.setdefault(str(row[0]), []).append(record)
        sealed = warehouse.rows(
            "SELECT DISTINCT p.person_key, v.value_enc FROM event_identifiers i "
            "JOIN _consent_persons p USING (event_id) JOIN identifier_values v ON v.token = i.token "
            "WHERE i.id_type = ?",
            [ID_CARD],
        )
    finally:
        warehouse.con.execute("DROP TABLE IF EXISTS _consent_persons")
    births = _id_card_birth_dates(cipher, sealed)
    minors = {key for key, dates in births.items() if any(age_on(b, as_of) < MINOR_AGE for b in dates)}
    return [_state(key, purpose, history.get(key, []), key in minors) for key in keys]


def activation_filter(
    warehouse: Warehouse,
    cipher: FieldCipher,
    purpose: str,
    candidates: Iterable[str],
    locator: PersonLocator,
    *,
    as_of: date,
) -> ActivationFilter:
    """Keep the candidate persons (person keys) who consented to ``purpose``; every activation calls this."""
    wanted = set(candidates)
    allowed: set[str] = set()
    excluded: dict[str, ConsentStatus] = {}
    known: set[str] = set()
    minors: set[str] = set()
    for state in consent_states(warehouse, cipher, purpose, locator, as_of=as_of):
        if state.person_key not in wanted:
            continue
        known.add(state.person_key)
        if state.minor:
            minors.add(state.person_key)
        if state.allowed:
            allowed.add(state.person_key)
        else:
            excluded[state.person_key] = state.status
    for missing in wanted - known:
        excluded[missing] = "no_record"
    return ActivationFilter(purpose, frozenset(allowed), excluded, frozenset(minors))

"""Contacts for an activation: consent-filtered, masked by role and audited, for a list of persons.

Every activation path (audience exports now; segments, webhooks and recommendations later) hands its
candidate persons to :func:`audience_contacts` and sends only what comes back. The consent decision is
:func:`~huaxiang.privacy.consent.activation_filter`'s (no record means no consent, a minor needs a guardian's
consent, refusing ``personalisation`` is PIPL art. 24); the contact value is shown as the principal's role
may see it (:mod:`~huaxiang.privacy.masking`, with minors' data treated as sensitive); one audit entry
names the purpose, the fields and every contacted identifier (as keyed references), so a person's own
data export lists the campaigns that reached them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from huaxiang.privacy import audit
from huaxiang.privacy.classification import classify, for_minor
from huaxiang.privacy.consent import PERSONALISATION, ConsentStatus, activation_filter
from huaxiang.privacy.context import PrivacyContext, audit_anchor_path, utc_now
from huaxiang.privacy.crypto import token
from huaxiang.privacy.masking import Visibility, present
from huaxiang.privacy.persons import default_locator
from huaxiang.privacy.roles import AccessDeniedError, InvalidInputError, Principal, check_purpose, require

ExclusionReason = Literal[
    "no_consent",
    "consent_withdrawn",
    "refused_personalisation",
    "minor_without_guardian",
    "minor_contact_hidden",
    "no_contact",
]

#: Why a person was left out, as users read it.
EXCLUSION_LABELS: Mapping[ExclusionReason, tuple[str, str]] = {
    "no_consent": ("未同意该用途", "no consent recorded for this purpose"),
    "consent_withdrawn": ("已拒绝或撤回同意", "consent refused or withdrawn"),
    "refused_personalisation": (
        "拒绝个性化推荐（个保法第24条）",
        "refused personalised recommendation (PIPL art. 24)",
    ),
    "minor_without_guardian": ("未满14周岁且无监护人同意", "under 14 without a guardian's consent"),
    "minor_contact_hidden": (
        "未成年人信息属敏感信息，当前角色不可见",
        "a minor's contact is sensitive and hidden for this role",
    ),
    "no_contact": ("无可用联系方式", "no contact identifier of the needed type"),
}

#: The contact identifier a purpose needs, by the purpose's channel suffix.
CHANNEL_CONTACTS: Mapping[str, str] = {"sms": "phone", "email": "email", "call": "phone"}


@dataclass(frozen=True, slots=True)
class AudienceMember:
    """One person who may be contacted for the purpose, with the contact as the principal may see it."""

    person_id: str
    contact: str
    visibility: Visibility


@dataclass(frozen=True, slots=True)
class Audience:
    """The contactable persons and, for every candidate left out, why."""

    purpose: str
    contact_type: str
    members: tuple[AudienceMember, ...]
    excluded: dict[str, ExclusionReason]
    audit_seq: int

    def excluded_counts(self) -> dict[ExclusionReason, int]:
        return dict(Counter(self.excluded.values()).most_common())


def contact_type_for(purpose: str) -> str:
    """``marketing_sms`` → phone, ``marketing_email`` → email; other purposes name their contact explicitly."""
    channel = check_purpose(purpose).rsplit("_", 1)[-1]
    if channel not in CHANNEL_CONTACTS:
        raise InvalidInputError(
            f"purpose {purpose!r} names no channel, so the contact to export is unknown / 无法确定联系方式",
            hint="give the contact identifier type (e.g. --contact phone), or use a purpose ending in "
            + ", ".join(f"_{c}" for c in CHANNEL_CONTACTS),
        )
    return CHANNEL_CONTACTS[channel]


def _reason(purpose: str, status: ConsentStatus) -> ExclusionReason:
    if status == "needs_guardian":
        return "minor_without_guardian"
    if status == "denied":
        return "refused_personalisation" if purpose == PERSONALISATION else "consent_withdrawn"
    return "no_consent"


def _latest_contacts(context: PrivacyContext, persons: Sequence[str], id_type: str) -> dict[str, bytes]:
    """Each person's most recently seen sealed value of ``id_type`` (by event time, then arrival)."""
    rows = context.warehouse.rows(
        "SELECT p.person_id, arg_max(v.value_enc, (e.ts, e.received_at, e.event_id)) "
        "FROM event_persons p JOIN event_identifiers i USING (event_id) JOIN events e USING (event_id) "
        "JOIN identifier_values v ON v.token = i.token "
        "WHERE i.id_type = $t AND p.person_id IN (SELECT unnest($p)) GROUP BY 1",
        {"t": id_type, "p": list(persons)},
    )
    return {str(person): sealed for person, sealed in rows}


def audience_contacts(
    context: PrivacyContext,
    principal: Principal,
    purpose: str,
    candidates: Iterable[str],
    *,
    contact_type: str | None = None,
    as_of: date | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Audience:
    """The candidates (person ids) who may be contacted for ``purpose``, their contacts shown per role, audited.

    Persons come from identity resolution (``event_persons``), the ids profiles are keyed by. ``detail`` is
    added to the audit entry (the export's file name and filter, say).
    """
    require(principal, "export_audience")
    purpose = check_purpose(purpose)
    id_type = contact_type or contact_type_for(purpose)
    classification = classify(context.config)
    field_class = classification.identifier(id_type)
    day = as_of or utc_now().date()
    warehouse = context.warehouse
    locator = default_locator(warehouse)
    wanted = sorted(set(candidates))
    decision = activation_filter(warehouse, context.cipher, purpose, wanted, locator, as_of=day)
    excluded: dict[str, ExclusionReason] = {p: _reason(purpose, s) for p, s in decision.excluded.items()}
    allowed = sorted(decision.allowed)
    sealed = _latest_contacts(context, allowed, id_type)
    minors = decision.minors
    members: list[AudienceMember] = []
    tokens: list[str] = []
    for person in allowed:
        if person not in sealed:
            excluded[person] = "no_contact"
            continue
        value = context.cipher.decrypt(sealed[person], context=id_type)
        shown = present(value, for_minor(field_class) if person in minors else field_class, principal.role)
        if shown.value is None:
            if person in minors:
                excluded[person] = "minor_contact_hidden"  # PIPL art. 28: a minor's data is sensitive
                continue
            raise AccessDeniedError(
                f"role {principal.role!r} may not see {id_type} ({field_class.level}) / 该角色无权查看此联系方式",
                hint="an audience export needs a role that sees the contact masked or clear, e.g. marketer or dpo",
            )
        members.append(AudienceMember(person, shown.value, shown.visibility))
        tokens.append(audit.subject_ref(token(context.keyring, id_type, value)))
    visibilities = sorted({m.visibility for m in members})
    entry = audit.record(
        warehouse,
        context.keyring,
        audit_anchor_path(context),
        principal,
        action="export_audience",
        purpose=purpose,
        subjects=sorted(set(tokens)),
        fields=[f"{id_type}:{v}" for v in visibilities] or [id_type],
        detail={
            **(detail or {}),
            "candidates": len(wanted),
            "exported": len(members),
            "excluded": dict(Counter(excluded.values())),
        },
        at=utc_now(),
    )
    return Audience(purpose, id_type, tuple(members), excluded, entry.seq)

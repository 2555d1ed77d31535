"""Privacy by design: keys and tokens, masking by role, consent, access control, audit, data-subject rights.

See docs/privacy.md for what is protected, how, and which PIPL and GDPR articles each part serves.
"""

from huaxiang.privacy.access import (
    acting_principal,
    add_principal,
    authenticate,
    list_principals,
    revoke_principal,
)
from huaxiang.privacy.audit import list_audit, verify_audit
from huaxiang.privacy.consent import activation_filter, consent_states, person_consent
from huaxiang.privacy.keys import key_status, rotate_keys
from huaxiang.privacy.persons import Identifier, PersonLocator, PersonRecords, default_locator
from huaxiang.privacy.reader import PersonView, mask_quarantined_record, read_consent, read_person
from huaxiang.privacy.retention import apply_retention
from huaxiang.privacy.roles import Principal, Role
from huaxiang.privacy.subjects import erase_person, export_person
from huaxiang.privacy.suppression import is_suppressed_sql, suppressed, suppressed_tokens_sql

__all__ = [
    "Identifier",
    "PersonLocator",
    "PersonRecords",
    "PersonView",
    "Principal",
    "Role",
    "acting_principal",
    "activation_filter",
    "add_principal",
    "apply_retention",
    "authenticate",
    "consent_states",
    "default_locator",
    "erase_person",
    "export_person",
    "is_suppressed_sql",
    "key_status",
    "list_audit",
    "list_principals",
    "mask_quarantined_record",
    "person_consent",
    "read_consent",
    "read_person",
    "revoke_principal",
    "rotate_keys",
    "suppressed",
    "suppressed_tokens_sql",
    "verify_audit",
]

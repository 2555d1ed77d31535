"""Roles, principals and what each role may do: the pure core of access control.

Five fixed roles rather than configurable permission sets: the issue names them, auditors ask "who can do
what" and a fixed table answers it on one page (docs/privacy.md). What a role *sees* of each
classification level is the masking policy (:mod:`huaxiang.privacy.masking`); this module says which
operations it may run at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from huaxiang.errors import HuaxiangError

Role = Literal["admin", "analyst", "marketer", "service", "dpo"]
ROLES: tuple[Role, ...] = get_args(Role)

Action = Literal[
    "read_person",
    "read_quarantine",
    "read_consent",
    "export_person",
    "erase_person",
    "apply_retention",
    "read_audit",
    "manage_principals",
    "manage_keys",
    "export_audience",
]

#: Which roles may run each operation. Data-subject requests and the audit log belong to the DPO (and
#: the administrator who runs the installation); bulk marketing reads (audience exports) go through the
#: consent filter of :mod:`huaxiang.privacy.audience`, never to a service agent, who serves one person.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    "read_person": frozenset(ROLES),
    "read_quarantine": frozenset({"admin", "analyst", "dpo"}),
    "read_consent": frozenset({"admin", "dpo", "marketer", "service"}),
    "export_person": frozenset({"admin", "dpo"}),
    "erase_person": frozenset({"admin", "dpo"}),
    "apply_retention": frozenset({"admin", "dpo"}),
    "read_audit": frozenset({"admin", "dpo"}),
    "manage_principals": frozenset({"admin"}),
    "manage_keys": frozenset({"admin"}),
    "export_audience": frozenset({"admin", "analyst", "marketer", "dpo"}),
}

_PRINCIPAL_NAME = re.compile(r"[\w.@-]{1,64}")
_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,62}")
_REFERENCE = re.compile(r"[\w.@:/-]{1,64}")


class AccessDeniedError(HuaxiangError):
    """A principal is unknown, revoked, or its role may not run an operation."""


class InvalidInputError(HuaxiangError):
    """A user-supplied name, purpose or identifier is malformed (refused before any query runs)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a registered principal (API key) or the workspace owner working locally."""

    principal_id: str
    name: str
    role: Role
    local: bool = False


def require(principal: Principal, action: Action) -> None:
    """Raise unless the principal's role may run ``action``."""
    allowed = PERMISSIONS[action]
    if principal.role not in allowed:
        raise AccessDeniedError(
            f"role {principal.role!r} of {principal.name!r} may not {action.replace('_', ' ')} / 无权执行此操作",
            hint=f"roles allowed: {', '.join(sorted(allowed))}",
        )


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise InvalidInputError(f"unknown role {role[:40]!r}", hint=f"use one of: {', '.join(ROLES)}")


def check_principal_name(name: str) -> str:
    """Letters, digits and ``_ . @ -`` (any script), 1-64 characters."""
    if not _PRINCIPAL_NAME.fullmatch(name):
        raise InvalidInputError(
            f"invalid principal name {name[:40]!r} / 名称无效",
            hint="use 1-64 letters, digits, '_', '.', '@' or '-'",
        )
    return name


def check_purpose(purpose: str) -> str:
    """A processing purpose is a lower_snake_case name (``marketing_sms``, ``customer_service``)."""
    if not _PURPOSE.fullmatch(purpose):
        raise InvalidInputError(
            f"invalid purpose {purpose[:40]!r} / 用途无效",
            hint="purposes are lower_snake_case names such as marketing_sms or customer_service",
        )
    return purpose


def check_reference(reference: str) -> str:
    """A request reference (ticket number, case id) as logged: 1-64 letters, digits or ``_ . @ : / -``."""
    if not _REFERENCE.fullmatch(reference):
        raise InvalidInputError(
            f"invalid request reference {reference[:40]!r} / 请求编号无效",
            hint="use 1-64 letters, digits, '_', '.', '@', ':', '/' or '-'",
        )
    return reference

"""Principals and their API keys: registered, authenticated, revoked; keys kept only as scrypt hashes.

An API key is ``hx_<key id>_<secret>``: the key id finds the row, the secret is checked against an scrypt
hash (``cryptography``'s Scrypt, salted, parameters stored with the hash so they can be raised later). A
slow KDF rather than a plain hash because a stolen warehouse file must not yield working keys.

Without ``HUAXIANG_API_KEY`` the CLI acts as the workspace owner, an ``admin``: whoever can read the key
file can decrypt everything anyway, so the owner of that file (checked by uid) is trusted locally.
"""

from __future__ import annotations

import base64
import getpass
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from huaxiang.privacy import audit
from huaxiang.privacy.context import PrivacyContext, audit_anchor_path, utc_now
from huaxiang.privacy.roles import (
    AccessDeniedError,
    Principal,
    Role,
    check_principal_name,
    check_role,
    require,
)
from huaxiang.privacy.schema import ensure_privacy_schema, table_exists

API_KEY_ENV = "HUAXIANG_API_KEY"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_MAX_KEY_LENGTH = 200
_API_KEY = re.compile(r"hx_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True)
class PrincipalRecord:
    """A registered principal as listed (never with its key)."""

    principal_id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewPrincipal:
    """A principal just added, with its API key: shown once, stored only as a hash."""

    principal: Principal
    api_key: str


def _hash_secret(
    secret: str, salt: bytes, n: int = _SCRYPT_N, r: int = _SCRYPT_R, p: int = _SCRYPT_P
) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret.encode())


def _encode_hash(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _hash_secret(secret, salt)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def _matches(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        Scrypt(salt=base64.b64decode(salt), length=32, n=int(n), r=int(r), p=int(p)).verify(
            secret.encode(), base64.b64decode(digest)
        )
    except (ValueError, InvalidKey):
        return False
    return True


def add_principal(context: PrivacyContext, name: str, role: str, *, by: Principal) -> NewPrincipal:
    """Register a principal with a new API key; the key is returned once and never stored."""
    require(by, "manage_principals")
    name, checked_role = check_principal_name(name), check_role(role)
    warehouse = context.warehouse
    ensure_privacy_schema(warehouse)
    if warehouse.scalar("SELECT count(*) FROM principals WHERE name = ? AND revoked_at IS NULL", [name]):
        raise AccessDeniedError(
            f"a principal named {name!r} already exists / 该名称已存在",
            hint="revoke it first, or choose another name",
        )
    principal = Principal(f"p-{secrets.token_hex(8)}", name, checked_role)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    now = utc_now()
    with warehouse.transaction() as con:
        con.execute(
            "INSERT INTO principals VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            [principal.principal_id, name, checked_role, key_id, _encode_hash(secret), now, by.principal_id],
        )
        entry = audit.append_entry(
            con,
            context.keyring,
            by,
            action="add_principal",
            purpose="access_management",
            detail={"principal": principal.principal_id, "role": checked_role},
            at=now,
        )
    audit.write_anchor(audit_anchor_path(context), context.keyring, entry)
    return NewPrincipal(principal, f"hx_{key_id}_{secret}")


def list_principals(context: PrivacyContext, *, include_revoked: bool = False) -> list[PrincipalRecord]:
    warehouse = context.warehouse
    if not table_exists(warehouse, "principals"):
        return []
    rows = warehouse.rows(
        "SELECT principal_id, name, role, created_at, created_by, revoked_at FROM principals "
        "WHERE ? OR revoked_at IS NULL ORDER BY created_at, name",
        [include_revoked],
    )
    return [
        PrincipalRecord(pid, name, check_role(role), created, by, revoked)
        for pid, name, role, created, by, revoked in rows
    ]


def revoke_principal(context: PrivacyContext, name: str, *, by: Principal) -> PrincipalRecord:
    """Revoke a principal's key at once; the row stays so the audit log keeps naming it."""
    require(by, "manage_principals")
    name = check_principal_name(name)
    warehouse = context.warehouse
    ensure_privacy_schema(warehouse)
    found = warehouse.rows(
        "SELECT principal_id FROM principals WHERE name = ? AND revoked_at IS NULL", [name]
    )
    if not found:
        raise AccessDeniedError(
            f"no active principal named {name!r} / 无此主体", hint="list them with `huaxiang principal list`"
        )
    now = utc_now()
    with warehouse.transaction() as con:
        con.execute("UPDATE principals SET revoked_at = ? WHERE principal_id = ?", [now, found[0][0]])
        entry = audit.append_entry(
            con,
            context.keyring,
            by,
            action="revoke_principal",
            purpose="access_management",
            detail={"principal": found[0][0]},
            at=now,
        )
    audit.write_anchor(audit_anchor_path(context), context.keyring, entry)
    return next(r for r in list_principals(context, include_revoked=True) if r.principal_id == found[0][0])


def authenticate(context: PrivacyContext, api_key: str) -> Principal:
    """The active principal holding ``api_key``; the same error for every kind of failure."""
    denied = AccessDeniedError(
        "the API key is not valid / API 密钥无效", hint=f"check {API_KEY_ENV}, or ask an admin for a new key"
    )
    if len(api_key) > _MAX_KEY_LENGTH or not _API_KEY.fullmatch(api_key.strip()):
        # The exact shape only: HMAC (inside scrypt) pads short keys with zero bytes, so a secret with NULs
        # appended would otherwise verify as the secret itself.
        raise denied
    parts = api_key.strip().split("_", 2)
    warehouse = context.warehouse
    if not table_exists(warehouse, "principals"):
        raise denied
    rows = warehouse.rows(
        "SELECT principal_id, name, role, key_hash FROM principals WHERE key_id = ? AND revoked_at IS NULL",
        [parts[1]],
    )
    for principal_id, name, role, stored in rows:
        if _matches(parts[2], stored):
            return Principal(principal_id, name, check_role(role))
    raise denied


def local_owner(key_file: Path) -> Principal:
    """The workspace owner working locally: an ``admin``, if this OS user owns the key file."""
    user = getpass.getuser()
    if key_file.exists() and hasattr(os, "getuid") and key_file.stat().st_uid != os.getuid():
        raise AccessDeniedError(
            f"user {user!r} does not own the workspace key file / 当前用户不是工作区所有者",
            location=str(key_file),
            hint=f"set {API_KEY_ENV} to an API key issued with `huaxiang principal add`",
        )
    return Principal(f"local:{user}", user, "admin", local=True)


def acting_principal(context: PrivacyContext, environ: Mapping[str, str] | None = None) -> Principal:
    """``HUAXIANG_API_KEY``'s principal if set, else the local owner (see the module docstring)."""
    env = os.environ if environ is None else environ
    api_key = env.get(API_KEY_ENV)
    if api_key:
        return authenticate(context, api_key)
    return local_owner(context.key_file)

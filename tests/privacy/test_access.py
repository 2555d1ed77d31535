"""Principals: API keys shown once and stored as scrypt hashes; revocation is immediate; roles gate operations."""

from __future__ import annotations

import pytest

from huaxiang.privacy import audit
from huaxiang.privacy.access import (
    API_KEY_ENV,
    acting_principal,
    add_principal,
    authenticate,
    list_principals,
    revoke_principal,
)
from huaxiang.privacy.roles import PERMISSIONS, ROLES, AccessDeniedError, InvalidInputError, require
from tests.privacy.conftest import Shop, as_role, warehouse_bytes


def test_a_key_works_once_issued_and_is_never_stored(shop: Shop) -> None:
    ws = shop.workspace
    created = add_principal(ws, "小李", "analyst", by=shop.owner)
    assert created.api_key.startswith("hx_")
    assert authenticate(ws, created.api_key) == created.principal
    assert acting_principal(ws, {API_KEY_ENV: created.api_key}).role == "analyst"
    secret = created.api_key.split("_", 2)[2]
    stored = ws.warehouse.scalar("SELECT key_hash FROM principals WHERE name = '小李'")
    assert stored.startswith("scrypt$") and secret not in stored
    assert [(r.name, r.role) for r in list_principals(ws)] == [("小李", "analyst")]
    assert secret.encode() not in warehouse_bytes(ws)


def test_wrong_revoked_and_malformed_keys_are_refused_alike(shop: Shop) -> None:
    ws = shop.workspace
    created = add_principal(ws, "ops-bot", "service", by=shop.owner)
    key_id = created.api_key.split("_")[1]
    for bad in (f"hx_{key_id}_wrong", "hx_", "", "x" * 10_000, "hx_' OR 1=1 --_x", created.api_key + "\0"):
        with pytest.raises(AccessDeniedError, match="not valid"):
            authenticate(ws, bad)
    revoke_principal(ws, "ops-bot", by=shop.owner)
    with pytest.raises(AccessDeniedError):
        authenticate(ws, created.api_key)
    assert list_principals(ws) == [] and len(list_principals(ws, include_revoked=True)) == 1
    actions = [e.action for e in audit.list_audit(ws.warehouse)]
    assert actions[:2] == ["revoke_principal", "add_principal"]


def test_only_admins_manage_principals_and_names_are_checked(shop: Shop) -> None:
    ws = shop.workspace
    with pytest.raises(AccessDeniedError):
        add_principal(ws, "someone", "dpo", by=as_role("dpo"))
    for name in ("robert'); DROP TABLE events;--", "a b", "", "x" * 65, "nul\0byte"):
        with pytest.raises(InvalidInputError):
            add_principal(ws, name, "analyst", by=shop.owner)
    with pytest.raises(InvalidInputError, match="unknown role"):
        add_principal(ws, "someone", "root", by=shop.owner)
    add_principal(ws, "dup", "analyst", by=shop.owner)
    with pytest.raises(AccessDeniedError, match="already exists"):
        add_principal(ws, "dup", "marketer", by=shop.owner)
    assert ws.warehouse.count("events") > 0


def test_without_an_api_key_the_owner_acts_as_admin(shop: Shop) -> None:
    owner = acting_principal(shop.workspace, {})
    assert owner.role == "admin" and owner.local and owner.principal_id.startswith("local:")


def test_the_permission_table_is_complete() -> None:
    assert all(PERMISSIONS[action] <= set(ROLES) for action in PERMISSIONS)
    require(as_role("dpo"), "erase_person")
    for role in ("analyst", "marketer", "service"):
        with pytest.raises(AccessDeniedError):
            require(as_role(role), "erase_person")

"""Key rotation re-encrypts everything, keeps tokens and the audit chain, and survives a crash at any step."""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

import pytest

from huaxiang.errors import KeyMaterialError
from huaxiang.ingest import ingest_source
from huaxiang.privacy import key_providers, keys
from huaxiang.privacy.audit import verify_audit
from huaxiang.privacy.context import audit_anchor_path
from huaxiang.privacy.crypto import FieldCipher, token
from huaxiang.privacy.persons import Identifier
from huaxiang.privacy.reader import read_person
from huaxiang.workspace import Workspace
from tests.privacy.conftest import SECRETS, Shop, as_role, warehouse_bytes

PHONE = Identifier("phone", "+8613812345678")


def key_file(ws: Workspace) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ws.key_file.read_text())
    return data


def everything_decrypts(ws: Workspace) -> int:
    """Decrypt every ciphertext in the warehouse with a freshly loaded keyring; return how many."""
    fresh = Workspace.open(ws.root)
    cipher = fresh.cipher
    count = 0
    for id_type, sealed in ws.warehouse.rows("SELECT id_type, value_enc FROM identifier_values"):
        cipher.decrypt(sealed, context=id_type)
        count += 1
    for (sealed,) in ws.warehouse.rows("SELECT raw_enc FROM quarantine"):
        json.loads(cipher.decrypt(sealed, context="quarantine"))
        count += 1
    for (text,) in ws.warehouse.rows("SELECT attributes::VARCHAR FROM events WHERE attributes IS NOT NULL"):
        for name, value in json.loads(text).items():
            if isinstance(value, str) and value.startswith("enc:"):
                cipher.decrypt(base64.b64decode(value[4:]), context=name)
                count += 1
    return count


def test_rotation_reencrypts_everything_and_retires_the_old_key(shop: Shop) -> None:
    ws = shop.workspace
    read_person(ws, as_role("analyst"), PHONE, "analytics")  # an audit entry under the old key material
    tokens_before = ws.warehouse.rows("SELECT event_id, id_type, token FROM event_identifiers ORDER BY ALL")
    attributes_before = ws.warehouse.rows(
        "SELECT event_id, attributes::VARCHAR FROM events ORDER BY event_id"
    )
    total = everything_decrypts(ws)

    report = keys.rotate_keys(ws, shop.owner)

    assert (report.previous, report.current, report.retired) == ("k1", "k2", ("k1",))
    assert sum(report.reencrypted.values()) == total
    assert set(key_file(ws)["keys"]) == {"k2"} and key_file(ws)["current"] == "k2"
    assert keys.key_status(ws).usage.keys() == {"k2"}
    assert everything_decrypts(ws) == total
    # Tokens are untouched (matching and suppression keep working), and new tokens still equal them.
    assert (
        ws.warehouse.rows("SELECT event_id, id_type, token FROM event_identifiers ORDER BY ALL")
        == tokens_before
    )
    assert token(ws.keyring, "phone", "+8613812345678") == PHONE.token(Workspace.open(ws.root).keyring)
    # Only the ciphertexts inside the JSON changed, every other byte is as it was.
    enc = re.compile(r'"enc:[A-Za-z0-9+/=]+"')
    after = ws.warehouse.rows("SELECT event_id, attributes::VARCHAR FROM events ORDER BY event_id")
    assert [(e, enc.sub("", a or "")) for e, a in after] == [
        (e, enc.sub("", a or "")) for e, a in attributes_before
    ]
    assert after != attributes_before
    assert verify_audit(ws.warehouse, ws.keyring, audit_anchor_path(ws)).ok
    assert ws.warehouse.count("key_rotations") == 1


def test_no_plaintext_after_rotation(shop: Shop) -> None:
    keys.rotate_keys(shop.workspace, shop.owner)
    raw = warehouse_bytes(shop.workspace)
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


def test_a_failure_inside_the_reencryption_changes_nothing(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = shop.workspace
    before = ws.warehouse.rows("SELECT value_enc FROM identifier_values ORDER BY ALL")

    def crash(*_: object) -> int:
        raise RuntimeError("killed half way")

    monkeypatch.setattr(keys, "_rotate_quarantine", crash)
    with pytest.raises(RuntimeError):
        keys.rotate_keys(ws, shop.owner)
    assert ws.warehouse.rows("SELECT value_enc FROM identifier_values ORDER BY ALL") == before
    assert key_file(ws)["current"] == "k1" and set(key_file(ws)["keys"]) == {"k1", "k2"}
    everything_decrypts(ws)
    monkeypatch.undo()
    report = keys.rotate_keys(ws, shop.owner)  # a rerun finishes the job and retires both unused keys
    assert report.current == "k3" and report.retired == ("k1", "k2")
    everything_decrypts(ws)


def test_a_crash_before_switching_the_current_key_loses_nothing(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = shop.workspace
    original = key_providers.save_keyring  # what the key file provider stores a keyring with
    calls = []

    def save_then_crash(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("power cut")
        original(*args, **kwargs)

    monkeypatch.setattr(key_providers, "save_keyring", save_then_crash)
    with pytest.raises(OSError, match="power cut"):
        keys.rotate_keys(ws, shop.owner)
    monkeypatch.undo()
    assert key_file(ws)["current"] == "k1"  # the warehouse is under k2, both keys are held
    assert keys.key_usage(ws.warehouse).keys() == {"k2"}
    everything_decrypts(ws)
    ingest_source(ws, "orders", force=True)  # new data under the old current key is still readable
    everything_decrypts(ws)
    assert keys.rotate_keys(ws, shop.owner).retired == ("k1", "k2")
    everything_decrypts(ws)


def test_a_ciphertext_in_an_unknown_place_blocks_rotation(shop: Shop) -> None:
    ws = shop.workspace
    ws.warehouse.con.execute("CREATE TABLE later_stage (note BLOB)")
    ws.warehouse.con.execute(
        "INSERT INTO later_stage VALUES (?)", [FieldCipher(ws.keyring).encrypt("x", context="note")]
    )
    with pytest.raises(KeyMaterialError, match="old keys remain"):
        keys.rotate_keys(ws, shop.owner)
    assert keys.key_usage(ws.warehouse).keys() == {"k1"}
    everything_decrypts(ws)


def test_an_environment_key_is_not_rotated_here(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUAXIANG_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    ws = Workspace.open(shop.workspace.root)
    try:
        with pytest.raises(KeyMaterialError, match="environment"):
            keys.rotate_keys(ws, shop.owner)
    finally:
        ws.close()

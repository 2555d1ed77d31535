"""Key providers: the key file, the environment, and an external KMS command (a real script here)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from huaxiang.config import CONFIG_FILE
from huaxiang.errors import ConfigError, KeyMaterialError
from huaxiang.ingest import ingest_all
from huaxiang.privacy import keys
from huaxiang.privacy.crypto import FieldCipher
from huaxiang.privacy.persons import Identifier
from huaxiang.privacy.reader import read_person
from huaxiang.workspace import Workspace
from tests.conftest import MakeWorkspace
from tests.privacy.conftest import FILES, SOURCES, Shop, as_role

PHONE = Identifier("phone", "+8613812345678")
KEY = base64.b64encode(bytes(range(32))).decode()


def script(path: Path, body: str) -> Path:
    """An executable shell script standing where a KMS client would (vault, aliyun kms, an HSM wrapper)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(stat.S_IRWXU)
    return path


def use_keys(ws: Workspace, keys_yaml: str) -> Workspace:
    """Reopen the workspace with ``privacy.keys`` set to the given flow-style YAML mapping."""
    ws.close()
    config = ws.root / CONFIG_FILE
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("privacy:\n", f"privacy:\n  keys: {keys_yaml}\n", 1), encoding="utf-8")
    return Workspace.open(ws.root)


def test_a_kms_command_serves_the_keyring_and_takes_back_a_rotated_one(shop: Shop, tmp_path: Path) -> None:
    ws = shop.workspace
    before = read_person(ws, as_role("dpo"), PHONE, "customer_service")
    vault = tmp_path / "vault" / "huaxiang.json"  # the KMS's own store, outside the workspace
    vault.parent.mkdir()
    vault.write_text(ws.key_file.read_text())
    ws.key_file.unlink()
    get = script(ws.root / "bin" / "get-key", f'cat "{vault}"')
    put = script(tmp_path / "put-key", f'cat > "{vault}.new" && mv "{vault}.new" "{vault}"')
    ws = use_keys(
        ws, f'{{provider: command, command: [./bin/get-key], store_command: ["{put}"], timeout_seconds: 10}}'
    )
    assert get.exists() and not ws.key_file.exists()
    again = read_person(ws, as_role("dpo"), PHONE, "customer_service")
    assert {(f.name, f.value) for f in again.identifiers} == {(f.name, f.value) for f in before.identifiers}

    report = keys.rotate_keys(ws, shop.owner)
    stored = json.loads(vault.read_text())
    assert stored["current"] == report.current == "k2" and set(stored["keys"]) == {"k2"}
    fresh = Workspace.open(ws.root)  # loads through the command again
    for id_type, sealed in fresh.warehouse.rows("SELECT id_type, value_enc FROM identifier_values"):
        assert FieldCipher.key_id_of(sealed) == "k2"
        fresh.cipher.decrypt(sealed, context=id_type)
    assert read_person(fresh, as_role("dpo"), PHONE, "customer_service").identifiers == again.identifiers
    assert not ws.key_file.exists()
    fresh.close()


def test_a_command_printing_one_base64_key_encrypts_a_new_workspace(
    make_workspace: MakeWorkspace, tmp_path: Path
) -> None:
    ws = make_workspace(SOURCES, FILES)
    ws.key_file.unlink()
    kms = script(tmp_path / "kms-get", f'echo "{KEY}"')
    ws = use_keys(ws, f'{{provider: command, command: ["{kms}"]}}')
    ingest_all(ws)
    sealed = ws.warehouse.rows("SELECT id_type, value_enc FROM identifier_values")
    assert sealed and {FieldCipher.key_id_of(s) for _, s in sealed} == {"external"}
    assert not ws.key_file.exists()
    with pytest.raises(KeyMaterialError, match="store_command"):  # the KMS owns rotation: refused, untouched
        keys.rotate_keys(ws, as_role("admin"))
    assert {
        FieldCipher.key_id_of(s) for (s,) in ws.warehouse.rows("SELECT value_enc FROM identifier_values")
    } == {"external"}
    ws.close()


@pytest.mark.parametrize(
    ("body", "timeout", "message"),
    [
        ('echo "vault: permission denied" >&2; exit 3', 10, "exit code 3: vault: permission denied"),
        ("echo not-a-key", 10, "base64-encoded 32-byte key"),
        ('echo \'{"current": "k9", "keys": {}}\'', 10, "current key must be one of"),
        ("sleep 5", 0.5, "did not finish within 0.5 s"),
    ],
)
def test_a_failing_kms_command_says_what_went_wrong(
    shop: Shop, tmp_path: Path, body: str, timeout: float, message: str
) -> None:
    command = script(tmp_path / "kms", body)
    ws = use_keys(
        shop.workspace, f'{{provider: command, command: ["{command}"], timeout_seconds: {timeout}}}'
    )
    with pytest.raises(KeyMaterialError, match=message) as raised:
        ws.keyring  # noqa: B018 - loading is what fails
    assert raised.value.hint
    ws.close()


def test_a_missing_command_and_a_half_configured_provider_are_refused(shop: Shop) -> None:
    ws = use_keys(shop.workspace, "{provider: command, command: [./no/such/kms-client]}")
    with pytest.raises(KeyMaterialError, match="was not found"):
        ws.keyring  # noqa: B018
    ws.close()
    config = ws.root / CONFIG_FILE
    config.write_text(
        config.read_text(encoding="utf-8").replace("command: [./no/such/kms-client]", "timeout_seconds: 5"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="needs `command`"):
        Workspace.open(ws.root)


def test_the_env_provider_reads_only_the_variable(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = use_keys(shop.workspace, "{provider: env}")
    monkeypatch.delenv("HUAXIANG_MASTER_KEY", raising=False)
    with pytest.raises(KeyMaterialError, match="is not set"):
        ws.keyring  # noqa: B018 - the key file is there, but this provider never reads it
    monkeypatch.setenv("HUAXIANG_MASTER_KEY", KEY)
    fresh = Workspace.open(ws.root)
    assert fresh.keyring.current == "env"
    fresh.close()
    ws.close()

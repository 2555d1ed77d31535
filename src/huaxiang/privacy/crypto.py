"""Keys, keyed tokens and field encryption: no plaintext identifier or sensitive value reaches the warehouse.

Identifiers are stored as HMAC-SHA256 tokens (matching and lookup need only equality) beside an
AES-GCM ciphertext (for masked display, export and erasure proofs). Whole-file DuckDB encryption is not
used: writing it needs the httpfs extension, which cannot be installed from the package registries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from huaxiang.errors import KeyMaterialError

_FORMAT = 1
_NONCE = 12
_BLOCK = 64  # SHA-256 block size, for HMAC's inner and outer pads


@dataclass(frozen=True, slots=True)
class HmacPads:
    """HMAC-SHA256's precomputed inner and outer pads, so DuckDB can compute tokens in SQL.

    DuckDB has ``sha256`` but no HMAC; HMAC(K, m) = H((K^opad) || H((K^ipad) || m)) is built from it
    in :func:`token_sql` and tested against Python's :mod:`hmac` for equality.
    """

    inner: bytes
    outer: bytes


@dataclass(frozen=True, slots=True)
class Keyring:
    """The workspace's master keys by id; new data uses ``current``, old ciphertexts name their key.

    ``pinned`` holds keys that must outlive a rotation (``token``, ``audit``): rotating the encryption key
    must not change identifier tokens (matching, suppression lists) or break the audit chain, so the first
    rotation stores the derived token and audit keys on their own and the old master key can be retired.
    """

    current: str
    keys: dict[str, bytes] = field(repr=False)
    pinned: dict[str, bytes] = field(default_factory=dict, repr=False)

    def _derive(self, key_id: str, purpose: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"huaxiang/" + purpose).derive(
            self.keys[key_id]
        )

    def token_key(self, key_id: str | None = None) -> bytes:
        if key_id is None and "token" in self.pinned:
            return self.pinned["token"]
        return self._derive(key_id or self.current, b"token")

    def audit_key(self) -> bytes:
        """The key of the audit log's hash chain: stable across rotations, like the token key."""
        if "audit" in self.pinned:
            return self.pinned["audit"]
        return self._derive(self.current, b"audit")

    def encryption_key(self, key_id: str) -> bytes:
        return self._derive(key_id, b"encrypt")

    def pads(self, key_id: str | None = None) -> HmacPads:
        key = self.token_key(key_id).ljust(_BLOCK, b"\0")
        return HmacPads(bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key))


def token(keyring: Keyring, kind: str, value: str) -> str:
    """Keyed token of one identifier value, scoped by its type so equal strings of different types differ."""
    message = f"{kind}\x1f{value}".encode()
    return hmac.new(keyring.token_key(), message, hashlib.sha256).hexdigest()


def token_sql(kind_sql: str, value_sql: str) -> str:
    """DuckDB expression equal to :func:`token`; bind ``$hmac_inner`` and ``$hmac_outer`` (never inline keys)."""
    message = f"encode({kind_sql} || chr(31) || {value_sql})"
    return f"sha256($hmac_outer::BLOB || unhex(sha256($hmac_inner::BLOB || {message})))"


def pad_parameters(keyring: Keyring) -> dict[str, bytes]:
    pads = keyring.pads()
    return {"hmac_inner": pads.inner, "hmac_outer": pads.outer}


class FieldCipher:
    """AES-256-GCM for single values; ciphertext = format byte, key id, nonce, sealed bytes."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._aead: dict[str, AESGCM] = {}

    def _for(self, key_id: str) -> AESGCM:
        if key_id not in self._aead:
            if key_id not in self._keyring.keys:
                raise KeyMaterialError(
                    f"data was encrypted with key {key_id!r}, which this workspace's keyring does not hold",
                    hint="restore the key file that was in use, or the environment variable's key",
                )
            self._aead[key_id] = AESGCM(self._keyring.encryption_key(key_id))
        return self._aead[key_id]

    def encrypt(self, plaintext: str, *, context: str = "") -> bytes:
        """Seal a value; ``context`` (e.g. the field name) is authenticated so values cannot be swapped."""
        key_id = self._keyring.current
        nonce = os.urandom(_NONCE)
        sealed = self._for(key_id).encrypt(nonce, plaintext.encode(), context.encode())
        header = bytes([_FORMAT, len(key_id)]) + key_id.encode()
        return header + nonce + sealed

    def encrypt_many(self, plaintexts: Sequence[str], *, context: str = "") -> list[bytes]:
        """:meth:`encrypt` for many values: one call for all their random nonces, one header.

        Same format and the same security as sealing each value alone; ingest seals every distinct
        identifier of a batch, where a system call per nonce was a third of the cost.
        """
        key_id = self._keyring.current
        aead = self._for(key_id)
        header = bytes([_FORMAT, len(key_id)]) + key_id.encode()
        nonces = os.urandom(_NONCE * len(plaintexts))
        associated = context.encode()
        return [
            header + nonce + aead.encrypt(nonce, text.encode(), associated)
            for nonce, text in zip(
                (nonces[i : i + _NONCE] for i in range(0, len(nonces), _NONCE)), plaintexts, strict=True
            )
        ]

    def decrypt(self, blob: bytes, *, context: str = "") -> str:
        key_id = self.key_id_of(blob)
        start = 2 + len(key_id)
        nonce, sealed = blob[start : start + _NONCE], blob[start + _NONCE :]
        return self._for(key_id).decrypt(nonce, sealed, context.encode()).decode()

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        if len(blob) < 2 or blob[0] != _FORMAT:
            raise KeyMaterialError("not a huaxiang ciphertext (unknown format byte)")
        return blob[2 : 2 + blob[1]].decode()


def keyring_from_key(text: str, *, origin: str, key_id: str) -> Keyring:
    """One base64-encoded 32-byte key (from an environment variable or a KMS) as a keyring of that key."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyMaterialError(
            f"{origin} must hold a base64-encoded 32-byte key",
            hint='generate one with: python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"',
        )
    return Keyring(current=key_id, keys={key_id: key})


def keyring_from_document(text: str, *, origin: str) -> Keyring:
    """A keyring document (``{"current": …, "keys": {id: base64}, "pinned": …}``), as the key file holds it."""
    try:
        data = json.loads(text)
        keyring = Keyring(
            current=str(data["current"]),
            keys={str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()},
            pinned={str(k): base64.b64decode(v, validate=True) for k, v in data.get("pinned", {}).items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise KeyMaterialError(
            f"not a keyring document ({type(error).__name__}) / 密钥环格式无效",
            location=origin,
            hint='expected {"current": "k1", "keys": {"k1": "<base64 32 bytes>"}}',
        ) from None
    if keyring.current not in keyring.keys or any(len(k) != 32 for k in keyring.keys.values()):
        raise KeyMaterialError(
            "the current key must be one of its 32-byte keys / 密钥环无效",
            location=origin,
            hint='expected {"current": "k1", "keys": {"k1": "<base64 32 bytes>"}}',
        )
    return keyring


def keyring_document(keyring: Keyring) -> str:
    """The keyring as the JSON document the key file (or a KMS entry) stores."""
    payload: dict[str, object] = {
        "current": keyring.current,
        "keys": {k: base64.b64encode(v).decode() for k, v in keyring.keys.items()},
    }
    if keyring.pinned:
        payload["pinned"] = {k: base64.b64encode(v).decode() for k, v in keyring.pinned.items()}
    return json.dumps(payload)


def load_key_file(key_file: Path, *, env_var: str | None = None) -> Keyring:
    """The keyring in an owner-only key file (refused when others may read it)."""
    if not key_file.exists():
        alternative = f"set {env_var}" if env_var else "configure privacy.keys"
        raise KeyMaterialError(
            "the workspace key is missing",
            location=str(key_file),
            hint=f"restore the key file, or {alternative}; without the key no encrypted value can be read",
        )
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        raise KeyMaterialError(
            f"key file is readable by others (mode {oct(mode)})",
            location=str(key_file),
            hint=f"run: chmod 600 {key_file}",
        )
    return keyring_from_document(key_file.read_text(), origin=str(key_file))


def create_key_file(key_file: Path) -> Keyring:
    """Write a new keyring with one random key, readable by its owner only."""
    keyring = Keyring(current="k1", keys={"k1": secrets.token_bytes(32)})
    save_keyring(keyring, key_file)
    return keyring


def save_keyring(keyring: Keyring, key_file: Path) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(key_file.parent, 0o700)
    temporary = key_file.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(keyring_document(keyring))
        handle.flush()
        os.fsync(handle.fileno())  # a rotation commits data under a new key only after that key is on disk
    os.replace(temporary, key_file)
    directory = os.open(key_file.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

"""Key rotation: re-encrypt every ciphertext under a new key, then retire the old one, crash-safe.

The steps are ordered so that a crash between any two leaves every ciphertext readable:

1. the new key is *added* to the key file (the current key is unchanged; the token and audit keys are
   pinned, so tokens and the audit chain survive the old key's retirement);
2. one warehouse transaction re-encrypts every ciphertext under the new key and records the key ids now in
   use (``key_usage``, ``key_rotations``) — all or nothing;
3. the key file's current key becomes the new one;
4. the warehouse is scanned again and keys no ciphertext uses any more are removed from the key file.

A rerun after a crash simply rotates again. Keys held in the environment variable cannot be rotated here:
the operator changes them (and re-encryption would need both old and new at once).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from huaxiang.backends.duckdb import Warehouse
from huaxiang.errors import KeyMaterialError
from huaxiang.privacy import audit
from huaxiang.privacy.compaction import CompactableContext, try_compact
from huaxiang.privacy.context import PrivacyContext, audit_anchor_path, utc_now
from huaxiang.privacy.crypto import FieldCipher, Keyring
from huaxiang.privacy.holdings import quote
from huaxiang.privacy.key_providers import ENV_KEY_ID, KeyProvider
from huaxiang.privacy.roles import Principal, require
from huaxiang.privacy.schema import USER_COLUMNS, ensure_privacy_schema

log = logging.getLogger(__name__)

_ENCRYPTED = re.compile(r'"enc:([A-Za-z0-9+/=]+)"')


class RotatableContext(CompactableContext, Protocol):
    """A workspace whose keys come from a provider that can store a rotated keyring, and can be reloaded."""

    @property
    def key_provider(self) -> KeyProvider: ...

    def reload_keys(self) -> None: ...


@dataclass(frozen=True, slots=True)
class KeyStatus:
    current: str
    keys: tuple[str, ...]
    pinned: tuple[str, ...]
    from_environment: bool
    usage: dict[str, dict[str, int]]  # key id → location → ciphertexts

    def unused(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys if k != self.current and not self.usage.get(k))


@dataclass(frozen=True, slots=True)
class RotationReport:
    previous: str
    current: str
    reencrypted: dict[str, int]
    retired: tuple[str, ...]
    audit_seq: int
    compacted: bool = False


def _blob_key_counts(warehouse: Warehouse, table: str, column: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for (blob,) in warehouse.rows(
        f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} IS NOT NULL"
    ):
        try:
            counts[FieldCipher.key_id_of(blob)] += 1
        except KeyMaterialError:  # a binary value that is not one of our ciphertexts
            continue
    return counts


def _json_key_counts(warehouse: Warehouse, column: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for (text,) in warehouse.rows(
        f"SELECT {column}::VARCHAR FROM events WHERE contains({column}::VARCHAR, '\"enc:')"
    ):
        for match in _ENCRYPTED.finditer(text):
            counts[FieldCipher.key_id_of(base64.b64decode(match[1]))] += 1
    return counts


def key_usage(warehouse: Warehouse) -> dict[str, dict[str, int]]:
    """Ciphertexts per key id and location, read from the ciphertexts themselves.

    Every BLOB column of every table is scanned, not only the ones rotation knows, so a ciphertext a later
    stage stores elsewhere shows up here (and blocks rotation) instead of being stranded under a retired key.
    """
    counts = {
        f"{table}.{column}": _blob_key_counts(warehouse, table, column)
        for table, column in warehouse.rows(
            f"SELECT table_name, column_name FROM ({USER_COLUMNS}) WHERE data_type = 'BLOB' ORDER BY 1, 2"
        )
    }
    counts["events.attributes"] = _json_key_counts(warehouse, "attributes")
    counts["events.properties"] = _json_key_counts(warehouse, "properties")
    usage: dict[str, dict[str, int]] = {}
    for location, counter in counts.items():
        for key_id, n in counter.items():
            usage.setdefault(key_id, {})[location] = n
    return usage


def key_status(context: PrivacyContext) -> KeyStatus:
    keyring = context.keyring
    return KeyStatus(
        current=keyring.current,
        keys=tuple(sorted(keyring.keys)),
        pinned=tuple(sorted(keyring.pinned)),
        from_environment=keyring.current == ENV_KEY_ID,
        usage=key_usage(context.warehouse),
    )


def _next_id(keyring: Keyring) -> str:
    numbers = [int(k[1:]) for k in keyring.keys if re.fullmatch(r"k\d+", k)]
    return f"k{max(numbers, default=0) + 1}"


def rotate_keys(
    context: RotatableContext, principal: Principal, *, retire: bool = True, compact: bool = True
) -> RotationReport:
    """Re-encrypt every ciphertext under a new key and (by default) retire keys no longer used.

    ``compact`` rewrites the warehouse file at the end, so old ciphertexts do not linger in freed blocks.
    """
    require(principal, "manage_keys")
    keyring = context.keyring
    if keyring.current == ENV_KEY_ID:
        raise KeyMaterialError(
            "the key comes from the environment variable and cannot be rotated by huaxiang / 环境变量中的密钥无法在此轮换",
            hint="move the key into the key file, or rotate it in your key management system",
        )
    warehouse = context.warehouse
    ensure_privacy_schema(warehouse)
    started = utc_now()
    new_id = _next_id(keyring)
    pinned = dict(keyring.pinned)
    pinned.setdefault("token", keyring.token_key())
    pinned.setdefault("audit", keyring.audit_key())
    staged = Keyring(
        current=keyring.current, keys={**keyring.keys, new_id: secrets.token_bytes(32)}, pinned=pinned
    )
    context.key_provider.save(staged)  # step 1: the new key exists before anything uses it
    context.reload_keys()
    reader = FieldCipher(staged)
    writer = FieldCipher(Keyring(current=new_id, keys=staged.keys, pinned=pinned))
    with warehouse.transaction() as con:  # step 2: all ciphertexts, or none
        counts = {
            "identifier_values.value_enc": _rotate_identifiers(con, reader, writer),
            "quarantine.raw_enc": _rotate_quarantine(con, reader, writer),
            "events": _rotate_event_json(con, reader, writer),
        }
        usage = key_usage(warehouse)
        left = {k: places for k, places in usage.items() if k != new_id}
        if left:  # never commit (and later retire keys) while a ciphertext under an old key remains
            raise KeyMaterialError(f"ciphertexts under old keys remain after re-encryption: {left}")
        con.execute("DELETE FROM key_usage")
        con.executemany(
            "INSERT INTO key_usage VALUES (?, ?, ?, ?)",
            [
                [key_id, location, n, utc_now()]
                for key_id, places in usage.items()
                for location, n in places.items()
            ],
        )
        con.execute(
            "INSERT INTO key_rotations VALUES (?, ?, ?, ?, ?, ?)",
            [
                f"rot-{secrets.token_hex(6)}",
                started,
                utc_now(),
                sorted(set(staged.keys) - {new_id}),
                new_id,
                sum(counts.values()),
            ],
        )
        entry = audit.append_entry(
            con,
            staged,
            principal,
            action="rotate_keys",
            purpose="security",
            detail={"from": keyring.current, "to": new_id, "reencrypted": counts},
            at=utc_now(),
        )
    audit.write_anchor(audit_anchor_path(context), staged, entry)
    switched = Keyring(current=new_id, keys=staged.keys, pinned=pinned)
    context.key_provider.save(switched)  # step 3
    context.reload_keys()
    retired: tuple[str, ...] = ()
    if retire:  # step 4: only keys that no ciphertext names any more
        in_use = set(key_usage(warehouse))
        kept = {k: v for k, v in switched.keys.items() if k == new_id or k in in_use}
        retired = tuple(sorted(set(switched.keys) - set(kept)))
        if retired:
            context.key_provider.save(Keyring(current=new_id, keys=kept, pinned=pinned))
            context.reload_keys()
            log.info("retired keys %s", ", ".join(retired))
    compacted = compact and try_compact(context)
    return RotationReport(keyring.current, new_id, counts, retired, entry.seq, compacted)


def _rotate_identifiers(con: duckdb.DuckDBPyConnection, reader: FieldCipher, writer: FieldCipher) -> int:
    rows = con.execute("SELECT rowid, id_type, value_enc FROM identifier_values").fetchall()
    fresh = [
        writer.encrypt(reader.decrypt(sealed, context=id_type), context=id_type)
        for _, id_type, sealed in rows
    ]
    _update_by_rowid(con, "identifier_values", "value_enc", [r[0] for r in rows], fresh, pa.binary())
    return len(rows)


def _rotate_quarantine(con: duckdb.DuckDBPyConnection, reader: FieldCipher, writer: FieldCipher) -> int:
    rows = con.execute("SELECT rowid, raw_enc FROM quarantine").fetchall()
    fresh = [
        writer.encrypt(reader.decrypt(sealed, context="quarantine"), context="quarantine")
        for _, sealed in rows
    ]
    _update_by_rowid(con, "quarantine", "raw_enc", [r[0] for r in rows], fresh, pa.binary())
    return len(rows)


def _rotate_event_json(con: duckdb.DuckDBPyConnection, reader: FieldCipher, writer: FieldCipher) -> int:
    """Re-encrypt ``enc:`` values inside attributes and properties, replacing only those strings.

    A text replacement rather than re-serialising the JSON, so every other value keeps its exact form
    (``1299.00`` stays ``1299.00``); base64 has no character JSON escapes, and each replacement is checked.
    """
    total = 0
    for column in ("attributes", "properties"):
        rows = con.execute(
            f"SELECT rowid, {column}::VARCHAR FROM events WHERE contains({column}::VARCHAR, '\"enc:')"
        ).fetchall()
        fresh = []
        for _, text in rows:
            values = json.loads(text)
            for key, value in values.items():
                if isinstance(value, str) and value.startswith("enc:"):
                    plain = reader.decrypt(base64.b64decode(value[4:]), context=key)
                    sealed = "enc:" + base64.b64encode(writer.encrypt(plain, context=key)).decode()
                    text = text.replace(f'"{value}"', f'"{sealed}"')
                    if json.loads(text).get(key) != sealed:
                        raise KeyMaterialError(f"could not re-encrypt {column}.{key} in place")
                    total += 1
            fresh.append(text)
        _update_by_rowid(con, "events", column, [r[0] for r in rows], fresh, pa.string(), cast="JSON")
    return total


def _update_by_rowid(
    con: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    rowids: list[int],
    values: list[Any],
    arrow_type: pa.DataType,
    cast: str | None = None,
) -> None:
    if not rowids:
        return
    con.register(
        "_rekeyed", pa.table({"rid": pa.array(rowids, pa.int64()), "value": pa.array(values, arrow_type)})
    )
    try:
        value = f"r.value::{cast}" if cast else "r.value"
        con.execute(f"UPDATE {table} SET {column} = {value} FROM _rekeyed r WHERE {table}.rowid = r.rid")
    finally:
        con.unregister("_rekeyed")

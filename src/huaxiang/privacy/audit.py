"""The access audit log: append-only, hash-chained, keyed outside the warehouse, with a tail anchor.

Each entry's hash is an HMAC (key from the keyring, never in the warehouse) over its content and the
previous entry's hash, so an edit cannot be hidden by recomputing hashes with SQL. The chain alone cannot
see the *last* entries being deleted, so every append also writes an anchor file (last sequence number and
hash, MAC'd) beside the warehouse; :func:`verify_audit` compares the table with it. The sequence number is
kept out of the hash on purpose: order is proved by the chain links, which lets verification tell a
reordered entry (its predecessor exists elsewhere) from a deleted one (its predecessor is gone).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy.crypto import Keyring
from huaxiang.privacy.roles import Principal
from huaxiang.privacy.schema import ensure_privacy_schema, table_exists

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_COLUMNS = "seq, logged_at, principal, role, action, purpose, subjects, fields, detail, prev_hash, hash"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One logged access: who, which persons (subject references), which fields, why, when."""

    seq: int
    at: datetime
    principal: str
    role: str
    action: str
    purpose: str
    subjects: tuple[str, ...]
    fields: tuple[str, ...]
    detail: dict[str, Any]
    prev_hash: str
    hash: str


ProblemKind = Literal["edited", "deleted", "reordered", "renumbered", "truncated", "unanchored"]


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """Where the chain breaks and how: ``seq`` is the first entry that shows it."""

    seq: int | None
    kind: ProblemKind
    message: str


@dataclass(frozen=True, slots=True)
class AuditVerification:
    entries: int
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing was tampered with (an unanchored tail after a crash is only a warning)."""
        return all(p.kind == "unanchored" for p in self.problems)


def subject_ref(token: str) -> str:
    """How the audit log and the suppression list name a person: SHA-256 of an identifier token.

    The token is already a keyed hash, so the reference needs the key to be linked to an identifier, and
    it equals no value held in any other table (erasure removes every token, references stay as proof).
    DuckDB computes the same value as ``sha256(token)``.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(keyring: Keyring, fields: Sequence[Any]) -> str:
    canonical = json.dumps(list(fields), ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(keyring.audit_key(), canonical.encode(), hashlib.sha256).hexdigest()


def _content(row: Sequence[Any]) -> list[Any]:
    """What the hash covers: every column but ``seq`` and ``hash`` (``logged_at`` … ``prev_hash``)."""
    logged_at, principal, role, action, purpose, subjects, fields, detail, prev_hash = row
    return [
        logged_at.isoformat(),
        principal,
        role,
        action,
        purpose,
        list(subjects or ()),
        list(fields or ()),
        detail,
        prev_hash,
    ]


def append_entry(
    con: duckdb.DuckDBPyConnection,
    keyring: Keyring,
    principal: Principal,
    *,
    action: str,
    purpose: str,
    subjects: Iterable[str] = (),
    fields: Iterable[str] = (),
    detail: Mapping[str, Any] | None = None,
    at: datetime,
) -> AuditEntry:
    """Append one entry on ``con`` inside the caller's transaction; call :func:`write_anchor` after commit."""
    last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
    seq, prev_hash = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
    if at.tzinfo is not None:  # the warehouse holds naive UTC; the hash must see what is read back
        at = at.astimezone(UTC).replace(tzinfo=None)
    detail_text = json.dumps(
        dict(detail or {}), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    )
    row = [
        seq, at, principal.principal_id, principal.role, action, purpose,
        sorted(set(subjects)), sorted(set(fields)), detail_text, prev_hash,
    ]  # fmt: skip
    row.append(_mac(keyring, _content(row[1:])))
    con.execute(f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    return _row_entry(tuple(row))


def record(
    warehouse: Warehouse,
    keyring: Keyring,
    anchor: Path,
    principal: Principal,
    *,
    action: str,
    purpose: str,
    subjects: Iterable[str] = (),
    fields: Iterable[str] = (),
    detail: Mapping[str, Any] | None = None,
    at: datetime,
) -> AuditEntry:
    """Append one entry in its own transaction and move the anchor to it."""
    ensure_privacy_schema(warehouse)
    with warehouse.transaction() as con:
        entry = append_entry(
            con,
            keyring,
            principal,
            action=action,
            purpose=purpose,
            subjects=subjects,
            fields=fields,
            detail=detail,
            at=at,
        )
    write_anchor(anchor, keyring, entry)
    return entry


def write_anchor(path: Path, keyring: Keyring, entry: AuditEntry) -> None:
    """Record the chain's head outside the warehouse (atomic replace, owner-only)."""
    payload = {"seq": entry.seq, "hash": entry.hash}
    payload_mac = _mac(keyring, ["anchor", entry.seq, entry.hash])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({**payload, "mac": payload_mac}, handle)
    os.replace(temporary, path)
    log.info("audit head: seq %d hash %s", entry.seq, entry.hash)


def _row_entry(row: tuple[Any, ...]) -> AuditEntry:
    seq, at, principal, role, action, purpose, subjects, fields, detail, prev_hash, digest = row
    try:
        parsed = json.loads(detail)
    except (TypeError, ValueError):
        parsed = {"unparseable": str(detail)[:200]}
    return AuditEntry(
        int(seq),
        at,
        principal,
        role,
        action,
        purpose,
        tuple(subjects or ()),
        tuple(fields or ()),
        parsed if isinstance(parsed, dict) else {"value": parsed},
        prev_hash,
        digest,
    )


def list_audit(
    warehouse: Warehouse,
    *,
    subjects: Iterable[str] | None = None,
    principal: str | None = None,
    action: str | None = None,
    limit: int | None = 100,
) -> list[AuditEntry]:
    """Entries, newest first; ``subjects`` keeps those naming any of the given subject references."""
    if not table_exists(warehouse, "audit_log"):
        return []
    wanted = sorted(set(subjects)) if subjects is not None else None
    rows = warehouse.rows(
        f"SELECT {_COLUMNS} FROM audit_log WHERE ($subjects IS NULL OR len(list_intersect(subjects, $subjects)) > 0) "
        "AND ($principal IS NULL OR principal = $principal) AND ($action IS NULL OR action = $action) "
        "ORDER BY seq DESC LIMIT $limit",
        {
            "subjects": wanted,
            "principal": principal,
            "action": action,
            "limit": limit if limit is not None else 2**62,
        },
    )
    return [_row_entry(row) for row in rows]


def verify_audit(warehouse: Warehouse, keyring: Keyring, anchor: Path) -> AuditVerification:
    """Recompute every hash and link; say which entry was edited, deleted, reordered or cut off the end."""
    rows = (
        warehouse.rows(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq")
        if table_exists(warehouse, "audit_log")
        else []
    )
    problems: list[AuditProblem] = []
    by_hash = {row[10]: int(row[0]) for row in rows}
    expected_prev, previous_seq = GENESIS, 0
    for row in rows:
        seq, prev_hash, digest = row[0], row[9], row[10]
        if not hmac.compare_digest(_mac(keyring, _content(row[1:10])), str(digest)):
            problems.append(
                AuditProblem(
                    seq, "edited", f"entry {seq} does not match its hash: it was edited / 条目被修改"
                )
            )
        if prev_hash != expected_prev:
            if prev_hash in by_hash:
                problems.append(
                    AuditProblem(
                        seq,
                        "reordered",
                        f"entry {seq} belongs after entry {by_hash[prev_hash]}, not after entry {previous_seq} "
                        "/ 条目顺序被调换",
                    )
                )
            else:
                where = (
                    f"between entry {previous_seq} and entry {seq}" if previous_seq else f"before entry {seq}"
                )
                problems.append(
                    AuditProblem(seq, "deleted", f"an entry {where} is missing: it was deleted / 条目被删除")
                )
        elif seq != previous_seq + 1:
            problems.append(
                AuditProblem(
                    seq,
                    "renumbered",
                    f"entry {seq} follows entry {previous_seq}: sequence numbers were changed",
                )
            )
        expected_prev, previous_seq = str(digest), int(seq)
    problems.extend(_check_anchor(anchor, keyring, rows))
    return AuditVerification(len(rows), tuple(problems))


def _check_anchor(anchor: Path, keyring: Keyring, rows: list[tuple[Any, ...]]) -> list[AuditProblem]:
    if not anchor.exists():
        if rows:
            return [
                AuditProblem(
                    None,
                    "truncated",
                    f"the anchor file {anchor.name} is missing: the end of the log cannot be checked",
                )
            ]
        return []
    try:
        data = json.loads(anchor.read_text())
        seq, digest, mac = int(data["seq"]), str(data["hash"]), str(data["mac"])
    except (ValueError, KeyError, TypeError):
        return [AuditProblem(None, "truncated", f"the anchor file {anchor.name} is unreadable")]
    if not hmac.compare_digest(_mac(keyring, ["anchor", seq, digest]), mac):
        return [AuditProblem(None, "truncated", f"the anchor file {anchor.name} was altered")]
    held = {int(row[0]): str(row[10]) for row in rows}
    last = max(held, default=0)
    if seq not in held:
        if seq > last:
            return [
                AuditProblem(
                    seq, "truncated", f"entries {last + 1}..{seq} were deleted from the end / 末尾条目被删除"
                )
            ]
        return [AuditProblem(seq, "deleted", f"entry {seq}, the anchored head, is missing")]
    if held[seq] != digest:
        return [AuditProblem(seq, "edited", f"entry {seq} differs from the anchored head")]
    if last > seq:
        return [
            AuditProblem(
                last, "unanchored", f"entries {seq + 1}..{last} are not anchored yet (a crash after writing?)"
            )
        ]
    return []

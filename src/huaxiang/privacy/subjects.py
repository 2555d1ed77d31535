"""Data-subject requests: a complete copy of what is held about a person, and their complete erasure.

Export (PIPL art. 45, GDPR arts. 15 and 20) writes one JSON document and one CSV per table into a new,
owner-only folder: every table that holds the person (found by :mod:`~huaxiang.privacy.holdings`), their
quarantined records, their consent ledger and who accessed their data. Values are decrypted: the copy is
for the person.

Erasure (PIPL art. 47, GDPR art. 17) deletes the person's own rows from every such table in one
transaction, nulls references to them in other persons' rows (which stay), adds their identifiers to the
suppression list and logs the request; the report then re-scans every table, the privacy layer's own
included, for the person's tokens, event ids and person ids by the same rule, and proves none is left.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from huaxiang.backends.duckdb import Warehouse
from huaxiang.errors import HuaxiangError
from huaxiang.privacy import audit
from huaxiang.privacy.compaction import CompactableContext, try_compact
from huaxiang.privacy.consent import PersonConsent, person_consent
from huaxiang.privacy.context import PrivacyContext, audit_anchor_path, utc_now
from huaxiang.privacy.crypto import FieldCipher
from huaxiang.privacy.holdings import (
    QUARANTINE,
    PersonTable,
    names_sql,
    needles,
    person_tables,
    predicate,
    quarantined_of,
    quote,
    reference_pattern,
    references_sql,
    referring_rows_sql,
    used_parameters,
    warehouse_tables,
)
from huaxiang.privacy.persons import Identifier, PersonLocator, PersonRecords, default_locator
from huaxiang.privacy.reader import decrypt_json_values, decrypted_identifiers
from huaxiang.privacy.roles import Principal, check_reference, require
from huaxiang.privacy.schema import ensure_privacy_schema
from huaxiang.privacy.suppression import not_found

EXPORT_FORMAT = "huaxiang.subject-export/1"
DSR_PURPOSE = "data_subject_request"


class PersonRequestError(HuaxiangError):
    """A data-subject request cannot be carried out safely as asked."""


@dataclass(frozen=True, slots=True)
class SubjectExport:
    """Where an export was written and what it holds (rows per table)."""

    folder: Path
    subject: str
    tables: dict[str, int]
    files: tuple[Path, ...]
    audit_seq: int


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure removed, what it left (nothing), and its proof in the audit log."""

    request_id: str
    subject: str
    dry_run: bool
    deleted: dict[str, int]
    suppressed: int
    remaining: dict[str, int] = field(default_factory=dict)
    audit_seq: int | None = None
    compacted: bool = False
    redacted: dict[str, int] = field(default_factory=dict)  # other persons' rows whose reference was nulled

    @property
    def verified(self) -> bool:
        """True when a completed erasure left no row anywhere and its suppression entries are in place."""
        return not self.dry_run and not any(self.remaining.values()) and self.suppressed > 0


def _locate(
    context: PrivacyContext,
    principal: Principal,
    identifier: Identifier,
    locator: PersonLocator | None,
    action: str,
) -> tuple[str, PersonRecords]:
    warehouse = context.warehouse
    looked_up = identifier.token(context.keyring)
    person = (locator or default_locator(warehouse)).locate(warehouse, [looked_up])
    if not person.found:
        audit.record(
            warehouse,
            context.keyring,
            audit_anchor_path(context),
            principal,
            action=action,
            purpose=DSR_PURPOSE,
            subjects=[audit.subject_ref(looked_up)],
            detail={"found": False, "identifier_type": identifier.type},
            at=utc_now(),
        )
        raise not_found(warehouse, looked_up, identifier.type)
    if person.truncated:
        raise PersonRequestError(
            "this identifier links to more records than one person plausibly has / 关联记录过多，疑似多人共用",
            hint="a shared or junk value (e.g. a family device) joins several people; use a more specific identifier",
        )
    return looked_up, person


def _plain(value: Any, cipher: FieldCipher | None = None, context: str | None = None) -> Any:
    """A warehouse value as JSON data: ciphertexts decrypted where their context is known, bytes as base64."""
    if isinstance(value, bytes):
        if cipher is not None and context is not None:
            return cipher.decrypt(value, context=context)
        return base64.b64encode(value).decode()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _rows(context: PrivacyContext, person: PersonRecords) -> dict[str, list[dict[str, Any]]]:
    """Every row held about the person, by table, decrypted."""
    warehouse, cipher = context.warehouse, context.cipher
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in person_tables(warehouse):
        cursor = warehouse.con.execute(
            f"SELECT * FROM {quote(table.name)} WHERE {predicate(table)}", used_parameters(table, person)
        )
        names = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        found = []
        for row in cursor.fetchall():
            record: dict[str, Any] = {}
            for name, kind, value in zip(names, types, row, strict=True):
                if kind == "JSON" and isinstance(value, str):
                    parsed = json.loads(value)
                    record[name] = decrypt_json_values(parsed, cipher) if isinstance(parsed, dict) else parsed
                elif name == "value_enc":
                    record["value"] = _plain(value, cipher, context=record.get("id_type"))
                else:
                    record[name] = _plain(value)
            found.append(record)
        if found:
            tables[table.name] = found
    return tables


def _quarantine_rows(context: PrivacyContext, ids: list[str]) -> list[dict[str, Any]]:
    rows = context.warehouse.rows(
        "SELECT quarantine_id, source, file, line, record_key, reasons, received_at, status, raw_enc "
        "FROM quarantine WHERE quarantine_id IN (SELECT unnest($q)) ORDER BY received_at",
        {"q": ids},
    )
    return [
        {
            "quarantine_id": qid,
            "source": source,
            "file": file,
            "line": line,
            "record_key": key,
            "reasons": json.loads(reasons),
            "received_at": received.isoformat(),
            "status": status,
            "raw": json.loads(context.cipher.decrypt(sealed, context="quarantine")),
        }
        for qid, source, file, line, key, reasons, received, status, sealed in rows
    ]


def _consent_data(consent: PersonConsent) -> dict[str, Any]:
    def record(r: Any) -> dict[str, Any] | None:
        if r is None:
            return None
        return {name: _plain(getattr(r, name)) for name in r.__slots__}

    return {
        "minor": consent.minor,
        "birth_dates": [d.isoformat() for d in consent.birth_dates],
        "history": [record(r) for r in consent.history],
        "current": {
            p: {"status": s.status, "decided_by": record(s.decided_by)} for p, s in consent.states.items()
        },
    }


def _audit_data(entries: list[audit.AuditEntry]) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "principal": e.principal,
            "role": e.role,
            "action": e.action,
            "purpose": e.purpose,
            "fields": list(e.fields),
            "detail": e.detail,
        }
        for e in sorted(entries, key=lambda e: e.seq)
    ]


def export_person(
    context: PrivacyContext,
    principal: Principal,
    identifier: Identifier,
    out: Path,
    *,
    locator: PersonLocator | None = None,
    as_of: date | None = None,
) -> SubjectExport:
    """Write everything held about the person into the new folder ``out`` (JSON + one CSV per table)."""
    require(principal, "export_person")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PersonRequestError(
            f"{out} exists and is not an empty folder", hint="choose a new folder for the export"
        )
    _, person = _locate(context, principal, identifier, locator, "export_person")
    warehouse = context.warehouse
    identifiers = decrypted_identifiers(context, person)
    tables = _rows(context, person)
    quarantined = quarantined_of(warehouse, context.cipher, person, identifiers)
    if quarantined:
        tables[QUARANTINE] = _quarantine_rows(context, quarantined)
    consent = person_consent(warehouse, context.cipher, person, as_of=as_of or utc_now().date())
    refs = sorted(audit.subject_ref(t) for t in person.tokens)
    counts = {name: len(rows) for name, rows in tables.items()}
    entry = audit.record(
        warehouse,
        context.keyring,
        audit_anchor_path(context),
        principal,
        action="export_person",
        purpose=DSR_PURPOSE,
        subjects=refs,
        fields=sorted(tables),
        detail={"tables": counts},
        at=utc_now(),
    )
    accesses = audit.list_audit(warehouse, subjects=refs, limit=None)
    quarantine_reads = [
        e
        for e in audit.list_audit(warehouse, action="read_quarantine", limit=None)
        if e.detail.get("quarantine_id") in quarantined
    ]
    subject = audit.subject_ref(person.key)
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": entry.at.isoformat(),
        "subject": subject,
        "identifiers": [{"type": t, "value": v} for t, v in identifiers],
        "tables": tables,
        "consent": _consent_data(consent),
        "access_log": _audit_data([*accesses, *quarantine_reads]),
    }
    files = _write_export(out, document)
    return SubjectExport(out, subject, counts, files, entry.seq)


def _private_file(path: Path, text: str) -> Path:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                for k, v in row.items()
            }
        )
    return "\ufeff" + buffer.getvalue()  # a BOM so spreadsheet programs read the Chinese text as UTF-8


def _write_export(out: Path, document: Mapping[str, Any]) -> tuple[Path, ...]:
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    files = [
        _private_file(out / "person.json", json.dumps(document, ensure_ascii=False, indent=2, default=str))
    ]
    sheets: dict[str, list[dict[str, Any]]] = {
        "identifiers": list(document["identifiers"]),
        "consent_history": list(document["consent"]["history"]),
        "access_log": list(document["access_log"]),
        **{f"table_{name}": rows for name, rows in document["tables"].items()},
    }
    for name, rows in sheets.items():
        if rows:
            safe = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
            files.append(_private_file(out / f"{safe}.csv", _csv(rows)))
    return tuple(files)


def erase_person(
    context: CompactableContext,
    principal: Principal,
    identifier: Identifier,
    *,
    request_id: str | None = None,
    dry_run: bool = False,
    compact: bool = True,
    locator: PersonLocator | None = None,
) -> ErasureReport:
    """Delete the person from every table, suppress their identifiers, log it, and verify nothing is left.

    ``compact`` rewrites the warehouse file afterwards (:mod:`~huaxiang.privacy.compaction`) so the deleted
    rows' bytes are gone too; turn it off only to erase many people in a row and compact once at the end.
    """
    require(principal, "erase_person")
    warehouse = context.warehouse
    ensure_privacy_schema(warehouse)
    request_id = check_reference(request_id) if request_id else f"erase-{secrets.token_hex(6)}"
    _, person = _locate(context, principal, identifier, locator, "erase_person")
    identifiers = decrypted_identifiers(context, person)
    quarantined = quarantined_of(warehouse, context.cipher, person, identifiers)
    tables = person_tables(warehouse)
    counts = {
        t.name: int(
            warehouse.scalar(
                f"SELECT count(*) FROM {quote(t.name)} WHERE {predicate(t)}", used_parameters(t, person)
            )
        )
        for t in tables
    }
    counts[QUARANTINE] = len(quarantined)
    references = _references(warehouse, tables, person)
    refs = sorted({audit.subject_ref(t) for t in person.tokens})
    types = dict(
        warehouse.rows(
            "SELECT DISTINCT token, id_type FROM event_identifiers WHERE token IN (SELECT unnest($t))",
            {"t": sorted(person.tokens)},
        )
    )
    subject = audit.subject_ref(person.key)
    if dry_run:
        return ErasureReport(
            request_id, subject, True, {k: v for k, v in counts.items() if v}, 0, redacted=references
        )
    now = utc_now()
    with warehouse.transaction() as con:
        for table in sorted(tables, key=lambda t: t.name == "events"):  # dependants first, the event log last
            con.execute(
                f"DELETE FROM {quote(table.name)} WHERE {predicate(table)}", used_parameters(table, person)
            )
        _redact(con, tables, person)
        con.execute("DELETE FROM quarantine WHERE quarantine_id IN (SELECT unnest($q))", {"q": quarantined})
        con.executemany(
            "INSERT INTO suppressed_tokens SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM suppressed_tokens WHERE token = ?)",
            [
                [audit.subject_ref(t), types.get(t, "unknown"), now, request_id, audit.subject_ref(t)]
                for t in sorted(person.tokens)
            ],
        )
        entry = audit.append_entry(
            con,
            context.keyring,
            principal,
            action="erase_person",
            purpose=DSR_PURPOSE,
            subjects=refs,
            fields=sorted(name for name, n in counts.items() if n),
            detail={
                "request_id": request_id,
                "deleted": {k: v for k, v in counts.items() if v},
                "redacted": references,
            },
            at=now,
        )
    audit.write_anchor(audit_anchor_path(context), context.keyring, entry)
    compacted = compact and try_compact(context)
    if not compacted:
        context.warehouse.con.execute("CHECKPOINT")
    remaining = verify_erasure(context, person, identifiers)
    suppressed = int(
        context.warehouse.scalar(
            "SELECT count(DISTINCT token) FROM suppressed_tokens WHERE token IN (SELECT unnest($r))",
            {"r": refs},
        )
    )
    deleted = {k: v for k, v in counts.items() if v}
    return ErasureReport(
        request_id, subject, False, deleted, suppressed, remaining, entry.seq, compacted, references
    )


def _referring_condition(table: PersonTable, pattern: str | None) -> str | None:
    """Rows of someone else naming the person: a ``tok:`` reference in event JSON, or a nullable, non-owner
    column holding one of their ids (both bound to ``$pattern`` / ``$needles``)."""
    terms = [references_sql(c) for c in table.reference_columns] if pattern else []
    referring = referring_rows_sql(table)
    if referring:
        terms.append(referring)
    return " OR ".join(terms) if terms else None


def _referring_parameters(table: PersonTable, person: PersonRecords, pattern: str | None) -> dict[str, Any]:
    bound: dict[str, Any] = {"needles": needles(person)} if referring_rows_sql(table) else {}
    if pattern and table.reference_columns:
        bound["pattern"] = pattern
    return bound


def _references(warehouse: Warehouse, tables: list[PersonTable], person: PersonRecords) -> dict[str, int]:
    """Rows per table, not the person's own, that refer to the person (and erasure redacts, not deletes)."""
    pattern = reference_pattern(person)
    found: dict[str, int] = {}
    for table in tables:
        condition = _referring_condition(table, pattern)
        if condition is None:
            continue
        bound = _referring_parameters(table, person, pattern)
        own = predicate(table)
        if own != "false":
            condition = f"({condition}) AND NOT coalesce({own}, false)"
            bound |= used_parameters(table, person)
        rows = int(warehouse.scalar(f"SELECT count(*) FROM {quote(table.name)} WHERE {condition}", bound))
        if rows:
            found[table.name] = rows
    return found


def _redact(con: duckdb.DuckDBPyConnection, tables: list[PersonTable], person: PersonRecords) -> None:
    """Null every reference to the person in other persons' rows (their rows stay)."""
    pattern = reference_pattern(person)
    for table in tables:
        for column in table.reference_columns if pattern else ():
            con.execute(
                f"UPDATE {quote(table.name)} SET {quote(column)} = "
                f"regexp_replace({quote(column)}::VARCHAR, $pattern, 'null', 'g')::JSON "
                f"WHERE {references_sql(column)}",
                {"pattern": pattern},
            )
        for column in table.referring_columns:
            con.execute(
                f"UPDATE {quote(table.name)} SET {quote(column)} = NULL WHERE {names_sql(table, column)}",
                {"needles": needles(person)},
            )


def verify_erasure(
    context: PrivacyContext, person: PersonRecords, identifiers: list[tuple[str, str]]
) -> dict[str, int]:
    """Rows per table that still name any of the person's tokens, event ids or person ids.

    Every table is searched, the privacy layer's own included (the audit log must only ever hold keyed
    references), with every text column and the JSON of tables without event ids, as erasure matched them.
    """
    warehouse = context.warehouse
    remaining: dict[str, int] = {}
    tables = warehouse_tables(warehouse, include_privacy=True)
    for table in tables:
        remaining[table.name] = int(
            warehouse.scalar(
                f"SELECT count(*) FROM {quote(table.name)} WHERE {predicate(table)}",
                used_parameters(table, person),
            )
        )
    for name, count in _references(warehouse, tables, person).items():
        remaining[name] = remaining.get(name, 0) + count
    remaining[QUARANTINE] = len(quarantined_of(warehouse, context.cipher, person, identifiers))
    return remaining

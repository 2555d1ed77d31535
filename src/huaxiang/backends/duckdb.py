"""The embedded warehouse: one DuckDB file holding the event log and everything derived from it.

The schema lives here, in one place, so every stage reads the same tables. Writes that belong together
run in one transaction (:meth:`Warehouse.transaction`): a killed process leaves no partial batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

log = logging.getLogger(__name__)

# Most columns of the two largest tables name the compression DuckDB would choose for them anyway (same file
# size): without it DuckDB tries every method on every segment it writes. Digests and record references take
# FSST; the few values of a batch (source, type, batch id) a dictionary; a batch's one receipt time runs of
# RLE. Columns that may hold a person's data (record keys, JSON) are left to DuckDB, which stores a handful of
# small values in clear: the test that erasure leaves no byte of a person in the file relies on seeing them.
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id     VARCHAR NOT NULL USING COMPRESSION fsst, -- idempotency key: hash of source + record key
    source       VARCHAR NOT NULL USING COMPRESSION dictionary,
    type         VARCHAR NOT NULL USING COMPRESSION dictionary,
    ts           TIMESTAMP NOT NULL USING COMPRESSION bitpacking, -- UTC
    received_at  TIMESTAMP NOT NULL USING COMPRESSION rle, -- UTC
    batch_id     VARCHAR NOT NULL USING COMPRESSION dictionary,
    record_key   VARCHAR NOT NULL,
    record_ref   VARCHAR NOT NULL USING COMPRESSION fsst, -- file:line (or source:query#row)
    attributes   JSON,
    properties   JSON,
    flags        VARCHAR[]           -- fields whose invalid value was nulled
);
CREATE TABLE IF NOT EXISTS event_identifiers (
    event_id   VARCHAR NOT NULL USING COMPRESSION fsst,
    id_type    VARCHAR NOT NULL USING COMPRESSION dictionary,
    token      VARCHAR NOT NULL USING COMPRESSION fsst  -- HMAC of (type, normalised value): no plaintext
);
CREATE TABLE IF NOT EXISTS identifier_values (
    token      VARCHAR NOT NULL,      -- one row per token of event_identifiers
    id_type    VARCHAR NOT NULL,
    value_enc  BLOB NOT NULL          -- AES-GCM ciphertext of the normalised value, once per value
);
CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    batch_id      VARCHAR NOT NULL,
    file          VARCHAR NOT NULL,
    line          BIGINT,
    record_key    VARCHAR,
    raw_enc       BLOB NOT NULL,     -- the raw record as JSON, encrypted: it may hold anything
    reasons       JSON NOT NULL,     -- [{"field": ..., "reason": ...}, ...]
    received_at   TIMESTAMP NOT NULL,
    status        VARCHAR NOT NULL,  -- open | readmitted | still_invalid
    resolved_batch VARCHAR
);
CREATE TABLE IF NOT EXISTS ingest_runs (
    batch_id     VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    records_read BIGINT NOT NULL,
    accepted     BIGINT NOT NULL,
    inserted     BIGINT NOT NULL,
    duplicates   BIGINT NOT NULL,
    quarantined  BIGINT NOT NULL,
    files        JSON NOT NULL,
    watermark    VARCHAR,
    kind         VARCHAR NOT NULL,   -- ingest | retry
    suppressed   BIGINT NOT NULL     -- accepted records of erased persons, dropped (never stored)
);
CREATE TABLE IF NOT EXISTS source_files (
    source      VARCHAR NOT NULL,
    path        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    size        BIGINT NOT NULL,
    batch_id    VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS field_stats (
    batch_id    VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    field       VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    level       VARCHAR NOT NULL,
    records     BIGINT NOT NULL,
    present     BIGINT NOT NULL,
    valid       BIGINT NOT NULL,
    distinct_values BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS quality_reports (
    report_id   VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    report      JSON NOT NULL
);
"""


#: The privacy layer's tables: principals, the audit chain, suppressed tokens, key usage.
PRIVACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS principals (
    principal_id VARCHAR NOT NULL,    -- 'p-' + random hex; the audit log names principals by it
    name         VARCHAR NOT NULL,
    role         VARCHAR NOT NULL,    -- admin | analyst | marketer | service | dpo
    key_id       VARCHAR NOT NULL,    -- public part of the API key, for lookup
    key_hash     VARCHAR NOT NULL,    -- scrypt$n$r$p$salt$hash of the secret part; the key itself is never kept
    created_at   TIMESTAMP NOT NULL,
    created_by   VARCHAR NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_log (
    seq        BIGINT NOT NULL,       -- position in the chain, 1-based
    logged_at  TIMESTAMP NOT NULL,    -- UTC
    principal  VARCHAR NOT NULL,
    role       VARCHAR NOT NULL,
    action     VARCHAR NOT NULL,
    purpose    VARCHAR NOT NULL,
    subjects   VARCHAR[] NOT NULL,    -- subject references (SHA-256 of identifier tokens), never identifiers
    fields     VARCHAR[] NOT NULL,
    detail     VARCHAR NOT NULL,      -- canonical JSON text, hashed as stored
    prev_hash  VARCHAR NOT NULL,
    hash       VARCHAR NOT NULL       -- HMAC-SHA256 over the entry and prev_hash, keyed outside the warehouse
);
CREATE TABLE IF NOT EXISTS suppressed_tokens (
    token          VARCHAR NOT NULL,  -- SHA-256 of an erased person's identifier token (not the token itself)
    id_type        VARCHAR NOT NULL,
    suppressed_at  TIMESTAMP NOT NULL,
    request_id     VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS key_usage (
    key_id       VARCHAR NOT NULL,
    location     VARCHAR NOT NULL,    -- table.column holding ciphertexts
    ciphertexts  BIGINT NOT NULL,
    counted_at   TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS key_rotations (
    rotation_id  VARCHAR NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    from_keys    VARCHAR[] NOT NULL,
    to_key       VARCHAR NOT NULL,
    reencrypted  BIGINT NOT NULL
);
"""


def connect(target: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection without DuckDB's own progress bar, which would print into the CLI's Rich output
    (every stage reports its progress itself)."""
    con = duckdb.connect(target, read_only=read_only)
    con.execute("SET enable_progress_bar = false")  # a setting of the session, not of the database
    return con


class Warehouse:
    """A DuckDB connection to the workspace's warehouse file, in UTC, with the schema in place."""

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path
        target = ":memory:" if path is None else str(path)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect(target, read_only=read_only)
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            self.con.execute(SCHEMA)
            self.con.execute(PRIVACY_SCHEMA)
            _move_identifier_values(self.con)

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: on any error (or a killed process) nothing of the block is kept."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    @contextmanager
    def settings(self, **values: bool | int | str) -> Iterator[None]:
        """DuckDB settings for the length of a block (e.g. ``preserve_insertion_order=False``), then restored."""
        # Names are the caller's own identifiers, written in: a bound parameter would make the client import
        # pandas on first use, seconds on a busy machine.
        previous = {name: self.scalar(f"SELECT current_setting('{name}')") for name in values}
        try:
            for name, value in values.items():
                self.con.execute(f"SET {name} = {_setting_literal(value)}")
            yield
        finally:
            for name, value in previous.items():
                self.con.execute(f"SET {name} = {_setting_literal(value)}")

    def rows(
        self, sql: str, parameters: Mapping[str, Any] | list[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run a query and fetch every row (never leaves a half-read result on the connection)."""
        return self.con.execute(sql, parameters or []).fetchall()

    def scalar(self, sql: str, parameters: Mapping[str, Any] | list[Any] | None = None) -> Any:
        found = self.rows(sql, parameters)
        return found[0][0] if found else None

    def tables(self) -> list[str]:
        return [
            r[0] for r in self.rows("SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1")
        ]

    def count(self, table: str, where: str = "TRUE", parameters: Mapping[str, Any] | None = None) -> int:
        return int(self.scalar(f'SELECT count(*) FROM "{table}" WHERE {where}', parameters))


def _move_identifier_values(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse written before identifier ciphertexts were kept once per value: move them, in one step.

    ``event_identifiers`` used to carry a ciphertext on every row (one per event, all of the same value);
    ``identifier_values`` keeps one per token.
    """
    columns = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'event_identifiers' AND NOT internal"
    ).fetchall()
    if ("value_enc",) not in columns:
        return
    log.info("moving identifier ciphertexts to identifier_values (one per value)")
    con.execute("BEGIN TRANSACTION")
    con.execute(
        "INSERT INTO identifier_values SELECT token, any_value(id_type), any_value(value_enc) "
        "FROM event_identifiers WHERE value_enc IS NOT NULL GROUP BY token"
    )
    con.execute("ALTER TABLE event_identifiers DROP COLUMN value_enc")
    con.execute("COMMIT")


def _setting_literal(value: bool | int | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"

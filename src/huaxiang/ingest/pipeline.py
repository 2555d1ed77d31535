"""Ingest one source: read, map, validate, normalise, tokenise, quarantine, and commit as one batch.

The work is set-based in DuckDB. Regular value shapes are normalised by SQL fast paths; only the *distinct*
irregular values go to the Python normalisers (phonenumbers, python-stdnum, jionlp), so a file of
millions of rows costs as much Python as its distinct oddities. Every record read ends as accepted
(inserted, or a duplicate of an event already held) or quarantined with every reason: the counts always add up.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from huaxiang.config import FieldSpec, SourceSpec
from huaxiang.ingest.connectors import (
    SourceBatch,
    list_files,
    physical_lines,
    read_files,
    read_sql,
    typed_watermark,
)
from huaxiang.ingest.encoding import detect_encoding
from huaxiang.ingest.kinds import Kind, ValueContext, kind_named
from huaxiang.privacy.crypto import FieldCipher, pad_parameters, token_sql
from huaxiang.privacy.suppression import is_suppressed_sql
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
FUTURE_TOLERANCE_HOURS = 24
REPETITION_SAMPLE = 100_000
"""Rows at the start of a batch on which a field's repetitiveness is judged."""
REPETITION_FACTOR = 10
"""A field whose sample holds at most one distinct value per this many rows is normalised by value."""
SEAL_CHUNK = 20_000
"""Distinct identifier values per Arrow chunk when their tokens are computed."""
INPUT_CHUNK = 100_000
"""Most rows per Arrow chunk of the input, so that every core has chunks to scan."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one run of one source did: ``records_read == accepted + quarantined`` and
    ``accepted == inserted + duplicates + suppressed`` always (suppressed: records of erased persons,
    dropped without being stored)."""

    source: str
    batch_id: str | None
    files: tuple[str, ...]
    skipped_files: tuple[str, ...]
    records_read: int
    accepted: int
    inserted: int
    duplicates: int
    quarantined: int
    suppressed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    encoding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class _Column:
    """A mapped field resolved against its kind, with its SQL aliases in the staging tables."""

    index: int
    spec: FieldSpec
    kind: Kind

    @property
    def raw(self) -> str:
        return f"t{self.index}"

    @property
    def value(self) -> str:
        return f"v{self.index}"

    @property
    def error(self) -> str:
        return f"e{self.index}"

    @property
    def blank(self) -> str:
        """True when the normaliser read the value as an explicit blank (``-``, ``未知``): missing, not wrong."""
        return f"b{self.index}"

    @property
    def present(self) -> str:
        """True when the source held any text for the field (before normalisation)."""
        return f"p{self.index}"

    def derived(self, position: int) -> str:
        return f"d{self.index}_{position}"

    def derived_name(self, name: str) -> str:
        prefix = "" if self.spec.target in (self.kind.name, "id_card") else f"{self.spec.target}_"
        return prefix + name


def quote(identifier: str) -> str:
    """A DuckDB identifier, safely quoted: column names come from user files."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ingest_all(workspace: Workspace, *, on_progress: Progress | None = None) -> list[IngestResult]:
    return [ingest_source(workspace, spec.name, on_progress=on_progress) for spec in workspace.config.sources]


def ingest_source(
    workspace: Workspace, name: str, *, on_progress: Progress | None = None, force: bool = False
) -> IngestResult:
    """Ingest the new data of one source; files already ingested (same SHA-256) are skipped."""
    spec = workspace.config.source(name)
    progress = on_progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    warehouse = workspace.warehouse
    watermark = _last_watermark(workspace, spec)
    columns = _source_columns(spec)
    if spec.format == "sql":
        progress(f"{name}: read", 0, 1)
        batch = read_sql(spec, columns, watermark)
        skipped: tuple[str, ...] = ()
    else:
        files = list_files(spec, workspace.root)
        seen = {
            (path, digest)
            for path, digest in warehouse.rows(
                "SELECT path, sha256 FROM source_files WHERE source = ?", [name]
            )
        }
        fresh = [f for f in files if force or (f.relative, f.sha256) not in seen]
        skipped = tuple(f.relative for f in files if f not in fresh)
        if not fresh:
            return IngestResult(name, None, (), skipped, 0, 0, 0, 0, 0, seconds=time.perf_counter() - started)
        progress(f"{name}: read", 0, len(fresh))
        batch = read_files(spec, fresh, columns)
    progress(f"{name}: read", 1, 1)
    return _ingest_batch(workspace, spec, batch, skipped, watermark, progress, started, kind="ingest")


def _source_columns(spec: SourceSpec) -> list[str]:
    wanted = [f.column for f in spec.fields] + list(spec.key)
    wanted += [c for c in (spec.timestamp, spec.event_type_column, spec.watermark) if c]
    return list(dict.fromkeys(wanted))


def _last_watermark(workspace: Workspace, spec: SourceSpec) -> str | None:
    if not spec.watermark:
        return None
    value = workspace.warehouse.scalar(
        "SELECT max(watermark) FROM ingest_runs WHERE source = ? AND watermark IS NOT NULL", [spec.name]
    )
    return str(value) if value is not None else None


def _ingest_batch(
    workspace: Workspace,
    spec: SourceSpec,
    batch: SourceBatch,
    skipped: tuple[str, ...],
    watermark: str | None,
    progress: Progress,
    started: float,
    *,
    kind: str,
    readmit: dict[str, str] | None = None,
) -> IngestResult:
    con = workspace.warehouse.con
    batch_id = f"{spec.name}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    received_at = datetime.now(UTC).replace(tzinfo=None)
    ctx = ValueContext(
        timezone=spec.timezone or workspace.config.workspace.timezone,
        region=workspace.config.workspace.region,
        date_formats=tuple(spec.timestamp_formats),
    )
    fields = [_Column(i, f, kind_named(f.value_kind)) for i, f in enumerate(spec.fields)]
    time_column = (
        _Column(len(fields), FieldSpec(column=spec.timestamp, kind="timestamp"), kind_named("timestamp"))
        if spec.timestamp
        else None
    )
    # Rows of a batch have no meaningful order (``_file``/``_row`` say where each came from), and without
    # the guarantee DuckDB writes tables in parallel and leaves the checkpoint nothing to recompress:
    # about a fifth of the batch's CPU time.
    with workspace.warehouse.settings(preserve_insertion_order=False):
        # DuckDB scans an Arrow table a chunk per thread: a source read as one chunk (Parquet through DuckDB,
        # JSON Lines, SQL) would otherwise be normalised on one core. Slicing is zero-copy.
        con.register("raw_input", _in_chunks(batch.table, INPUT_CHUNK))
        by_value: set[int] = set()
        try:
            columns = [*fields, *([time_column] if time_column else [])]
            by_value = _repetitive(con, columns, ctx)
            _stage(
                con, spec, columns, ctx, by_value, pad_parameters(workspace.keyring) if not spec.key else {}
            )
            progress(f"{spec.name}: normalise", 0, len(columns))
            _normalise(
                con,
                columns,
                ctx,
                by_value,
                lambda done: progress(f"{spec.name}: normalise", done, len(columns)),
            )
            _validate(con, spec, fields, time_column, received_at)
            con.execute("DROP VIEW normalised")
            for column in columns:
                if column.index not in by_value:  # by-value tables are dropped with the batch's others
                    con.unregister(f"map_{column.index}")
            if watermark is not None and spec.format != "sql":
                con.execute("DELETE FROM checked WHERE ts IS NOT NULL AND ts <= ?::TIMESTAMP", [watermark])
            counts = _split(con, spec, fields)
            progress(f"{spec.name}: write", 0, 1)
            quarantine_rows = _quarantine_rows(
                con, workspace.cipher, spec, batch, fields, received_at, batch_id, counts["quarantined"]
            )
            new_watermark = _new_watermark(con, spec, batch, watermark)
            with workspace.warehouse.transaction():
                counts["suppressed"] = _write_events(con, workspace, spec, fields, batch_id, received_at)
                counts["inserted"] -= counts["suppressed"]
                if readmit is not None:
                    _resolve_retried(con, readmit, batch_id)
                elif quarantine_rows.num_rows:
                    con.register("quarantine_batch", quarantine_rows)
                    con.execute(
                        "INSERT INTO quarantine SELECT * FROM quarantine_batch q "
                        "WHERE NOT EXISTS (SELECT 1 FROM quarantine o WHERE o.quarantine_id = q.quarantine_id "
                        "AND o.status <> 'readmitted')"
                    )
                    con.unregister("quarantine_batch")
                _write_stats(con, spec, fields, batch_id)
                if batch.files:
                    con.executemany(
                        "INSERT INTO source_files VALUES (?, ?, ?, ?, ?)",
                        [[spec.name, f.relative, f.sha256, f.size, batch_id] for f in batch.files],
                    )
                con.execute(
                    "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        batch_id,
                        spec.name,
                        received_at,
                        datetime.now(UTC).replace(tzinfo=None),
                        counts["read"],
                        counts["accepted"],
                        counts["inserted"],
                        counts["duplicates"],
                        counts["quarantined"],
                        json.dumps([f.relative for f in batch.files], ensure_ascii=False),
                        new_watermark,
                        kind,
                        counts["suppressed"],
                    ],
                )
            progress(f"{spec.name}: write", 1, 1)
        finally:
            con.unregister("raw_input")
            con.execute("DROP VIEW IF EXISTS normalised")
            for name in ("staged", "checked", "accepted_new", "clashes", *(f"map_{i}" for i in by_value)):
                _drop_temporary(con, name)
    reasons = Counter[str]()
    for reason_list in quarantine_rows.column("reasons").to_pylist():
        for reason in json.loads(reason_list):
            reasons[f"{reason['field']}: {reason['reason'].split(':')[0]}"] += 1
    return IngestResult(
        source=spec.name,
        batch_id=batch_id,
        files=tuple(f.relative for f in batch.files),
        skipped_files=skipped,
        records_read=counts["read"],
        accepted=counts["accepted"],
        inserted=counts["inserted"],
        duplicates=counts["duplicates"],
        quarantined=counts["quarantined"],
        suppressed=counts["suppressed"],
        reasons=dict(reasons.most_common()),
        seconds=time.perf_counter() - started,
        encoding=batch.encoding,
    )


def _in_chunks(table: pa.Table, rows: int) -> pa.Table:
    """The same table in chunks of at most ``rows``: DuckDB scans an Arrow table one chunk per thread."""
    return pa.Table.from_batches(table.to_batches(max_chunksize=rows), table.schema)


def _drop_temporary(con: Any, name: str) -> None:
    """Drop a temporary table or view of this batch, whichever it is (``accepted_new`` may be either)."""
    views = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = ?", [name]
    ).fetchone()[0]
    con.execute(f"DROP {'VIEW' if views else 'TABLE'} IF EXISTS {name}")


def _fast_path(column: _Column, ctx: ValueContext) -> str | None:
    return None if column.kind.derived_fields else column.kind.sql_fast_path(column.raw, ctx)


def _repetitive(con: Any, columns: Sequence[_Column], ctx: ValueContext) -> set[int]:
    """Fields whose values repeat a lot (prices, stores, categories), judged on the batch's first rows.

    Their fast path runs once per distinct value and is joined back, instead of once per row: a price
    column of a million orders holds a few thousand amounts.
    """
    candidates = [c for c in columns if _fast_path(c, ctx)]
    if not candidates:
        return set()
    counts = ", ".join(f"count(DISTINCT {quote(c.spec.column)})" for c in candidates)
    rows, *distinct = con.execute(
        f"SELECT count(*), {counts} FROM (SELECT * FROM raw_input LIMIT {REPETITION_SAMPLE})"
    ).fetchone()
    return {c.index for c, n in zip(candidates, distinct, strict=True) if n * REPETITION_FACTOR <= rows}


def _mapped(expression: str, value_map: dict[str, str]) -> str:
    """A source's own codes replaced before normalisation (e.g. ``{"1": 男, "0": 女}``)."""
    if not value_map:
        return expression
    cases = " ".join(f"WHEN {literal(raw)} THEN {literal(value)}" for raw, value in value_map.items())
    return f"CASE {expression} {cases} ELSE {expression} END"


def _stage(
    con: Any,
    spec: SourceSpec,
    columns: Sequence[_Column],
    ctx: ValueContext,
    by_value: set[int],
    parameters: dict[str, bytes],
) -> None:
    """One pass over the input: trimmed text of every mapped column (empty → NULL) and its SQL fast path
    (except for fields normalised by distinct value)."""

    def trimmed(column: str) -> str:
        return f"NULLIF(trim({quote(column)}), '')"

    selects = ["_file", "_row", "_parse_error"]
    selects += [f"{_mapped(trimmed(c.spec.column), c.spec.value_map)} AS {c.raw}" for c in columns]
    own = [key for key, alias in _key_aliases(spec, columns).items() if alias == quote("k_" + key)]
    selects += [f"{trimmed(key)} AS {quote('k_' + key)}" for key in own]
    if spec.event_type_column:
        selects.append(f"{trimmed(spec.event_type_column)} AS type_raw")
    if not spec.key:
        content = ", ".join(f"coalesce({quote(c)}, chr(0))" for c in _source_columns(spec))
        # Keyed: rows may hold personal data, and a plain hash of known columns could be reversed by guessing.
        selects.append(f"{token_sql(literal(spec.name), f'concat_ws(chr(31), {content})')} AS content_hash")
    inner = f"SELECT {', '.join(selects)} FROM raw_input"
    fast = [
        f"({expr}) AS f{c.index}" for c in columns if c.index not in by_value and (expr := _fast_path(c, ctx))
    ]
    outer = ", ".join(["*", *fast])
    con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS SELECT {outer} FROM ({inner})", parameters)


def _key_aliases(spec: SourceSpec, columns: Sequence[_Column]) -> dict[str, str]:
    """The staged column holding each key's trimmed text: the field's own when a field reads the key column
    as it is (the usual ``order_id`` both key and property), else a ``k_`` column of its own."""
    shared = {c.spec.column: c.raw for c in columns if not c.spec.value_map}
    return {key: shared.get(key) or quote("k_" + key) for key in spec.key}


def _normalise(
    con: Any,
    columns: Sequence[_Column],
    ctx: ValueContext,
    by_value: set[int],
    progress: Callable[[int], None],
) -> None:
    """Typed value, error and derived outputs of every field: the fast path, else Python on distinct leftovers."""
    selects = ["s.*"]
    joins = []
    for position, column in enumerate(columns):
        if column.index in by_value:
            name = _value_table(con, column, ctx)
            selects.append(
                f"{name}.value AS {column.value}, "
                f"{name}.error AS {column.error}, coalesce({name}.blank, false) AS {column.blank}"
            )
            joins.append(f"LEFT JOIN {name} ON {name}.raw = s.{column.raw}")
            progress(position + 1)
            continue
        fast = _fast_path(column, ctx)
        pending = f"{column.raw} IS NOT NULL" + (f" AND f{column.index} IS NULL" if fast else "")
        distinct = [
            r[0] for r in con.execute(f"SELECT DISTINCT {column.raw} FROM staged WHERE {pending}").fetchall()
        ]
        name = f"map_{column.index}"
        if fast and not distinct:  # the fast path read every value: no mapping table to join
            selects.append(
                f"TRY_CAST(s.f{column.index} AS {column.kind.sql_type}) AS {column.value}, "
                f"NULL::VARCHAR AS {column.error}, false AS {column.blank}"
            )
            progress(position + 1)
            continue
        con.register(name, _normalise_values(column, distinct, ctx))
        typed = f"TRY_CAST({name}.value AS {column.kind.sql_type})"
        value = f"coalesce(TRY_CAST(s.f{column.index} AS {column.kind.sql_type}), {typed})" if fast else typed
        selects.append(
            f"{value} AS {column.value}, {name}.error AS {column.error}, "
            f"coalesce({name}.blank, false) AS {column.blank}"
        )
        selects += [f"{name}.d{p} AS {column.derived(p)}" for p in range(len(column.kind.derived_fields))]
        joins.append(f"LEFT JOIN {name} ON {name}.raw = s.{column.raw}")
        progress(position + 1)
    con.execute(
        # A view: its joins run once, inside the statement that builds `checked`.
        f"CREATE OR REPLACE TEMP VIEW normalised AS SELECT {', '.join(selects)} FROM staged s {' '.join(joins)}"
    )


def _value_table(con: Any, column: _Column, ctx: ValueContext) -> str:
    """A table of the field's distinct values: the fast path's result, else the Python normaliser's.

    Only kinds without derived outputs have a fast path, so value, error and blank are the whole result.
    Values are cast to the field's type here, once per distinct value rather than once per row.
    """
    name = f"map_{column.index}"
    sql_type = column.kind.sql_type
    fast = column.kind.sql_fast_path("raw", ctx)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT raw, TRY_CAST({fast} AS {sql_type}) AS value, "
        f"NULL::VARCHAR AS error, false AS blank "
        f"FROM (SELECT DISTINCT {column.raw} AS raw FROM staged WHERE {column.raw} IS NOT NULL)"
    )
    leftovers = [r[0] for r in con.execute(f"SELECT raw FROM {name} WHERE value IS NULL").fetchall()]
    if leftovers:
        con.register("leftovers", _normalise_values(column, leftovers, ctx))
        con.execute(
            f"UPDATE {name} SET value = TRY_CAST(l.value AS {sql_type}), error = l.error, blank = l.blank "
            f"FROM leftovers l WHERE {name}.raw = l.raw"
        )
        con.unregister("leftovers")
    return name


def _normalise_values(column: _Column, distinct: Sequence[str], ctx: ValueContext) -> pa.Table:
    """The Python normaliser over distinct raw values, as a mapping table raw → value, error, blank, derived."""
    derived_count = len(column.kind.derived_fields)
    mapping: dict[str, list[Any]] = {"raw": list(distinct), "value": [], "error": [], "blank": []}
    mapping.update({f"d{p}": [] for p in range(derived_count)})
    for raw in distinct:
        result = column.kind.normalise(raw, ctx)
        mapping["value"].append(result.value)
        mapping["error"].append(result.error)
        mapping["blank"].append(result.value is None and result.error is None)
        derived = dict(result.derived)
        for p, derived_field in enumerate(column.kind.derived_fields):
            mapping[f"d{p}"].append(derived.get(derived_field))
    return pa.table(
        {k: pa.array(v, type=pa.bool_() if k == "blank" else pa.string()) for k, v in mapping.items()}
    )


def _validate(
    con: Any, spec: SourceSpec, fields: Sequence[_Column], time_column: _Column | None, received_at: datetime
) -> None:
    """Collect every reason a record cannot be accepted, and the fields nulled as invalid.

    Each check is a (condition, reason) pair. The list of reasons is only built for rows where some
    condition holds: most rows pass, and for them a constant empty list is far cheaper than filtering one.
    """
    checks: list[tuple[str, str]] = [("_parse_error IS NOT NULL", "{'field': '*', 'reason': _parse_error}")]
    flags: list[tuple[str, str]] = []
    parsed = "_parse_error IS NULL"
    for c in fields:
        column = literal(c.spec.column)
        if c.spec.required:
            checks.append(
                (
                    f"({c.raw} IS NULL OR {c.blank}) AND {parsed}",
                    f"{{'field': {column}, 'reason': 'required value is missing'}}",
                )
            )
        invalid = f"{c.raw} IS NOT NULL AND {c.value} IS NULL AND NOT {c.blank}"
        if c.spec.invalid_action == "quarantine":
            reason = f"'invalid ' || {literal(c.kind.name)} || ': ' || coalesce({c.error}, 'cannot convert')"
            checks.append((invalid, f"{{'field': {column}, 'reason': {reason}}}"))
        else:
            flags.append((invalid, column))
    keys = _key_aliases(spec, [*fields, *([time_column] if time_column else [])])
    for key, alias in keys.items():
        checks.append(
            (
                f"{alias} IS NULL AND {parsed}",
                f"{{'field': {literal(key)}, 'reason': 'record key is empty'}}",
            )
        )
    identifiers = [c for c in fields if c.spec.role == "identifier"]
    if identifiers:
        present = " OR ".join(f"{c.value} IS NOT NULL" for c in identifiers)
        types = ", ".join(sorted({c.spec.target for c in identifiers}))
        checks.append(
            (
                f"NOT ({present}) AND {parsed}",
                f"{{'field': '*', 'reason': {literal('no usable identifier: expected a valid ' + types)}}}",
            )
        )
    if spec.timestamp and time_column:
        ts = time_column.value
        column = literal(spec.timestamp)
        future = (
            f"{ts} > TIMESTAMP '{received_at:%Y-%m-%d %H:%M:%S}' + INTERVAL {FUTURE_TOLERANCE_HOURS} HOUR"
        )
        checks.append(
            (
                f"{parsed} AND ({time_column.raw} IS NULL OR {ts} IS NULL OR {future})",
                f"CASE WHEN {time_column.raw} IS NULL THEN {{'field': {column}, 'reason': 'event time is missing'}} "
                f"WHEN {ts} IS NULL THEN {{'field': {column}, "
                f"'reason': 'invalid timestamp: ' || coalesce({time_column.error}, 'cannot convert')}} "
                f"ELSE {{'field': {column}, 'reason': 'event time is in the future: ' || {ts}::VARCHAR}} END",
            )
        )
        ts_expr = ts
    else:
        ts_expr = f"TIMESTAMP '{received_at:%Y-%m-%d %H:%M:%S.%f}'"
    if spec.event_type_column:
        auto = "CASE WHEN regexp_full_match(lower(type_raw), '[a-z][a-z0-9_]*') THEN lower(type_raw) END"
        mapping = spec.event_type_map
        cases = "".join(f"WHEN {literal(raw)} THEN {literal(value)} " for raw, value in mapping.items())
        targets = ", ".join(literal(value) for value in sorted(set(mapping.values())))
        known = f"CASE WHEN lower(type_raw) IN ({targets}) THEN lower(type_raw) END"
        type_expr = f"CASE type_raw {cases}ELSE {known} END" if mapping else auto
        checks.append(
            (
                f"{parsed} AND ({type_expr}) IS NULL",
                f"{{'field': {literal(spec.event_type_column)}, 'reason': 'unknown event type ' "
                f"|| coalesce(type_raw, '(empty)') || '; add it to event_type_map'}}",
            )
        )
    else:
        assert spec.event_type is not None
        type_expr = literal(spec.event_type)
    if spec.key:
        key_values = ", ".join(keys.values())
        event_id = f"sha256({literal(spec.name)} || chr(31) || concat_ws(chr(31), {key_values}))"
        record_key = f"concat_ws('|', {key_values})"
    else:
        event_id = f"sha256({literal(spec.name)} || chr(31) || content_hash)"
        record_key = "left(content_hash, 16)"
    reasons = _only_when_needed(checks, "STRUCT(field VARCHAR, reason VARCHAR)")
    flag_list = _only_when_needed(flags, "VARCHAR")
    # Only what later steps read: the batch is wide, and every column carried is written to memory again.
    kept = ["_file", "_row"]
    for c in fields:
        kept += [c.value, c.blank, f"{c.raw} IS NOT NULL AS {c.present}"]
        kept += [c.derived(p) for p in range(len(c.kind.derived_fields))]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE checked AS SELECT {', '.join(kept)}, {reasons} AS reasons, "
        f"{flag_list} AS flags, {ts_expr} AS ts, {type_expr} AS event_type, "
        f"left({event_id}, 32) AS event_id, {record_key} AS record_key FROM normalised"
    )


def _only_when_needed(pairs: Sequence[tuple[str, str]], item_type: str) -> str:
    """The list of values whose condition holds, or an empty list without building one when none does."""
    empty = f"[]::{item_type}[]"
    if not pairs:
        return empty
    any_condition = " OR ".join(f"({condition})" for condition, _ in pairs)
    items = ", ".join(f"CASE WHEN {condition} THEN {value} END" for condition, value in pairs)
    return (
        f"CASE WHEN coalesce({any_condition}, false) "
        f"THEN list_filter([{items}]::{item_type}[], x -> x IS NOT NULL) ELSE {empty} END"
    )


def _split(con: Any, spec: SourceSpec, fields: Sequence[_Column]) -> dict[str, int]:
    """Count read / accepted / quarantined, and name the accepted events not yet in the log ``accepted_new``.

    Within a batch the first occurrence (by file and row) of an event id wins. Duplicates are rare, so the
    ids that repeat are found with a hash aggregate and only their rows are ranked, instead of a window
    over the whole batch. Event ids hash the source's name, so only this source's events can already hold
    one. A batch with nothing to drop (the usual first load of a source) gets a view instead of a copy.
    """
    read, quarantined = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE len(reasons) > 0) FROM checked"
    ).fetchone()
    needed = ["event_id", "event_type", "ts", "record_key", "_file", "_row", "flags"]
    for c in fields:
        needed.append(c.value)
        needed += [c.derived(p) for p in range(len(c.kind.derived_fields))]
    columns = ", ".join(needed)
    accepted = f"SELECT {columns} FROM checked c WHERE len(reasons) = 0"
    # Grouping 64-bit hashes is several times cheaper than grouping the ids; only rows whose hash repeats
    # (true duplicates, or a rare collision) are grouped by id.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE clashes AS SELECT hash(event_id) AS h FROM checked "
        "WHERE len(reasons) = 0 GROUP BY h HAVING count(*) > 1"
    )
    repeats = con.execute("SELECT count(*) FROM clashes").fetchone()[0]
    held = con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM events WHERE source = ? LIMIT 1)", [spec.name]
    ).fetchone()[0]
    suppressing = con.execute("SELECT count(*) FROM (SELECT 1 FROM suppressed_tokens LIMIT 1)").fetchone()[0]
    if not repeats and not held and not suppressing:
        con.execute(f"CREATE OR REPLACE TEMP VIEW accepted_new AS {accepted}")
        inserted = read - quarantined
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE accepted_new AS "
            f"WITH accepted AS ({accepted} "
            f"  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.source = {literal(spec.name)} "
            f"  AND e.event_id = c.event_id)), "
            f"repeated AS (SELECT event_id, min((_file, _row)) AS first FROM accepted "
            f"  WHERE hash(event_id) IN (SELECT h FROM clashes) GROUP BY event_id HAVING count(*) > 1) "
            f"SELECT a.* FROM accepted a LEFT JOIN repeated r USING (event_id) "
            f"WHERE r.event_id IS NULL OR (a._file, a._row) = r.first"
        )
        inserted = con.execute("SELECT count(*) FROM accepted_new").fetchone()[0]
    con.execute("DROP TABLE clashes")
    accepted_count = read - quarantined
    return {
        "read": int(read),
        "accepted": int(accepted_count),
        "inserted": int(inserted),
        "duplicates": int(accepted_count - inserted),
        "quarantined": int(quarantined),
    }


def _seal(con: Any, workspace: Workspace, column: _Column) -> str:
    """A temp table of the field's distinct accepted values with their ciphertext and keyed token.

    Encryption and tokens are computed once per distinct value, not per row, then joined back.
    """
    name = f"sealed_{column.index}"
    values = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT {column.value}::VARCHAR FROM accepted_new WHERE {column.value} IS NOT NULL"
        ).fetchall()
    ]
    cipher = workspace.cipher
    target = column.spec.target
    # A related identifier is tokenised as its identifier type, so it equals that person's own tokens.
    token_kind = column.spec.id_type or target
    sealing = pa.table(
        {
            "plain": pa.array(values, type=pa.string()),
            "sealed": pa.array(cipher.encrypt_many(values, context=target), type=pa.binary()),
        }
    )
    # In chunks, so the keyed hashes (the costly part) are computed on every core.
    con.register("sealing", _in_chunks(sealing, SEAL_CHUNK))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS "
        f"SELECT plain, sealed, {token_sql(literal(token_kind), 'plain')} AS token FROM sealing",
        pad_parameters(workspace.keyring),
    )
    con.unregister("sealing")
    return name


def _write_events(
    con: Any,
    workspace: Workspace,
    spec: SourceSpec,
    fields: Sequence[_Column],
    batch_id: str,
    received_at: datetime,
) -> int:
    """Insert accepted events and their identifier tokens; sensitive values and identifiers are encrypted.

    A related identifier (another person's, e.g. the referee of a referral) is kept only as ``"tok:" + token``
    in the properties: joinable to that person's ``event_identifiers`` tokens, never in clear, and never in
    ``event_identifiers`` itself, so identity resolution cannot merge the two people over it. An erased
    person's token is not kept.

    Returns how many accepted records were dropped because they carry an erased person's identifier.
    """
    sealed = {
        c.index: _seal(con, workspace, c)
        for c in fields
        if c.spec.role in ("identifier", "related_identifier") or c.spec.classification == "sensitive"
    }
    suppressed = _drop_suppressed(con, [c for c in fields if c.spec.role == "identifier"], sealed)
    groups: dict[str, list[str]] = {"attribute": [], "property": []}
    joins: list[str] = []
    explicit = {c.spec.target for c in fields if c.spec.role != "identifier"}
    for c in fields:
        if c.spec.role == "related_identifier":
            table = sealed[c.index]
            con.execute(f"DELETE FROM {table} WHERE {is_suppressed_sql(table + '.token')}")
            joins.append(f"LEFT JOIN {table} ON {table}.plain = a.{c.value}::VARCHAR")
            groups["property"].append(f"{literal(c.spec.target)}, 'tok:' || {table}.token")
            continue  # what a kind derives from another person's identifier is not this event's fact
        if c.spec.role != "identifier":
            value = f"a.{c.value}"
            if c.index in sealed:
                table = sealed[c.index]
                joins.append(f"LEFT JOIN {table} ON {table}.plain = a.{c.value}::VARCHAR")
                value = f"'enc:' || base64({table}.sealed)"
            elif not c.kind.sql_type.startswith(("DECIMAL", "DOUBLE", "BIGINT", "BOOLEAN")):
                value = f"{value}::VARCHAR"
            groups[c.spec.role].append(f"{literal(c.spec.target)}, {value}")
        role = "attribute" if c.spec.role == "identifier" else c.spec.role
        for position, derived_field in enumerate(c.kind.derived_fields):
            derived_name = c.derived_name(derived_field)
            if derived_name not in explicit:
                groups[role].append(f"{literal(derived_name)}, a.{c.derived(position)}")

    def as_json(items: list[str]) -> str:
        return f"json_object({', '.join(items)})" if items else "NULL::JSON"

    con.execute(
        f"INSERT INTO events SELECT a.event_id, {literal(spec.name)}, a.event_type, a.ts, "
        f"TIMESTAMP '{received_at:%Y-%m-%d %H:%M:%S.%f}', {literal(batch_id)}, a.record_key, "
        f"a._file || ':' || a._row, {as_json(groups['attribute'])}, {as_json(groups['property'])}, a.flags "
        f"FROM accepted_new a {' '.join(joins)}"
    )
    for c in fields:
        if c.spec.role == "identifier":
            table = sealed[c.index]
            con.execute(
                f"INSERT INTO event_identifiers SELECT a.event_id, {literal(c.spec.target)}, {table}.token "
                f"FROM accepted_new a JOIN {table} ON {table}.plain = a.{c.value}::VARCHAR"
            )
            # The ciphertext once per value, not per event: a customer's phone on a thousand orders is one row.
            # After records of erased persons were dropped, only values that an inserted record still holds.
            kept = f"SEMI JOIN accepted_new a ON s.plain = a.{c.value}::VARCHAR " if suppressed else ""
            con.execute(
                f"INSERT INTO identifier_values SELECT s.token, {literal(c.spec.target)}, s.sealed FROM {table} s "
                f"{kept}ANTI JOIN identifier_values v ON v.token = s.token"
            )
    for table in sealed.values():
        con.execute(f"DROP TABLE {table}")
    return suppressed


def _drop_suppressed(con: Any, identifiers: Sequence[_Column], sealed: dict[int, str]) -> int:
    """Remove accepted records of erased persons, so re-ingesting an old export does not bring them back."""
    if not identifiers or not con.execute("SELECT count(*) FROM suppressed_tokens").fetchone()[0]:
        return 0
    before = con.execute("SELECT count(*) FROM accepted_new").fetchone()[0]
    for c in identifiers:
        table = sealed[c.index]
        con.execute(
            f"DELETE FROM accepted_new USING {table} "
            f"WHERE {table}.plain = accepted_new.{c.value}::VARCHAR AND {is_suppressed_sql(table + '.token')}"
        )
    return int(before - con.execute("SELECT count(*) FROM accepted_new").fetchone()[0])


def _quarantine_rows(
    con: Any,
    cipher: FieldCipher,
    spec: SourceSpec,
    batch: SourceBatch,
    fields: Sequence[_Column],
    received_at: datetime,
    batch_id: str,
    quarantined: int,
) -> pa.Table:
    """Quarantined records with their file, line, key, every reason and the raw record (encrypted).

    The raw records are looked up only when there are some: the lookup joins the whole input.
    """
    rows = (
        con.execute(
            "SELECT _file, _row, record_key, event_id, to_json(reasons)::VARCHAR, "
            "(SELECT to_json(r) FROM (SELECT * EXCLUDE (_file, _row, _parse_error) FROM raw_input "
            " WHERE raw_input._file = c._file AND raw_input._row = c._row) r) "
            "FROM checked c WHERE len(reasons) > 0 ORDER BY _file, _row"
        ).fetchall()
        if quarantined
        else []
    )
    lines = _line_numbers(spec, batch, rows)
    columns: dict[str, list[Any]] = {
        "quarantine_id": [],
        "source": [],
        "batch_id": [],
        "file": [],
        "line": [],
        "record_key": [],
        "raw_enc": [],
        "reasons": [],
        "received_at": [],
        "status": [],
        "resolved_batch": [],
    }
    for file, row, record_key, event_id, reasons, raw in rows:
        columns["quarantine_id"].append(event_id)
        columns["source"].append(spec.name)
        columns["batch_id"].append(batch_id)
        columns["file"].append(file)
        columns["line"].append(lines.get((file, row), row))
        columns["record_key"].append(record_key)
        columns["raw_enc"].append(cipher.encrypt(raw or "{}", context="quarantine"))
        columns["reasons"].append(reasons)
        columns["received_at"].append(received_at)
        columns["status"].append("open")
        columns["resolved_batch"].append(None)
    types = (
        [pa.string()] * 4
        + [pa.int64(), pa.string(), pa.binary(), pa.string(), pa.timestamp("us")]
        + [pa.string()] * 2
    )
    return pa.table({k: pa.array(v, type=t) for (k, v), t in zip(columns.items(), types, strict=True)})


def _line_numbers(
    spec: SourceSpec, batch: SourceBatch, rows: list[tuple[Any, ...]]
) -> dict[tuple[str, int], int]:
    """Physical line of each quarantined record: CSV records can span lines, and a header comes first."""
    if spec.format != "csv" or not rows:
        return {}
    found: dict[tuple[str, int], int] = {}
    for source_file in batch.files:
        wanted = {row for file, row, *_ in rows if file == source_file.relative}
        if wanted:
            encoding = spec.encoding if spec.encoding != "auto" else detect_encoding(source_file.path)
            lines = physical_lines(source_file.path, encoding, spec.delimiter or ",", wanted)
            found.update({(source_file.relative, r): line for r, line in lines.items()})
    return found


def _new_watermark(con: Any, spec: SourceSpec, batch: SourceBatch, previous: str | None) -> str | None:
    if not spec.watermark:
        return None
    if spec.format == "sql":
        values = [v for v in batch.table.column(spec.watermark).to_pylist() if v is not None]
        return max([*values, *([previous] if previous else [])], default=None, key=typed_watermark)
    latest = con.execute("SELECT max(ts)::VARCHAR FROM checked WHERE len(reasons) = 0").fetchone()[0]
    return max([v for v in (latest, previous) if v is not None], default=None)


def _write_stats(con: Any, spec: SourceSpec, fields: Sequence[_Column], batch_id: str) -> None:
    """Per-field completeness, validity and distinctness of this batch, for the quality report.

    One pass over the batch computes every field's counts.
    """
    if not fields:
        return
    measures = ", ".join(
        f"count(*) FILTER (WHERE {c.present} AND NOT {c.blank}), count({c.value}), "
        f"approx_count_distinct({c.value})"
        for c in fields
    )
    records, *counts = con.execute(f"SELECT count(*), {measures} FROM checked").fetchone()
    con.executemany(
        "INSERT INTO field_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                batch_id,
                spec.name,
                c.spec.target,
                c.spec.column,
                c.spec.role,
                c.kind.name,
                c.spec.classification,
                records,
                *counts[3 * position : 3 * position + 3],
            ]
            for position, c in enumerate(fields)
        ],
    )


def _resolve_retried(con: Any, readmit: dict[str, str], batch_id: str) -> None:
    """Retried quarantine entries: readmitted if accepted this time, else open with their new reasons.

    ``readmit`` maps quarantine id → ``file:line`` of the record, which a retry batch keeps as its origin.
    """
    table = pa.table({"quarantine_id": list(readmit), "origin": list(readmit.values())})
    con.register("retried", table)
    con.execute(
        "UPDATE quarantine SET "
        "status = CASE WHEN len(c.reasons) = 0 THEN 'readmitted' ELSE 'open' END, "
        "reasons = CASE WHEN len(c.reasons) = 0 THEN quarantine.reasons ELSE to_json(c.reasons) END, "
        "resolved_batch = CASE WHEN len(c.reasons) = 0 THEN ? END "
        "FROM retried r JOIN checked c ON c._file || ':' || c._row = r.origin "
        "WHERE quarantine.quarantine_id = r.quarantine_id AND quarantine.status = 'open'",
        [batch_id],
    )
    con.unregister("retried")

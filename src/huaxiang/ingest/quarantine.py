"""The quarantine: records that could not be accepted, with where they came from and every reason.

Nothing is dropped: a user reads the reasons, fixes the mapping in ``huaxiang.yaml`` (or the kind of a
field), and :func:`retry_quarantine` runs the held records through the current mapping again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from huaxiang.errors import NotFoundError
from huaxiang.ingest.connectors import META_COLUMNS, SourceBatch
from huaxiang.ingest.pipeline import IngestResult, Progress, _ingest_batch, _source_columns
from huaxiang.privacy.access import acting_principal
from huaxiang.privacy.reader import mask_quarantined_record
from huaxiang.privacy.roles import Principal
from huaxiang.workspace import Workspace


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    quarantine_id: str
    source: str
    file: str
    line: int | None
    record_key: str | None
    reasons: tuple[dict[str, str], ...]
    received_at: datetime
    status: str
    raw: dict[str, Any] | None = None  # only when asked for (it may hold personal data)


@dataclass(frozen=True, slots=True)
class QuarantineSummary:
    source: str
    open: int
    readmitted: int
    top_reasons: tuple[tuple[str, int], ...]


def summarise_quarantine(workspace: Workspace) -> list[QuarantineSummary]:
    """Open and readmitted counts per source, with the most frequent reasons."""
    warehouse = workspace.warehouse
    summaries = []
    for source, open_count, readmitted in warehouse.rows(
        "SELECT source, count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'readmitted') "
        "FROM quarantine GROUP BY source ORDER BY source"
    ):
        reasons = warehouse.rows(
            "SELECT r->>'field' || ': ' || split_part(r->>'reason', ':', 1) AS reason, count(*) AS n "
            "FROM (SELECT unnest(from_json(reasons, '[\"JSON\"]')) AS r FROM quarantine "
            "      WHERE source = ? AND status = 'open') GROUP BY reason ORDER BY n DESC, reason LIMIT 5",
            [source],
        )
        summaries.append(QuarantineSummary(source, open_count, readmitted, tuple((r, n) for r, n in reasons)))
    return summaries


def list_quarantine(
    workspace: Workspace, *, source: str | None = None, status: str = "open", limit: int = 50
) -> list[QuarantinedRecord]:
    rows = workspace.warehouse.rows(
        "SELECT quarantine_id, source, file, line, record_key, reasons, received_at, status FROM quarantine "
        "WHERE (? IS NULL OR source = ?) AND (? = 'all' OR status = ?) ORDER BY source, file, line LIMIT ?",
        [source, source, status, status, limit],
    )
    return [_record(row) for row in rows]


def show_quarantined(
    workspace: Workspace, quarantine_id: str, *, principal: Principal | None = None
) -> QuarantinedRecord:
    """One quarantined record, its raw content masked for the reader's role and the read audited.

    ``principal`` defaults to the acting one (``HUAXIANG_API_KEY``, else the workspace owner); the id may be
    a unique prefix.
    """
    rows = workspace.warehouse.rows(
        "SELECT quarantine_id, source, file, line, record_key, reasons, received_at, status, raw_enc "
        "FROM quarantine WHERE starts_with(quarantine_id, ?) ORDER BY received_at DESC",
        [quarantine_id],
    )
    ids = {row[0] for row in rows}
    if len(ids) != 1:
        raise NotFoundError(
            f"no quarantined record {quarantine_id!r}" if not ids else f"{quarantine_id!r} is ambiguous",
            hint="list ids with `huaxiang quarantine list`" if not ids else "give more characters of the id",
        )
    raw = json.loads(workspace.cipher.decrypt(rows[0][-1], context="quarantine"))
    record = _record(rows[0][:-1])
    reader = principal or acting_principal(workspace)
    shown = mask_quarantined_record(workspace, reader, record.source, record.quarantine_id, raw)
    return QuarantinedRecord(**{**{k: getattr(record, k) for k in record.__slots__}, "raw": shown})


def _record(row: tuple[Any, ...]) -> QuarantinedRecord:
    quarantine_id, source, file, line, record_key, reasons, received_at, status = row
    return QuarantinedRecord(
        quarantine_id, source, file, line, record_key, tuple(json.loads(reasons)), received_at, status
    )


def retry_quarantine(
    workspace: Workspace, *, source: str | None = None, on_progress: Progress | None = None
) -> list[IngestResult]:
    """Run open quarantined records through the current ``huaxiang.yaml`` again; accepted ones are readmitted."""
    workspace.reload_config()
    results = []
    sources = (
        [source]
        if source
        else [s for (s,) in workspace.warehouse.rows("SELECT DISTINCT source FROM quarantine")]
    )
    for name in sources:
        spec = workspace.config.source(name)
        rows = workspace.warehouse.rows(
            "SELECT quarantine_id, file, line, raw_enc FROM quarantine WHERE source = ? AND status = 'open' "
            "ORDER BY file, line",
            [name],
        )
        if not rows:
            continue
        raws = [json.loads(workspace.cipher.decrypt(row[3], context="quarantine")) for row in rows]
        columns = list(dict.fromkeys([*_source_columns(spec), *(k for raw in raws for k in raw)]))
        data: dict[str, list[Any]] = {name: [] for name in (*META_COLUMNS, *columns)}
        origins: dict[str, str] = {}
        for (quarantine_id, file, line, _), raw in zip(rows, raws, strict=True):
            data["_file"].append(file)
            data["_row"].append(line)
            data["_parse_error"].append(None if raw else "record could not be parsed when it was read")
            for column in columns:
                value = raw.get(column)
                data[column].append(None if value is None else str(value))
            origins[quarantine_id] = f"{file}:{line}"
        table = pa.table(
            {k: pa.array(v, type=pa.int64() if k == "_row" else pa.string()) for k, v in data.items()}
        )
        results.append(
            _ingest_batch(
                workspace,
                spec,
                SourceBatch(table, ()),
                (),
                None,
                on_progress or (lambda stage, done, total: None),
                time.perf_counter(),
                kind="retry",
                readmit=origins,
            )
        )
    return results

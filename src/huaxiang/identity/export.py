"""Export the resolution per source record, and score it against a file of known truth.

Why per source record: a record (``source`` + ``record_key``) is what both the sources and a ground-truth
file name, while event ids are internal. Evaluation leaves out truth records the event log does not hold
(quarantined, never ingested) and says how many: counting them as singletons would blame resolution for
what ingest rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.identity.evaluation import LinkageMetrics, evaluate_clusters
from huaxiang.identity.schema import ensure_identity_schema
from huaxiang.workspace import Workspace

_FORMATS = {".csv": "FORMAT csv, HEADER", ".parquet": "FORMAT parquet"}


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    records: int
    persons: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Metrics over the truth records found in the event log; ``missing`` were not found there."""

    metrics: LinkageMetrics
    truth_records: int
    missing: int
    unresolved: int  # found in the log but not yet resolved (run `identity resolve`)

    def to_dict(self) -> dict[str, Any]:
        return {
            "truth_records": self.truth_records,
            "evaluated": self.metrics.records,
            "missing": self.missing,
            "unresolved": self.unresolved,
            **{name: getattr(self.metrics, name) for name in self.metrics.__slots__},
        }


def _format(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise HuaxiangError(
            f"cannot tell the file format from {path.name!r}",
            location=str(path),
            hint="use a .csv or .parquet file name",
        )
    return fmt


def export_persons(workspace: Workspace, out: Path) -> ExportResult:
    """One row per source record: ``source``, ``record_key``, ``person_id`` (CSV or Parquet by extension)."""
    fmt = _format(out)
    warehouse = workspace.warehouse
    ensure_identity_schema(warehouse)
    if not warehouse.count("event_persons"):
        raise NotFoundError("no resolved persons yet", hint="run `huaxiang identity resolve` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    target = str(out).replace("'", "''")
    warehouse.con.execute(
        f"""
        COPY (
            SELECT e.source, e.record_key, p.person_id
            FROM events e JOIN event_persons p ON p.event_id = e.event_id
            ORDER BY e.source, e.record_key
        ) TO '{target}' ({fmt})
        """
    )
    records, persons = warehouse.rows("SELECT count(*), count(DISTINCT person_id) FROM event_persons")[0]
    return ExportResult(out, int(records), int(persons))


def evaluate_resolution(workspace: Workspace, truth: Path) -> Evaluation:
    """Pairwise and cluster metrics of the resolution against ``truth`` (``source``, ``record_key``, ``true_id``)."""
    fmt = _format(truth)
    if not truth.exists():
        raise NotFoundError("truth file not found", location=str(truth))
    warehouse = workspace.warehouse
    ensure_identity_schema(warehouse)
    con = warehouse.con
    path = str(truth).replace("'", "''")
    reader = (
        f"read_csv('{path}', all_varchar = true)" if fmt.endswith("HEADER") else f"read_parquet('{path}')"
    )
    columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    wanted = {"source", "record_key", "true_id"}
    if not wanted <= columns:
        raise HuaxiangError(
            f"truth file lacks column(s) {', '.join(sorted(wanted - columns))}",
            location=str(truth),
            hint="the truth file needs the columns source, record_key and true_id",
        )
    rows = con.execute(
        f"""
        WITH truth AS (
            SELECT DISTINCT source::VARCHAR AS source, record_key::VARCHAR AS record_key, true_id::VARCHAR AS true_id
            FROM {reader}
        )
        SELECT t.source, t.record_key, t.true_id, e.event_id IS NOT NULL, p.person_id
        FROM truth t
        LEFT JOIN events e ON e.source = t.source AND e.record_key = t.record_key
        LEFT JOIN event_persons p ON p.event_id = e.event_id
        """
    ).fetchall()
    keys = [(source, key) for source, key, *_ in rows]
    if len(set(keys)) != len(keys):
        raise HuaxiangError(
            "a record has more than one true_id in the truth file",
            location=str(truth),
            hint="one row per record",
        )
    truth_map = {(s, k): t for s, k, t, found, _ in rows if found}
    predicted = {(s, k): p for s, k, _, found, p in rows if found and p is not None}
    if not truth_map:
        raise NotFoundError(
            "none of the truth file's records is in the event log",
            location=str(truth),
            hint="check that source names and record keys match `identity export`",
        )
    return Evaluation(
        metrics=evaluate_clusters(predicted, truth_map),
        truth_records=len(rows),
        missing=sum(1 for *_, found, _ in rows if not found),
        unresolved=len(truth_map) - len(predicted),
    )

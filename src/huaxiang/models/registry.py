"""The model registry: every trained model kept with its version, data window, parameters and metrics.

A model version is a row of ``model_versions`` in the warehouse. Its artifact is text the model's own
library reads back (a LightGBM model string, JSON centroids and scaler, fitted CLV parameters): never a
pickle, so reading a registry cannot run code. Tags a model produced name the version that produced them,
so a score can always be traced to the data and settings behind it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from huaxiang.backends.duckdb import Warehouse
from huaxiang.errors import NotFoundError

TABLE = "model_versions"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    version      VARCHAR PRIMARY KEY,   -- kind-YYYYMMDDTHHMMSS-xxxx
    kind         VARCHAR NOT NULL,      -- clv, churn, clusters, sentiment, ...
    created_at   TIMESTAMP NOT NULL,    -- UTC
    data_from    TIMESTAMP,             -- the window of events the model learnt from (UTC)
    data_to      TIMESTAMP,
    parameters   JSON NOT NULL,
    metrics      JSON NOT NULL,         -- measured on data the model did not see
    artifact     VARCHAR,               -- text the model's library reads back; no pickles
    description  VARCHAR NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class ModelVersion:
    version: str
    kind: str
    created_at: datetime
    data_from: datetime | None
    data_to: datetime | None
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    artifact: str | None = None
    description: str = ""

    def to_dict(self, *, artifact: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "data_from": self.data_from.isoformat() if self.data_from else None,
            "data_to": self.data_to.isoformat() if self.data_to else None,
            "parameters": self.parameters,
            "metrics": self.metrics,
            "description": self.description,
        }
        if artifact:
            out["artifact"] = self.artifact
        return out


def ensure_schema(warehouse: Warehouse) -> None:
    warehouse.con.execute(SCHEMA)


def register_model(
    warehouse: Warehouse,
    kind: str,
    *,
    parameters: Mapping[str, Any],
    metrics: Mapping[str, Any],
    data_from: datetime | None = None,
    data_to: datetime | None = None,
    artifact: str | None = None,
    description: str = "",
    now: datetime | None = None,
) -> ModelVersion:
    """Store a trained model and return its new version (ids sort by creation time within a kind)."""
    ensure_schema(warehouse)
    created = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    version = f"{kind}-{created:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
    record = ModelVersion(
        version, kind, created, data_from, data_to, dict(parameters), dict(metrics), artifact, description
    )
    warehouse.con.execute(
        f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            version,
            kind,
            created,
            data_from,
            data_to,
            json.dumps(record.parameters, ensure_ascii=False, default=str),
            json.dumps(record.metrics, ensure_ascii=False, default=str),
            artifact,
            description,
        ],
    )
    return record


_COLUMNS = "version, kind, created_at, data_from, data_to, parameters, metrics, artifact, description"


def _version(row: tuple[Any, ...]) -> ModelVersion:
    version, kind, created, data_from, data_to, parameters, metrics, artifact, description = row
    return ModelVersion(
        version,
        kind,
        created,
        data_from,
        data_to,
        json.loads(parameters),
        json.loads(metrics),
        artifact,
        description,
    )


def list_models(warehouse: Warehouse, kind: str | None = None) -> list[ModelVersion]:
    """Every stored version, newest first (optionally of one kind)."""
    ensure_schema(warehouse)
    rows = warehouse.rows(
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE $kind IS NULL OR kind = $kind ORDER BY created_at DESC, version DESC",
        {"kind": kind},
    )
    return [_version(r) for r in rows]


def find_model(warehouse: Warehouse, reference: str) -> ModelVersion:
    """A version by its id, or the newest version of a kind (``churn``)."""
    ensure_schema(warehouse)
    rows = warehouse.rows(
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE version = $ref OR kind = $ref "
        "ORDER BY version = $ref DESC, created_at DESC, version DESC LIMIT 1",
        {"ref": reference},
    )
    if not rows:
        known = sorted({m.kind for m in list_models(warehouse)})
        raise NotFoundError(
            f"no model version or kind {reference!r} in the registry / 模型库中没有 {reference!r}",
            hint=f"kinds with versions: {', '.join(known) or 'none yet'}; `huaxiang models list` shows every version",
        )
    return _version(rows[0])

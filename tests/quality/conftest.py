"""A warehouse on real DuckDB, filled row by row to stage the situations a quality report must see."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from huaxiang.backends.duckdb import Warehouse

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def token_of(id_type: str, value: str) -> str:
    """A stand-in for the HMAC token: the report only ever compares tokens for equality."""
    return hashlib.sha256(f"{id_type}\x1f{value}".encode()).hexdigest()


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class Seed:
    """Insert rows into the warehouse tables the way the ingest pipeline lays them out."""

    now = NOW
    token = staticmethod(token_of)

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._events = 0
        self._quarantined = 0

    def run(
        self,
        source: str,
        batch_id: str,
        *,
        read: int,
        accepted: int,
        quarantined: int,
        duplicates: int = 0,
        kind: str = "ingest",
        started: datetime = NOW - timedelta(days=1),
    ) -> None:
        self.warehouse.con.execute(
            "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                source,
                naive(started),
                naive(started),
                read,
                accepted,
                accepted - duplicates,
                duplicates,
                quarantined,
                "[]",
                None,
                kind,
                0,
            ],
        )

    def stats(
        self,
        source: str,
        batch_id: str,
        field: str,
        *,
        records: int,
        present: int,
        valid: int,
        distinct: int,
        role: str = "attribute",
        kind: str = "string",
        level: str = "internal",
        column: str | None = None,
    ) -> None:
        self.warehouse.con.execute(
            "INSERT INTO field_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [batch_id, source, field, column or field, role, kind, level, records, present, valid, distinct],
        )

    def event(
        self,
        source: str,
        *,
        ts: datetime,
        received_at: datetime | None = None,
        type: str = "identify",
        identifiers: dict[str, str] | None = None,
        attributes: dict[str, Any] | None = None,
        batch_id: str = "b",
    ) -> str:
        self._events += 1
        event_id = f"e{self._events:05d}"
        self.warehouse.con.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                event_id,
                source,
                type,
                naive(ts),
                naive(received_at or ts),
                batch_id,
                event_id,
                f"{source}.csv:{self._events}",
                json.dumps(attributes, ensure_ascii=False) if attributes else None,
                None,
                [],
            ],
        )
        for id_type, value in (identifiers or {}).items():
            self.warehouse.con.execute(
                "INSERT INTO event_identifiers VALUES (?, ?, ?)",
                [event_id, id_type, token_of(id_type, value)],
            )
        return event_id

    def quarantine(self, source: str, reasons: list[dict[str, str]], *, status: str = "open") -> None:
        self._quarantined += 1
        self.warehouse.con.execute(
            "INSERT INTO quarantine VALUES (?, ?, 'b', 'f.csv', ?, NULL, ?, ?, ?, ?, NULL)",
            [
                f"q{self._quarantined}",
                source,
                self._quarantined,
                b"sealed",
                json.dumps(reasons),
                naive(NOW),
                status,
            ],
        )


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    store = Warehouse(tmp_path / "w.duckdb")
    yield store
    store.close()


@pytest.fixture
def seed(warehouse: Warehouse) -> Seed:
    return Seed(warehouse)

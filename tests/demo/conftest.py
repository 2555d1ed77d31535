"""One small demo world per test session, and readers that load each demo file as rows."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from huaxiang.demo.generator import DemoManifest, generate_demo_data

CUSTOMERS = 300
SEED = 7


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return generate_demo_data(tmp_path_factory.mktemp("demo") / "data", customers=CUSTOMERS, seed=SEED)


@dataclass(frozen=True, slots=True)
class Rows:
    """A demo file read back by an independent reader: column names and rows in file order."""

    columns: list[str]
    rows: list[dict[str, Any]]


def _duckdb_rows(sql: str) -> Rows:
    con = duckdb.connect()
    con.sql("set TimeZone = 'UTC'")
    try:
        result = con.sql(sql)
        columns = list(result.columns)
        return Rows(columns, [dict(zip(columns, row, strict=True)) for row in result.fetchall()])
    finally:
        con.close()


def read_source(manifest: DemoManifest, source: str, scratch: Path) -> Rows:
    """Read a source the way its declared format and encoding say, with DuckDB or openpyxl."""
    paths = manifest.files[source]
    if source == "service_tickets":
        sheet = openpyxl.load_workbook(paths[0], read_only=True)["工单"]
        values = list(sheet.iter_rows(values_only=True))
        header = [str(h) for h in values[0]]
        # read-only sheets end a row at its last filled cell
        padded = [tuple(row) + (None,) * (len(header) - len(row)) for row in values[1:]]
        return Rows(header, [dict(zip(header, row, strict=True)) for row in padded])
    if source == "web_events":
        # TIMESTAMPTZ values need pytz to reach Python; read them as naive UTC instead.
        glob = f"{paths[0].parent}/part-*.parquet"
        return _duckdb_rows(f"select * replace (cast(ts as timestamp) as ts) from read_parquet('{glob}')")
    if source == "online_orders":
        return _duckdb_rows(f"select * from read_json_auto('{paths[0]}', format='newline_delimited')")
    path = paths[0]
    if source == "pos_orders":  # DuckDB reads UTF-8 only without a downloadable extension
        path = scratch / "pos_orders.utf8.csv"
        path.write_text(paths[0].read_bytes().decode("gb18030"), encoding="utf-8")
    return _duckdb_rows(f"select * from read_csv('{path}', header=true, all_varchar=true, strict_mode=true)")


def key_text(value: object) -> str:
    return "" if value is None else str(value)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_jsonl(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        json.loads(line)
    return lines

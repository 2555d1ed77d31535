"""Ingest throughput: huaxiang end to end vs DuckDB's bare read of the same file, in the same run.

    uv run --frozen python -m benchmarks.ingest --rows 1000000 [--rows 10000000]

The file is a store-orders export: a phone (E.164-normalised, tokenised and encrypted), a `¥1,299.00`
amount, a naive local timestamp (converted to UTC), an order key and two plain properties.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from huaxiang.ingest import ingest_all
from huaxiang.workspace import Workspace

SOURCES = """\
sources:
  - name: orders
    format: {format}
    path: data/orders.{format}
    key: [order_id]
    event_type: purchase
    timestamp: paid_at
    fields:
      - {{column: phone, role: identifier}}
      - {{column: order_id, role: property}}
      - {{column: amount, role: property, kind: amount}}
      - {{column: store, role: property}}
      - {{column: sku, role: property}}
"""


def write_orders(folder: Path, rows: int, customers: int) -> dict[str, Path]:
    """A CSV and a Parquet file of the same orders, generated inside DuckDB (fast and deterministic)."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"""
        CREATE TABLE orders AS SELECT
            'O' || i AS order_id,
            CASE WHEN i % 50 = 0 THEN '+86 ' ELSE '' END
                || '1' || (['38', '39', '86', '35', '50'])[1 + (i * 7919 % {customers}) % 5]
                || lpad(((i * 7919) % {customers})::VARCHAR, 8, '0') AS phone,
            '¥' || format('{{:,}}', (i % 3000)::BIGINT) || '.' || lpad((i % 100)::VARCHAR, 2, '0') AS amount,
            strftime(TIMESTAMP '2024-01-01' + to_seconds(i % 31536000), '%Y-%m-%d %H:%M:%S') AS paid_at,
            'S' || (i % 300) AS store,
            'SKU' || (i % 5000) AS sku
        FROM range({rows}) t(i)
        """
    )
    paths = {"csv": folder / "orders.csv", "parquet": folder / "orders.parquet"}
    con.execute(f"COPY orders TO '{paths['csv']}' (HEADER)")
    con.execute(f"COPY orders TO '{paths['parquet']}' (FORMAT parquet)")
    con.close()
    return paths


def bare_load(path: Path, file_format: str, database: Path | None = None) -> float:
    """DuckDB's own reader into a table: in memory, or (``database``) into a file, committed and checkpointed
    as huaxiang's warehouse is, which is the like-for-like baseline for a load that must survive a crash.

    Insertion order is off, as in huaxiang's ingest: the same engine setting on both sides.
    """
    con = duckdb.connect(str(database) if database else ":memory:")
    con.execute("SET preserve_insertion_order = false")
    reader = "read_csv" if file_format == "csv" else "read_parquet"
    started = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{path}')")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def huaxiang_ingest(path: Path, file_format: str, scratch: Path) -> tuple[float, int]:
    root = scratch / f"ws-{file_format}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    shutil.copy(path, root / "data" / path.name)
    workspace = Workspace.init(root, sources_yaml=SOURCES.format(format=file_format))
    started = time.perf_counter()
    [result] = ingest_all(workspace)
    workspace.warehouse.con.execute("CHECKPOINT")
    seconds = time.perf_counter() - started
    workspace.close()
    assert result.records_read == result.accepted + result.quarantined
    return seconds, result.inserted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, action="append", help="rows per file (repeatable)")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--scratch", type=Path, default=None)
    args = parser.parse_args()
    console = Console()
    table = Table(title="Ingest throughput (rows/s): huaxiang end to end vs DuckDB bare load")
    columns = (
        "rows",
        "format",
        "bare, memory s",
        "bare, file s",
        "huaxiang s",
        "huaxiang rows/s",
        "ratio (file)",
    )
    for column in (*columns, "inserted"):
        table.add_column(column, justify="right")
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="huaxiang-bench-"))
    for rows in args.rows or [1_000_000]:
        paths = write_orders(scratch / f"data-{rows}", rows, args.customers)
        for file_format, path in paths.items():
            in_memory = bare_load(path, file_format)
            database = scratch / f"bare-{file_format}.duckdb"
            in_file = bare_load(path, file_format, database)
            database.unlink()
            ours, inserted = huaxiang_ingest(path, file_format, scratch)
            table.add_row(
                f"{rows:,}",
                file_format,
                f"{in_memory:.2f}",
                f"{in_file:.2f}",
                f"{ours:.2f}",
                f"{rows / ours:,.0f}",
                f"{ours / in_file:.1f}×",
                f"{inserted:,}",
            )
            console.print(table)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

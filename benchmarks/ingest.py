"""Ingest throughput: huaxiang end to end vs DuckDB's bare read of the same file, in the same run.

    uv run --frozen python -m benchmarks.ingest --rows 1000000 [--rows 10000000]

The file is a store-orders export: a phone (E.164-normalised, tokenised and encrypted), a `¥1,299.00`
amount, a naive local timestamp (converted to UTC), an order key and two plain properties.

A third column is the floor under any ingest that keeps huaxiang's event log: writing only the log's rows
(events, identifier tokens, one ciphertext stand-in per distinct identifier) from a table that is already
read, normalised and hashed, committed and checkpointed like the rest.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from rich.console import Console
from rich.table import Table

from huaxiang.backends.duckdb import SCHEMA, connect
from huaxiang.ingest import ingest_all
from huaxiang.workspace import Workspace

P = ParamSpec("P")
R = TypeVar("R")

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
    con = connect()
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
    con = connect(str(database) if database else ":memory:")
    con.execute("SET preserve_insertion_order = false")
    reader = "read_csv" if file_format == "csv" else "read_parquet"
    started = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{path}')")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def log_write_floor(path: Path, file_format: str, database: Path) -> float:
    """Seconds to write the event log's rows for the file, from rows prepared beforehand (not timed).

    The preparation is the least an ingest does (no validation, no quarantine, no statistics, a plain hash
    for the keyed token and the ciphertext); what is timed is only what every ingest then writes.
    """
    con = connect(str(database))
    con.execute("SET preserve_insertion_order = false")
    con.execute(SCHEMA)
    source = (
        f"read_csv('{path}', all_varchar = true)"
        if file_format == "csv"
        else f"(SELECT COLUMNS(*)::VARCHAR FROM read_parquet('{path}'))"
    )
    con.execute(
        f"""
        CREATE TEMP TABLE prepared AS SELECT
            left(sha256('orders' || chr(31) || order_id), 32) AS event_id, order_id,
            '+86' || right(phone, 11) AS phone,
            TRY_CAST(replace(replace(amount, '¥', ''), ',', '') AS DECIMAL(18, 2)) AS amount,
            paid_at::TIMESTAMP - INTERVAL 8 HOUR AS ts, store, sku, row_number() OVER () AS row
        FROM {source}
        """
    )
    con.execute(
        "CREATE TEMP TABLE sealed AS SELECT phone AS plain, sha256('token' || phone) AS token, "
        "unhex(sha256('sealed' || phone)) AS sealed FROM (SELECT DISTINCT phone FROM prepared)"
    )
    started = time.perf_counter()
    con.execute("BEGIN")
    con.execute(
        "INSERT INTO events SELECT event_id, 'orders', 'purchase', ts, now()::TIMESTAMP, 'orders-batch', order_id, "
        f"'data/orders.{file_format}:' || row, NULL, "
        "json_object('order_id', order_id, 'amount', amount, 'store', store, 'sku', sku), []::VARCHAR[] "
        "FROM prepared"
    )
    con.execute(
        "INSERT INTO event_identifiers SELECT p.event_id, 'phone', s.token FROM prepared p "
        "JOIN sealed s ON s.plain = p.phone"
    )
    con.execute("INSERT INTO identifier_values SELECT token, 'phone', sealed FROM sealed")
    con.execute("COMMIT")
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


def isolated(measure: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run one measurement in a fresh process: none inherits another's memory or caches (in one process,
    a 10M-row ingest after the baselines ran about a tenth slower than alone)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, *args, **kwargs).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, action="append", help="rows per file (repeatable)")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--scratch", type=Path, default=None)
    args = parser.parse_args()
    console = Console(width=160)  # the whole table, also when written to a file
    table = Table(title="Ingest throughput (rows/s): huaxiang end to end vs DuckDB bare load")
    columns = (
        "rows",
        "format",
        "bare, memory s",
        "bare, file s",
        "log write only s",
        "ratio (file)",
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
            database = scratch / f"bare-{file_format}.duckdb"
            in_memory = isolated(bare_load, path, file_format)
            in_file = isolated(bare_load, path, file_format, database)
            database.unlink()
            floor = isolated(log_write_floor, path, file_format, database)
            database.unlink()
            ours, inserted = isolated(huaxiang_ingest, path, file_format, scratch)
            table.add_row(
                f"{rows:,}",
                file_format,
                f"{in_memory:.2f}",
                f"{in_file:.2f}",
                f"{floor:.2f}",
                f"{floor / in_file:.1f}×",
                f"{ours:.2f}",
                f"{rows / ours:,.0f}",
                f"{ours / in_file:.1f}×",
                f"{inserted:,}",
            )
            console.print(
                f"{rows:,} rows, {file_format}: huaxiang {ours:.2f} s, bare load into a file {in_file:.2f} s"
            )
    console.print(table)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

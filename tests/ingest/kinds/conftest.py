"""Shared fixtures: the SQL fast path run on a real in-memory DuckDB next to the Python normaliser."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pytest

from huaxiang.ingest.kinds import ValueContext, kind_named


@dataclass(frozen=True, slots=True)
class FastPathRun:
    """Per value: the trimmed text the SQL saw, the SQL result and the Python result, both cast to the
    kind's SQL type as the pipeline casts them (a timestamp compares as a moment, not as text)."""

    rows: tuple[tuple[str, object, object], ...]

    @property
    def disagreements(self) -> list[tuple[str, object, object]]:
        return [(raw, sql, python) for raw, sql, python in self.rows if sql is not None and sql != python]

    @property
    def hits(self) -> int:
        return sum(sql is not None for _, sql, _ in self.rows)


FastPath = Callable[..., FastPathRun]


@pytest.fixture(scope="module")
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    yield con
    con.close()


@pytest.fixture(scope="module")
def fast_path(connection: duckdb.DuckDBPyConnection) -> FastPath:
    """Run one kind's fast path over values as the pipeline does: trimmed, never empty."""

    def run(kind_name: str, values: Sequence[str], ctx: ValueContext | None = None) -> FastPathRun:
        ctx = ctx or ValueContext()
        kind = kind_named(kind_name)
        expression = kind.sql_fast_path("v", ctx)
        assert expression is not None, f"{kind_name} has no fast path"
        connection.register("raw_values", pa.table({"raw": pa.array(list(values), pa.string())}))
        try:
            trimmed = [r[0] for r in connection.sql("SELECT trim(raw) FROM raw_values").fetchall()]
        finally:
            connection.unregister("raw_values")
        trimmed = [text for text in trimmed if text]
        python = [kind.normalise(text, ctx).value for text in trimmed]
        connection.register("values_read", pa.table({"v": trimmed, "python": pa.array(python, pa.string())}))
        try:
            rows = connection.sql(
                f"SELECT v, TRY_CAST({expression} AS {kind.sql_type}), TRY_CAST(python AS {kind.sql_type}) "
                "FROM values_read"
            ).fetchall()
        finally:
            connection.unregister("values_read")
        return FastPathRun(tuple((v, sql, python) for v, sql, python in rows))

    return run

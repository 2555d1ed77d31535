"""Read one source into an Arrow table of text columns, one row per source record.

Every connector yields the same shape: ``_file`` (where the record came from), ``_row`` (1-based record
number in that file, or the row ordinal of a SQL result), ``_parse_error`` (set when the record could not
even be parsed, e.g. a broken JSON line) and the mapped columns as strings. Typing happens later, on
distinct values, so connectors stay simple and no value is lost to a reader's guess.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from huaxiang.backends.duckdb import connect
from huaxiang.config import SourceSpec
from huaxiang.errors import SourceError
from huaxiang.ingest.encoding import detect_encoding

log = logging.getLogger(__name__)

META_COLUMNS = ("_file", "_row", "_parse_error")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file matched by a source's path pattern, with the digest that makes re-ingestion a no-op."""

    path: Path
    relative: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """What one connector read: records as text plus the files they came from."""

    table: pa.Table
    files: tuple[SourceFile, ...]
    encoding: str | None = None


def list_files(spec: SourceSpec, root: Path) -> list[SourceFile]:
    """Files matching the source's (glob) path, sorted, each with its SHA-256."""
    assert spec.path is not None
    pattern = str(root / spec.path)
    paths = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not paths:
        raise SourceError(
            f"no file matches {spec.path!r}",
            location=f"huaxiang.yaml sources[{spec.name}].path",
            hint=f"check the path (relative to {root}) or put the export there",
        )
    return [SourceFile(p, str(p.relative_to(root)), _sha256(p), p.stat().st_size) for p in paths]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_files(spec: SourceSpec, files: Sequence[SourceFile], columns: Sequence[str]) -> SourceBatch:
    """Read the given files of a file-based source (csv, jsonl, parquet, xlsx)."""
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet, "xlsx": _read_xlsx}[
        spec.format
    ]
    tables: list[pa.Table] = []
    encodings: set[str] = set()
    for source_file in files:
        table, encoding = reader(spec, source_file, columns)
        if encoding:
            encodings.add(encoding)
        tables.append(table)
    table = pa.concat_tables(tables) if tables else _empty(columns)
    return SourceBatch(table, tuple(files), ", ".join(sorted(encodings)) or None)


def _empty(columns: Sequence[str]) -> pa.Table:
    names = [*META_COLUMNS, *columns]
    types = [pa.string(), pa.int64(), pa.string(), *[pa.string()] * len(columns)]
    return pa.table({n: pa.array([], type=t) for n, t in zip(names, types, strict=True)})


def _frame(
    source_file: SourceFile, values: dict[str, list[str | None]], rows: list[int], errors: list[str | None]
) -> pa.Table:
    count = len(rows)
    data: dict[str, pa.Array] = {
        "_file": pa.repeat(pa.scalar(source_file.relative, type=pa.string()), count),
        "_row": pa.array(rows, type=pa.int64()),
        "_parse_error": pa.array(errors, type=pa.string()),
    }
    for name, column in values.items():
        data[name] = pa.array(column, type=pa.string())
    return pa.table(data)


def _missing_columns(
    spec: SourceSpec, source_file: SourceFile, present: Sequence[str], wanted: Sequence[str]
) -> None:
    missing = [c for c in wanted if c not in present]
    if missing:
        raise SourceError(
            f"column(s) {', '.join(map(repr, missing))} not found",
            location=source_file.relative,
            hint=f"the file has: {', '.join(present)}; fix `column:` in sources[{spec.name}].fields",
        )


def _read_csv(spec: SourceSpec, source_file: SourceFile, columns: Sequence[str]) -> tuple[pa.Table, str]:
    encoding = detect_encoding(source_file.path) if spec.encoding == "auto" else spec.encoding
    delimiter = spec.delimiter or ","
    with source_file.path.open(encoding=encoding, newline="") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
    header = [h.strip().lstrip("\ufeff") for h in header]
    _missing_columns(spec, source_file, header, columns)
    try:
        table = pa_csv.read_csv(
            source_file.path,
            read_options=pa_csv.ReadOptions(encoding=encoding, column_names=header, skip_rows=1),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise SourceError(
            f"cannot parse as CSV in {encoding}: {error}",
            location=source_file.relative,
            hint="declare `encoding:` and `delimiter:` for this source if detection guessed wrong",
        ) from None
    count = table.num_rows
    meta = pa.table(
        {
            # Built in Arrow, not from Python lists: at ten million rows a list costs seconds.
            "_file": pa.repeat(pa.scalar(source_file.relative, type=pa.string()), count),
            "_row": pa.array(np.arange(1, count + 1, dtype=np.int64)),
            "_parse_error": pa.nulls(count, type=pa.string()),
        }
    )
    for name in table.column_names:
        meta = meta.append_column(name, table.column(name))
    return meta, encoding


def _read_jsonl(spec: SourceSpec, source_file: SourceFile, columns: Sequence[str]) -> tuple[pa.Table, str]:
    """JSON Lines, parsed line by line so one broken line is quarantined, not fatal."""
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    errors: list[str | None] = []
    with source_file.path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            rows.append(number)
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("expected a JSON object per line")
                errors.append(None)
            except ValueError as error:
                record = {}
                errors.append(f"line is not a JSON object: {error}")
            records.append(record)
    names = list(dict.fromkeys([*columns, *(k for record in records for k in record)]))
    values = {name: [_text(record.get(name)) for record in records] for name in names}
    return _frame(source_file, values, rows, errors), "utf-8"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False)


def _read_parquet(spec: SourceSpec, source_file: SourceFile, columns: Sequence[str]) -> tuple[pa.Table, str]:
    """Parquet through DuckDB, every column cast to text (instants with offset; naive times stay local)."""
    _missing_columns(spec, source_file, pq.read_schema(source_file.path).names, columns)
    con = connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        table = con.execute(
            "SELECT ? AS _file, file_row_number + 1 AS _row, NULL::VARCHAR AS _parse_error, "
            "COLUMNS(c -> c NOT IN ('file_row_number')) ::VARCHAR "
            "FROM read_parquet(?, file_row_number = true)",
            [source_file.relative, str(source_file.path)],
        ).to_arrow_table()
    finally:
        con.close()
    return table, ""


def _read_xlsx(spec: SourceSpec, source_file: SourceFile, columns: Sequence[str]) -> tuple[pa.Table, str]:
    from openpyxl import load_workbook

    workbook = load_workbook(source_file.path, read_only=True, data_only=True)
    try:
        if spec.sheet and spec.sheet not in workbook.sheetnames:
            raise SourceError(
                f"no sheet named {spec.sheet!r}",
                location=source_file.relative,
                hint=f"sheets in this workbook: {', '.join(workbook.sheetnames)}",
            )
        sheet = workbook[spec.sheet] if spec.sheet else workbook.worksheets[0]
        lines: Iterator[tuple[Any, ...]] = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(lines, ())]
        _missing_columns(spec, source_file, header, columns)
        positions = {name: position for position, name in enumerate(header) if name}
        values: dict[str, list[str | None]] = {c: [] for c in positions}
        rows: list[int] = []
        for number, line in enumerate(lines, start=2):
            if all(cell is None or str(cell).strip() == "" for cell in line):
                continue
            rows.append(number)
            for name, position in positions.items():
                cell = line[position] if position < len(line) else None
                values[name].append(_excel_text(cell))
    finally:
        workbook.close()
    return _frame(source_file, values, rows, [None] * len(rows)), ""


def _excel_text(cell: Any) -> str | None:
    if cell is None:
        return None
    if hasattr(cell, "isoformat"):
        return str(cell.isoformat(sep=" ") if hasattr(cell, "hour") else cell.isoformat())
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return _text(cell)


def read_sql(spec: SourceSpec, columns: Sequence[str], watermark: str | None) -> SourceBatch:
    """A table or query through SQLAlchemy; with a watermark, only rows newer than the last run."""
    import sqlalchemy as sa

    assert spec.url is not None
    try:
        engine = sa.create_engine(spec.url)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as error:
        raise SourceError(
            f"cannot use database URL: {error}",
            location=f"huaxiang.yaml sources[{spec.name}].url",
            hint='install the driver, e.g. pip install "huaxiang[postgres]" for postgresql+psycopg://',
        ) from None
    origin = spec.table or "query"
    if spec.table:
        schema, _, name = spec.table.rpartition(".")
        source: Any = sa.table(name, schema=schema or None)
    else:
        assert spec.query is not None
        source = sa.text(spec.query).columns().subquery("source")
    selectable = sa.select(sa.text("*")).select_from(source)  # every column: quarantine keeps whole records
    if spec.watermark:
        watermark_column: sa.ColumnClause[Any] = sa.column(spec.watermark)
        if watermark is not None:
            selectable = selectable.where(
                watermark_column > sa.bindparam("watermark", typed_watermark(watermark))
            )
        selectable = selectable.order_by(watermark_column)
    values: dict[str, list[str | None]] = {}
    rows: list[int] = []
    try:
        with engine.connect() as connection:
            result = connection.execute(selectable)
            names = list(result.keys())
            _missing_columns(spec, SourceFile(Path(origin), origin, "", 0), names, columns)
            values = {name: [] for name in names}
            for number, record in enumerate(result, start=1):
                rows.append(number)
                for name, cell in zip(names, record, strict=True):
                    values[name].append(_excel_text(cell))
    except sa.exc.SQLAlchemyError as error:
        raise SourceError(
            f"query failed: {str(error).splitlines()[0]}",
            location=f"{_safe_url(spec.url)} {origin}",
            hint="check the table/query and the mapped column names",
        ) from None
    finally:
        engine.dispose()
    source_file = SourceFile(Path(origin), f"{spec.name}:{origin}", "", 0)
    return SourceBatch(_frame(source_file, values, rows, [None] * len(rows)), ())


def typed_watermark(watermark: str) -> int | datetime | str:
    """The stored (text) watermark as the Python value the database driver binds with the right type."""
    if watermark.lstrip("-").isdigit():
        return int(watermark)
    try:
        return datetime.fromisoformat(watermark)
    except ValueError:
        return watermark


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def physical_lines(path: Path, encoding: str, delimiter: str, records: set[int]) -> dict[int, int]:
    """Line numbers where the given 1-based CSV records start (quoted newlines make them differ)."""
    found: dict[int, int] = {}
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        start = reader.line_num + 1
        for number, _ in enumerate(reader, start=1):
            if number in records:
                found[number] = start
                if len(found) == len(records):
                    break
            start = reader.line_num + 1
    return found

"""Read named columns of a CSV, JSON Lines, Parquet or Excel file as Python values.

DuckDB reads the first three (with its type sniffing switched off for CSV so ids and phone numbers
keep their leading zeros); openpyxl reads ``.xlsx``, which DuckDB reads only through an extension
that cannot be installed offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import openpyxl

from huaxiang.backends.duckdb import connect
from huaxiang.models.text.errors import TextInputError

_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
_PARQUET = {".parquet", ".pq"}
_EXCEL = {".xlsx", ".xlsm"}


def read_columns(path: Path, columns: Sequence[str]) -> dict[str, list[object]]:
    """Every value of each named column, in file order; errors name the file and the column."""
    if not path.is_file():
        raise TextInputError(
            f"file not found / 找不到文件: {path}", location=str(path), hint="check the path / 请检查路径"
        )
    suffix = path.suffix.lower()
    if suffix in _EXCEL:
        header, rows = _read_excel(path)
    elif suffix in _SUFFIXES or suffix in _PARQUET:
        header, rows = _read_with_duckdb(path, suffix)
    else:
        raise TextInputError(
            f"unsupported file type {suffix or '(none)'} / 不支持的文件类型",
            location=str(path),
            hint="use .csv, .jsonl, .parquet or .xlsx / 请使用 .csv、.jsonl、.parquet 或 .xlsx",
        )
    result: dict[str, list[object]] = {}
    for column in columns:
        if column not in header:
            raise TextInputError(
                f"column {column!r} not found / 找不到列 {column!r}",
                location=f"{path}:{column}",
                hint=f"available columns / 可用的列: {', '.join(map(str, header))}",
            )
        index = header.index(column)
        result[column] = [row[index] for row in rows]
    return result


def _read_with_duckdb(path: Path, suffix: str) -> tuple[list[str], list[tuple[object, ...]]]:
    connection = connect()
    try:
        if suffix in _PARQUET:
            relation = connection.read_parquet(str(path))
        elif _SUFFIXES[suffix] == "json":
            relation = connection.read_json(str(path))
        else:
            relation = connection.read_csv(str(path), all_varchar=True)
        return list(relation.columns), relation.fetchall()
    except duckdb.Error as error:
        raise TextInputError(
            f"cannot read the file / 无法读取文件: {error}",
            location=str(path),
            hint="check that it is UTF-8 and well formed / 请确认文件为 UTF-8 编码且格式正确",
        ) from error
    finally:
        connection.close()


def _read_excel(path: Path) -> tuple[list[str], list[tuple[object, ...]]]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise TextInputError(
            f"cannot read the workbook / 无法读取工作簿: {error}", location=str(path), hint=None
        ) from error
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, ())
        header = ["" if cell is None else str(cell) for cell in first]
        return header, [tuple(row) for row in rows]
    finally:
        workbook.close()

"""Open a transaction file (CSV, whitespace-separated text, Parquet, JSON lines) as a DuckDB view.

DuckDB's readers detect delimiters, headers and types; the one layout they cannot split is text whose
fields are separated by runs of spaces (the CDNOW sample's layout), which is read line by line and split
with a regular expression in SQL. Headerless files get columns ``column1``, ``column2``, … so that a
column can be named by the same 1-based position a user counts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from huaxiang.errors import SourceError
from huaxiang.i18n import bilingual
from huaxiang.models.clv_summary import quote_identifier

log = logging.getLogger(__name__)

WHITESPACE = "whitespace"
_WHITESPACE_NAMES = frozenset({WHITESPACE, r"\s+", " ", "space", "spaces"})
_PARQUET_SUFFIXES = (".parquet", ".pq")
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_UNIT_SEPARATOR = "\x1f"  # a byte no text file uses: each line is read whole


@dataclass(frozen=True, slots=True)
class TransactionView:
    """A view over a transaction file and the columns it offers, in file order."""

    name: str
    columns: tuple[str, ...]
    location: str


def open_transaction_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    sep: str | None = None,
    header: bool | None = None,
    date_format: str | None = None,
    view: str = "transactions",
) -> TransactionView:
    """Register ``path`` as the view ``view``.

    ``sep=None`` detects the layout; ``"whitespace"`` splits fields on runs of spaces and tabs. A
    ``date_format`` is handed to the CSV reader too, so an ambiguous date such as 01/02/2020 is never
    read with a format the reader guessed.
    """
    location = str(path)
    if not path.is_file():
        raise SourceError(
            bilingual(zh="文件不存在", en="file not found").text(),
            location=location,
            hint=bilingual(zh="检查路径", en="check the path").text(),
        )
    name = path.name.lower()
    text = not name.endswith(_PARQUET_SUFFIXES + _JSON_SUFFIXES)
    try:
        if name.endswith(_PARQUET_SUFFIXES):
            relation = con.read_parquet(location)
        elif name.endswith(_JSON_SUFFIXES):
            relation = con.read_json(location)
        elif sep is not None and sep.lower() in _WHITESPACE_NAMES:
            return _open_whitespace(con, path, header, view)
        else:
            relation = con.read_csv(location, header=header, sep=sep, date_format=date_format)
            if sep is None and len(relation.columns) == 1 and _looks_whitespace_separated(path):
                log.info(
                    "%s: one column found by the CSV reader; reading it as whitespace-separated", location
                )
                return _open_whitespace(con, path, header, view)
    except duckdb.Error as error:
        raise unreadable(location, error) from error
    columns = [str(c) for c in relation.columns]
    raw = f"{view}__raw"
    relation.create_view(raw)
    headerless = text and (header is False or columns == [f"column{i}" for i in range(len(columns))])
    names = [f"column{i + 1}" for i in range(len(columns))] if headerless else columns
    select = ", ".join(
        f"{quote_identifier(old)} AS {quote_identifier(new)}" for old, new in zip(columns, names, strict=True)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {quote_identifier(view)} AS "
        f"SELECT {select} FROM {quote_identifier(raw)}"
    )
    return TransactionView(view, tuple(names), location)


def unreadable(location: str, error: duckdb.Error) -> SourceError:
    """The error for a file DuckDB could not parse, with DuckDB's own account of where and why."""
    return SourceError(
        bilingual(zh=f"无法读取文件：{error}", en=f"cannot read the file: {error}").text(),
        location=location,
        hint=bilingual(
            zh="检查文件格式；文本文件可指定分隔符（如 ',' 或 'whitespace'）以及是否有表头",
            en="check the format; for text, give the separator (',' or 'whitespace') and the header",
        ).text(),
    )


def _first_lines(path: Path, count: int = 20) -> list[tuple[int, str]]:
    """The first ``count`` non-blank lines, each with its 0-based line number."""
    lines: list[tuple[int, str]] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle):
            if line.strip():
                lines.append((number, line.strip()))
                if len(lines) == count:
                    break
    return lines


def _looks_whitespace_separated(path: Path) -> bool:
    field_counts = {len(line.split()) for _, line in _first_lines(path)[1:]}
    return len(field_counts) == 1 and field_counts.pop() > 1


def _is_header(first_line: str) -> bool:
    """A first line is a header when none of its fields is a number (a data line has at least an amount)."""
    return not any(_NUMBER.match(field) for field in first_line.split())


def _open_whitespace(
    con: duckdb.DuckDBPyConnection, path: Path, header: bool | None, view: str
) -> TransactionView:
    location = str(path)
    lines = _first_lines(path, 1)
    if not lines:
        raise SourceError(bilingual(zh="文件为空", en="the file is empty").text(), location=location)
    header_number, first_line = lines[0]
    has_header = _is_header(first_line) if header is None else header
    relation = con.read_csv(
        location,
        header=False,
        skiprows=header_number + 1 if has_header else 0,
        sep=_UNIT_SEPARATOR,
        quotechar="",
        escapechar="",
        columns={"line": "VARCHAR"},
    )
    raw = f"{view}__lines"
    relation.create_view(raw)
    split = (
        f"SELECT string_split_regex(trim(line), '\\s+') AS fields FROM {quote_identifier(raw)} "
        "WHERE trim(line) <> ''"
    )
    counts = con.execute(f"SELECT min(len(fields)), max(len(fields)) FROM ({split})").fetchone()
    assert counts is not None
    fewest, most = counts
    if fewest != most:
        raise SourceError(
            bilingual(
                zh=f"各行字段数不一致（{fewest} 到 {most} 个）",
                en=f"rows have between {fewest} and {most} fields",
            ).text(),
            location=location,
            hint=bilingual(
                zh="以空白分隔的文件每行字段数必须相同；字段内含空格时请改用 CSV",
                en="whitespace-separated lines need equally many fields; use CSV if fields contain spaces",
            ).text(),
        )
    names = first_line.split() if has_header else [f"column{i + 1}" for i in range(most)]
    if len(names) != most or len(set(names)) != len(names):
        raise SourceError(
            bilingual(
                zh="表头与数据列数不符或有重复列名", en="the header does not match the data or repeats a name"
            ).text(),
            location=location,
        )
    select = ", ".join(f"fields[{i + 1}] AS {quote_identifier(n)}" for i, n in enumerate(names))
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_identifier(view)} AS SELECT {select} FROM ({split})")
    return TransactionView(view, tuple(names), location)

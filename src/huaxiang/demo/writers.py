"""Byte-reproducible writers for the demo files: CSV, JSON Lines, Parquet and Excel.

Excel is the one format whose library stamps the wall clock into the file (zip entry times and
``docProps/core.xml``), so the workbook is re-packed with the demo's reference time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.xml.functions import tostring

from huaxiang.demo.records import SourceRecord, SourceTable

_FIXED_TIME = dt.datetime(2026, 11, 30, 15, 59)  # the reference date, in UTC


def _text(value: object) -> str:
    return "" if value is None else str(value)


def write_csv(table: SourceTable, path: Path, *, encoding: str, crlf: bool) -> None:
    """A CSV with a header row; ``encoding`` ``utf-8-sig`` writes the BOM Excel exports carry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(table.columns)
    for record in table.records:
        writer.writerow([_text(record.values.get(column)) for column in table.columns])
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_jsonl(table: SourceTable, path: Path) -> None:
    """One JSON object per line; a column a record lacks is left out of its object."""
    lines = [
        json.dumps({c: r.values[c] for c in table.columns if c in r.values}, ensure_ascii=False)
        for r in table.records
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_parquet_parts(table: SourceTable, schema: pa.Schema, folder: Path, parts: int) -> list[Path]:
    """The records split into ``parts`` consecutive files ``part-0000.parquet`` …"""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in sorted(folder.glob("part-*.parquet")):  # a bigger earlier run may have left more parts
        stale.unlink()
    size = -(-len(table.records) // parts)
    paths = []
    for number in range(parts):
        chunk: Sequence[SourceRecord] = table.records[number * size : (number + 1) * size]
        columns = [pa.array([r.values.get(f.name) for r in chunk], type=f.type) for f in schema]
        path = folder / f"part-{number:04d}.parquet"
        pq.write_table(pa.Table.from_arrays(columns, schema=schema), path, compression="zstd")
        paths.append(path)
    return paths


def write_xlsx(table: SourceTable, path: Path, *, sheet: str) -> None:
    """A one-sheet workbook, re-packed so that it does not depend on when it was written."""
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "huaxiang demo"
    workbook.properties.created = workbook.properties.modified = _FIXED_TIME
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(list(table.columns))
    for record in table.records:
        worksheet.append([record.values.get(column) for column in table.columns])
    raw = io.BytesIO()
    workbook.save(raw)  # stamps the wall clock into ``modified``; put the reference time back
    workbook.properties.modified = _FIXED_TIME
    core = tostring(workbook.properties.to_tree())
    stamp = (_FIXED_TIME.year, _FIXED_TIME.month, _FIXED_TIME.day, _FIXED_TIME.hour, _FIXED_TIME.minute, 0)
    packed = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = core if info.filename == "docProps/core.xml" else source.read(info)
            target.writestr(
                zipfile.ZipInfo(info.filename, date_time=stamp),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    path.write_bytes(packed.getvalue())

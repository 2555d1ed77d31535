"""The ground truth beside the demo data (``truth/``), which no ingest ever reads.

``records.csv`` has one row per record in file order (duplicates included), so its row count per
source equals the records written; ``issues.csv`` lists every planted flaw with the row it sits
in and whether a validator must quarantine that record.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path

from huaxiang.demo.formats import standard_time
from huaxiang.demo.people import Population
from huaxiang.demo.records import SourceTable


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def write_truth(folder: Path, population: Population, tables: Sequence[SourceTable]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    persons = population.persons
    paths = [
        folder / name
        for name in ("persons.csv", "records.csv", "issues.csv", "shared_devices.csv", "namesakes.csv")
    ]
    _write(
        paths[0],
        (
            "true_id",
            "name",
            "segment",
            "segment_en",
            "satisfaction",
            "churner",
            "churned_at",
            "city",
            "birth_date",
            "gender",
            "preferred_channel",
        ),
        (
            (
                p.true_id,
                p.name,
                p.segment.zh,
                p.segment.en,
                f"{p.satisfaction:.3f}",
                str(p.churner).lower(),
                standard_time(p.churned_at) if p.churned_at is not None else "",
                p.city.name,
                p.birth_date.isoformat(),
                p.gender,
                p.preferred_channel,
            )
            for p in persons
        ),
    )
    _write(
        paths[1],
        ("source", "record_key", "true_id"),
        ((t.name, t.key_of(r), r.true_id) for t in tables for r in t.records),
    )
    _write(
        paths[2],
        ("source", "row", "record_key", "issue", "quarantine"),
        (
            (t.name, row, t.key_of(r), issue.code, str(issue.quarantine).lower())
            for t in tables
            for row, r in enumerate(t.records, start=1)
            for issue in r.issues
        ),
    )
    _write(
        paths[3],
        ("device_id", "true_id"),
        ((device, true_id) for device, users in population.shared_devices for true_id in users),
    )
    by_name_city = sorted(persons, key=lambda p: (p.name, p.city.name, p.true_id))
    pairs: list[tuple[str, str, str, str]] = []
    for (name, city), group in itertools.groupby(by_name_city, key=lambda p: (p.name, p.city.name)):
        ids = [p.true_id for p in group]
        pairs.extend((a, b, name, city) for a, b in itertools.combinations(ids, 2))
    _write(paths[4], ("true_id_a", "true_id_b", "name", "city"), pairs)
    return paths

"""Source records with their truth, and the planting of flaws at a controlled rate.

Each planted flaw goes into a record that had none, so every flaw is counted once and a
record is either clean, flagged (kept with a value nulled or noted) or bad (to be quarantined).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Issue:
    """A planted flaw; ``quarantine`` says whether a validator must reject the whole record."""

    code: str
    quarantine: bool


@dataclass(slots=True)
class SourceRecord:
    """One record as it will be written; mutable only while flaws are being planted."""

    values: dict[str, object]
    true_id: str  # "" for garbage that belongs to nobody
    issues: list[Issue] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        return any(issue.quarantine for issue in self.issues)


@dataclass(frozen=True, slots=True)
class SourceTable:
    """A source's records in file order, its columns and its key columns."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    records: list[SourceRecord]

    def key_of(self, record: SourceRecord) -> str:
        """The record key: key column values as written, joined with ``|`` (missing → empty)."""
        return "|".join("" if (v := record.values.get(c)) is None else str(v) for c in self.key)


Quarantine = bool | Callable[[SourceRecord], bool]


class Planter:
    """Plants flaws into a table's records, then interleaves duplicates and garbage rows."""

    def __init__(self, rng: random.Random, records: list[SourceRecord]) -> None:
        self.rng = rng
        self.records = records
        self._extras: list[tuple[int, int, SourceRecord]] = []

    def plant(
        self,
        rate: float,
        code: str,
        mutate: Callable[[SourceRecord], None],
        *,
        quarantine: Quarantine,
        eligible: Callable[[SourceRecord], bool] | None = None,
    ) -> int:
        """Apply ``mutate`` to about ``rate`` of the records (at least one) that are still clean."""
        candidates = [r for r in self.records if not r.issues and (eligible is None or eligible(r))]
        count = min(len(candidates), max(1, round(rate * len(self.records))))
        for record in self.rng.sample(candidates, count):
            mutate(record)
            bad = quarantine(record) if callable(quarantine) else quarantine
            record.issues.append(Issue(code, bad))
        return count

    def duplicate(self, rate: float) -> None:
        """Repeat clean records exactly, a little later in the file (a re-sent export line)."""
        clean = [i for i, r in enumerate(self.records) if not r.issues]
        count = min(len(clean), max(1, round(rate * len(self.records))))
        for index in sorted(self.rng.sample(clean, count)):
            original = self.records[index]
            copy = SourceRecord(dict(original.values), original.true_id, [Issue("duplicate", False)])
            self._extras.append((index + self.rng.randint(0, 40), len(self._extras), copy))

    def garbage(self, rows: list[dict[str, object]]) -> None:
        """Insert rows that belong to nobody (test lines, repeated headers, totals) anywhere."""
        for values in rows:
            at = self.rng.randrange(len(self.records) + 1)
            self._extras.append((at, len(self._extras), SourceRecord(values, "", [Issue("garbage", True)])))

    def finish(self) -> list[SourceRecord]:
        """The records in file order with the duplicates and garbage rows in place."""
        extras = sorted(self._extras, key=lambda item: (item[0], item[1]))
        result: list[SourceRecord] = []
        pending = 0
        for index, record in enumerate(self.records):
            while pending < len(extras) and extras[pending][0] < index:
                result.append(extras[pending][2])
                pending += 1
            result.append(record)
        result.extend(extra for _, _, extra in extras[pending:])
        return result


def set_value(column: str, make: Callable[[object], object]) -> Callable[[SourceRecord], None]:
    """A mutation that replaces the value in ``column`` by ``make(old value)``."""

    def mutate(record: SourceRecord) -> None:
        record.values[column] = make(record.values.get(column))

    return mutate


def has_value(column: str) -> Callable[[SourceRecord], bool]:
    """Eligible when ``column`` holds something (a flaw needs a value to spoil)."""
    return lambda record: record.values.get(column) not in (None, "")

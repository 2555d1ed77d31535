"""A zone's UTC offsets as a function of local wall time, from Python's zoneinfo, for use in SQL.

DuckDB's ``timezone()`` uses ICU's own copy of the tz database. It agrees with zoneinfo for most zones,
but not all: in 1970-2040, 14 of 599 zones differ (Africa/Casablanca, America/Vancouver after 2026, WET in
the 1970s, …) because the two copies are different releases. The timestamp fast path must never differ
from the Python path, so it reads the offsets zoneinfo uses, as a table of local-time boundaries turned
into a balanced CASE tree (about ten comparisons a value for a zone with daylight saving).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

FIRST_YEAR, LAST_YEAR = 1900, 2099  # wall times outside these years go to Python
_DAY = 86_400
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class OffsetTable:
    """From local wall time ``boundaries[i]`` on, the offset is ``offsets[i + 1]``; before, ``offsets[0]``.

    The offset that applies to a wall time is that of the last transition whose new offset makes the
    wall time valid, which is the later instant for a wall time that occurs twice or is skipped.
    """

    boundaries: tuple[dt.datetime, ...]
    offsets: tuple[int, ...]  # seconds east of UTC


@functools.cache
def offset_table(zone_name: str) -> OffsetTable | None:
    """The table for ``zone_name`` over FIRST_YEAR..LAST_YEAR, or None if its boundaries are not ordered."""
    zone = ZoneInfo(zone_name)
    start = int((dt.datetime(FIRST_YEAR - 1, 12, 30) - _EPOCH).total_seconds())
    end = int((dt.datetime(LAST_YEAR + 1, 1, 2) - _EPOCH).total_seconds())

    def offset_at(utc_seconds: int) -> int:
        moment = dt.datetime.fromtimestamp(utc_seconds, tz=zone)
        offset = moment.utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    offsets = [offset_at(start)]
    boundaries: list[dt.datetime] = []
    previous = start
    for day in range(start + _DAY, end, _DAY):
        if offset_at(day) == offsets[-1]:
            previous = day
            continue
        low, high = previous, day  # offset changes in (low, high]
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if offset_at(middle) == offsets[-1] else (low, middle)
        new_offset = offset_at(high)
        boundaries.append(_EPOCH + dt.timedelta(seconds=high + new_offset))
        offsets.append(new_offset)
        previous = day
    if any(later <= earlier for earlier, later in itertools.pairwise(boundaries)):
        return None
    return OffsetTable(tuple(boundaries), tuple(offsets))


def utc_of_local(local: dt.datetime, table: OffsetTable) -> dt.datetime:
    """What the SQL expression computes, in Python (a reference for tests)."""
    index = sum(1 for boundary in table.boundaries if local >= boundary)
    return local - dt.timedelta(seconds=table.offsets[index])


def sql_local_to_utc(local_sql: str, zone_name: str) -> str | None:
    """A DuckDB expression turning the naive TIMESTAMP ``local_sql`` into naive UTC; NULL out of range."""
    table = offset_table(zone_name)
    if table is None:
        return None

    def tree(low: int, high: int) -> str:
        # offsets[low..high] apply between boundaries[low-1] and boundaries[high]
        if low == high:
            return f"{local_sql} - to_seconds({table.offsets[low]})"
        middle = (low + high + 1) // 2
        boundary = table.boundaries[middle - 1].isoformat(sep=" ")
        return (
            f"CASE WHEN {local_sql} >= TIMESTAMP '{boundary}' "
            f"THEN {tree(middle, high)} ELSE {tree(low, middle - 1)} END"
        )

    in_range = (
        f"{local_sql} >= TIMESTAMP '{FIRST_YEAR}-01-01 00:00:00' "
        f"AND {local_sql} < TIMESTAMP '{LAST_YEAR + 1}-01-01 00:00:00'"
    )
    return f"CASE WHEN {in_range} THEN {tree(0, len(table.offsets) - 1)} END"

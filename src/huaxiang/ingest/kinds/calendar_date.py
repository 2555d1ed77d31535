"""``date``: a calendar date as ``YYYY-MM-DD``.

Slash forms that read differently day-first and month-first (``01/03/2024``) are refused unless the
source declares its format (``date_formats: ["%d/%m/%Y"]``): guessing would silently swap a third of the
days of the year. ``13/03/2024`` is accepted, having only one reading. A time of day is accepted only when
it is midnight (``2024-03-01 00:00:00`` from a database export); any other would be silently dropped.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext
from huaxiang.ingest.kinds.wall_clock import WallClockError, read_wall_clock, sql_fast_path


class DateKind(Kind):
    """A calendar date (DATE)."""

    name = "date"
    sql_type = "DATE"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        return sql_fast_path(column_sql, ctx, date_only=True)

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = unicodedata.normalize("NFKC", raw).strip()
        if not text:
            return self.blank()
        try:
            read = read_wall_clock(text, ctx, date_only=True)
        except WallClockError as error:
            return self.reject(str(error))
        if read.moment.tzinfo is not None:
            return self.reject("expected a date without a time zone")
        if read.moment.time() != dt.time(0):
            return self.reject("expected a date without a time of day")
        return self.accept(read.moment.date().isoformat())

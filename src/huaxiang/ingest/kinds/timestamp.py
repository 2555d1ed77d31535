"""``timestamp``: an instant as UTC text ``YYYY-MM-DD HH:MM:SS[.ffffff]``.

Naive values are wall times in the source's zone (``ValueContext.timezone``) and are converted to UTC;
values with ``Z`` or an offset are converted by their offset; 10 and 13 digits are epoch seconds and
milliseconds. Storing UTC keeps events from sources in different zones in one order.
"""

from __future__ import annotations

import unicodedata
from zoneinfo import ZoneInfo

from huaxiang.ingest.kinds.base import Kind, Normalised, ValueContext
from huaxiang.ingest.kinds.wall_clock import UTC, WallClockError, local_to_utc, read_wall_clock, sql_fast_path


class TimestampKind(Kind):
    """An instant (TIMESTAMP, in UTC)."""

    name = "timestamp"
    sql_type = "TIMESTAMP"

    def sql_fast_path(self, column_sql: str, ctx: ValueContext) -> str | None:
        return sql_fast_path(column_sql, ctx, date_only=False)

    def normalise(self, raw: str, ctx: ValueContext) -> Normalised:
        text = unicodedata.normalize("NFKC", raw).strip()
        if not text:
            return self.blank()
        try:
            moment = read_wall_clock(text, ctx, date_only=False).moment
            if moment.tzinfo is None:
                utc = local_to_utc(moment, ZoneInfo(ctx.timezone))
            else:
                utc = moment.astimezone(UTC).replace(tzinfo=None)
        except WallClockError as error:
            return self.reject(str(error))
        except OverflowError:
            return self.reject("expected a time between the years 1 and 9999 in UTC")
        return self.accept(utc.isoformat(sep=" "))

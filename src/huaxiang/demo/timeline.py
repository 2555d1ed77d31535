"""The demo's fixed calendar: a reference "now" and about two years of history, no wall clock.

Times are whole seconds on Shanghai's wall clock counted from 1970-01-01 00:00 local; China has
kept UTC+8 without daylight saving since 1991, so UTC is a constant eight hours behind.
"""

from __future__ import annotations

import datetime as dt

DAY = 86_400
UTC_OFFSET = 8 * 3600
_EPOCH = dt.datetime(1970, 1, 1)


def local_seconds(moment: dt.datetime) -> int:
    """Seconds since the local epoch of a naive Shanghai wall-clock time."""
    return int((moment - _EPOCH).total_seconds())


NOW = local_seconds(dt.datetime(2026, 11, 30, 23, 59))
HISTORY_START = local_seconds(dt.datetime(2024, 12, 1))
CHURN_QUIET_DAYS = 120  # planted churners buy nothing in the last 120 days


def to_local(seconds: int) -> dt.datetime:
    """The naive Shanghai wall-clock time of ``seconds``."""
    return _EPOCH + dt.timedelta(seconds=seconds)


def to_utc_micros(seconds: int) -> int:
    """Microseconds since the Unix epoch (UTC) of a local time."""
    return (seconds - UTC_OFFSET) * 1_000_000


def day_of(seconds: int) -> dt.date:
    return to_local(seconds).date()

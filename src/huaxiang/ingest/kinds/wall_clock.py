"""Reading dates and wall-clock times as sources write them; shared by the ``date`` and ``timestamp`` kinds.

Three readers, tried in order:

1. formats declared in the config (``datetime.strptime``), so a source can settle its own convention;
2. regular year-first shapes (``2024-03-01``, ``2024/3/1 14:05``, ``2024年3月1日``, ``20240301140509``),
   each one regular expression written so that Python's ``re`` and DuckDB's RE2 read it alike: the SQL
   fast path runs the very same patterns, which is what keeps the two paths equal;
3. dateutil for the rest (``1 Mar 2024``, ``13/03/2024``), refusing what it would have to guess: a value
   that reads differently day-first and month-first (``01/03/2024``) and a value missing a part, which
   dateutil would otherwise fill in from today's date.

A wall time that occurs twice (autumn) or never (spring) in a zone with daylight saving takes the later
instant, as ICU (and so DuckDB's ``timezone()``) does. The SQL path converts zones with zoneinfo's own
offsets (``zone_offsets``), not ICU's copy of the tz database, so the two paths cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser  # type: ignore[import-untyped]
from dateutil import tz as dateutil_tz

from huaxiang.ingest.kinds.base import ValueContext, sql_string
from huaxiang.ingest.kinds.zone_offsets import sql_local_to_utc

UTC = dt.UTC
GROUPS = ("year", "month", "day", "hour", "minute", "second", "fraction", "zone")

_YEAR = "(?P<year>[1-9][0-9]{3})"
_M = "(?P<month>[0-9]{1,2})"
_D = "(?P<day>[0-9]{1,2})"
_DATE_PARTS = (
    (f"{_YEAR}-{_M}-{_D}", "[T ]"),
    (f"{_YEAR}/{_M}/{_D}", "[T ]"),
    (f"{_YEAR}\\.{_M}\\.{_D}", "[T ]"),
    (f"{_YEAR}年{_M}月{_D}[日号]", " ?"),
)
_COMPACT_DATE = f"{_YEAR}(?P<month>[0-9]{{2}})(?P<day>[0-9]{{2}})"
_TIME = (
    "(?P<hour>[01]?[0-9]|2[0-3]):(?P<minute>[0-5][0-9])"
    "(?::(?P<second>[0-5][0-9])(?:\\.(?P<fraction>[0-9]{1,6}))?)?"
)
_ZONE = "(?P<zone>Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)"
_NO_TIME = "(?P<hour>)(?P<minute>)(?P<second>)(?P<fraction>)(?P<zone>)"
_MIDNIGHT = "(?:[T ]00:00(?::00(?:\\.0{1,6})?)?)?"

# Every timestamp shape has the GROUPS in their order (DuckDB names RE2 groups by position).
TIMESTAMP_SHAPES: tuple[str, ...] = (
    *(f"{date}(?:{sep}{_TIME}{_ZONE}?)?" for date, sep in _DATE_PARTS),
    f"{_COMPACT_DATE}(?P<hour>[01][0-9]|2[0-3])(?P<minute>[0-5][0-9])(?P<second>[0-5][0-9])(?P<fraction>)(?P<zone>)",
    f"{_COMPACT_DATE}{_NO_TIME}",
)
# Date shapes have the same groups, the time ones empty: a time of exactly midnight (an export) is allowed.
DATE_SHAPES: tuple[str, ...] = (
    *(f"{date}{_MIDNIGHT}{_NO_TIME}" for date, _ in _DATE_PARTS),
    f"{_COMPACT_DATE}{_MIDNIGHT}{_NO_TIME}",
)
_COMPILED_TIMESTAMP_SHAPES = tuple(re.compile(shape) for shape in TIMESTAMP_SHAPES)
_COMPILED_DATE_SHAPES = tuple(re.compile(shape) for shape in DATE_SHAPES)
_EPOCH = re.compile("[0-9]{10}|[0-9]{13}")
_YEAR_FIRST = re.compile(r"[0-9]{4}[^0-9]")

# Two defaults that differ in every field: a field dateutil fills from the default was not in the value.
_DEFAULTS = (dt.datetime(2001, 2, 3, 4, 5, 6, 7), dt.datetime(2002, 3, 4, 5, 6, 7, 8))
_UTC_NAMES: Mapping[str, dt.tzinfo] = {"UTC": UTC, "GMT": UTC, "Z": UTC}


_EXPECTED = "expected a date like 2024-03-01 or a time like 2024-03-01 14:05:09"


class WallClockError(ValueError):
    """A value that is not a date or time, with an English phrase saying what was expected."""


@dataclass(frozen=True, slots=True)
class WallClock:
    """A date and time as read: naive (a local wall time) or aware; ``has_time``: a time was written."""

    moment: dt.datetime
    has_time: bool


def read_wall_clock(text: str, ctx: ValueContext, *, date_only: bool) -> WallClock:
    """Read ``text`` with the declared formats, then the regular shapes, then dateutil."""
    for fmt in ctx.date_formats:
        try:
            moment = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return WallClock(moment, has_time=any(code in fmt for code in ("%H", "%I", "%M", "%S", "%f")))
    for shape in _COMPILED_DATE_SHAPES if date_only else _COMPILED_TIMESTAMP_SHAPES:
        match = shape.fullmatch(text)
        if match is not None:
            return _from_groups(match.groupdict(default=""))
    if not date_only and _EPOCH.fullmatch(text):
        unit = dt.timedelta(seconds=1) if len(text) == 10 else dt.timedelta(milliseconds=1)
        return WallClock(dt.datetime(1970, 1, 1, tzinfo=UTC) + int(text) * unit, has_time=True)
    return _read_with_dateutil(text)


def _from_groups(groups: Mapping[str, str]) -> WallClock:
    try:
        moment = dt.datetime(
            int(groups["year"]),
            int(groups["month"]),
            int(groups["day"]),
            int(groups.get("hour") or 0),
            int(groups.get("minute") or 0),
            int(groups.get("second") or 0),
            int((groups.get("fraction") or "0").ljust(6, "0")),
        )
    except ValueError as error:
        raise WallClockError("expected a real calendar date, got a day the month does not have") from error
    zone = groups.get("zone") or ""
    if zone:
        moment = moment.replace(tzinfo=_offset(zone))
    return WallClock(moment, has_time=bool(groups.get("hour")))


def _offset(zone: str) -> dt.tzinfo:
    if zone == "Z":
        return UTC
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
    return dt.timezone(dt.timedelta(minutes=-minutes if zone[0] == "-" else minutes))


def _read_with_dateutil(text: str) -> WallClock:
    orders = [(False, True)] if _YEAR_FIRST.match(text) else [(False, False), (True, False), (False, True)]
    readings: set[dt.datetime] = set()
    has_time = False
    for dayfirst, yearfirst in orders:
        first, second = (_dateutil(text, default, dayfirst, yearfirst) for default in _DEFAULTS)
        if first.date() != second.date():
            raise WallClockError("expected a full date with year, month and day")
        has_time = first.hour == second.hour
        readings.add(_fill_time(first, second, has_time))
    if len(readings) > 1:
        raise WallClockError(
            "expected an unambiguous date; day and month could be either way round, declare a date format"
        )
    return WallClock(readings.pop(), has_time)


def _dateutil(text: str, default: dt.datetime, dayfirst: bool, yearfirst: bool) -> dt.datetime:
    with warnings.catch_warnings():
        warnings.simplefilter("error", dateutil_parser.UnknownTimezoneWarning)
        try:
            moment: dt.datetime = dateutil_parser.parse(
                text, default=default, dayfirst=dayfirst, yearfirst=yearfirst, tzinfos=dict(_UTC_NAMES)
            )
        except dateutil_parser.UnknownTimezoneWarning as error:
            raise WallClockError("expected a time zone as an offset like +08:00, not a name") from error
        except (ValueError, OverflowError) as error:
            raise WallClockError(_EXPECTED) from error
    if isinstance(moment.tzinfo, dateutil_tz.tzlocal):  # a zone name that only means "this machine's zone"
        raise WallClockError("expected a time zone as an offset like +08:00, not a name")
    return moment


def _fill_time(first: dt.datetime, second: dt.datetime, has_time: bool) -> dt.datetime:
    """The reading with every unwritten time field at zero (``2pm`` is 14:00:00)."""
    if not has_time:
        return first.replace(hour=0, minute=0, second=0, microsecond=0)
    return first.replace(
        minute=first.minute if first.minute == second.minute else 0,
        second=first.second if first.second == second.second else 0,
        microsecond=first.microsecond if first.microsecond == second.microsecond else 0,
    )


def local_to_utc(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A wall time in ``zone`` as naive UTC; an ambiguous or skipped wall time takes the later instant."""
    _earlier, later = sorted(naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    return later.replace(tzinfo=None)


# --- SQL --------------------------------------------------------------------------------------------------

_DIRECTIVES_LOOSE = {"Y": "[0-9]{4}", "m": " ?[0-9]{1,2}", "d": " ?[0-9]{1,2}", "H": " ?[0-9]{1,2}"}
_DIRECTIVES_LOOSE |= {"M": " ?[0-9]{1,2}", "S": " ?[0-9]{1,2}", "f": "[0-9]{1,6}"}
_DIRECTIVES_STRICT = {
    "Y": "([1-9][0-9]{3})",
    "m": "(0[1-9]|1[0-2])",
    "d": "(0[1-9]|[12][0-9]|3[01])",
    "H": "([01][0-9]|2[0-3])",
    "M": "([0-5][0-9])",
    "S": "([0-5][0-9])",
    "f": "([0-9]{1,6})",
}
_GROUP_OF = dict(zip("YmdHMSf", GROUPS, strict=False))


_STRPTIME_DEFAULTS = {"year": "'1900'", "month": "'1'", "day": "'1'"}  # what strptime assumes


@dataclass(frozen=True, slots=True)
class DeclaredShape:
    """A declared strptime format as two RE2 patterns: ``loose`` matches at least what strptime accepts,
    ``strict`` only zero-padded values, which strptime reads exactly as the groups say."""

    loose: str
    strict: str
    groups: tuple[str, ...]


def declared_shape(fmt: str) -> DeclaredShape | None:
    """The SQL form of a declared format, or None when it uses a directive the fast path does not read."""
    loose, strict, groups = ["(?i)"], [], []
    index = 0
    while index < len(fmt):
        char = fmt[index]
        if char == "%":
            code = fmt[index + 1 : index + 2]
            if code == "%":
                loose.append("%")
                strict.append("%")
            elif code in _DIRECTIVES_STRICT and _GROUP_OF[code] not in groups:
                loose.append(_DIRECTIVES_LOOSE[code])
                strict.append(_DIRECTIVES_STRICT[code])
                groups.append(_GROUP_OF[code])
            else:
                return None
            index += 2
        elif char.isspace():
            while index < len(fmt) and fmt[index].isspace():
                index += 1
            loose.append("\\s+")
            strict.append(" ")
        else:
            if not char.isascii():
                return None
            loose.append(re.escape(char))
            strict.append(re.escape(char))
            index += 1
    return DeclaredShape("".join(loose), "".join(strict), tuple(groups))


def sql_fast_path(column_sql: str, ctx: ValueContext, *, date_only: bool) -> str | None:
    """Declared formats, then regular shapes, then (timestamps) epoch digits: the Python order, in SQL.

    The result is a UTC TIMESTAMP (a DATE with ``date_only``), never text: printing it for the cast that
    follows would cost more than reading it.

    The matching shape's groups become one struct (``y m d H M S f z`` as text), bound once with a lambda so
    the conversion reads it without re-running the regular expressions. A value that a declared format
    might accept but that is not zero-padded gets a struct of NULLs: the result is NULL and Python decides.
    """
    declared = [declared_shape(fmt) for fmt in ctx.date_formats]
    branches = []
    for shape in declared:
        if shape is None:
            return None
        fields = ", ".join(
            f"{name} := " + (f"g.{name}" if name in shape.groups else _STRPTIME_DEFAULTS.get(name, "''"))
            for name in GROUPS
        )
        extract = f"regexp_extract({column_sql}, {sql_string(shape.strict)}, {_sql_names(shape.groups)})"
        unpadded = f"struct_pack({', '.join(f'{name} := NULL::VARCHAR' for name in GROUPS)})"
        branches.append(
            f"WHEN regexp_full_match({column_sql}, {sql_string(shape.loose)}) THEN "
            f"CASE WHEN regexp_full_match({column_sql}, {sql_string(shape.strict)}) "
            f"THEN list_transform([{extract}], lambda g: struct_pack({fields}))[1] ELSE {unpadded} END"
        )
    for pattern in DATE_SHAPES if date_only else TIMESTAMP_SHAPES:
        extract = f"regexp_extract({column_sql}, {sql_string(pattern)}, {_sql_names(GROUPS)})"
        branches.append(f"WHEN regexp_full_match({column_sql}, {sql_string(pattern)}) THEN {extract}")
    groups = "CASE " + " ".join(branches) + " END"
    if date_only:
        return f"list_transform([{groups}], lambda s: {_sql_date('s')})[1]"
    epoch = (
        f"CASE WHEN regexp_full_match({column_sql}, '[0-9]{{10}}') "
        f"THEN make_timestamp(CAST({column_sql} AS BIGINT) * 1000000) "
        f"WHEN regexp_full_match({column_sql}, '[0-9]{{13}}') "
        f"THEN make_timestamp(CAST({column_sql} AS BIGINT) * 1000) END"
    )
    general = (
        f"list_transform([{groups}], lambda s: CASE WHEN s IS NULL THEN {epoch} "
        f"ELSE {_sql_timestamp('s', ctx)} END)[1]"
    )
    local_utc = sql_local_to_utc("t", ctx.timezone)
    if declared or local_utc is None:
        return general
    # The shape of nearly every export, `2024-03-01 14:05:09`, skips the capture groups: one plain match
    # and strptime cost a fraction of the general branch. Same result: strptime fails exactly where
    # make_timestamp does, and both then leave the value to Python.
    common = f"try_strptime({column_sql}, '%Y-%m-%d %H:%M:%S')"
    return (
        f"CASE WHEN regexp_full_match({column_sql}, {sql_string(_COMMON_SHAPE)}) "
        f"THEN list_transform([{common}], lambda t: {local_utc})[1] ELSE {general} END"
    )


_COMMON_SHAPE = "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"


def _sql_names(names: tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_string(name) for name in names) + "]"


def _sql_date(s: str) -> str:
    made = f"try(make_date(CAST({s}.year AS INTEGER), CAST({s}.month AS INTEGER), CAST({s}.day AS INTEGER)))"
    # A declared format may carry a time of day; like the Python side, only midnight makes a date.
    midnight = f"regexp_full_match({s}.hour || {s}.minute || {s}.second || {s}.fraction, '0*')"
    return f"CASE WHEN {midnight} THEN {made} END"


def _sql_timestamp(s: str, ctx: ValueContext) -> str:
    def number(name: str) -> str:
        return f"coalesce(TRY_CAST(nullif({s}.{name}, '') AS BIGINT), 0)"

    micros = f"coalesce(TRY_CAST(rpad(nullif({s}.fraction, ''), 6, '0') AS BIGINT), 0)"
    local = (
        f"try(make_timestamp(CAST({s}.year AS BIGINT), CAST({s}.month AS BIGINT), CAST({s}.day AS BIGINT), "
        f"{number('hour')}, {number('minute')}, {number('second')})) + to_microseconds({micros})"
    )
    digits = f"replace(substr({s}.zone, 2), ':', '')"
    minutes = (
        f"CASE WHEN starts_with({s}.zone, '-') THEN -1 ELSE 1 END * (CAST(left({digits}, 2) AS BIGINT) * 60 "
        f"+ coalesce(TRY_CAST(nullif(substr({digits}, 3), '') AS BIGINT), 0))"
    )
    local_utc = sql_local_to_utc("t", ctx.timezone) or "NULL"
    utc = (
        f"CASE WHEN {s}.zone = '' THEN {local_utc} "
        f"WHEN {s}.zone = 'Z' THEN t ELSE t - to_minutes({minutes}) END"
    )
    return f"list_transform([{local}], lambda t: {utc})[1]"

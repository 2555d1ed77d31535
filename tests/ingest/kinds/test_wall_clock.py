"""``date`` and ``timestamp``: shapes, ambiguity, declared formats, zones against zoneinfo."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huaxiang.ingest.kinds import ValueContext, kind_named
from huaxiang.ingest.kinds.zone_offsets import offset_table

from .conftest import FastPath

CTX = ValueContext()
DATE = kind_named("date")
TIMESTAMP = kind_named("timestamp")
UTC = dt.UTC


def utc_text(naive_local: dt.datetime, zone: str) -> str:
    """The expected UTC text, straight from zoneinfo, for a wall time that exists exactly once."""
    return naive_local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


@pytest.mark.parametrize(
    "raw",
    ["2024-03-01", "2024/3/1", "20240301", "2024年3月1日", "2024.03.01", "2024-03-01 00:00:00",
     "1 Mar 2024", "March 1, 2024", "２０２４-０３-０１"],
)  # fmt: skip
def test_dates(raw: str) -> None:
    assert DATE.normalise(raw, CTX).value == "2024-03-01"


def test_unambiguous_day_first_date() -> None:
    assert DATE.normalise("13/03/2024", CTX).value == "2024-03-13"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("01/03/2024", "unambiguous"),
        ("01/03/24", "unambiguous"),
        ("2024-02-30", "real calendar date"),
        ("2024-03", "full date"),
        ("March", "full date"),
        ("2024-03-01 10:00", "time of day"),
        ("2024-03-01T00:00:00+08:00", "time zone"),
        ("tomorrow", "expected a date"),
    ],
)
def test_rejected_dates(raw: str, fragment: str) -> None:
    result = DATE.normalise(raw, CTX)
    assert result.value is None
    assert result.error is not None
    assert fragment in result.error


def test_declared_format_settles_day_first() -> None:
    day_first = ValueContext(date_formats=("%d/%m/%Y",))
    assert DATE.normalise("01/03/2024", day_first).value == "2024-03-01"
    assert DATE.normalise("1/3/2024", day_first).value == "2024-03-01"
    assert DATE.normalise("2024-03-01", day_first).value == "2024-03-01"


@pytest.mark.parametrize(
    ("raw", "local"),
    [
        ("2024-03-01 14:05:09", dt.datetime(2024, 3, 1, 14, 5, 9)),
        ("2024/03/01 14:05", dt.datetime(2024, 3, 1, 14, 5)),
        ("20240301140509", dt.datetime(2024, 3, 1, 14, 5, 9)),
        ("2024年3月1日 14:05", dt.datetime(2024, 3, 1, 14, 5)),
        ("2024-03-01T14:05:09.250", dt.datetime(2024, 3, 1, 14, 5, 9, 250000)),
        ("2024-03-01", dt.datetime(2024, 3, 1)),
        ("1 March 2024 2pm", dt.datetime(2024, 3, 1, 14)),
    ],
)
def test_naive_timestamps_are_local_and_stored_in_utc(raw: str, local: dt.datetime) -> None:
    assert TIMESTAMP.normalise(raw, CTX).value == utc_text(local, "Asia/Shanghai")
    berlin = ValueContext(timezone="Europe/Berlin")
    assert TIMESTAMP.normalise(raw, berlin).value == utc_text(local, "Europe/Berlin")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01T14:05:09Z", dt.datetime(2024, 3, 1, 14, 5, 9)),
        ("2024-03-01T14:05:09+08:00", dt.datetime(2024, 3, 1, 6, 5, 9)),
        ("2024-03-01 14:05:09-0530", dt.datetime(2024, 3, 1, 19, 35, 9)),
        ("2024-03-01 14:05:09 +0800", dt.datetime(2024, 3, 1, 6, 5, 9)),
        ("1709251200", dt.datetime(2024, 3, 1)),
        ("1709251200123", dt.datetime(2024, 3, 1, 0, 0, 0, 123000)),
    ],
)
def test_timestamps_with_a_zone_or_epoch(raw: str, expected: dt.datetime) -> None:
    assert TIMESTAMP.normalise(raw, CTX).value == expected.isoformat(sep=" ")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("2024-03-01 14:05 CST", "offset"),
        ("2024-03-01 24:00", "expected a date"),
        ("03/04/2024 10:00", "unambiguous"),
        ("14:05", "full date"),
        ("170925120", "expected a date"),
    ],
)
def test_rejected_timestamps(raw: str, fragment: str) -> None:
    result = TIMESTAMP.normalise(raw, CTX)
    assert result.value is None
    assert result.error is not None
    assert fragment in result.error


BERLIN = ValueContext(timezone="Europe/Berlin")


def test_skipped_and_repeated_wall_times_take_the_later_instant(fast_path: FastPath) -> None:
    zone = ZoneInfo("Europe/Berlin")
    for wall in [dt.datetime(2024, 3, 31, 2, 30), dt.datetime(2024, 10, 27, 2, 30)]:
        readings = {
            wall.replace(tzinfo=zone, fold=fold).astimezone(UTC).replace(tzinfo=None) for fold in (0, 1)
        }
        assert len(readings) == 2  # skipped or repeated
        text = wall.isoformat(sep=" ")
        assert TIMESTAMP.normalise(text, BERLIN).value == max(readings).isoformat(sep=" ")
        run = fast_path("timestamp", [text], BERLIN)
        assert run.hits == 1
        assert run.disagreements == []


def test_icu_in_duckdb_takes_the_later_instant_too(connection: object) -> None:
    import duckdb

    assert isinstance(connection, duckdb.DuckDBPyConnection)
    for wall in ["2024-03-31 02:30:00", "2024-10-27 02:30:00"]:
        icu = connection.sql(
            f"SELECT timezone('UTC', timezone('Europe/Berlin', TIMESTAMP '{wall}'))"
        ).fetchall()
        assert icu[0][0].isoformat(sep=" ") == TIMESTAMP.normalise(wall, BERLIN).value


ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo"]
LAYOUTS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%d",
]


@st.composite
def wall_times(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 30)))
    text = (
        moment.strftime(draw(st.sampled_from(LAYOUTS))) if moment.year >= 1900 else moment.isoformat(" ")[:19]
    )
    if draw(st.booleans()):
        text += f".{moment.microsecond:06d}"[: draw(st.integers(2, 7))] if " " in text or "T" in text else ""
    return text + draw(
        st.sampled_from(["", "", "Z", "+08:00", "-0530", "+01"]) if ":" in text else st.just("")
    )


@settings(max_examples=20, deadline=None)
@given(values=st.lists(wall_times(), min_size=1, max_size=100), zone=st.sampled_from(ZONES))
def test_timestamp_fast_path_agrees_with_python(fast_path: FastPath, values: list[str], zone: str) -> None:
    run = fast_path("timestamp", values, ValueContext(timezone=zone))
    assert run.disagreements == []


@settings(max_examples=200, deadline=None)
@given(local=st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2099, 12, 31)))
@pytest.mark.parametrize("zone", ZONES)
def test_python_timestamps_match_zoneinfo(zone: str, local: dt.datetime) -> None:
    info = ZoneInfo(zone)
    folds = {local.replace(tzinfo=info, fold=fold).utcoffset() for fold in (0, 1)}
    if len(folds) == 1:  # a wall time that exists exactly once
        result = TIMESTAMP.normalise(local.isoformat(sep=" "), ValueContext(timezone=zone))
        assert result.value == utc_text(local, zone)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_fast_path_agrees_around_every_transition(fast_path: FastPath, zone: str) -> None:
    table = offset_table(zone)
    assert table is not None
    values = [
        (boundary + dt.timedelta(seconds=delta)).isoformat(sep=" ")
        for boundary in table.boundaries
        for delta in (-3601, -3600, -1801, -1, 0, 1, 1799, 3599, 3600)
    ]
    run = fast_path("timestamp", values, ValueContext(timezone=zone))
    assert run.hits == len(values)
    assert run.disagreements == []


DATE_TEXT = st.one_of(
    st.dates(min_value=dt.date(1000, 1, 1)).map(str),
    st.builds(
        lambda y, m, d, sep: f"{y}{sep}{m}{sep}{d}",
        st.integers(0, 10_000), st.integers(0, 13), st.integers(0, 32), st.sampled_from(["-", "/", ".", ""]),
    ),
    st.builds(
        lambda y, m, d: f"{y}年{m}月{d}日", st.integers(999, 2100), st.integers(1, 12), st.integers(1, 31)
    ),
    st.dates().map(lambda d: f"{d:%Y-%m-%d} 00:00:00"),
)  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(values=st.lists(DATE_TEXT, min_size=1, max_size=80))
def test_date_fast_path_agrees_with_python(fast_path: FastPath, values: list[str]) -> None:
    assert fast_path("date", values).disagreements == []


DECLARED = [("%d/%m/%Y",), ("%d/%m/%Y %H:%M", "%Y%d%m"), ("%m-%d-%Y %H:%M:%S.%f",)]
DECLARED_TEXT = st.one_of(
    st.builds(
        lambda a, b, c, sep, time: f"{a}{sep}{b}{sep}{c}{time}",
        st.integers(0, 32).map(str) | st.integers(0, 32).map(lambda n: f"{n:02d}"),
        st.integers(0, 13).map(str) | st.integers(0, 13).map(lambda n: f"{n:02d}"),
        st.integers(999, 2100).map(str),
        st.sampled_from(["/", "-"]),
        st.sampled_from(["", " 10:05", " 00:00", " 7:5", " 10:05:09.5", " 23:59:59.123456"]),
    ),
    st.dates().map(lambda d: f"{d:%Y%m%d}"),
    st.dates().map(str),
)


@settings(max_examples=25, deadline=None)
@given(values=st.lists(DECLARED_TEXT, min_size=1, max_size=100), formats=st.sampled_from(DECLARED))
@pytest.mark.parametrize("name", ["date", "timestamp"])
def test_fast_path_with_declared_formats_agrees(
    fast_path: FastPath, name: str, values: list[str], formats: tuple[str, ...]
) -> None:
    assert fast_path(name, values, ValueContext(date_formats=formats)).disagreements == []


def test_fast_path_takes_the_regular_shapes(fast_path: FastPath) -> None:
    dates = ["2024-03-01", "2024/3/1", "20240301", "2024年3月1日", "2024-03-01 00:00:00"]
    assert fast_path("date", dates).hits == len(dates)
    stamps = [
        "2024-03-01 14:05:09",
        "2024-03-01T14:05:09Z",
        "20240301140509",
        "1709251200",
        "2024/03/01 14:05",
    ]
    run = fast_path("timestamp", stamps)
    assert run.hits == len(stamps)
    assert run.disagreements == []
    declared = fast_path("date", ["01/03/2024"], ValueContext(date_formats=("%d/%m/%Y",)))
    assert declared.rows[0][1] == dt.date(2024, 3, 1)


def test_unsupported_declared_directive_disables_the_fast_path() -> None:
    assert DATE.sql_fast_path("v", ValueContext(date_formats=("%d %b %Y",))) is None
    assert DATE.normalise("01 Mar 2024", ValueContext(date_formats=("%d %b %Y",))).value == "2024-03-01"

"""A profile build: traits from the event log, tags from the traits, then a new version where values changed.

Point in time: only events before the as-of time are read (``compile_traits`` cuts them itself), and every
as-of-dependent function (``days_since``, windows, decay) reads the same as-of time, so a build dated in
the past computes exactly what a build on that day would have, from the same events. An event that arrived
later but carries an earlier event time is included: the event log holds event times, not arrival times.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.backends.duckdb as ibis_duckdb

from huaxiang.backends.duckdb import Warehouse
from huaxiang.errors import HuaxiangError
from huaxiang.expressions import EvaluationContext
from huaxiang.tags import history
from huaxiang.tags.compute import compile_tags
from huaxiang.tags.library import Catalogue, Skipped, load_catalogue
from huaxiang.traits import compile_traits, typed_events
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
PERSONS = "event_persons"
_TRAITS = "build_traits"
_SNAPSHOT = "build_snapshot"


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did: its record, how much it computed, what it skipped and how long each phase took."""

    build: history.Build
    traits: int
    tags: int
    skipped: tuple[Skipped, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "build_id": self.build.build_id,
            "as_of": self.build.as_of.isoformat(),
            "persons": self.build.persons,
            "changed": self.build.changed,
            "removed": self.build.removed,
            "traits": self.traits,
            "tags": self.tags,
            "skipped": [{"what": s.what, "name": s.name, "reason": s.reason} for s in self.skipped],
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def parse_as_of(text: str, timezone: ZoneInfo) -> datetime:
    """``2024-03-01`` → the end of that day in the workspace zone (the day's events count); a time is
    taken as given (local unless it carries an offset). Returns naive UTC, like every stored time."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise HuaxiangError(
                f"cannot read {text!r} as a date or time", hint="write 2024-03-01 or 2024-03-01T08:00"
            ) from None
    else:
        moment = datetime.combine(day + timedelta(days=1), datetime.min.time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone)
    return moment.astimezone(UTC).replace(tzinfo=None)


@contextmanager
def ibis_backend(warehouse: Warehouse) -> Iterator[ibis_duckdb.Backend]:
    """Ibis over the warehouse connection, leaving the connection's settings as they were.

    Ibis switches off DuckDB's replacement scans when it attaches; other stages on this connection may rely
    on them, so the setting is put back afterwards.
    """
    before = warehouse.scalar("SELECT current_setting('python_enable_replacements')")
    try:
        yield ibis.duckdb.from_connection(warehouse.con)
    finally:
        warehouse.con.execute(f"SET python_enable_replacements = {'true' if before else 'false'}")


def build_profiles(
    workspace: Workspace,
    *,
    as_of: datetime | None = None,
    now: datetime | None = None,
    reset_history: bool = False,
    catalogue: Catalogue | None = None,
    on_progress: Progress | None = None,
) -> BuildReport:
    """Compute every trait and tag for every resolved person as of ``as_of`` (default: now), keep versions."""
    started = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    moment = as_of or started
    warehouse = workspace.warehouse
    if PERSONS not in warehouse.tables():
        raise HuaxiangError(
            "no resolved persons yet: the event_persons table is missing",
            hint="run identity resolution first (`huaxiang identity`), then build",
        )
    catalogue = catalogue or load_catalogue(workspace.config)
    context = EvaluationContext(moment, ZoneInfo(workspace.config.workspace.timezone))
    advance = on_progress or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    if reset_history:
        history.reset_history(warehouse)
    history.ensure_schema(warehouse)
    stages = 3
    with ibis_backend(warehouse) as backend:
        clock = time.perf_counter()
        advance("traits", 0, stages)
        reads = set().union(*(t.reads for t in catalogue.traits)) if catalogue.traits else {"ts"}
        events = typed_events(backend.table("events"), backend.table(PERSONS), catalogue.fields, reads)
        traits = compile_traits(catalogue.traits, events, context)
        warehouse.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_TRAITS} AS {ibis.to_sql(traits, dialect='duckdb')}"
        )
        seconds["traits"] = time.perf_counter() - clock
        advance("tags", 1, stages)
        clock = time.perf_counter()
        profiles = compile_tags(catalogue.tags, backend.table(_TRAITS), context)
        warehouse.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_SNAPSHOT} AS {ibis.to_sql(profiles, dialect='duckdb')}"
        )
        seconds["tags"] = time.perf_counter() - clock
    advance("history", 2, stages)
    clock = time.perf_counter()
    build_id = f"{started:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
    columns = [t.name for t in catalogue.traits] + [t.name for t in catalogue.tags]
    counts = history.record_versions(warehouse, _SNAPSHOT, columns, build_id=build_id, as_of=moment)
    finished = started + timedelta(seconds=sum(seconds.values()) + time.perf_counter() - clock)
    record = history.Build(
        build_id, moment, started, finished, counts.persons, counts.changed, counts.removed
    )
    history.record_build(
        warehouse,
        record,
        traits=[t.name for t in catalogue.traits],
        tags=[t.name for t in catalogue.tags],
        skipped=[{"what": s.what, "name": s.name, "reason": s.reason} for s in catalogue.skipped],
    )
    warehouse.con.execute(f"DROP TABLE IF EXISTS {_TRAITS}; DROP TABLE IF EXISTS {_SNAPSHOT}")
    seconds["history"] = time.perf_counter() - clock
    advance("history", stages, stages)
    log.info("build %s as of %s: %d persons, %d changed", build_id, moment, counts.persons, counts.changed)
    return BuildReport(record, len(catalogue.traits), len(catalogue.tags), catalogue.skipped, seconds)

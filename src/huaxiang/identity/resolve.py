"""Resolve identities: every event gets a ``person_id``; deterministic graph, probabilistic links, stable ids.

The order of a run: probabilistic matching of ``identify`` records (before any write, since Splink works on
the same connection); the scope (all events, or for an incremental run the new events and what they reach);
the graph of identifier links plus match links and must-links; components under the per-person rules and
cannot-links; shared values and anonymous events; stable ids; then one transaction writes it all.

An incremental run is chosen when an earlier run exists with the same identity rules; changed rules (a new
blocklist entry, another priority) make the next run full, since they may change any person. So does training
the matching model again (asked for, or the identify records grew past a share since it was trained): a new
model may score any pair differently. Otherwise the stored model scores only the new records' pairs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb

from huaxiang.errors import HuaxiangError
from huaxiang.identity.attribution import attribute_events
from huaxiang.identity.components import find_components
from huaxiang.identity.evidence import conflict_entries, merge_entries, shared_entries, split_entries
from huaxiang.identity.graph import GraphShape, build_graph, register_rules, stage_identifiers, store_labels
from huaxiang.identity.match_model import RETRAIN_GROWTH, store_model
from huaxiang.identity.matching import PAIRS, MatchOutcome, match_identify_records, plan_model
from huaxiang.identity.persist import write_resolution
from huaxiang.identity.rules import blocked_tokens, identifier_kinds, rule_book
from huaxiang.identity.schema import ensure_identity_schema
from huaxiang.identity.scope import Scope, full_scope, stage_scope
from huaxiang.identity.stable_ids import assign_person_ids
from huaxiang.ingest.kinds import ValueContext
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
Mode = Literal["full", "incremental"]
STAGES = ("match", "scope", "graph", "components", "attribute", "ids", "write")


@dataclass(frozen=True, slots=True)
class ResolveReport:
    """What one resolve did: its scope, the persons it made, merged and split, and time per stage."""

    run_id: str
    mode: Mode
    new_events: int
    scope_events: int
    scope_persons: int
    persons: int
    created: int
    merges: int
    splits: int
    conflicts: int
    shared_over_limit: int
    attributed: dict[str, int]
    graph: GraphShape | None
    match: MatchOutcome
    stages: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__ if name not in ("graph", "match")}
        out["graph"] = (
            None if self.graph is None else {n: getattr(self.graph, n) for n in self.graph.__slots__}
        )
        out["match"] = self.match.to_dict()
        return out


def rules_hash(workspace: Workspace) -> str:
    return hashlib.sha256(workspace.config.identity.model_dump_json().encode()).hexdigest()[:16]


def resolve_identities(
    workspace: Workspace,
    *,
    full: bool = False,
    retrain: bool = False,
    retrain_growth: float = RETRAIN_GROWTH,
    on_progress: Progress | None = None,
) -> ResolveReport:
    """Assign every event to a person, recomputing only what new events reach unless ``full``.

    The matching model trained by an earlier run is reused unless ``retrain``, or the identify records have
    grown by more than ``retrain_growth`` (a share) since it was trained; a run that trains is a full run,
    since a new model may score any pair differently.
    """
    progress = on_progress or (lambda stage, done, total: None)
    warehouse = workspace.warehouse
    ensure_identity_schema(warehouse)
    con = warehouse.con
    started_wall = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None)
    run_id = f"idr-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    digest = rules_hash(workspace)
    previous = warehouse.rows(
        "SELECT started_at, rules_hash FROM identity_runs ORDER BY started_at DESC LIMIT 1"
    )
    if retrain_growth < 0:
        raise HuaxiangError(
            f"retrain_growth must not be negative, got {retrain_growth}",
            location="retrain_growth",
            hint="0.2 retrains once the identify records grew by a fifth since training",
        )
    stages: dict[str, float] = {}
    timer = _Timer(stages, progress)

    config = workspace.config
    book = rule_book(config.identity)
    present = [r[0] for r in warehouse.rows("SELECT DISTINCT id_type FROM event_identifiers")]
    kinds = identifier_kinds(config)
    kinds = {t: kinds.get(t, "string") for t in present}
    context = ValueContext(timezone=config.workspace.timezone, region=config.workspace.region)
    try:
        limited = register_rules(con, book, present, blocked_tokens(book, kinds, workspace.keyring, context))
        with timer("match"):
            decision = plan_model(con, config.identity.match, retrain=retrain, growth=retrain_growth)
            mode: Mode = "incremental" if previous and not full and previous[0][1] == digest else "full"
            if previous and not full and mode == "full":
                log.info("identity rules changed since the last run: resolving everything again")
            reason = decision.reason if decision is not None else None
            if (
                mode == "incremental"
                and reason is not None
                and (retrain or _has_new_records(con, config.identity.match.event_types))
            ):
                log.info("matching model to be trained (%s): resolving everything again", reason.en)
                mode = "full"
            match = match_identify_records(
                con,
                workspace.cipher,
                config.identity.match,
                new_only=mode == "incremental",
                decision=decision,
            )
        with timer("scope"):
            scope: Scope
            if mode == "incremental":
                scope = stage_scope(con, since=previous[0][0], pairs=PAIRS)
            else:
                scope = full_scope(con)
        if scope.events == 0:
            return _record_empty(workspace, run_id, now, digest, mode, scope, match, stages, started_wall)
        with timer("graph"):
            stage_identifiers(con, scoped=mode == "incremental")
            matches = _all_matches(con, full=mode == "full")
            graph, shape = build_graph(con, limited, matches=matches)
        with timer("components"):
            components = find_components(graph)
            store_labels(con, components, limited)
        with timer("attribute"):
            attribute_events(con, components.count)
        with timer("ids"):
            assignment = assign_person_ids(con)
            entries = [
                *merge_entries(con, assignment.merges),
                *split_entries(con, assignment.splits),
                *conflict_entries(con),
                *shared_entries(con),
            ]
        attributed = dict(con.sql("SELECT via, count(*) FROM hx_event_labels GROUP BY via").fetchall())
        counts = {
            "conflict": sum(e.action == "conflict" for e in entries),
            "shared_over_limit": sum(e.action == "shared_over_limit" for e in entries),
        }
        with timer("write"), warehouse.transaction():
            write_resolution(
                con,
                run_id=run_id,
                now=now,
                full=mode == "full",
                merges=assignment.merges,
                entries=entries,
            )
            persons = int(con.sql("SELECT count(DISTINCT person_id) FROM event_persons").fetchall()[0][0])
            report = ResolveReport(
                run_id=run_id,
                mode=mode,
                new_events=scope.new_events,
                scope_events=scope.events,
                scope_persons=scope.persons,
                persons=persons,
                created=assignment.created,
                merges=len(assignment.merges),
                splits=len(assignment.splits),
                conflicts=counts["conflict"],
                shared_over_limit=counts["shared_over_limit"],
                attributed={str(k): int(v) for k, v in attributed.items()},
                graph=shape,
                match=match,
                stages=stages,
                seconds=time.perf_counter() - started_wall,
            )
            _record_run(con, report, now, digest)
            if match.trained_model is not None:
                store_model(con, match.trained_model, run_id=run_id, now=now)
        log.info(
            "identity %s run %s: %d events in scope, %d persons, %d merges, %d splits, %d conflicts",
            mode,
            run_id,
            scope.events,
            persons,
            report.merges,
            report.splits,
            report.conflicts,
        )
        return report
    finally:
        _drop_temporaries(con)


def _all_matches(con: duckdb.DuckDBPyConnection, *, full: bool) -> str:
    """This run's pairs, plus (incremental) the pairs kept by earlier runs."""
    if full:
        return PAIRS
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hx_matches AS
        SELECT event_id_l, event_id_r, match_probability, match_weight FROM {PAIRS}
        UNION ALL
        SELECT m.event_id_l, m.event_id_r, m.match_probability, m.match_weight FROM identity_matches m
        SEMI JOIN hx_events e ON e.event_id = m.event_id_l
        """
    )
    return "hx_matches"


def _record_run(con: duckdb.DuckDBPyConnection, report: ResolveReport, now: datetime, digest: str) -> None:
    con.execute(
        "INSERT INTO identity_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            report.run_id,
            now,
            datetime.now(UTC).replace(tzinfo=None),
            report.mode,
            digest,
            report.new_events,
            report.scope_events,
            report.scope_persons,
            json.dumps(report.to_dict(), ensure_ascii=False, default=str),
        ],
    )


def _record_empty(
    workspace: Workspace,
    run_id: str,
    now: datetime,
    digest: str,
    mode: Mode,
    scope: Scope,
    match: MatchOutcome,
    stages: dict[str, float],
    started: float,
) -> ResolveReport:
    """A run with nothing to do is still recorded, so the next one knows what it has seen."""
    warehouse = workspace.warehouse
    persons = int(warehouse.scalar("SELECT count(DISTINCT person_id) FROM event_persons"))
    report = ResolveReport(
        run_id=run_id,
        mode=mode,
        new_events=0,
        scope_events=0,
        scope_persons=0,
        persons=persons,
        created=0,
        merges=0,
        splits=0,
        conflicts=0,
        shared_over_limit=0,
        attributed={},
        graph=None,
        match=match,
        stages=stages,
        seconds=time.perf_counter() - started,
    )
    with warehouse.transaction() as con:
        _record_run(con, report, now, digest)
        if match.trained_model is not None:
            store_model(con, match.trained_model, run_id=run_id, now=now)
    return report


def _has_new_records(con: duckdb.DuckDBPyConnection, types: list[str]) -> bool:
    """Whether some record of the matched types has no person yet (else matching has nothing to do)."""
    placeholders = ", ".join("?" for _ in types)
    found = con.execute(
        f"SELECT EXISTS (SELECT 1 FROM events e ANTI JOIN event_persons p ON p.event_id = e.event_id "
        f"WHERE e.type IN ({placeholders}))",
        types,
    ).fetchall()[0][0]
    return bool(found)


def _drop_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'hx_')"
        ).fetchall()
    ]
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {name}")


@dataclass(slots=True)
class _Timer:
    """Times each stage into ``stages`` and reports progress by stage."""

    stages: dict[str, float]
    progress: Progress

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        position = STAGES.index(stage)
        self.progress("identity", position, len(STAGES))
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[stage] = round(time.perf_counter() - started, 3)
            self.progress("identity", position + 1, len(STAGES))

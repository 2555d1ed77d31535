"""Compute the data-quality report of a warehouse: per source, per field, and across sources.

Scores (every dimension is a share from 0 to 1; scores shown are that share × 100):

- **completeness** = filled cells / mapped cells, summed over every field of every ingest batch
  (``field_stats.present / records``). Cells, not fields, are counted, so a large source weighs more.
- **validity** = valid cells / filled cells (a filled value that its kind could not normalise is invalid).
- **uniqueness** = distinct values / valid values of *identifier* fields in *profile sources* (sources whose
  events are mostly ``identify``, where one record should stand for one customer). In behavioural sources
  a phone repeats on every order by design, so it is reported there but not scored. Distinct counts are
  summed per batch, so a value repeated across batches is not held against a source.
- **timeliness** of a source = 1 while its freshness lag (report time − latest event time) is within
  ``fresh_within`` (1 day), 0 from ``stale_after`` (30 days) on, linear in between. The dimension is the
  mean over sources: freshness belongs to a feed, whatever its size.
- **consistency** = 1 − conflicting tokens / tokens checked, over the strong identifier types (id card,
  phone, email) and stable attributes (birth date, gender, full name) of
  :mod:`huaxiang.quality.consistency`; a token is checked when it carries the attribute in two events.

A field's score is the mean of its completeness, validity and (where scored) uniqueness; a source's score the
mean of its completeness, validity, uniqueness and timeliness; the overall score the mean of the five
dimensions. A dimension with nothing to measure (no identifier field in a profile source, no token seen
twice) is ``None`` and left out of the means rather than counted as perfect.

Counts follow the ingest runs: records read, accepted (inserted or duplicate) and quarantined sum the
``ingest`` batches; a quarantine retry moves its readmitted records from quarantined to accepted. Field
statistics count ``ingest`` batches only: the report measures what sources delivered, and a retry re-reads
records already counted.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from huaxiang.backends.duckdb import Warehouse
from huaxiang.privacy.crypto import FieldCipher
from huaxiang.quality.consistency import ATTRIBUTES, IDENTIFIER_TYPES, check_consistency
from huaxiang.quality.report import FieldQuality, QualityReport, ReasonCount, SourceQuality

log = logging.getLogger(__name__)

FRESH_WITHIN = timedelta(days=1)
STALE_AFTER = timedelta(days=30)
TOP_REASONS = 5


@dataclass(frozen=True, slots=True)
class _Counts:
    records_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0


@dataclass(frozen=True, slots=True)
class _Timing:
    events: int
    identify_events: int
    latest: datetime | None
    ingest_lag: float | None


def build_quality_report(
    warehouse: Warehouse,
    *,
    now: datetime | None = None,
    cipher: FieldCipher | None = None,
    fresh_within: timedelta = FRESH_WITHIN,
    stale_after: timedelta = STALE_AFTER,
    identifier_types: Sequence[str] = IDENTIFIER_TYPES,
    attributes: Sequence[str] = ATTRIBUTES,
) -> QualityReport:
    """Measure every source in the warehouse now; ``cipher`` lets encrypted attributes be compared."""
    if stale_after <= fresh_within:
        raise ValueError("stale_after must be longer than fresh_within")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    counts = _run_counts(warehouse)
    timing = _timing(warehouse)
    fields = _field_rows(warehouse)
    reasons = _top_reasons(warehouse)
    names = sorted({*counts, *timing, *fields, *reasons})
    sources = tuple(
        _source_quality(
            name,
            counts.get(name, _Counts()),
            timing.get(name),
            fields.get(name, []),
            reasons.get(name, ()),
            moment,
            fresh_within,
            stale_after,
        )
        for name in names
    )
    consistency = check_consistency(
        warehouse, identifier_types=identifier_types, attributes=attributes, cipher=cipher
    )
    checked = sum(f.tokens_checked for f in consistency)
    conflicts = sum(f.tokens_with_conflicts for f in consistency)
    all_fields = [f for s in sources for f in s.fields]
    scored = [f for f in all_fields if f.uniqueness is not None]
    shares = {
        "completeness": _ratio(sum(f.present for f in all_fields), sum(f.records for f in all_fields)),
        "validity": _ratio(sum(f.valid for f in all_fields), sum(f.present for f in all_fields)),
        "uniqueness": _ratio(sum(min(f.distinct, f.valid) for f in scored), sum(f.valid for f in scored)),
        "timeliness": _mean([s.timeliness for s in sources]),
        "consistency": None if not checked else 1 - conflicts / checked,
    }
    dimensions = {name: _percent(share) for name, share in shares.items()}
    report = QualityReport(
        report_id=f"q-{moment:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
        created_at=moment,
        sources=sources,
        consistency=consistency,
        overall=_percent(_mean(list(shares.values()))),
        dimensions=dimensions,
    )
    log.info("quality report %s: %d sources, overall %s", report.report_id, len(sources), report.overall)
    return report


def timeliness_share(lag: timedelta, fresh_within: timedelta, stale_after: timedelta) -> float:
    """1 within ``fresh_within``, 0 from ``stale_after`` on, linear in between."""
    if lag <= fresh_within:
        return 1.0
    if lag >= stale_after:
        return 0.0
    return 1 - (lag - fresh_within) / (stale_after - fresh_within)


def _source_quality(
    name: str,
    counts: _Counts,
    timing: _Timing | None,
    rows: list[tuple[str, str, str, str, str, int, int, int, int]],
    reasons: tuple[ReasonCount, ...],
    now: datetime,
    fresh_within: timedelta,
    stale_after: timedelta,
) -> SourceQuality:
    profile = timing is not None and timing.identify_events * 2 > timing.events
    fields = tuple(_field_quality(name, row, profile=profile) for row in rows)
    scored = [f for f in fields if f.uniqueness is not None]
    latest = timing.latest if timing else None
    lag = (now - latest) if latest else None
    completeness = _ratio(sum(f.present for f in fields), sum(f.records for f in fields))
    validity = _ratio(sum(f.valid for f in fields), sum(f.present for f in fields))
    uniqueness = _ratio(sum(min(f.distinct, f.valid) for f in scored), sum(f.valid for f in scored))
    timeliness = timeliness_share(lag, fresh_within, stale_after) if lag is not None else None
    return SourceQuality(
        source=name,
        records_read=counts.records_read,
        accepted=counts.accepted,
        quarantined=counts.quarantined,
        duplicates=counts.duplicates,
        quarantine_rate=_ratio(counts.quarantined, counts.records_read),
        events=timing.events if timing else 0,
        profile_source=profile,
        latest_event=latest,
        freshness_lag=lag.total_seconds() if lag is not None else None,
        ingest_lag=timing.ingest_lag if timing else None,
        completeness=completeness,
        validity=validity,
        uniqueness=uniqueness,
        timeliness=timeliness,
        fields=fields,
        top_reasons=reasons,
        score=_percent(_mean([completeness, validity, uniqueness, timeliness])),
    )


def _field_quality(
    source: str, row: tuple[str, str, str, str, str, int, int, int, int], *, profile: bool
) -> FieldQuality:
    field, column, role, kind, level, records, present, valid, distinct = row
    completeness = _ratio(present, records)
    validity = _ratio(valid, present)
    uniqueness = _ratio(min(distinct, valid), valid) if profile and role == "identifier" else None
    return FieldQuality(
        source=source,
        field=field,
        column=column,
        role=role,
        kind=kind,
        level=level,
        records=records,
        present=present,
        valid=valid,
        distinct=distinct,
        completeness=completeness,
        validity=validity,
        uniqueness=uniqueness,
        score=_percent(_mean([completeness, validity, uniqueness])),
    )


def _run_counts(warehouse: Warehouse) -> dict[str, _Counts]:
    rows = warehouse.rows(
        "SELECT source, "
        "sum(records_read) FILTER (WHERE kind <> 'retry'), "
        "sum(accepted), "
        "sum(quarantined) FILTER (WHERE kind <> 'retry') "
        "- coalesce(sum(accepted) FILTER (WHERE kind = 'retry'), 0), "
        "sum(duplicates) FROM ingest_runs GROUP BY source"
    )
    return {
        source: _Counts(
            int(read or 0), int(accepted or 0), max(int(quarantined or 0), 0), int(duplicates or 0)
        )
        for source, read, accepted, quarantined, duplicates in rows
    }


def _timing(warehouse: Warehouse) -> dict[str, _Timing]:
    rows = warehouse.rows(
        "SELECT source, count(*), count(*) FILTER (WHERE type = 'identify'), max(ts), "
        "median(epoch(received_at) - epoch(ts)) FROM events GROUP BY source"
    )
    return {
        source: _Timing(
            events=int(events),
            identify_events=int(identify),
            latest=latest.replace(tzinfo=UTC) if latest is not None else None,
            ingest_lag=float(lag) if lag is not None else None,
        )
        for source, events, identify, latest, lag in rows
    }


def _field_rows(warehouse: Warehouse) -> dict[str, list[tuple[str, str, str, str, str, int, int, int, int]]]:
    """Field statistics summed per source and field; the mapping (column, kind, …) of the latest batch."""
    rows = warehouse.rows(
        "SELECT s.source, s.field, "
        "coalesce(arg_max(s.column_name, r.started_at), any_value(s.column_name)), "
        "coalesce(arg_max(s.role, r.started_at), any_value(s.role)), "
        "coalesce(arg_max(s.kind, r.started_at), any_value(s.kind)), "
        "coalesce(arg_max(s.level, r.started_at), any_value(s.level)), "
        "sum(s.records), sum(s.present), sum(s.valid), sum(s.distinct_values), min(s.rowid) AS first_seen "
        "FROM field_stats s LEFT JOIN ingest_runs r ON r.batch_id = s.batch_id "
        "WHERE r.kind IS DISTINCT FROM 'retry' GROUP BY s.source, s.field ORDER BY s.source, first_seen"
    )
    found: dict[str, list[tuple[str, str, str, str, str, int, int, int, int]]] = defaultdict(list)
    for source, field, column, role, kind, level, records, present, valid, distinct, _ in rows:
        found[source].append(
            (field, column, role, kind, level, int(records), int(present), int(valid), int(distinct))
        )
    return found


def _top_reasons(warehouse: Warehouse, limit: int = TOP_REASONS) -> dict[str, tuple[ReasonCount, ...]]:
    """Most frequent quarantine reasons of records still held, by field and reason without its detail.

    A reason's text after the first ``:`` may quote the rejected value, so it is cut off here.
    """
    rows = warehouse.rows(
        "WITH reasons AS ("
        '  SELECT source, unnest(from_json(reasons, \'[{"field": "VARCHAR", "reason": "VARCHAR"}]\')) AS r '
        "  FROM quarantine WHERE status <> 'readmitted'), "
        "counted AS (SELECT source, r.field AS field, "
        "  trim(split_part(r.reason, ':', 1)) AS reason, count(*) AS n "
        "  FROM reasons GROUP BY ALL) "
        "SELECT source, field, reason, n FROM counted "
        "QUALIFY row_number() OVER (PARTITION BY source ORDER BY n DESC, field, reason) <= ? "
        "ORDER BY source, n DESC, field, reason",
        [limit],
    )
    found: dict[str, list[ReasonCount]] = defaultdict(list)
    for source, field, reason, count in rows:
        found[source].append(ReasonCount(field, reason, int(count)))
    return {source: tuple(items) for source, items in found.items()}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)

"""The data-quality report as plain frozen values, and its JSON form for keeping runs side by side.

The JSON form (``to_dict``/``from_dict``) is what the warehouse keeps per run, so it names its own
``format`` and reads older reports leniently: a report written before a field existed still loads.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

REPORT_FORMAT = 1
DIMENSIONS = ("completeness", "validity", "uniqueness", "timeliness", "consistency")


@dataclass(frozen=True, slots=True)
class FieldQuality:
    """One mapped field of one source, its counts summed over every ingest batch.

    ``completeness`` = present / records, ``validity`` = valid / present, ``uniqueness`` = distinct / valid
    (set only where it is scored: identifier fields of profile sources); ``None`` where the divisor is 0.
    """

    source: str
    field: str
    column: str
    role: str
    kind: str
    level: str
    records: int
    present: int
    valid: int
    distinct: int
    completeness: float | None
    validity: float | None
    uniqueness: float | None
    score: float | None


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """How many records of a source are held in quarantine for one field and reason."""

    field: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class SourceQuality:
    """One source: what it delivered, how fresh it is, and its fields' quality.

    Lags are in seconds: ``freshness_lag`` = report time − latest event time; ``ingest_lag`` = median of
    received_at − event time. ``timeliness`` is the freshness lag scored 0–1 (see ``metrics``).
    """

    source: str
    records_read: int
    accepted: int
    quarantined: int
    duplicates: int
    quarantine_rate: float | None
    events: int
    profile_source: bool
    latest_event: datetime | None
    freshness_lag: float | None
    ingest_lag: float | None
    completeness: float | None
    validity: float | None
    uniqueness: float | None
    timeliness: float | None
    fields: tuple[FieldQuality, ...]
    top_reasons: tuple[ReasonCount, ...]
    score: float | None


@dataclass(frozen=True, slots=True)
class ValueCount:
    """One of the values seen for an identifier token, masked, with where it was seen."""

    masked: str
    events: int
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConflictExample:
    """One identifier token (shown by its prefix only) that carries different values of an attribute."""

    token_prefix: str
    values: tuple[ValueCount, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyFinding:
    """For one identifier type and attribute: how many tokens carry more than one value.

    ``tokens_checked`` counts tokens seen with the attribute in at least two events (the only ones that
    can disagree); ``cross_source`` counts conflicting tokens whose events come from two or more sources.
    """

    identifier_type: str
    attribute: str
    tokens_checked: int
    tokens_with_conflicts: int
    cross_source: int
    examples: tuple[ConflictExample, ...]

    @property
    def conflict_rate(self) -> float | None:
        return self.tokens_with_conflicts / self.tokens_checked if self.tokens_checked else None


@dataclass(frozen=True, slots=True)
class QualityReport:
    """One run of the quality checks over the whole warehouse; ``overall`` and ``dimensions`` are 0–100."""

    report_id: str
    created_at: datetime
    sources: tuple[SourceQuality, ...]
    consistency: tuple[ConsistencyFinding, ...]
    overall: float | None
    dimensions: dict[str, float | None]

    def source(self, name: str) -> SourceQuality:
        for found in self.sources:
            if found.source == name:
                return found
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO-8601 UTC strings, tuples as lists)."""
        return {"format": REPORT_FORMAT, **_encode(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityReport:
        return QualityReport(
            report_id=str(data["report_id"]),
            created_at=_datetime(data["created_at"]) or datetime.fromtimestamp(0, UTC),
            sources=tuple(_source(s) for s in data.get("sources", [])),
            consistency=tuple(_finding(f) for f in data.get("consistency", [])),
            overall=data.get("overall"),
            dimensions={name: data.get("dimensions", {}).get(name) for name in DIMENSIONS},
        )


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    return value


def _datetime(text: str | None) -> datetime | None:
    if text is None:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``data`` that ``cls`` has, with defaults of ``None`` for keys an older report lacks."""
    return {f.name: data.get(f.name) for f in fields(cls)}


def _field(data: dict[str, Any]) -> FieldQuality:
    return FieldQuality(**_known(FieldQuality, data))


def _source(data: dict[str, Any]) -> SourceQuality:
    values = _known(SourceQuality, data)
    values["latest_event"] = _datetime(data.get("latest_event"))
    values["fields"] = tuple(_field(f) for f in data.get("fields", []))
    values["top_reasons"] = tuple(ReasonCount(**_known(ReasonCount, r)) for r in data.get("top_reasons", []))
    values["profile_source"] = bool(data.get("profile_source"))
    return SourceQuality(**values)


def _finding(data: dict[str, Any]) -> ConsistencyFinding:
    examples = tuple(
        ConflictExample(
            token_prefix=str(e["token_prefix"]),
            values=tuple(
                ValueCount(masked=str(v["masked"]), events=int(v["events"]), sources=tuple(v["sources"]))
                for v in e.get("values", [])
            ),
        )
        for e in data.get("examples", [])
    )
    return ConsistencyFinding(
        identifier_type=str(data["identifier_type"]),
        attribute=str(data["attribute"]),
        tokens_checked=int(data.get("tokens_checked", 0)),
        tokens_with_conflicts=int(data.get("tokens_with_conflicts", 0)),
        cross_source=int(data.get("cross_source", 0)),
        examples=examples,
    )

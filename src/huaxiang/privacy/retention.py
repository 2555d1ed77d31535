"""Retention: purge events older than their source's ``retention`` period, and everything derived from them.

Age is measured on event time (``ts``), the moment the data describes, so a late-arriving old export does
not stay longer than the period allows. Derived rows go with their events: every table with an event-id
column (``event_id``, ``event_id_l``…, found as in :mod:`~huaxiang.privacy.holdings`) loses the rows of
purged events in the same transaction; per-person aggregates without event ids (identity assignments,
profiles) are rebuilt by their own stages, which sit above this layer: ``huaxiang.api.apply_retention``
re-runs them after the purge, and the report's ``persons_affected`` says whose results changed. Quarantined records of the source expire by arrival time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from huaxiang.privacy import audit
from huaxiang.privacy.compaction import CompactableContext, try_compact
from huaxiang.privacy.context import PrivacyContext, audit_anchor_path, utc_now
from huaxiang.privacy.holdings import PersonTable, person_tables, quote
from huaxiang.privacy.roles import Principal, require
from huaxiang.privacy.schema import ensure_privacy_schema, table_exists

_EXPIRED = "SELECT event_id FROM events WHERE source = $source AND ts < $cutoff"


def _derived_from_expired(table: PersonTable) -> str:
    """Rows naming an expired event in any event-id column (``event_id``, ``event_id_l``, ``event_id_r``)."""
    return " OR ".join(f"{quote(c)} IN ({_EXPIRED})" for c in table.event_columns)


@dataclass(frozen=True, slots=True)
class SourceRetention:
    """What one source's retention period removed (or would remove, in a dry run)."""

    source: str
    period_days: int
    cutoff: datetime
    events: int
    derived: dict[str, int]
    quarantined: int


@dataclass(frozen=True, slots=True)
class RetentionReport:
    as_of: datetime
    dry_run: bool
    sources: tuple[SourceRetention, ...]
    identifiers_affected: int
    audit_seq: int | None
    compacted: bool = False
    persons_affected: int = 0  # resolved persons who had expired events: their identities and profiles change

    @property
    def events(self) -> int:
        return sum(s.events for s in self.sources)


def apply_retention(
    context: CompactableContext,
    principal: Principal,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    compact: bool = True,
) -> RetentionReport:
    """Purge every source's expired events and their dependants, in one transaction, audited.

    ``compact`` then rewrites the warehouse file so the purged rows' bytes are gone as well.
    """
    require(principal, "apply_retention")
    warehouse = context.warehouse
    ensure_privacy_schema(warehouse)
    now = as_of or utc_now()
    dependants = [t for t in person_tables(warehouse) if t.event_columns and t.name != "events"]
    plans = []
    for spec in context.config.sources:
        period = spec.retention_period
        if period is None:
            continue
        bound = {"source": spec.name, "cutoff": now - period}
        derived = {
            t.name: int(
                warehouse.scalar(
                    f"SELECT count(*) FROM {quote(t.name)} WHERE {_derived_from_expired(t)}", bound
                )
            )
            for t in dependants
        }
        events = int(warehouse.scalar(f"SELECT count(*) FROM ({_EXPIRED})", bound))
        quarantined = int(
            warehouse.scalar(
                "SELECT count(*) FROM quarantine WHERE source = $source AND received_at < $cutoff", bound
            )
        )
        plans.append(
            SourceRetention(
                spec.name,
                period.days,
                now - period,
                events,
                {k: v for k, v in derived.items() if v},
                quarantined,
            )
        )
    affected = _identifiers_affected(context, plans)
    persons = _persons_affected(context, plans)
    if dry_run or not any(p.events or p.quarantined for p in plans):
        return RetentionReport(now, dry_run, tuple(plans), affected, None, persons_affected=persons)
    with warehouse.transaction() as con:
        for plan in plans:
            bound = {"source": plan.source, "cutoff": plan.cutoff}
            for table in dependants:
                con.execute(f"DELETE FROM {quote(table.name)} WHERE {_derived_from_expired(table)}", bound)
            con.execute("DELETE FROM events WHERE source = $source AND ts < $cutoff", bound)
            con.execute("DELETE FROM quarantine WHERE source = $source AND received_at < $cutoff", bound)
        # An identifier value no remaining event carries goes with its last event.
        con.execute(
            "DELETE FROM identifier_values v WHERE NOT EXISTS (SELECT 1 FROM event_identifiers i WHERE i.token = v.token)"
        )
        entry = audit.append_entry(
            con,
            context.keyring,
            principal,
            action="apply_retention",
            purpose="retention",
            detail={
                "as_of": now.isoformat(),
                "sources": {
                    p.source: {
                        "cutoff": p.cutoff.isoformat(),
                        "events": p.events,
                        "quarantined": p.quarantined,
                    }
                    for p in plans
                },
            },
            at=utc_now(),
        )
    audit.write_anchor(audit_anchor_path(context), context.keyring, entry)
    compacted = compact and try_compact(context)
    if not compacted:
        context.warehouse.con.execute("CHECKPOINT")
    return RetentionReport(now, False, tuple(plans), affected, entry.seq, compacted, persons)


def _identifiers_affected(context: PrivacyContext, plans: list[SourceRetention]) -> int:
    """Distinct identifier tokens on expired events: persons whose derived profile must be rebuilt."""
    total = 0
    for plan in plans:
        if plan.events:
            total += int(
                context.warehouse.scalar(
                    f"SELECT count(DISTINCT token) FROM event_identifiers WHERE event_id IN ({_EXPIRED})",
                    {"source": plan.source, "cutoff": plan.cutoff},
                )
            )
    return total


def _persons_affected(context: PrivacyContext, plans: list[SourceRetention]) -> int:
    """Distinct resolved persons (``event_persons``, once identity resolution ran) holding expired events."""
    if not table_exists(context.warehouse, "event_persons"):
        return 0
    expired = [p for p in plans if p.events]
    if not expired:
        return 0
    union = " UNION ALL ".join(
        f"SELECT event_id FROM events WHERE source = $s{i} AND ts < $c{i}" for i in range(len(expired))
    )
    bound: dict[str, object] = {}
    for i, plan in enumerate(expired):
        bound |= {f"s{i}": plan.source, f"c{i}": plan.cutoff}
    return int(
        context.warehouse.scalar(
            f"SELECT count(DISTINCT person_id) FROM event_persons WHERE event_id IN ({union})", bound
        )
    )

"""Cohort analysis (群组分析): retention and revenue by acquisition cohort, in one set-based DuckDB query.

A customer is acquired in the month of their first purchase (in the workspace's time zone). Cohorts group
customers by that month, or by their first-touch channel (the channel of the first purchase) or source
(the system of their first event of any kind). Period k is the k-th calendar month after acquisition;
month 0 is the acquisition month, so its retention is 100% by definition.

- **retention** of a cell = the share of the cohort's customers who bought in period k;
- **revenue** of a cell = what they spent in period k, divided by every customer of the cohort.

What counts as a purchase, what it is worth and its channel are the workspace's own trait definitions
(``spend_total``'s filter and value, ``preferred_channel``'s channel), so cohorts and profiles agree.

What an analyst must not be misled by:

- a month that has not ended by ``as_of`` is incomplete; its cells are left out unless asked for, and
  then marked (``complete = false``);
- a cell counts only the customers who could have reached period k by the last month shown (for a
  channel cohort pooling several acquisition months, the recent ones drop out of the later periods
  instead of diluting them);
- the first month of data also holds every earlier customer whose first purchase predates the log: that
  cohort is flagged ``left_censored``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt

from huaxiang.errors import HuaxiangError, NotFoundError
from huaxiang.expressions import EvaluationContext, to_ibis
from huaxiang.expressions.builtins import local_time
from huaxiang.models.cohort_plot import cohort_heatmap
from huaxiang.tags.build import PERSONS, ibis_backend
from huaxiang.tags.library import load_catalogue
from huaxiang.traits import typed_events
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

__all__ = ["BASES", "METRICS", "Cohort", "CohortCell", "CohortTable", "cohort_heatmap", "cohort_table"]

CohortBasis = Literal["month", "channel", "source"]
CohortMetric = Literal["retention", "revenue"]
BASES: tuple[CohortBasis, ...] = ("month", "channel", "source")
METRICS: tuple[CohortMetric, ...] = ("retention", "revenue")
_PURCHASES = "cohort_purchases"
_FIRST_TOUCH = "cohort_first_touch"
UNKNOWN = "(unknown)"


@dataclass(frozen=True, slots=True)
class CohortCell:
    """One cohort in one period after acquisition."""

    period: int
    eligible: int  # cohort customers whose period ``period`` is within the months shown
    active: int  # of those, how many bought in the period
    revenue: float  # what they spent in the period
    complete: bool  # False: the period's month had not ended by ``as_of``

    @property
    def retention(self) -> float:
        return self.active / self.eligible if self.eligible else 0.0

    @property
    def revenue_per_customer(self) -> float:
        return self.revenue / self.eligible if self.eligible else 0.0

    def value(self, metric: CohortMetric) -> float:
        return self.retention if metric == "retention" else self.revenue_per_customer

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "eligible": self.eligible,
            "active": self.active,
            "retention": round(self.retention, 6),
            "revenue": round(self.revenue, 2),
            "revenue_per_customer": round(self.revenue_per_customer, 2),
            "complete": self.complete,
        }


@dataclass(frozen=True, slots=True)
class Cohort:
    """The customers acquired in one month (or through one channel or source), period by period."""

    key: str  # "2025-03", "app", "pos_orders"
    size: int
    first_month: date  # acquisition months the cohort spans
    last_month: date
    left_censored: bool  # holds the customers already there when the data starts
    cells: tuple[CohortCell, ...]

    def cell(self, period: int) -> CohortCell | None:
        for cell in self.cells:
            if cell.period == period:
                return cell
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cohort": self.key,
            "size": self.size,
            "first_month": self.first_month.isoformat()[:7],
            "last_month": self.last_month.isoformat()[:7],
            "left_censored": self.left_censored,
            "cells": [c.to_dict() for c in self.cells],
        }


@dataclass(frozen=True, slots=True)
class CohortTable:
    """Every cohort of one basis as of one moment, with what was left out and why."""

    by: CohortBasis
    as_of: datetime  # naive UTC
    timezone: str
    last_month: date  # the last calendar month shown
    include_incomplete: bool
    periods: int  # the largest period shown
    purchasers: int  # every person with a purchase before ``as_of``
    not_shown: int  # purchasers acquired after ``last_month`` (their first month is not complete)
    cohorts: tuple[Cohort, ...]

    def to_dict(self, metric: CohortMetric | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "by": self.by,
            "as_of": self.as_of.isoformat(),
            "timezone": self.timezone,
            "last_month": self.last_month.isoformat()[:7],
            "include_incomplete": self.include_incomplete,
            "periods": self.periods,
            "purchasers": self.purchasers,
            "not_shown": self.not_shown,
            "cohorts": [c.to_dict() for c in self.cohorts],
        }
        if metric is not None:
            out["metric"] = metric
            for cohort, data in zip(self.cohorts, out["cohorts"], strict=True):
                data["values"] = [round(c.value(metric), 6) for c in cohort.cells]
        return out


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def cohort_table(
    workspace: Workspace,
    *,
    by: CohortBasis = "month",
    as_of: datetime | None = None,
    periods: int = 12,
    include_incomplete: bool = False,
) -> CohortTable:
    """Retention and revenue per acquisition cohort, for periods 0..``periods`` (months after acquisition)."""
    if by not in BASES:
        raise HuaxiangError(f"cannot group cohorts by {by!r}", hint=f"use one of: {', '.join(BASES)}")
    if periods < 0:
        raise HuaxiangError(f"periods must be 0 or more, got {periods}", hint="e.g. --periods 12")
    moment = as_of or datetime.now(UTC).replace(tzinfo=None)
    zone = workspace.config.workspace.timezone
    warehouse = workspace.warehouse
    if PERSONS not in warehouse.tables():
        raise HuaxiangError(
            "no resolved persons yet: the event_persons table is missing",
            hint="run identity resolution first (`huaxiang identity`), then cohorts",
        )
    _stage(workspace, moment, zone, by)
    local_now = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    current = date(local_now.year, local_now.month, 1)
    last_month = current if include_incomplete else _add_months(current, -1)
    rows = warehouse.rows(_cohort_sql(by, _month(last_month), _month(current), periods))
    totals = warehouse.rows(
        f"SELECT count(*), count(*) FILTER (WHERE acquired > {_month(last_month)}) "
        f"FROM (SELECT person_id, min(month) AS acquired FROM {_PURCHASES} GROUP BY person_id)"
    )[0]
    warehouse.con.execute(f"DROP TABLE IF EXISTS {_PURCHASES}; DROP TABLE IF EXISTS {_FIRST_TOUCH}")
    heads: dict[str, tuple[int, date, date, bool]] = {}
    cells: dict[str, list[CohortCell]] = {}
    for key, size, first, last, censored, period, eligible, active, revenue, complete in rows:
        heads.setdefault(key, (int(size), first, last, bool(censored)))
        cells.setdefault(key, []).append(
            CohortCell(int(period), int(eligible), int(active), float(revenue), bool(complete))
        )
    cohorts = {key: Cohort(key, *head, tuple(cells[key])) for key, head in heads.items()}
    log.info("cohorts by %s as of %s: %d cohorts", by, moment, len(cohorts))
    return CohortTable(
        by,
        moment,
        zone,
        last_month,
        include_incomplete,
        periods,
        int(totals[0]),
        int(totals[1]),
        tuple(cohorts.values()),
    )


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _month(month: date) -> str:
    return f"DATE '{month.isoformat()}'"


def _stage(workspace: Workspace, moment: datetime, zone: str, by: CohortBasis) -> None:
    """Temp tables of purchases (person, local month, value, channel) and, by source, each first touch."""
    catalogue = load_catalogue(workspace.config)
    try:
        spend = catalogue.trait("spend_total")
        channel = catalogue.trait("preferred_channel")
    except NotFoundError as error:
        raise HuaxiangError(
            f"cohorts read the purchase definitions of the standard library: {error.message}",
            location="huaxiang.yaml traits",
            hint="keep the standard library on, or define spend_total and preferred_channel yourself",
        ) from None
    context = EvaluationContext(moment, ZoneInfo(zone))
    with ibis_backend(workspace.warehouse) as backend:
        events = typed_events(
            backend.table("events"), backend.table(PERSONS), catalogue.fields, spend.reads | channel.reads
        )
        known = events.filter(events.ts < ibis.literal(moment, type="timestamp"))
        bought = (
            known if spend.where is None else known.filter(to_ibis(spend.where, known.__getitem__, context))
        )
        assert spend.of is not None and channel.of is not None  # sums and modes always have a value
        purchases = bought.select(
            person_id=bought.person_id,
            ts=bought.ts,
            month=local_time(zone, bought.ts.cast(dt.Timestamp(timezone="UTC"))).truncate("M").cast("date"),
            revenue=to_ibis(spend.of, bought.__getitem__, context).cast("float64").coalesce(0.0),
            channel=to_ibis(channel.of, bought.__getitem__, context).cast("string"),
        )
        sql = ibis.to_sql(purchases, dialect="duckdb")
        workspace.warehouse.con.execute(f"CREATE OR REPLACE TEMP TABLE {_PURCHASES} AS {sql}")
        if by == "source":
            firsts = known.group_by("person_id").aggregate(source=known.source.argmin(known.ts))
            sql = ibis.to_sql(firsts, dialect="duckdb")
            workspace.warehouse.con.execute(f"CREATE OR REPLACE TEMP TABLE {_FIRST_TOUCH} AS {sql}")


def _cohort_sql(by: CohortBasis, last_month: str, current: str, periods: int) -> str:
    """Cohort cells in one set-based query: (cohort, acquisition month) × periods for the denominators, each
    person's monthly purchases for the rest; nothing expands per person and period."""
    key = {
        "month": "strftime(f.acquired, '%Y-%m')",
        "channel": f"coalesce(f.first_channel, {_string(UNKNOWN)})",
        "source": f"coalesce(t.source, {_string(UNKNOWN)})",
    }[by]
    touch = f"LEFT JOIN {_FIRST_TOUCH} t USING (person_id)" if by == "source" else ""
    return f"""
    WITH firsts AS (
        SELECT person_id, min(month) AS acquired, arg_min(channel, ts) AS first_channel
        FROM {_PURCHASES} GROUP BY person_id
    ), members AS (
        SELECT f.person_id, f.acquired, {key} AS cohort FROM firsts f {touch}
        WHERE f.acquired <= {last_month}
    ), cohorts AS (
        SELECT cohort, count(*) AS size, min(acquired) AS first_month, max(acquired) AS last_month,
               bool_or(acquired = (SELECT min(month) FROM {_PURCHASES})) AS left_censored
        FROM members GROUP BY cohort
    ), starts AS (             -- members per cohort and acquisition month: periods expand these, not persons
        SELECT cohort, acquired, count(*) AS customers FROM members GROUP BY cohort, acquired
    ), slots AS (              -- who could have reached period k by the last month shown
        SELECT s.cohort, p.period, sum(s.customers) AS eligible,
               bool_and((s.acquired + to_months(p.period::INTEGER))::DATE < {current}) AS complete
        FROM starts s CROSS JOIN range(0, {periods} + 1) AS p(period)
        WHERE (s.acquired + to_months(p.period::INTEGER))::DATE <= {last_month}
        GROUP BY s.cohort, p.period
    ), bought AS (
        SELECT person_id, month, sum(revenue) AS revenue FROM {_PURCHASES}
        WHERE month <= {last_month} GROUP BY person_id, month
    ), activity AS (
        SELECT m.cohort, date_diff('month', m.acquired, b.month) AS period, count(*) AS active,
               sum(b.revenue) AS revenue
        FROM bought b JOIN members m USING (person_id)
        WHERE date_diff('month', m.acquired, b.month) <= {periods}
        GROUP BY ALL
    ), cells AS (
        SELECT s.cohort, s.period, s.eligible, coalesce(a.active, 0) AS active,
               coalesce(a.revenue, 0) AS revenue, s.complete
        FROM slots s LEFT JOIN activity a USING (cohort, period)
    )
    SELECT c.cohort, c.size, c.first_month, c.last_month, c.left_censored,
           x.period, x.eligible, x.active, x.revenue, x.complete
    FROM cohorts c JOIN cells x USING (cohort)
    ORDER BY {"c.first_month, c.cohort" if by == "month" else "c.size DESC, c.cohort"}, x.period
    """

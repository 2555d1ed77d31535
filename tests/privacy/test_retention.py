"""Retention purges a source's expired events, their identifiers and derived rows; nothing else."""

from __future__ import annotations

from datetime import datetime

import pytest

from huaxiang.privacy import audit
from huaxiang.privacy.retention import apply_retention
from huaxiang.privacy.roles import AccessDeniedError
from tests.privacy.conftest import Shop, as_role

AS_OF = datetime(2024, 6, 1)  # orders keep 365 days: O1 (2023-01-10) has expired, O2 and O3 have not


def test_expired_events_and_what_derives_from_them_are_purged(shop: Shop) -> None:
    ws = shop.workspace
    w = ws.warehouse
    w.con.execute(
        "CREATE TABLE order_scores AS SELECT event_id, 1.0 AS score FROM events WHERE source = 'orders'"
    )
    expired = w.rows("SELECT event_id FROM events WHERE properties->>'order_id' = 'O1'")
    total, identifiers = w.count("events"), w.count("event_identifiers")

    preview = apply_retention(ws, shop.owner, as_of=AS_OF, dry_run=True)
    assert preview.events == 1 and w.count("events") == total
    [orders] = preview.sources
    assert (orders.source, orders.period_days, orders.cutoff) == ("orders", 365, datetime(2023, 6, 2))
    assert orders.derived == {"event_identifiers": 1, "order_scores": 1}

    report = apply_retention(ws, shop.owner, as_of=AS_OF)
    assert report.events == 1 and report.identifiers_affected == 1
    w = ws.warehouse  # compaction swapped the file: a new connection
    assert w.count("events") == total - 1
    assert w.count("event_identifiers") == identifiers - 1
    assert w.rows("SELECT event_id FROM events WHERE event_id = ?", [expired[0][0]]) == []
    assert w.rows("SELECT event_id FROM order_scores WHERE event_id = ?", [expired[0][0]]) == []
    assert w.count("order_scores") == 2
    assert {r[0] for r in w.rows("SELECT properties->>'order_id' FROM events WHERE source = 'orders'")} == {
        "O2",
        "O3",
    }
    entry = audit.list_audit(w, limit=1)[0]
    assert entry.action == "apply_retention" and entry.detail["sources"]["orders"]["events"] == 1
    assert apply_retention(ws, shop.owner, as_of=AS_OF).events == 0  # idempotent


def test_sources_without_a_period_keep_everything(shop: Shop) -> None:
    ws = shop.workspace
    kept = ws.warehouse.count("events", "source <> 'orders'")
    report = apply_retention(ws, shop.owner, as_of=datetime(2100, 1, 1))
    assert [s.source for s in report.sources] == ["orders"]
    assert ws.warehouse.count("events", "source <> 'orders'") == kept
    assert ws.warehouse.count("events", "source = 'orders'") == 0


def test_only_the_dpo_and_admin_may_purge(shop: Shop) -> None:
    with pytest.raises(AccessDeniedError):
        apply_retention(shop.workspace, as_role("analyst"), as_of=AS_OF)

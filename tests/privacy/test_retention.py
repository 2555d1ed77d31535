"""Retention purges a source's expired events, their identifiers and derived rows; nothing else."""

from __future__ import annotations

from datetime import datetime

import pytest

from huaxiang import api
from huaxiang.ingest import ingest_all
from huaxiang.privacy import audit
from huaxiang.privacy.access import local_owner
from huaxiang.privacy.persons import Identifier, IdentityLinks
from huaxiang.privacy.retention import apply_retention
from huaxiang.privacy.roles import AccessDeniedError
from tests.conftest import MakeWorkspace
from tests.privacy.conftest import OpenResolvedShop, Shop, as_role

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
    # one ciphertext per identifier still carried by an event, none left for a value only expired events held
    assert w.rows("SELECT token FROM identifier_values ORDER BY 1") == w.rows(
        "SELECT DISTINCT token FROM event_identifiers ORDER BY 1"
    )
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


def test_an_identifier_only_expired_events_carried_loses_its_ciphertext(
    make_workspace: MakeWorkspace,
) -> None:
    orders = (
        "order_id,phone,paid_at\nA1,13812345678,2023-01-10 10:00:00\nA2,13900001111,2024-05-01 10:00:00\n"
    )
    workspace = make_workspace(
        "sources:\n  - name: orders\n    format: csv\n    path: data/orders.csv\n    key: [order_id]\n"
        "    event_type: purchase\n    timestamp: paid_at\n    retention: 365d\n"
        "    fields:\n      - {column: phone, role: identifier}\n",
        {"data/orders.csv": orders},
    )
    ingest_all(workspace)
    assert workspace.warehouse.count("identifier_values") == 2
    apply_retention(workspace, local_owner(workspace.key_file), as_of=AS_OF, compact=False)
    w = workspace.warehouse
    [(kept,)] = w.rows("SELECT value_enc FROM identifier_values")
    assert workspace.cipher.decrypt(kept, context="phone") == "+8613900001111"
    assert w.rows("SELECT token FROM identifier_values") == w.rows(
        "SELECT DISTINCT token FROM event_identifiers"
    )


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


def test_rows_naming_an_expired_event_in_any_event_id_column_are_purged(shop: Shop) -> None:
    """Pairwise derived rows (probabilistic matches: event_id_l, event_id_r) go when either event expires."""
    w = shop.workspace.warehouse
    w.con.execute(
        "CREATE TABLE pair_links AS SELECT a.event_id AS event_id_l, b.event_id AS event_id_r, 0.9 AS p "
        "FROM events a JOIN events b ON a.source = 'orders' AND b.source = 'web'"
    )
    expired = w.scalar("SELECT event_id FROM events WHERE properties->>'order_id' = 'O1'")
    pairs, with_expired = w.count("pair_links"), w.count("pair_links", "event_id_l = $e", {"e": expired})
    preview = apply_retention(shop.workspace, shop.owner, as_of=AS_OF, dry_run=True)
    assert preview.sources[0].derived["pair_links"] == with_expired > 0
    apply_retention(shop.workspace, shop.owner, as_of=AS_OF)
    w = shop.workspace.warehouse
    assert w.count("pair_links") == pairs - with_expired
    assert w.count("pair_links", "event_id_l = $e OR event_id_r = $e", {"e": expired}) == 0


def test_profiles_no_longer_count_an_expired_event_once_retention_applies(
    resolved_shop: OpenResolvedShop,
) -> None:
    """Retention re-runs identity resolution and the profile build when they had run before."""
    shop = resolved_shop()
    ws = shop.workspace
    zhang = Identifier("phone", "+8613812345678").token(ws.keyring)
    person = IdentityLinks().locate(ws.warehouse, [zhang]).key
    expired = ws.warehouse.scalar("SELECT event_id FROM events WHERE properties->>'order_id' = 'O1'")

    def orders_total() -> int:
        return int(ws.warehouse.scalar("SELECT orders_total FROM profiles WHERE person_id = ?", [person]))

    counted = orders_total()  # O1 (2023, expired at AS_OF) and O2 (2024)
    builds = ws.warehouse.count("profile_builds")
    preview = api.apply_retention(ws, shop.owner, as_of=AS_OF, dry_run=True)
    assert (preview.resolution, preview.build) == (None, None) and orders_total() == counted
    run = api.apply_retention(ws, shop.owner, as_of=AS_OF)
    assert run.retention.events == 1 and run.retention.persons_affected == 1
    assert run.resolution is not None and run.build is not None
    assert ws.warehouse.count("profile_builds") == builds + 1
    assert orders_total() == counted - 1
    assert ws.warehouse.count("event_persons", "event_id = $e", {"e": expired}) == 0
    nothing = api.apply_retention(ws, shop.owner, as_of=AS_OF)  # nothing left to purge: nothing re-derived
    assert (nothing.resolution, nothing.build) == (None, None)

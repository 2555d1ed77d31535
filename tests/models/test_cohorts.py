"""Cohort analysis: retention and revenue worked out by hand on a tiny order log, then checked on demo data.

The tiny log (times local, Asia/Shanghai), as of 10 May 2024 (May has not ended):

    A  app  2024-01-10 100 · 2024-02-05 50 · 2024-04-01 30
    B  web  2024-02-01 01:00 200            (31 January in UTC: the local month counts)
    C  web  2024-01-20 80 · 2024-02-10 70 refunded (no purchase) · 2024-03-03 20
    D  app  2024-02-15 60 · 2024-03-20 40
    E  app  2024-05-02 90                   (acquired in the month not yet ended)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from tests.models.segmentation_world import demo_workspace
from typer.testing import CliRunner

from huaxiang.cli import app
from huaxiang.errors import HuaxiangError
from huaxiang.ingest.pipeline import ingest_all
from huaxiang.models.cohorts import CohortTable, cohort_heatmap, cohort_table
from huaxiang.privacy.crypto import token
from huaxiang.workspace import Workspace

SOURCES = """\
sources:
  - name: orders
    format: jsonl
    path: data/orders.jsonl
    key: [order_id]
    event_type: purchase
    timestamp: paid_at
    fields:
      - {column: customer, role: identifier, name: crm_id, required: true}
      - {column: order_id, name: order_id, required: true}
      - {column: amount, name: amount, kind: amount}
      - {column: channel, name: channel}
      - {column: status, name: status}
"""
ORDERS = [
    ("A", "o1", "100", "app", "paid", "2024-01-10 12:00:00"),
    ("A", "o2", "50", "app", "paid", "2024-02-05 12:00:00"),
    ("A", "o3", "30", "web", "paid", "2024-04-01 12:00:00"),
    ("B", "o4", "200", "web", "paid", "2024-02-01 01:00:00"),
    ("C", "o5", "80", "web", "paid", "2024-01-20 12:00:00"),
    ("C", "o6", "70", "web", "refunded", "2024-02-10 12:00:00"),
    ("C", "o7", "20", "app", "paid", "2024-03-03 12:00:00"),
    ("D", "o8", "60", "app", "paid", "2024-02-15 12:00:00"),
    ("D", "o9", "40", "app", "paid", "2024-03-20 12:00:00"),
    ("E", "o10", "90", "app", "paid", "2024-05-02 12:00:00"),
]
AS_OF = datetime(2024, 5, 10)  # UTC


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("cohorts") / "ws"
    (root / "data").mkdir(parents=True)
    keys = ("customer", "order_id", "amount", "channel", "status", "paid_at")
    (root / "data" / "orders.jsonl").write_text(
        "".join(json.dumps(dict(zip(keys, row, strict=True))) + "\n" for row in ORDERS), encoding="utf-8"
    )
    workspace = Workspace.init(root, sources_yaml=SOURCES)
    ingest_all(workspace)
    con = workspace.warehouse.con
    con.execute("CREATE TABLE event_persons(event_id VARCHAR, person_id VARCHAR)")
    for customer in "ABCDE":
        con.execute(
            "INSERT INTO event_persons SELECT event_id, ? FROM event_identifiers WHERE id_type = 'crm_id' "
            "AND token = ?",
            [f"person-{customer}", token(workspace.keyring, "crm_id", customer)],
        )
    yield workspace
    workspace.close()


def _grid(table: CohortTable) -> dict[str, list[tuple[int, int, int, float, bool]]]:
    return {
        c.key: [(x.period, x.eligible, x.active, x.revenue, x.complete) for x in c.cells]
        for c in table.cohorts
    }


def test_month_cohorts_by_hand(tiny: Workspace) -> None:
    table = cohort_table(tiny, by="month", as_of=AS_OF, periods=6)
    assert table.last_month == date(2024, 4, 1)  # May has not ended
    assert (table.purchasers, table.not_shown) == (5, 1)  # E is acquired in May
    assert [(c.key, c.size, c.left_censored) for c in table.cohorts] == [
        ("2024-01", 2, True),
        ("2024-02", 2, False),
    ]
    assert _grid(table) == {
        "2024-01": [
            (0, 2, 2, 180.0, True),
            (1, 2, 1, 50.0, True),  # C's February order was refunded
            (2, 2, 1, 20.0, True),
            (3, 2, 1, 30.0, True),
        ],
        "2024-02": [(0, 2, 2, 260.0, True), (1, 2, 1, 40.0, True), (2, 2, 0, 0.0, True)],
    }
    january = table.cohorts[0]
    assert [c.retention for c in january.cells] == [1.0, 0.5, 0.5, 0.5]
    assert [c.revenue_per_customer for c in january.cells] == [90.0, 25.0, 10.0, 15.0]


def test_incomplete_month_is_marked_when_asked_for(tiny: Workspace) -> None:
    table = cohort_table(tiny, by="month", as_of=AS_OF, periods=6, include_incomplete=True)
    assert table.not_shown == 0 and table.last_month == date(2024, 5, 1)
    grid = _grid(table)
    assert grid["2024-05"] == [(0, 1, 1, 90.0, False)]
    assert grid["2024-01"][4] == (4, 2, 0, 0.0, False)
    assert all(cell[4] for cell in grid["2024-01"][:4])
    data = table.to_dict("retention")
    assert data["cohorts"][-1] == {
        "cohort": "2024-05",
        "size": 1,
        "first_month": "2024-05",
        "last_month": "2024-05",
        "left_censored": False,
        "cells": [
            {
                "period": 0,
                "eligible": 1,
                "active": 1,
                "retention": 1.0,
                "revenue": 90.0,
                "revenue_per_customer": 90.0,
                "complete": False,
            }
        ],
        "values": [1.0],
    }


def test_channel_cohorts_count_only_customers_who_reached_the_period(tiny: Workspace) -> None:
    table = cohort_table(tiny, by="channel", as_of=AS_OF, periods=6)
    assert {c.key: c.size for c in table.cohorts} == {"app": 2, "web": 2}  # A, D · B, C
    assert _grid(table) == {
        # A (January) and D (February); only A can have reached April, the third month after
        "app": [(0, 2, 2, 160.0, True), (1, 2, 2, 90.0, True), (2, 2, 0, 0.0, True), (3, 1, 1, 30.0, True)],
        # C (January) and B (February)
        "web": [(0, 2, 2, 280.0, True), (1, 2, 0, 0.0, True), (2, 2, 1, 20.0, True), (3, 1, 0, 0.0, True)],
    }
    assert table.cohorts[0].cells[3].retention == 1.0


def test_as_of_cuts_the_log(tiny: Workspace) -> None:
    table = cohort_table(tiny, by="month", as_of=datetime(2024, 2, 10), periods=3, include_incomplete=True)
    assert (table.purchasers, table.not_shown) == (3, 0)  # D and E have not bought yet
    assert _grid(table) == {
        "2024-01": [(0, 2, 2, 180.0, True), (1, 2, 1, 50.0, False)],  # C's refund is after the cut anyway
        "2024-02": [(0, 1, 1, 200.0, False)],
    }


def test_heatmap_and_cli(tiny: Workspace) -> None:
    table = cohort_table(tiny, by="month", as_of=AS_OF, periods=3)
    figure = cohort_heatmap(table, "revenue", language="en")
    assert [list(row) for row in figure.data[0].z] == [[90.0, 25.0, 10.0, 15.0], [130.0, 20.0, 0.0, None]]
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "cohorts",
            "-w",
            str(tiny.root),
            "--by",
            "channel",
            "--metric",
            "revenue",
            "--as-of",
            "2024-05-09",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["metric"] == "revenue" and [c["cohort"] for c in data["cohorts"]] == ["app", "web"]
    assert data["cohorts"][0]["values"][:2] == [80.0, 45.0]
    shown = runner.invoke(app, ["cohorts", "-w", str(tiny.root), "--as-of", "2024-05-09", "--periods", "3"])
    assert shown.exit_code == 0 and "2024-01" in shown.stdout and "50%" in shown.stdout
    wrong = runner.invoke(app, ["cohorts", "-w", str(tiny.root), "--by", "week"])
    assert wrong.exit_code != 0 and "week" in wrong.output
    with pytest.raises(HuaxiangError, match="cannot group cohorts by"):
        cohort_table(tiny, by="week")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    opened = demo_workspace(tmp_path_factory, "cohorts-demo")
    yield opened
    opened.close()


@pytest.mark.slow
@pytest.mark.parametrize("by", ["month", "channel", "source"])
def test_demo_cohorts_account_for_every_purchasing_person(demo: Workspace, by: str) -> None:
    as_of = datetime(2026, 11, 20)  # November 2026 has not ended
    table = cohort_table(demo, by=by, as_of=as_of, periods=24)  # type: ignore[arg-type]
    bought = demo.warehouse.scalar(
        "SELECT count(DISTINCT p.person_id) FROM events e JOIN event_persons p USING (event_id) "
        "WHERE e.type = 'purchase' AND e.ts < $as_of "
        "AND coalesce(json_extract_string(e.properties, '$.status'), 'paid') NOT IN ('refunded', 'cancelled')",
        {"as_of": as_of},
    )
    assert table.purchasers == bought
    assert sum(c.size for c in table.cohorts) + table.not_shown == bought and table.not_shown > 0
    assert table.last_month == date(2026, 10, 1)
    for cohort in table.cohorts:
        assert cohort.cells[0].retention == 1.0 and cohort.cells[0].eligible == cohort.size
        assert all(0 <= c.active <= c.eligible <= cohort.size and c.complete for c in cohort.cells)
        assert [c.eligible for c in cohort.cells] == sorted((c.eligible for c in cohort.cells), reverse=True)
    if by == "month":
        assert [c.left_censored for c in table.cohorts] == [True] + [False] * (len(table.cohorts) - 1)
        assert all(c.size == c.cells[0].eligible for c in table.cohorts)

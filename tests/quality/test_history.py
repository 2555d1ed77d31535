"""Reports are kept per run and read back whole, oldest first."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from huaxiang.backends.duckdb import Warehouse
from huaxiang.quality import QualityReport, build_quality_report, quality_history, save_quality_report

if TYPE_CHECKING:
    from conftest import Seed


def _stage(seed: Seed) -> None:
    now = seed.now
    seed.run("crm", "crm-1", read=3, accepted=2, quarantined=1)
    seed.stats(
        "crm", "crm-1", "phone", records=3, present=3, valid=2, distinct=2, role="identifier", kind="phone"
    )
    seed.stats("crm", "crm-1", "birth_date", records=3, present=1, valid=1, distinct=1, kind="date")
    seed.quarantine("crm", [{"field": "phone", "reason": "invalid phone: too short"}])
    seed.event(
        "crm",
        ts=now - timedelta(days=3),
        identifiers={"phone": "p1"},
        attributes={"birth_date": "1990-01-02"},
    )
    seed.event(
        "shop", ts=now, type="purchase", identifiers={"phone": "p1"}, attributes={"birth_date": "1990-02-01"}
    )


def test_a_report_survives_its_json_form(warehouse: Warehouse, seed: Seed) -> None:
    _stage(seed)
    report = build_quality_report(warehouse, now=seed.now)
    assert report.consistency
    assert report.sources[0].fields
    assert report.sources[0].top_reasons
    assert QualityReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_saved_reports_come_back_oldest_first(warehouse: Warehouse, seed: Seed) -> None:
    _stage(seed)
    moments = [seed.now + timedelta(days=d) for d in (2, 0, 1)]
    reports = [build_quality_report(warehouse, now=moment) for moment in moments]
    for report in reports:
        save_quality_report(warehouse, report)
    history = quality_history(warehouse)
    assert [r.created_at for r in history] == sorted(moments)
    assert history == sorted(reports, key=lambda r: r.created_at)
    assert [r.created_at for r in quality_history(warehouse, limit=2)] == sorted(moments)[1:]
    # timeliness falls as the same data ages
    assert [r.dimensions["timeliness"] for r in history] == sorted(
        (r.dimensions["timeliness"] for r in history), reverse=True
    )


def test_saving_a_report_twice_keeps_one(warehouse: Warehouse, seed: Seed) -> None:
    _stage(seed)
    report = build_quality_report(warehouse, now=seed.now)
    save_quality_report(warehouse, report)
    save_quality_report(warehouse, report)
    assert quality_history(warehouse) == [report]


def test_an_older_report_missing_newer_keys_still_loads(warehouse: Warehouse, seed: Seed) -> None:
    _stage(seed)
    data = build_quality_report(warehouse, now=seed.now).to_dict()
    for source in data["sources"]:
        del source["ingest_lag"]
    loaded = QualityReport.from_dict(data)
    assert loaded.sources[0].ingest_lag is None
    assert loaded.sources[0].fields == build_quality_report(warehouse, now=seed.now).sources[0].fields

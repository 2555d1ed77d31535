"""The terminal view of a quality report."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.console import Console

from huaxiang.backends.duckdb import Warehouse
from huaxiang.cli.quality_view import render_quality
from huaxiang.i18n import Language
from huaxiang.quality import QualityReport, build_quality_report

if TYPE_CHECKING:
    from conftest import Seed


def _text(report: QualityReport, language: Language) -> str:
    console = Console(record=True, width=120)
    console.print(render_quality(report, language))
    return console.export_text()


def test_every_source_and_finding_is_shown(warehouse: Warehouse, seed: Seed) -> None:
    now = seed.now
    for name in ("crm", "shop"):
        seed.run(name, f"{name}-1", read=4, accepted=3, quarantined=1)
        seed.stats(name, f"{name}-1", "phone", records=4, present=4, valid=3, distinct=3, role="identifier")
        seed.quarantine(name, [{"field": "phone", "reason": "invalid phone: too short"}])
        seed.event(
            name, ts=now - timedelta(days=2), identifiers={"phone": "p1"}, attributes={"gender": name[0]}
        )
    report = build_quality_report(warehouse, now=now)
    english = _text(report, "en")
    for expected in (
        "crm",
        "shop",
        "Overall score",
        "Completeness",
        "invalid phone",
        "gender",
    ):
        assert expected in english
    assert report.consistency[0].examples[0].token_prefix in english
    chinese = _text(report, "zh")
    assert "数据质量报告" in chinese
    assert "crm" in chinese
    assert "shop" in chinese


def test_an_empty_report_renders(warehouse: Warehouse) -> None:
    text = _text(build_quality_report(warehouse), "zh")
    assert "仓库中还没有数据" in text

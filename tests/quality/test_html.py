"""The HTML report: one self-contained file that names every source and embeds plotly.js once."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from plotly.offline import get_plotlyjs

from huaxiang.backends.duckdb import Warehouse
from huaxiang.quality import build_quality_report, quality_history, save_quality_report, write_quality_html

if TYPE_CHECKING:
    from conftest import Seed


def _stage(seed: Seed) -> None:
    now = seed.now
    for name, age in (("crm_系统", timedelta(hours=3)), ("shop_orders", timedelta(days=40))):
        seed.run(name, f"{name}-1", read=5, accepted=4, quarantined=1)
        seed.stats(name, f"{name}-1", "phone", records=5, present=5, valid=4, distinct=4, role="identifier")
        seed.stats(name, f"{name}-1", "city", records=5, present=2, valid=2, distinct=2)
        seed.quarantine(name, [{"field": "phone", "reason": "invalid phone: too short"}])
        seed.event(
            name, ts=now - age, identifiers={"phone": "p1"}, attributes={"birth_date": f"19{len(name)}-01-01"}
        )


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_page_is_self_contained_and_names_every_source(
    warehouse: Warehouse, seed: Seed, tmp_path: Path, language: str
) -> None:
    _stage(seed)
    for days in (2, 1):
        save_quality_report(warehouse, build_quality_report(warehouse, now=seed.now - timedelta(days=days)))
    report = build_quality_report(warehouse, now=seed.now)
    path = write_quality_html(
        report,
        quality_history(warehouse),
        tmp_path / "out" / "quality.html",
        language="zh" if language == "zh" else "en",
    )
    html = path.read_text(encoding="utf-8")
    bundle = get_plotlyjs()
    assert html.count(bundle[:200]) == 1
    assert bundle[-2000:] in html
    assert not re.search(r"<script[^>]*\bsrc=", html)
    # the bundle names its CDN as a default for map outlines only; nothing else may point anywhere
    page = html.replace(bundle, "")
    assert "cdn.plot.ly" not in page
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)
    assert html.count('class="plotly-graph-div"') == 3  # record counts, field heatmap, history
    for name in ("crm_系统", "shop_orders"):
        assert name in html
    assert report.report_id in html
    assert ("数据质量报告" in html) == (language == "zh")
    assert ("Data-quality report" in html) == (language == "en")


def test_a_first_report_of_an_empty_warehouse_still_renders(warehouse: Warehouse, tmp_path: Path) -> None:
    report = build_quality_report(warehouse)
    html = write_quality_html(report, [], tmp_path / "q.html", language="en").read_text(encoding="utf-8")
    assert "The warehouse holds no data yet." in html
    assert "This is the first report" in html
    assert 'class="plotly-graph-div"' not in html


def test_source_names_are_escaped(warehouse: Warehouse, seed: Seed, tmp_path: Path) -> None:
    seed.run("<b>x</b>", "b1", read=1, accepted=1, quarantined=0)
    report = build_quality_report(warehouse, now=seed.now)
    html = write_quality_html(report, [], tmp_path / "q.html", language="en").read_text(encoding="utf-8")
    assert "<b>x</b>" not in html.split("<script>", 1)[0] + html.rsplit("</script>", 1)[-1]

"""Keep each quality report in the warehouse, so quality can be compared from run to run.

A report is stored whole as JSON (``quality_reports``): it is read back as a unit and its shape may grow,
so one JSON column beats a table per part.
"""

from __future__ import annotations

import json

from huaxiang.backends.duckdb import Warehouse
from huaxiang.quality.report import QualityReport


def save_quality_report(warehouse: Warehouse, report: QualityReport) -> None:
    """Append one report; saving a report id twice keeps the first."""
    with warehouse.transaction() as con:
        con.execute(
            "INSERT INTO quality_reports SELECT ?, ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM quality_reports WHERE report_id = ?)",
            [
                report.report_id,
                report.created_at.replace(tzinfo=None),
                json.dumps(report.to_dict(), ensure_ascii=False),
                report.report_id,
            ],
        )


def quality_history(warehouse: Warehouse, *, limit: int | None = None) -> list[QualityReport]:
    """Saved reports, oldest first; with ``limit``, only the most recent ``limit`` of them."""
    rows = warehouse.rows(
        "SELECT report FROM (SELECT report, created_at, report_id FROM quality_reports "
        "ORDER BY created_at DESC, report_id DESC LIMIT ?) ORDER BY created_at, report_id",
        [limit],
    )
    return [QualityReport.from_dict(json.loads(report)) for (report,) in rows]

"""Data quality: completeness, validity, uniqueness, timeliness and consistency, kept per run.

``write_quality_html`` is imported on first use: Plotly takes about a second to import, and every CLI
command that only measures or prints should not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from huaxiang.quality.history import quality_history, save_quality_report
from huaxiang.quality.metrics import build_quality_report
from huaxiang.quality.report import (
    ConflictExample,
    ConsistencyFinding,
    FieldQuality,
    QualityReport,
    ReasonCount,
    SourceQuality,
    ValueCount,
)

if TYPE_CHECKING:
    from huaxiang.quality.html import write_quality_html

__all__ = [
    "ConflictExample",
    "ConsistencyFinding",
    "FieldQuality",
    "QualityReport",
    "ReasonCount",
    "SourceQuality",
    "ValueCount",
    "build_quality_report",
    "quality_history",
    "save_quality_report",
    "write_quality_html",
]


def __getattr__(name: str) -> Any:
    if name == "write_quality_html":
        from huaxiang.quality.html import write_quality_html

        return write_quality_html
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

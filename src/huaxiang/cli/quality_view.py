"""Render a quality report for the terminal: scores, one table per source, consistency findings.

Colours follow the report's grades (green from 95, yellow from 80, red below) so the terminal and the HTML
page flag the same numbers.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from huaxiang.i18n import Language
from huaxiang.quality import QualityReport, SourceQuality
from huaxiang.quality.labels import (
    DIMENSION_KEYS,
    format_lag,
    format_score,
    format_share,
    grade,
    label,
)

STYLES = {"good": "green", "fair": "yellow", "poor": "bold red", "none": "dim"}


def render_quality(report: QualityReport, language: Language) -> RenderableType:
    """Everything the report holds that fits a terminal; the HTML page adds charts and history."""
    parts: list[RenderableType] = [_scores(report, language)]
    if not report.sources:
        parts.append(Text(label("no_sources", language), style="dim"))
    else:
        parts += _sources(report, language)
        parts += [_fields(source, language) for source in report.sources if source.fields]
        reasons = _reasons(report, language)
        if reasons is not None:
            parts.append(reasons)
    parts.append(_consistency(report, language))
    return Group(*parts)


def render_quality_summary(report: QualityReport, language: Language) -> RenderableType:
    """The scores and per-source tables only: what a run's summary needs (``huaxiang quality`` shows all)."""
    parts: list[RenderableType] = [_scores(report, language)]
    if report.sources:
        parts += _sources(report, language)
    return Group(*parts)


def _score_text(score: float | None) -> Text:
    return Text(format_score(score), style=STYLES[grade(score)])


def _share_text(share: float | None) -> Text:
    return Text(format_share(share), style=STYLES[grade(None if share is None else 100 * share)])


def _rate_text(rate: float | None) -> Text:
    """A rate of bad records (quarantined, conflicting), coloured by the share of good ones."""
    return Text(format_share(rate), style=STYLES[grade(None if rate is None else 100 * (1 - rate))])


def _scores(report: QualityReport, language: Language) -> Panel:
    table = Table.grid(padding=(0, 3))
    names = [label("overall", language), *(label(key, language) for key in DIMENSION_KEYS)]
    for _ in names:
        table.add_column(justify="center")
    table.add_row(*(Text(name, style="bold") for name in names))
    values = [report.overall, *(report.dimensions.get(key) for key in DIMENSION_KEYS)]
    table.add_row(*(_score_text(v) for v in values))
    subtitle = f"{report.report_id} · {report.created_at:%Y-%m-%d %H:%M} UTC"
    return Panel(table, title=label("title", language), subtitle=subtitle, expand=False)


def _sources(report: QualityReport, language: Language) -> list[Table]:
    """Two narrow tables, what arrived and how good it is, so each fits a terminal of 100 columns."""
    width = max(len(s.source) for s in report.sources)
    arrived = Table(title=label("record_counts", language), title_justify="left", header_style="bold")
    scored = Table(title=label("source_scores", language), title_justify="left", header_style="bold")
    for table in (arrived, scored):
        table.add_column(label("source", language), style="bold", no_wrap=True, min_width=width)
    for key in ("records_read", "accepted", "duplicates", "quarantined", "quarantine_rate"):
        arrived.add_column(label(key, language), justify="right")
    for key in ("freshness_lag", "ingest_lag"):
        arrived.add_column(label(key, language), justify="right")
    for key in ("completeness", "validity", "uniqueness", "timeliness", "score"):
        scored.add_column(label(key, language), justify="right")
    for s in report.sources:
        arrived.add_row(
            s.source,
            f"{s.records_read:,}",
            f"{s.accepted:,}",
            f"{s.duplicates:,}",
            f"{s.quarantined:,}",
            _rate_text(s.quarantine_rate),
            format_lag(s.freshness_lag, language),
            format_lag(s.ingest_lag, language),
        )
        scored.add_row(
            s.source,
            _share_text(s.completeness),
            _share_text(s.validity),
            _share_text(s.uniqueness),
            _share_text(s.timeliness),
            _score_text(s.score),
        )
    return [arrived, scored]


def _fields(source: SourceQuality, language: Language) -> Table:
    table = Table(
        title=f"{source.source} · {label('field', language)}", title_justify="left", header_style="bold"
    )
    table.add_column(label("field", language))
    table.add_column(label("column", language))
    table.add_column(label("role", language))
    table.add_column(label("kind", language))
    table.add_column(label("level", language))
    for key in ("records", "completeness", "validity", "uniqueness", "score"):
        table.add_column(label(key, language), justify="right")
    for f in source.fields:
        table.add_row(
            f.field,
            f.column,
            f.role,
            f.kind,
            f.level,
            f"{f.records:,}",
            _share_text(f.completeness),
            _share_text(f.validity),
            _share_text(f.uniqueness),
            _score_text(f.score),
        )
    return table


def _reasons(report: QualityReport, language: Language) -> Table | None:
    held = [s for s in report.sources if s.top_reasons]
    if not held:
        return None
    table = Table(title=label("reasons", language), title_justify="left", header_style="bold")
    table.add_column(label("source", language), style="bold")
    table.add_column(label("field", language))
    table.add_column(label("reason", language))
    table.add_column(label("count", language), justify="right")
    for s in held:
        for position, r in enumerate(s.top_reasons):
            table.add_row(s.source if position == 0 else "", r.field, r.reason, f"{r.count:,}")
    return table


def _consistency(report: QualityReport, language: Language) -> RenderableType:
    if not report.consistency:
        return Text(label("no_findings", language), style="dim")
    table = Table(title=label("consistency_findings", language), title_justify="left", header_style="bold")
    table.add_column(label("identifier_type", language))
    table.add_column(label("attribute", language))
    for key in ("tokens_checked", "tokens_with_conflicts", "cross_source", "conflict_rate"):
        table.add_column(label(key, language), justify="right")
    table.add_column(label("examples", language))
    for c in report.consistency:
        examples = "\n".join(
            f"{e.token_prefix}… " + " / ".join(f"{v.masked} ×{v.events}" for v in e.values)
            for e in c.examples[:2]
        )
        table.add_row(
            c.identifier_type,
            c.attribute,
            f"{c.tokens_checked:,}",
            f"{c.tokens_with_conflicts:,}",
            f"{c.cross_source:,}",
            _rate_text(c.conflict_rate),
            examples,
        )
    return table

"""Write the quality report as one self-contained HTML page with Plotly charts.

The page embeds the plotly.js bundle of the installed ``plotly`` package once, in its head, and every chart
is rendered with ``include_plotlyjs=False`` against it: the file opens offline, from a mail attachment or an
air-gapped network, and is one bundle (about 4.8 MB) however many charts it holds. Layout and text live in a
Jinja2 template shipped with the package.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from huaxiang.i18n import Language
from huaxiang.quality.labels import (
    DIMENSION_KEYS,
    FAIR_FROM,
    GOOD_FROM,
    format_lag,
    format_score,
    format_share,
    grade,
    label,
)
from huaxiang.quality.report import QualityReport

log = logging.getLogger(__name__)

FONT_STACK = (
    '-apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", '
    '"Hiragino Sans GB", "Microsoft YaHei", "Helvetica Neue", Arial, sans-serif'
)
COLOURS = {"inserted": "#2e7d32", "duplicates": "#90a4ae", "quarantined": "#c62828"}
LINE_COLOURS = ("#1a237e", "#1565c0", "#00838f", "#6a1b9a", "#ef6c00", "#2e7d32")
#: Red below the fair grade, amber up to good, green above: the same thresholds as the score badges.
SCORE_SCALE = [
    [0.0, "#b71c1c"],
    [FAIR_FROM / 100 - 0.001, "#ef9a9a"],
    [FAIR_FROM / 100, "#ffe082"],
    [GOOD_FROM / 100 - 0.001, "#fff59d"],
    [GOOD_FROM / 100, "#a5d6a7"],
    [1.0, "#2e7d32"],
]
_CONFIG = {"displaylogo": False, "responsive": True}


def write_quality_html(
    report: QualityReport, history: Sequence[QualityReport], path: Path, *, language: Language
) -> Path:
    """Render ``report`` (and the scores of ``history``, oldest first) to ``path``; returns ``path``."""
    environment = Environment(
        loader=PackageLoader("huaxiang.quality", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        score=format_score, share=format_share, grade=grade, lag=lambda s: format_lag(s, language)
    )
    charts = {
        "counts": _counts_chart(report, language),
        "fields": _field_heatmap(report, language),
        "history": _history_chart(report, history, language),
    }
    page = environment.get_template("report.html.j2").render(
        report=report,
        language=language,
        html_lang="zh-CN" if language == "zh" else "en",
        t=lambda key: label(key, language),
        dimensions=DIMENSION_KEYS,
        charts={name: Markup(html) if html else None for name, html in charts.items()},
        plotlyjs=Markup(get_plotlyjs()),
        font_stack=Markup(FONT_STACK),
        created=report.created_at.strftime("%Y-%m-%d %H:%M"),
        history_count=len({r.report_id for r in history} - {report.report_id}),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    log.info("quality report %s written to %s", report.report_id, path)
    return path


def _layout(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font={"family": FONT_STACK, "size": 13, "color": "#263238"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "normal"},
    )
    return figure


def _to_html(figure: go.Figure) -> str:
    return str(pio.to_html(figure, full_html=False, include_plotlyjs=False, config=_CONFIG))


def _counts_chart(report: QualityReport, language: Language) -> str | None:
    if not report.sources:
        return None
    names = [s.source for s in report.sources]
    figure = go.Figure()
    series = {
        "inserted": [s.accepted - s.duplicates for s in report.sources],
        "duplicates": [s.duplicates for s in report.sources],
        "quarantined": [s.quarantined for s in report.sources],
    }
    for key, values in series.items():
        figure.add_trace(
            go.Bar(
                name=label(key, language),
                y=names,
                x=values,
                orientation="h",
                marker_color=COLOURS[key],
                hovertemplate="%{y}: %{x:,}<extra>" + label(key, language) + "</extra>",
            )
        )
    figure.update_layout(barmode="stack", xaxis_title=label("records", language))
    figure.update_yaxes(autorange="reversed")
    return _to_html(_layout(figure, 120 + 48 * len(names)))


def _field_heatmap(report: QualityReport, language: Language) -> str | None:
    """Completeness over validity, sources down, fields across; empty where a source lacks a field."""
    fields = list(dict.fromkeys(f.field for s in report.sources for f in s.fields))
    sources = [s for s in report.sources if s.fields]
    if not fields or not sources:
        return None
    names = [s.source for s in sources]
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[label("completeness", language), label("validity", language)],
    )
    for row, metric in enumerate(("completeness", "validity"), start=1):
        grid: list[list[float | None]] = []
        text: list[list[str]] = []
        for source in sources:
            by_field = {f.field: getattr(f, metric) for f in source.fields}
            values = [by_field.get(name) for name in fields]
            grid.append([None if v is None else round(100 * v, 1) for v in values])
            text.append(["" if v is None else format_share(v) for v in values])
        figure.add_trace(
            go.Heatmap(
                z=grid,
                x=fields,
                y=names,
                text=text,
                texttemplate="%{text}",
                zmin=0,
                zmax=100,
                colorscale=SCORE_SCALE,
                showscale=row == 1,
                colorbar={"title": {"text": "%"}, "len": 0.9},
                xgap=2,
                ygap=2,
                hovertemplate="%{y} · %{x}: %{text}<extra>" + label(metric, language) + "</extra>",
            ),
            row=row,
            col=1,
        )
        figure.update_yaxes(autorange="reversed", row=row, col=1)
    figure.update_xaxes(tickangle=-30)
    return _to_html(_layout(figure, 200 + 2 * 40 * len(names) + 8 * max(len(f) for f in fields)))


def _history_chart(report: QualityReport, history: Sequence[QualityReport], language: Language) -> str | None:
    runs = {r.report_id: r for r in [*history, report]}
    ordered = sorted(runs.values(), key=lambda r: (r.created_at, r.report_id))
    if len(ordered) < 2:
        return None
    moments: list[datetime] = [r.created_at for r in ordered]
    figure = go.Figure()
    series: list[tuple[str, list[float | None]]] = [("overall", [r.overall for r in ordered])]
    series += [(key, [r.dimensions.get(key) for r in ordered]) for key in DIMENSION_KEYS]
    for (key, values), colour in zip(series, LINE_COLOURS, strict=True):
        figure.add_trace(
            go.Scatter(
                x=moments,
                y=values,
                name=label(key, language),
                mode="lines+markers",
                line={"color": colour, "width": 3 if key == "overall" else 1.5},
                connectgaps=False,
                hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:.1f}<extra>" + label(key, language) + "</extra>",
            )
        )
    figure.update_yaxes(range=[0, 101], title=label("score", language))
    _layout(figure, 420)
    # below the axis: six entries above the plot would run under the mode bar
    figure.update_layout(legend={"yanchor": "top", "y": -0.12}, margin={"b": 40})
    return _to_html(figure)

"""The cohort heatmap: cohorts down, months since acquisition across, retention or revenue as colour.

Plotly, so the same figure serves the HTML model report and the dashboard; labels follow the display
language. Cells of a month that had not ended are drawn (when the table includes them) with their value
marked ``*``, so a half-observed month never reads as a drop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from huaxiang.i18n import Language, bilingual, current_language

if TYPE_CHECKING:
    from huaxiang.models.cohorts import CohortMetric, CohortTable


def cohort_heatmap(
    table: CohortTable, metric: CohortMetric = "retention", language: Language | None = None
) -> Any:
    """A ``plotly.graph_objects.Figure`` of one metric per cohort and period."""
    import plotly.graph_objects as go  # imported here: plotly takes a second to load and only charts need it

    language = language or current_language()
    periods = list(range(table.periods + 1))
    values: list[list[float | None]] = []
    texts: list[list[str]] = []
    for cohort in table.cohorts:
        row: list[float | None] = []
        text: list[str] = []
        for period in periods:
            cell = cohort.cell(period)
            if cell is None:
                row.append(None)
                text.append("")
                continue
            value = cell.value(metric)
            row.append(value)
            shown = f"{value * 100:.0f}%" if metric == "retention" else f"{value:,.0f}"
            text.append(shown if cell.complete else shown + "*")
        values.append(row)
        texts.append(text)
    labels = [f"{c.key} ({c.size:,})" for c in table.cohorts]
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=[f"M{p}" for p in periods],
            y=labels,
            text=texts,
            texttemplate="%{text}",
            colorscale="Blues",
            hoverongaps=False,
            colorbar={"title": "%" if metric == "retention" else "¥"},
        )
    )
    what = (
        bilingual("留存率", "Retention")
        if metric == "retention"
        else bilingual("人均消费（按群组人数）", "Revenue per cohort customer")
    )
    basis = {
        "month": bilingual("首购月份", "month of first purchase"),
        "channel": bilingual("首购渠道", "first-purchase channel"),
        "source": bilingual("首次接触来源", "first-touch source"),
    }[table.by]
    figure.update_layout(
        title=f"{what.text(language)} · {bilingual('群组', 'cohort').text(language)}: {basis.text(language)}",
        xaxis_title=bilingual("首购后第几个月", "Months since first purchase").text(language),
        yaxis={"autorange": "reversed"},
    )
    return figure

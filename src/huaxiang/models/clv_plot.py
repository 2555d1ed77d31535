"""The calibration/holdout chart of a CLV report: mean holdout purchases by calibration frequency.

Plotly, so the same figure serves the HTML model report and the dashboard; labels follow the display
language.
"""

from __future__ import annotations

from typing import Any

from huaxiang.errors import HuaxiangError
from huaxiang.i18n import Language, bilingual
from huaxiang.models.clv_report import ClvReport


def plot_calibration_holdout(report: ClvReport, language: Language | None = None) -> Any:
    """A ``plotly.graph_objects.Figure`` of actual against predicted mean holdout purchases per frequency."""
    import plotly.graph_objects as go  # imported here: plotly takes a second to load and only charts need it

    if report.holdout is None:
        raise HuaxiangError(
            bilingual(zh="该报告没有留出期数据", en="the report has no holdout period").text(language),
            location=report.source,
            hint=bilingual(
                zh="校准期结束日期需早于最后一笔交易",
                en="choose a calibration end before the last transaction",
            ).text(language),
        )
    bins = report.holdout.by_frequency
    labels = [b.frequency for b in bins]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=[b.actual_mean for b in bins],
            mode="lines+markers",
            name=bilingual(zh="实际", en="Actual").text(language),
        )
    )
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=[b.predicted_mean for b in bins],
            mode="lines+markers",
            line={"dash": "dash"},
            name=bilingual(zh="BG/NBD 预测", en="BG/NBD").text(language),
        )
    )
    periods = f"{report.holdout.periods:g}"
    figure.update_layout(
        title=bilingual(
            zh=f"留出期（{periods} 个周期）平均购买次数：实际与预测",
            en=f"Mean purchases in the holdout ({periods} periods): actual and predicted",
        ).text(language),
        xaxis_title=bilingual(zh="校准期重复购买次数", en="Repeat purchases in the calibration period").text(
            language
        ),
        yaxis_title=bilingual(zh="留出期平均购买次数", en="Mean purchases in the holdout").text(language),
        xaxis={"type": "category"},
    )
    return figure

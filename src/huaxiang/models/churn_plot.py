"""The churn charts of the model report: ROC curves and cumulative gains of the model and both baselines.

All three scores are drawn on the same out-of-time validation customers, so the curves compare like with
like. Plotly, so the same figures serve the HTML model report and the dashboard.
"""

from __future__ import annotations

import plotly.graph_objects as go

from huaxiang.errors import HuaxiangError
from huaxiang.i18n import Label, Language, bilingual, current_language
from huaxiang.models.churn_metrics import CURVES, SCORES, Curves
from huaxiang.models.registry import ModelVersion

SCORE_LABELS: dict[str, Label] = {
    "model": bilingual("流失模型 (LightGBM)", "Churn model (LightGBM)"),
    "recency": bilingual("基线：最近购买间隔", "Baseline: recency"),
    "p_alive": bilingual("基线：BG/NBD 仍活跃概率", "Baseline: BG/NBD P(alive)"),
}


def churn_figures(version: ModelVersion, language: Language | None = None) -> list[go.Figure]:
    """A ROC chart and a cumulative gains (lift) chart of a registered churn model against the recency and
    P(alive) baselines, from the validation curves kept with its metrics."""
    lang = language or current_language()
    if CURVES not in version.metrics:
        raise HuaxiangError(
            f"model {version.version} keeps no validation curves / 该模型没有验证曲线",
            hint="retrain it with `huaxiang churn train`",
        )
    roc = go.Figure()
    gains = go.Figure()
    for name in SCORES:
        found = Curves.from_sampled(version.metrics[CURVES][name])
        auc = version.metrics[name]["roc_auc"]
        title = f"{SCORE_LABELS[name].text(lang)} · AUC {auc:.3f}"
        roc.add_trace(
            go.Scatter(x=found.false_positive_rate, y=found.true_positive_rate, mode="lines", name=title)
        )
        gains.add_trace(
            go.Scatter(x=found.targeted, y=found.found, mode="lines", name=SCORE_LABELS[name].text(lang))
        )
    chance = bilingual("随机", "Random").text(lang)
    for figure in (roc, gains):
        figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot"}, name=chance))
    day = str(version.metrics["validation_cutoff"])[:10]
    roc.update_layout(
        title=bilingual(
            f"流失预测 ROC 曲线（{day} 之后的样本外验证）", f"Churn ROC (out of time, after {day})"
        ).text(lang),
        xaxis_title=bilingual("假阳性率", "False positive rate").text(lang),
        yaxis_title=bilingual("真阳性率", "True positive rate").text(lang),
    )
    gains.update_layout(
        title=bilingual(
            "累计增益：按风险从高到低触达客户", "Cumulative gains: customers reached by risk"
        ).text(lang),
        xaxis_title=bilingual("触达客户占比", "Share of customers targeted").text(lang),
        yaxis_title=bilingual("覆盖的流失客户占比", "Share of churners found").text(lang),
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
    )
    return [roc, gains]

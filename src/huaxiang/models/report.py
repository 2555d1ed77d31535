"""The model report: one self-contained HTML page on how good each model was on data it did not see.

Sections are built by the models themselves (CLV calibration and holdout, churn ROC and lift, cluster
profiles, cohort retention) and by the registry (every version with its data window and metrics). Like the
quality report, the page embeds the installed plotly.js once and opens offline.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from huaxiang.i18n import Label, Language, bilingual
from huaxiang.models.churn_plot import churn_figures
from huaxiang.models.cluster_plot import cluster_figures
from huaxiang.models.clusters import load_cluster_model
from huaxiang.models.clv_plot import plot_calibration_holdout
from huaxiang.models.cohort_plot import cohort_heatmap
from huaxiang.models.cohorts import cohort_table
from huaxiang.models.profile_scores import HOLDOUT_DAYS, clv_holdout, purchases
from huaxiang.models.registry import list_models
from huaxiang.quality.html import FONT_STACK
from huaxiang.workspace import Workspace

log = logging.getLogger(__name__)

_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True, slots=True)
class ReportSection:
    """One section of the page: a title, a sentence or two, a table and charts."""

    key: str
    title: Label
    summary: Label | None = None
    columns: tuple[Label, ...] = ()
    rows: Sequence[Sequence[Any]] = ()
    figures: Sequence[go.Figure] = field(default_factory=tuple)


def _cell(value: Any) -> Any:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def write_model_report(
    sections: Sequence[ReportSection], path: Path, *, language: Language, subtitle: str = ""
) -> Path:
    """Render ``sections`` to ``path`` (one HTML file, no network needed to open it)."""
    environment = Environment(
        loader=PackageLoader("huaxiang.models", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    rendered = [
        {
            "key": s.key,
            "title": s.title.text(language),
            "summary": s.summary.text(language) if s.summary else None,
            "columns": [c.text(language) for c in s.columns],
            "rows": [[_cell(v) for v in row] for row in s.rows],
            "charts": [Markup(_to_html(f)) for f in s.figures],
        }
        for s in sections
    ]
    page = environment.get_template("model_report.html.j2").render(
        title=bilingual(zh="模型报告", en="Model report").text(language),
        subtitle=subtitle,
        sections=rendered,
        empty=bilingual(zh="尚无数据", en="Nothing to show yet").text(language),
        html_lang="zh-CN" if language == "zh" else "en",
        plotlyjs=Markup(get_plotlyjs()),
        font_stack=Markup(FONT_STACK),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    log.info("model report written to %s", path)
    return path


def _to_html(figure: go.Figure) -> str:
    figure.update_layout(template="plotly_white", font={"family": FONT_STACK, "size": 13})
    return str(pio.to_html(figure, full_html=False, include_plotlyjs=False, config=_CONFIG))


def registry_section(workspace: Workspace) -> ReportSection:
    """Every model version kept in the registry, newest first, with its headline metrics."""
    rows = []
    for version in list_models(workspace.warehouse):
        headline = ", ".join(f"{k} {_cell(v)}" for k, v in _numbers(version.metrics)[:5])
        window = " – ".join(_cell(d) for d in (version.data_from, version.data_to) if d is not None)
        rows.append((version.kind, version.version, _cell(version.created_at), window, headline))
    return ReportSection(
        "registry",
        bilingual(zh="模型库", en="Model registry"),
        bilingual(
            zh="每个训练过的模型版本及其数据窗口与指标（用 huaxiang models show 版本 查看全部参数）。",
            en="Every trained model version with its data window and metrics (huaxiang models show VERSION shows all of it).",
        ),
        (
            bilingual(zh="类型", en="kind"),
            bilingual(zh="版本", en="version"),
            bilingual(zh="训练时间", en="trained"),
            bilingual(zh="数据窗口", en="data window"),
            bilingual(zh="指标", en="metrics"),
        ),
        rows,
    )


def clv_section(workspace: Workspace, as_of: dt.datetime, language: Language) -> ReportSection:
    """Calibration and holdout: predicted against actual purchases in the last 90 days, by past frequency."""
    report = clv_holdout(purchases(workspace, as_of), as_of.date())
    title = bilingual(
        zh="客户终身价值（BG/NBD + Gamma-Gamma）", en="Customer lifetime value (BG/NBD + Gamma-Gamma)"
    )
    if report is None or report.holdout is None:
        return ReportSection(
            "clv", title, bilingual(zh="购买数据不足以拟合。", en="Not enough purchases to fit.")
        )
    holdout = report.holdout
    params = report.bgnbd.to_dict() | (report.gamma_gamma.to_dict() if report.gamma_gamma else {})
    rows = [(name, float(value)) for name, value in params.items() if name != "n_customers"]
    rows += [
        ("holdout actual purchases", float(holdout.actual_total)),
        ("holdout predicted purchases", float(holdout.predicted_total)),
        ("MAE per customer", float(holdout.mae_per_customer)),
    ]
    summary = bilingual(
        zh=f"以 {report.calibration_end} 前的购买拟合，预测其后 {HOLDOUT_DAYS} 天（模型未见过的数据）："
        f"实际 {holdout.actual_total:,.0f} 次，预测 {holdout.predicted_total:,.0f} 次。",
        en=f"Fitted on purchases up to {report.calibration_end}, then predicting the {HOLDOUT_DAYS} days after "
        f"(data the fit did not see): {holdout.actual_total:,.0f} actual vs {holdout.predicted_total:,.0f} predicted purchases.",
    )
    return ReportSection(
        "clv",
        title,
        summary,
        (bilingual(zh="参数 / 指标", en="parameter / metric"), bilingual(zh="值", en="value")),
        rows,
        (plot_calibration_holdout(report, language),),
    )


def _numbers(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, float]]:
    """Numeric metrics, one level of nesting flattened (``model.roc_auc``)."""
    found: list[tuple[str, float]] = []
    for key, value in metrics.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            found.append((prefix + key, float(value)))
        elif isinstance(value, dict) and not prefix:
            found += _numbers(value, f"{key}.")
    return found


def churn_section(workspace: Workspace, language: Language) -> ReportSection:
    """The newest churn model on its out-of-time validation customers, beside both baselines."""
    title = bilingual(zh="流失风险（LightGBM）", en="Churn risk (LightGBM)")
    versions = list_models(workspace.warehouse, "churn")
    if not versions:
        return ReportSection(
            "churn",
            title,
            bilingual(zh="尚未训练：huaxiang churn train", en="Not trained yet: huaxiang churn train"),
        )
    version = versions[0]
    names = {
        "model": bilingual(zh="流失模型", en="Churn model"),
        "recency": bilingual(zh="基线：最近购买间隔", en="Baseline: recency"),
        "p_alive": bilingual(zh="基线：BG/NBD 仍活跃概率", en="Baseline: BG/NBD P(alive)"),
    }
    rows = [
        (
            names[name].text(language),
            *(version.metrics[name][m] for m in ("roc_auc", "pr_auc", "brier", "top_decile_lift")),
        )
        for name in names
        if name in version.metrics
    ]
    cutoff = str(version.metrics.get("validation_cutoff", ""))[:10]
    return ReportSection(
        "churn",
        title,
        bilingual(
            zh=f"模型 {version.version}：在 {cutoff} 之后的样本外客户上验证（训练未见过这些数据），与两个基线同场比较。",
            en=f"Model {version.version}, validated out of time on customers after {cutoff} (data training did not see), "
            "beside both baselines on the same customers.",
        ),
        (
            bilingual(zh="评分", en="score"),
            bilingual(zh="ROC-AUC", en="ROC-AUC"),
            bilingual(zh="PR-AUC", en="PR-AUC"),
            bilingual(zh="Brier", en="Brier"),
            bilingual(zh="前10%提升度", en="top-decile lift"),
        ),
        rows,
        churn_figures(version),
    )


def clusters_section(workspace: Workspace, language: Language) -> ReportSection:
    """The newest cluster model: sizes and how each cluster differs from everyone (z-scores)."""
    title = bilingual(zh="行为分群", en="Behavioural clusters")
    if not list_models(workspace.warehouse, "clusters"):
        return ReportSection(
            "clusters",
            title,
            bilingual(zh="尚未训练：huaxiang clusters fit", en="Not fitted yet: huaxiang clusters fit"),
        )
    model = load_cluster_model(workspace)
    rows = [(c.id, c.name.text(language), c.size, c.description.text(language)) for c in model.clusters]
    return ReportSection(
        "clusters",
        title,
        bilingual(
            zh=f"模型 {model.version}：k={len(model.clusters)}（{model.criterion}），{model.persons:,} 位有购买的客户。",
            en=f"Model {model.version}: k={len(model.clusters)} ({model.criterion}), {model.persons:,} customers with orders.",
        ),
        (
            bilingual(zh="编号", en="id"),
            bilingual(zh="名称", en="name"),
            bilingual(zh="人数", en="size"),
            bilingual(zh="特征", en="how it differs"),
        ),
        rows,
        cluster_figures(model, language),
    )


def cohorts_section(workspace: Workspace, as_of: dt.datetime, language: Language) -> ReportSection:
    """Retention and revenue by month of first purchase."""
    table = cohort_table(workspace, by="month", as_of=as_of)
    title = bilingual(zh="群组分析（按首购月份）", en="Cohorts by month of first purchase")
    if not table.cohorts:
        return ReportSection("cohorts", title)
    return ReportSection(
        "cohorts",
        title,
        bilingual(
            zh="每个首购月份群组在其后各月的复购率与人均收入；新近获得的客户是否表现不同，一看便知。",
            en="Each first-purchase cohort's retention and revenue per member in the months after; whether recently "
            "acquired customers behave differently shows at a glance.",
        ),
        figures=(cohort_heatmap(table, "retention", language), cohort_heatmap(table, "revenue", language)),
    )


def model_report(workspace: Workspace, path: Path, *, as_of: dt.datetime, language: Language) -> Path:
    """Every section for the workspace, written to ``path``."""
    sections = [
        clv_section(workspace, as_of, language),
        churn_section(workspace, language),
        clusters_section(workspace, language),
        cohorts_section(workspace, as_of, language),
        registry_section(workspace),
    ]
    subtitle = f"{workspace.config.workspace.name} · {as_of:%Y-%m-%d %H:%M} UTC"
    return write_model_report(sections, path, language=language, subtitle=subtitle)

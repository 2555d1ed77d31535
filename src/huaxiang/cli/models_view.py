"""Rich views of model reports."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table

from huaxiang.i18n import Language, bilingual
from huaxiang.models.clv import ClvReport


def render_clv(report: ClvReport, language: Language) -> RenderableType:
    params = Table(
        title=bilingual("客户终身价值模型参数", "CLV model parameters").text(language), title_justify="left"
    )
    params.add_column(bilingual("模型", "Model").text(language))
    params.add_column(bilingual("参数", "Parameter").text(language))
    params.add_column(bilingual("估计值", "Estimate").text(language), justify="right")
    bg = report.bgnbd
    for name, value in (
        ("r", bg.r),
        ("alpha", bg.alpha),
        ("a", bg.a),
        ("b", bg.b),
        ("log-likelihood", bg.log_likelihood),
    ):
        params.add_row("BG/NBD", name, f"{value:,.4f}")
    if report.gamma_gamma is not None:
        gg = report.gamma_gamma
        for name, value in (
            ("p", gg.p),
            ("q", gg.q),
            ("gamma", gg.gamma),
            ("log-likelihood", gg.log_likelihood),
        ):
            params.add_row("Gamma-Gamma", name, f"{value:,.4f}")
    parts: list[RenderableType] = [params]
    if report.holdout is not None:
        holdout = report.holdout
        table = Table(
            title=bilingual("留出期准确度", "Holdout accuracy").text(language), title_justify="left"
        )
        table.add_column(bilingual("校准期购买次数", "Calibration purchases").text(language))
        table.add_column(bilingual("客户数", "Customers").text(language), justify="right")
        table.add_column(bilingual("实际均值", "Actual mean").text(language), justify="right")
        table.add_column(bilingual("预测均值", "Predicted mean").text(language), justify="right")
        for row in holdout.by_frequency:
            table.add_row(
                row.frequency, f"{row.customers:,}", f"{row.actual_mean:.3f}", f"{row.predicted_mean:.3f}"
            )
        table.caption = (
            f"{bilingual('实际', 'actual').text(language)} {holdout.actual_total:,.0f} · "
            f"{bilingual('预测', 'predicted').text(language)} {holdout.predicted_total:,.0f} · "
            f"MAE {holdout.mae_per_customer:.3f} · r {holdout.correlation:.3f}"
        )
        parts.append(table)
    return Group(*parts)

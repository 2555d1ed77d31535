"""Segmentation commands: ``clusters fit | show`` (behavioural clusters) and ``cohorts`` (群组分析).

Each command parses, calls one API function and renders with Rich (zh-CN or English by ``HUAXIANG_LANG``);
``--json`` prints the same data for machines. Dates given with ``--as-of`` are read in the workspace's time
zone; a bare date means the end of that day.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Group, RenderableType
from rich.table import Table

from huaxiang import api
from huaxiang.cli.common import JsonOption, WorkspaceOption, console, friendly_errors, print_json
from huaxiang.i18n import Language, bilingual, current_language
from huaxiang.models.cluster_features import FEATURES_BY_NAME
from huaxiang.models.cluster_labels import notable_traits
from huaxiang.models.cluster_model import Cluster, ClusterModel
from huaxiang.models.cohorts import CohortBasis, CohortMetric, CohortTable
from huaxiang.tags.build import parse_as_of

clusters_app = typer.Typer(
    help="Behavioural and value clusters of customers. 客户行为分群。", no_args_is_help=True
)

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="A past date (2024-03-01: the end of that day) or time, in the workspace zone."
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(clusters_app, name="clusters")
    app.command("cohorts")(cohorts)


def _t(zh: str, en: str, language: Language) -> str:
    return bilingual(zh, en).text(language)


@clusters_app.command("fit")
@friendly_errors
def clusters_fit(
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    k: Annotated[
        int | None, typer.Option("--k", min=2, max=30, help="Number of clusters (default: by silhouette).")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start new ids instead of matching the previous model's clusters.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Cluster customers on frequency, spend, basket, recency and tenure, and register the model · 拟合客户分群。"""
    with api.open_workspace(workspace) as ws:
        moment = parse_as_of(as_of, ZoneInfo(ws.config.workspace.timezone)) if as_of else None
        run = api.fit_clusters(ws, as_of=moment, k=k, fresh=fresh)
    if as_json:
        print_json(run.model.to_dict())
    else:
        console.print(render_clusters(run.model, current_language()))


@clusters_app.command("show")
@friendly_errors
def clusters_show(
    version: Annotated[
        str, typer.Argument(help="A clusters-… version (default: the newest cluster model).")
    ] = "clusters",
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """A registered cluster model: each cluster's name, size and how it differs · 查看客户分群。"""
    with api.open_workspace(workspace) as ws:
        model = api.show_clusters(ws, version)
    if as_json:
        print_json(model.to_dict())
    else:
        console.print(render_clusters(model, current_language()))


@friendly_errors
def cohorts(
    workspace: WorkspaceOption = Path("."),
    by: Annotated[
        str, typer.Option("--by", help="month (of first purchase) | channel (of first purchase) | source")
    ] = "month",
    metric: Annotated[
        str, typer.Option("--metric", help="retention (share buying) | revenue (per cohort customer)")
    ] = "retention",
    periods: Annotated[int, typer.Option(min=0, max=120, help="Months after acquisition to show.")] = 12,
    as_of: AsOfOption = None,
    include_incomplete: Annotated[
        bool,
        typer.Option("--include-incomplete", help="Also show the month not yet ended (marked *)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Retention and revenue by acquisition cohort · 群组分析：按首购月份或渠道的留存与消费。"""
    chosen_by: CohortBasis = _choice(by, ("month", "channel", "source"), "--by")  # type: ignore[assignment]
    chosen_metric: CohortMetric = _choice(metric, ("retention", "revenue"), "--metric")  # type: ignore[assignment]
    with api.open_workspace(workspace) as ws:
        moment = parse_as_of(as_of, ZoneInfo(ws.config.workspace.timezone)) if as_of else None
        table = api.cohorts(
            ws, by=chosen_by, as_of=moment, periods=periods, include_incomplete=include_incomplete
        )
    if as_json:
        print_json(table.to_dict(chosen_metric))
    else:
        console.print(render_cohorts(table, chosen_metric, current_language()))


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r}: use one of {', '.join(allowed)}", param_hint=option)
    return value


def render_clusters(model: ClusterModel, language: Language, *, details: bool = True) -> RenderableType:
    """The clusters with their medians; ``details`` adds how each differs from everyone (a wide column)."""
    title = f"{_t('客户分群', 'Customer clusters', language)} · {model.version or ''}"
    table = Table(title=title, title_justify="left", show_lines=details)
    table.add_column(_t("编号", "Id", language), justify="right")
    table.add_column(_t("名称", "Name", language))
    table.add_column(_t("人数", "Customers", language), justify="right")
    table.add_column(_t("订单中位数", "Median orders", language), justify="right")
    table.add_column(_t("消费中位数", "Median spend", language), justify="right")
    table.add_column(_t("距最近购买(天)", "Days since last", language), justify="right")
    if details:
        table.add_column(_t("与全体相比", "How it differs", language))
    for cluster in model.clusters:
        medians = cluster.medians
        table.add_row(
            str(cluster.id),
            cluster.name.text(language),
            f"{cluster.size:,} ({cluster.share * 100:.0f}%)",
            f"{medians.get('orders', 0):,.0f}",
            f"{medians.get('spend', 0):,.0f}",
            f"{medians.get('recency_days', 0):,.0f}",
            *([_differences(cluster, language)] if details else []),
        )
    scores = ", ".join(f"k={k}: {s:.3f}" for k, s in sorted(model.scores.items()))
    notes = [
        f"{_t('截至', 'as of', language)} {model.as_of:%Y-%m-%d %H:%M} UTC · "
        f"{model.persons:,} {_t('位有订单的客户', 'customers with orders', language)} · k={model.k} "
        f"({_t('轮廓系数选择' if model.criterion == 'silhouette' else '指定', 'by silhouette' if model.criterion == 'silhouette' else 'fixed', language)})"
    ]
    if scores:
        notes.append(f"{_t('轮廓系数', 'silhouette', language)}: {scores}")
    if model.previous:
        agreement = f"{model.agreement * 100:.1f}%" if model.agreement is not None else "—"
        notes.append(
            f"{_t('沿用编号自', 'ids carried over from', language)} {model.previous} · "
            f"{_t('与上一模型分群一致', 'same cluster as the previous model', language)}: {agreement}"
        )
    table.caption = "\n".join(notes)
    table.caption_justify = "left"
    return table


def _differences(cluster: Cluster, language: Language) -> str:
    """The notable z-scores, one per line: ``订单数 +1.2σ`` (the full sentence is in ``--json``)."""
    lines = [
        f"{FEATURES_BY_NAME[t.feature].label.text(language)} {cluster.z[t.feature]:+.1f}σ"
        for t in notable_traits(cluster.z)
    ]
    return "\n".join(lines) or _t("接近平均", "close to average", language)


def render_cohorts(table: CohortTable, metric: CohortMetric, language: Language) -> RenderableType:
    what = (
        _t("留存率", "Retention", language)
        if metric == "retention"
        else _t("人均消费", "Revenue per customer", language)
    )
    basis = {
        "month": _t("首购月份", "month of first purchase", language),
        "channel": _t("首购渠道", "first-purchase channel", language),
        "source": _t("首次接触来源", "first-touch source", language),
    }[table.by]
    grid = Table(title=f"{what} · {basis}", title_justify="left")
    grid.add_column(_t("群组", "Cohort", language))
    grid.add_column(_t("人数", "Customers", language), justify="right")
    for period in range(table.periods + 1):
        grid.add_column(f"M{period}", justify="right")
    for cohort in table.cohorts:
        cells: list[str] = []
        for period in range(table.periods + 1):
            cell = cohort.cell(period)
            if cell is None:
                cells.append("")
                continue
            value = cell.value(metric)
            shown = f"{value * 100:.0f}%" if metric == "retention" else f"{value:,.0f}"
            cells.append(shown if cell.complete else f"[dim]{shown}*[/]")
        key = cohort.key + (" †" if cohort.left_censored else "")
        grid.add_row(key, f"{cohort.size:,}", *cells)
    notes = [
        _t(
            f"截至 {table.as_of:%Y-%m-%d %H:%M} UTC；显示到 {table.last_month:%Y-%m}（{table.timezone}）",
            f"as of {table.as_of:%Y-%m-%d %H:%M} UTC; months up to {table.last_month:%Y-%m} ({table.timezone})",
            language,
        ),
        _t(
            f"有购买的客户 {table.purchasers:,} 位，其中 {table.not_shown:,} 位首购于未结束的月份，未显示",
            f"{table.purchasers:,} customers bought; {table.not_shown:,} first bought in a month not yet ended and are not shown",
            language,
        ),
        _t(
            "† 数据起始月份：含数据开始前已有的客户",
            "† the first month of data: also holds customers acquired before the data starts",
            language,
        ),
    ]
    if table.include_incomplete:
        notes.append(_t("* 月份未结束，数值不完整", "* month not yet ended: value incomplete", language))
    grid.caption = "\n".join(notes)
    grid.caption_justify = "left"
    return Group(grid)

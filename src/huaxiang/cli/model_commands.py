"""Model commands: ``models list | show`` (the registry) and ``churn train | score`` (churn risk).

Each command parses, calls one API function and renders with Rich (zh-CN or English by ``HUAXIANG_LANG``);
``--json`` prints the same data for machines. ``--as-of`` is read in the workspace's time zone; a bare date
means the end of that day.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Group, RenderableType
from rich.table import Table

from huaxiang import api
from huaxiang.cli.common import JsonOption, WorkspaceOption, console, friendly_errors, print_json
from huaxiang.i18n import Language, bilingual, current_language
from huaxiang.models.churn import ChurnResult
from huaxiang.models.churn_metrics import CURVES, SCORES
from huaxiang.models.churn_plot import SCORE_LABELS
from huaxiang.models.registry import ModelVersion
from huaxiang.tags.build import parse_as_of

models_app = typer.Typer(help="Trained models in the registry. 模型库。", no_args_is_help=True)
churn_app = typer.Typer(help="Churn risk: train, validate and score. 流失风险模型。", no_args_is_help=True)

AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="A date (2026-11-30: the end of that day) or time, in the workspace zone."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
    app.add_typer(churn_app, name="churn")


def _t(zh: str, en: str, language: Language) -> str:
    return bilingual(zh, en).text(language)


@models_app.command("list")
@friendly_errors
def models_list(
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this kind (clv, churn, clusters, …).")
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Every registered model version, newest first. 列出所有模型版本。"""
    with api.open_workspace(workspace) as ws:
        versions = api.list_models(ws, kind)
    if as_json:
        print_json([v.to_dict() for v in versions])
    else:
        console.print(render_models(versions, current_language()))


@models_app.command("show")
@friendly_errors
def models_show(
    reference: Annotated[str, typer.Argument(help="A version id, or a kind for its newest version (churn).")],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """One model version: data window, parameters and metrics. 查看一个模型版本。"""
    with api.open_workspace(workspace) as ws:
        version = api.show_model(ws, reference)
    if as_json:
        print_json(version.to_dict())
    else:
        console.print(render_model(version, current_language()))


@models_app.command("report")
@friendly_errors
def models_report(
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the HTML (default: .huaxiang/reports/).")
    ] = None,
) -> None:
    """The HTML model report: CLV holdout, churn ROC and lift, clusters, cohorts, the registry. 模型报告。"""
    with api.open_workspace(workspace) as ws:
        moment = parse_as_of(as_of, ZoneInfo(ws.config.workspace.timezone)) if as_of else None
        path = api.model_report(ws, out=out, as_of=moment)
    console.print(f"[green]✓[/green] {_t('模型报告', 'model report', current_language())}: {path}")


@churn_app.command("train")
@friendly_errors
def churn_train(
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train on past cutoffs, validate on a later period against two baselines, register. 训练流失模型。"""
    with api.open_workspace(workspace) as ws:
        moment = parse_as_of(as_of, ZoneInfo(ws.config.workspace.timezone)) if as_of else None
        result = api.train_churn(ws, as_of=moment)
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(render_churn(result, current_language()))


@churn_app.command("score")
@friendly_errors
def churn_score(
    version: Annotated[str, typer.Argument(help="A churn-… version (default: the newest).")] = "churn",
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows shown in the table (riskiest first).")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Churn risk and its main drivers for every customer. 为每位客户评估流失风险。"""
    with api.open_workspace(workspace) as ws:
        moment = parse_as_of(as_of, ZoneInfo(ws.config.workspace.timezone)) if as_of else None
        table = api.score_churn(ws, version, as_of=moment)
    rows = sorted(table.to_pylist(), key=lambda r: -r["churn_risk"])
    if as_json:
        print_json(rows)
        return
    language = current_language()
    out = Table(
        title=_t(f"流失风险 · {len(rows):,} 位客户", f"Churn risk · {len(rows):,} customers", language),
        title_justify="left",
    )
    out.add_column(_t("客户", "Person", language))
    out.add_column(_t("流失风险", "Churn risk", language), justify="right")
    out.add_column(_t("主要因素", "Main drivers", language))
    for row in rows[:top]:
        out.add_row(row["person_id"], f"{row['churn_risk']:.1%}", "; ".join(row["churn_drivers"]))
    console.print(out)


def render_models(versions: list[ModelVersion], language: Language) -> RenderableType:
    table = Table(title=_t("模型库", "Model registry", language), title_justify="left")
    table.add_column(_t("版本", "Version", language), no_wrap=True)
    table.add_column(_t("类型", "Kind", language))
    table.add_column(_t("创建时间 (UTC)", "Created (UTC)", language))
    table.add_column(_t("数据区间", "Data window", language))
    table.add_column(_t("说明", "Description", language))
    for v in versions:
        window = f"{v.data_from:%Y-%m-%d} – {v.data_to:%Y-%m-%d}" if v.data_from and v.data_to else "—"
        table.add_row(v.version, v.kind, f"{v.created_at:%Y-%m-%d %H:%M}", window, v.description)
    return table


def render_model(version: ModelVersion, language: Language) -> RenderableType:
    table = Table(title=version.version, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    window = f"{version.data_from} – {version.data_to}" if version.data_from else "—"
    table.add_row(_t("类型", "Kind", language), version.kind)
    table.add_row(_t("创建时间 (UTC)", "Created (UTC)", language), f"{version.created_at}")
    table.add_row(_t("数据区间", "Data window", language), window)
    table.add_row(_t("说明", "Description", language), version.description)
    for key, value in version.parameters.items():
        table.add_row(_t(f"参数 {key}", f"parameter {key}", language), _short(value))
    for key, value in version.metrics.items():
        if key != CURVES:  # hundreds of points: the model report draws them
            table.add_row(_t(f"指标 {key}", f"metric {key}", language), _short(value))
    return table


def _short(value: object, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_churn(result: ChurnResult, language: Language) -> RenderableType:
    validation = result.validation
    metrics = Table(
        title=_t(
            f"流失模型 {result.version.version} · {validation.cutoff:%Y-%m-%d} 之后的样本外验证",
            f"Churn model {result.version.version} · out of time, after {validation.cutoff:%Y-%m-%d}",
            language,
        ),
        title_justify="left",
    )
    metrics.add_column(_t("评分", "Score", language))
    for header in ("ROC-AUC", "PR-AUC", "Brier", _t("前10%提升度", "Top-decile lift", language)):
        metrics.add_column(header, justify="right")
    for name in SCORES:
        m = result.metrics[name]
        brier = "—" if m.brier is None else f"{m.brier:.3f}"
        metrics.add_row(
            SCORE_LABELS[name].text(language),
            f"{m.roc_auc:.3f}",
            f"{m.pr_auc:.3f}",
            brier,
            f"{m.top_decile_lift:.2f}",
        )
    model = result.metrics["model"]
    note = _t(
        f"训练：{len(result.training_cutoffs)} 个截止点共 {result.training_customers:,} 条；"
        f"验证：{model.customers:,} 位客户，流失率 {model.churn_rate:.1%}",
        f"Trained on {result.training_customers:,} rows at {len(result.training_cutoffs)} cutoffs; "
        f"validated on {model.customers:,} customers, churn rate {model.churn_rate:.1%}",
        language,
    )
    drivers = Table(
        title=_t("主要因素（增益占比）", "Main drivers (share of gain)", language), title_justify="left"
    )
    drivers.add_column(_t("特征", "Feature", language))
    drivers.add_column(_t("占比", "Share", language), justify="right")
    for item in result.importance[:10]:
        drivers.add_row(item.label.text(language), f"{item.share:.1%}")
    return Group(metrics, note, drivers)

"""The ``huaxiang`` command: each command parses its options, calls one API function and renders the result."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from huaxiang import api
from huaxiang.cli.audience_commands import register as register_audience_commands
from huaxiang.cli.common import JsonOption, WorkspaceOption, console, errors, friendly_errors, print_json
from huaxiang.cli.identity_commands import identity_app
from huaxiang.cli.identity_view import render_evaluation, render_resolve
from huaxiang.cli.ingest_view import (
    render_ingest,
    render_quarantine_list,
    render_quarantine_summary,
    render_quarantined,
)
from huaxiang.cli.model_commands import register as register_model_commands
from huaxiang.cli.model_commands import render_churn
from huaxiang.cli.privacy_commands import register as register_privacy_commands
from huaxiang.cli.profile_commands import register as register_profile_commands
from huaxiang.cli.profile_commands import render_build
from huaxiang.cli.progress import progress_bars
from huaxiang.cli.quality_view import render_quality, render_quality_summary
from huaxiang.cli.segmentation_commands import register as register_segmentation_commands
from huaxiang.cli.segmentation_commands import render_clusters
from huaxiang.cli.text_commands import text_app
from huaxiang.i18n import bilingual, current_language
from huaxiang.models.churn_plot import SCORE_LABELS

app = typer.Typer(
    name="huaxiang",
    help="huaxiang 画像 — one trustworthy, current profile per customer. 客户画像平台。",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
quarantine_app = typer.Typer(
    help="Records that could not be accepted: list, inspect, retry. 隔离区。", no_args_is_help=True
)
app.add_typer(quarantine_app, name="quarantine")
clv_app = typer.Typer(
    help="Customer lifetime value: BG/NBD + Gamma-Gamma. 客户终身价值。", no_args_is_help=True
)
app.add_typer(clv_app, name="clv")
app.add_typer(identity_app, name="identity")
app.add_typer(text_app, name="text")
register_privacy_commands(app)
register_audience_commands(app)
register_profile_commands(app)
register_segmentation_commands(app)
register_model_commands(app)


@app.command()
@friendly_errors
def init(directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")]) -> None:
    """Create a workspace: a commented huaxiang.yaml, .huaxiang/ (warehouse, state) and a new key. 新建工作区。"""
    workspace = api.init_workspace(directory)
    workspace.close()
    console.print(f"[green]✓[/] workspace created in {workspace.root}")
    console.print(
        f"  edit [bold]{workspace.root / 'huaxiang.yaml'}[/] to declare your sources, then run `huaxiang ingest`"
    )
    console.print(
        f"  [yellow]back up the key[/] {workspace.key_file} — without it encrypted values cannot be read"
    )


@app.command()
@friendly_errors
def ingest(
    workspace: WorkspaceOption = Path("."),
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
    force: Annotated[
        bool, typer.Option(help="Re-read files already ingested (events are still never duplicated).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Ingest new data from the workspace's sources into the event log. 导入数据。"""
    with api.open_workspace(workspace) as ws, progress_bars(errors) as advance:
        results = api.ingest(ws, source=source, force=force, on_progress=advance)
    if as_json:
        print_json([r.to_dict() for r in results])
    else:
        console.print(render_ingest(results, current_language()))


@app.command()
@friendly_errors
def quality(
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
    html: Annotated[
        Path | None, typer.Option(help="Where to write the HTML report (default: .huaxiang/reports/).")
    ] = None,
) -> None:
    """Data-quality report: completeness, validity, uniqueness, timeliness, consistency. 数据质量报告。"""
    with api.open_workspace(workspace) as ws:
        run = api.quality_report(ws, html_path=html)
    if as_json:
        print_json(run.report.to_dict())
        return
    console.print(render_quality(run.report, current_language()))
    if run.html:
        console.print(f"HTML: {run.html}")


@quarantine_app.command("list")
@friendly_errors
def quarantine_list(
    workspace: WorkspaceOption = Path("."),
    source: Annotated[str | None, typer.Option("--source", "-s")] = None,
    status: Annotated[str, typer.Option(help="open | readmitted | all")] = "open",
    limit: int = 50,
    as_json: JsonOption = False,
) -> None:
    """Summary per source, and the held records with where they came from and why. 隔离记录列表。"""
    with api.open_workspace(workspace) as ws:
        summaries = api.summarise_quarantine(ws)
        records = api.list_quarantine(ws, source=source, status=status, limit=limit)
    if as_json:
        print_json(
            {"summary": [s.__repr__() for s in summaries], "records": [_record_dict(r) for r in records]}
        )
        return
    console.print(render_quarantine_summary(summaries, current_language()))
    console.print(render_quarantine_list(records, current_language()))


def _record_dict(record: api.QuarantinedRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


@quarantine_app.command("show")
@friendly_errors
def quarantine_show(
    quarantine_id: Annotated[str, typer.Argument(help="Id (or a unique prefix) from `quarantine list`.")],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """One quarantined record: its raw content, file and line, and every reason. 查看隔离记录。"""
    with api.open_workspace(workspace) as ws:
        record = api.show_quarantined(ws, quarantine_id)
    if as_json:
        print_json(_record_dict(record))
    else:
        console.print(render_quarantined(record, current_language()))


@quarantine_app.command("retry")
@friendly_errors
def quarantine_retry(
    workspace: WorkspaceOption = Path("."),
    source: Annotated[str | None, typer.Option("--source", "-s")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run held records through the current huaxiang.yaml again (after fixing a mapping). 重新校验隔离记录。"""
    with api.open_workspace(workspace) as ws, progress_bars(errors) as advance:
        results = api.retry_quarantine(ws, source=source, on_progress=advance)
    if as_json:
        print_json([r.to_dict() for r in results])
    else:
        console.print(render_ingest(results, current_language()))


@app.command("demo-data")
@friendly_errors
def demo_data(
    out: Annotated[Path, typer.Option(help="Folder to write the exports and truth/ into.")] = Path(
        "demo-data"
    ),
    customers: Annotated[int, typer.Option(min=10, help="Number of true customers.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
) -> None:
    """Generate a Chinese retailer's messy multi-source exports with ground truth. 生成演示数据。"""
    with progress_bars(errors) as advance:
        manifest = api.generate_demo_data(out, customers=customers, seed=seed, on_progress=advance)
    for source, count in manifest.records.items():
        console.print(
            f"  {source:<18} {count:>9,} records  ({manifest.bad_records.get(source, 0):,} deliberately bad)"
        )
    console.print(f"[green]✓[/] written to {manifest.out_dir} (ground truth in truth/)")


@app.command()
@friendly_errors
def demo(
    out: Annotated[Path, typer.Option(help="Workspace folder to (re)create.")] = Path("demo-workspace"),
    customers: Annotated[int, typer.Option(min=10)] = 5000,
    seed: int = 7,
) -> None:
    """The whole job on demo data: generate, create a workspace, ingest, report. 一键演示。"""
    language = current_language()
    with progress_bars(errors) as advance:
        run = api.run_demo(out, customers=customers, seed=seed, on_progress=advance)
    console.print(render_quality_summary(run.quality.report, language))
    console.print(render_ingest(run.results, language))
    console.print(render_resolve(run.resolution, language))
    console.print(render_evaluation(run.identity_accuracy, language))
    if run.churn is not None:
        console.print(render_churn(run.churn, language))
    if run.churn_vs_planted:
        scores = " · ".join(
            f"{SCORE_LABELS[name].text(language)} {auc:.3f}" for name, auc in run.churn_vs_planted.items()
        )
        console.print(
            bilingual(
                "对照演示数据预置的流失客户 ROC-AUC：", "ROC-AUC against the demo's planted churners: "
            ).text(language)
            + scores
        )
    if run.clusters is not None:
        console.print(render_clusters(run.clusters.model, language, details=False))
    console.print(render_build(run.build, ZoneInfo(run.timezone)))
    console.print(f"[green]✓[/] workspace: {run.workspace}")
    console.print(
        "  details: huaxiang quality -w "
        + str(run.workspace)
        + " · huaxiang quarantine list -w "
        + str(run.workspace)
    )
    if run.quality.html:
        console.print(f"[green]✓[/] quality report: {run.quality.html}")
    console.print(f"[green]✓[/] model report: {run.model_report}")


@clv_app.command("fit")
@friendly_errors
def clv_fit(
    file: Annotated[
        Path, typer.Argument(help="Transactions: CSV, whitespace-separated text, Parquet or JSONL.")
    ],
    customer: Annotated[str, typer.Option(help="Customer column (name, or 1-based position).")],
    date: Annotated[str, typer.Option(help="Date column (name, or 1-based position).")],
    calibration_end: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day of the calibration period.")
    ],
    amount: Annotated[str | None, typer.Option(help="Amount column; fits Gamma-Gamma too.")] = None,
    period: Annotated[str, typer.Option(help="Time unit: D, W, M or a number of days.")] = "W",
    observation_end: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="End of the holdout (default: last date).")
    ] = None,
    date_format: Annotated[
        str | None, typer.Option(help="strptime format of the dates, e.g. %Y%m%d.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Fit BG/NBD and Gamma-Gamma on any transaction file and report holdout accuracy. 拟合CLV模型。"""
    from huaxiang.cli.models_view import render_clv
    from huaxiang.models.clv import fit_clv_file, parse_period

    report = fit_clv_file(
        file,
        customer=customer,
        date=date,
        amount=amount,
        calibration_end=calibration_end.date(),
        observation_end=observation_end.date() if observation_end else None,
        period_days=parse_period(period),
        date_format=date_format,
    )
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(render_clv(report, current_language()))


def main() -> None:  # pragma: no cover - console entry point
    app()

"""``huaxiang identity …``: resolve, explain, link / unlink, overrides, export, evaluate."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from huaxiang.cli.common import JsonOption, WorkspaceOption, console, errors, friendly_errors, print_json
from huaxiang.cli.identity_view import (
    render_evaluation,
    render_explanation,
    render_export,
    render_overrides,
    render_resolve,
)
from huaxiang.cli.progress import progress_bars
from huaxiang.i18n import Label, bilingual, current_language
from huaxiang.identity.explain import DEFAULT_RECORDS, explain
from huaxiang.identity.export import evaluate_resolution, export_persons
from huaxiang.identity.match_model import RETRAIN_GROWTH
from huaxiang.identity.matching import MatchOutcome
from huaxiang.identity.overrides import OverrideKind, list_overrides, record_override
from huaxiang.identity.resolve import resolve_identities
from huaxiang.workspace import Workspace

identity_app = typer.Typer(
    help="Identity resolution: one person behind many phones, e-mails, devices and accounts. 身份识别。",
    no_args_is_help=True,
)


@identity_app.command("resolve")
@friendly_errors
def resolve(
    workspace: WorkspaceOption = Path("."),
    full: Annotated[
        bool, typer.Option("--full", help="Recompute every person, not only what new events reach.")
    ] = False,
    retrain: Annotated[
        bool,
        typer.Option("--retrain", help="Train the matching model again (and resolve everything with it)."),
    ] = False,
    retrain_growth: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Train again once identify records grew by more than this share since training.",
        ),
    ] = RETRAIN_GROWTH,
    as_json: JsonOption = False,
) -> None:
    """Give every event a person id: identifier graph, probabilistic matching, stable ids. 身份解析。"""
    with Workspace.open(workspace) as ws, progress_bars(errors) as advance:
        report = resolve_identities(
            ws, full=full, retrain=retrain, retrain_growth=retrain_growth, on_progress=advance
        )
    if as_json:
        print_json(report.to_dict())
        return
    language = current_language()
    console.print(render_resolve(report, language))
    if report.match.model is not None:
        console.print(_model_line(report.match).text(language), style="dim")


def _model_line(match: MatchOutcome) -> Label:
    """Whether the matching model was trained in this run (and why) or reused."""
    if match.model == "reused":
        return Label(
            zh=f"匹配模型：沿用（训练于 {match.model_records:,} 条身份记录）",
            en=f"matching model: reused (trained on {match.model_records:,} identify records)",
        )
    reason = match.retrain_reason or Label(zh="", en="")
    return Label(
        zh=f"匹配模型：已在 {match.model_records:,} 条身份记录上训练（{reason.zh}）",
        en=f"matching model: trained on {match.model_records:,} identify records ({reason.en})",
    )


@identity_app.command("explain")
@friendly_errors
def explain_person(
    reference: Annotated[
        str, typer.Argument(help="A person id, or an identifier value (phone:138…, an e-mail …).")
    ],
    workspace: WorkspaceOption = Path("."),
    records: Annotated[
        int, typer.Option(min=0, help="How many of the newest records to list.")
    ] = DEFAULT_RECORDS,
    as_json: JsonOption = False,
) -> None:
    """Show a person's records, masked identifiers and every link with its reason. 解释人员归并。"""
    with Workspace.open(workspace) as ws:
        explanations = explain(ws, reference, records=records)
    if as_json:
        print_json([e.to_dict() for e in explanations])
        return
    for explanation in explanations:
        console.print(render_explanation(explanation, current_language()))


def _decide(
    kind: OverrideKind, first: str, second: str, workspace: Path, note: str | None, apply: bool
) -> None:
    language = current_language()
    with Workspace.open(workspace) as ws:
        override = record_override(ws, kind, first, second, note=note, author=getpass.getuser())
        console.print(
            f"[green]✓[/] {override.override_id}: {override.type_a} #{override.token_a[:8]} ↔ "
            f"{override.type_b} #{override.token_b[:8]}"
        )
        if apply:
            with progress_bars(errors) as advance:
                report = resolve_identities(ws, on_progress=advance)
            console.print(render_resolve(report, language))
        else:
            console.print(
                bilingual(
                    "下次 `identity resolve` 时生效", "takes effect at the next `identity resolve`"
                ).text(language)
            )


NoteOption = Annotated[str | None, typer.Option(help="Why (kept with the decision).")]
ApplyOption = Annotated[
    bool, typer.Option("--resolve/--no-resolve", help="Resolve the persons it touches now.")
]


@identity_app.command("link")
@friendly_errors
def link(
    first: Annotated[str, typer.Argument(help="Person id or identifier value.")],
    second: Annotated[str, typer.Argument(help="Person id or identifier value.")],
    workspace: WorkspaceOption = Path("."),
    note: NoteOption = None,
    apply: ApplyOption = True,
) -> None:
    """Must-link: these belong to one person, in every later run. 人工指定合并。"""
    _decide("must_link", first, second, workspace, note, apply)


@identity_app.command("unlink")
@friendly_errors
def unlink(
    first: Annotated[str, typer.Argument(help="Person id or identifier value.")],
    second: Annotated[str, typer.Argument(help="Person id or identifier value.")],
    workspace: WorkspaceOption = Path("."),
    note: NoteOption = None,
    apply: ApplyOption = True,
) -> None:
    """Cannot-link: these never belong to one person, in every later run. 人工指定分开。"""
    _decide("cannot_link", first, second, workspace, note, apply)


@identity_app.command("overrides")
@friendly_errors
def overrides(
    workspace: WorkspaceOption = Path("."),
    all_: Annotated[bool, typer.Option("--all", help="Include decisions later replaced.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List the steward's must-link and cannot-link decisions. 人工决定列表。"""
    with Workspace.open(workspace) as ws:
        found = list_overrides(ws, include_removed=all_)
    if as_json:
        print_json([{n: getattr(o, n) for n in o.__slots__} for o in found])
    else:
        console.print(render_overrides(found, current_language()))


@identity_app.command("export")
@friendly_errors
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .csv or .parquet.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """One row per source record: source, record_key, person_id. 导出人员归属。"""
    with Workspace.open(workspace) as ws:
        result = export_persons(ws, out)
    console.print(render_export(result, current_language()))


@identity_app.command("evaluate")
@friendly_errors
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="CSV or Parquet with source, record_key, true_id.")],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Pairwise precision, recall, F1 and cluster metrics against known truth. 评估识别准确率。"""
    with Workspace.open(workspace) as ws:
        evaluation = evaluate_resolution(ws, truth)
    if as_json:
        print_json(evaluation.to_dict())
    else:
        console.print(render_evaluation(evaluation, current_language()))

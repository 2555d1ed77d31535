"""Audience commands: export the persons a campaign may contact for a purpose. 人群导出。"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from huaxiang import api
from huaxiang.cli.common import JsonOption, WorkspaceOption, console, friendly_errors, print_json
from huaxiang.i18n import bilingual, current_language
from huaxiang.privacy import access
from huaxiang.privacy.audience import EXCLUSION_LABELS

audience_app = typer.Typer(
    help="Audiences for activation, filtered by consent. 营销人群导出（按同意过滤）。", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(audience_app, name="audience")


def _text(zh: str, en: str) -> str:
    return bilingual(zh, en).text(current_language())


@audience_app.command("export")
@friendly_errors
def audience_export(
    purpose: Annotated[
        str, typer.Option(help="Processing purpose, e.g. marketing_sms, marketing_email, personalisation.")
    ],
    out: Annotated[Path, typer.Option(help="New file to write: .csv or .parquet.")],
    where: Annotated[
        str | None,
        typer.Option(
            help="Filter over profile traits and tags, e.g. \"orders_total >= 3 AND city = '上海市'\"."
        ),
    ] = None,
    contact: Annotated[
        str | None,
        typer.Option(help="Contact identifier type (default: phone for *_sms, email for *_email)."),
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Export person id + contact of everyone matching --where who consented to --purpose. 导出营销人群。"""
    with api.open_workspace(workspace) as ws:
        principal = access.acting_principal(ws)
        result = api.export_audience(ws, principal, purpose, out, where=where, contact=contact)
    audience = result.audience
    counts = audience.excluded_counts()
    if as_json:
        print_json(
            {
                "out": str(result.out),
                "purpose": audience.purpose,
                "contact": audience.contact_type,
                "selected": result.selected,
                "exported": len(audience.members),
                "excluded": counts,
                "visibility": sorted({m.visibility for m in audience.members}),
                "audit_seq": audience.audit_seq,
            }
        )
        return
    table = Table(title=_text("人群导出", "Audience export"), title_justify="left")
    table.add_column(_text("项目", "item"))
    table.add_column(_text("人数", "persons"), justify="right")
    table.add_row(_text("条件选中", "selected by the filter"), f"{result.selected:,}")
    table.add_row(f"[green]{_text('已导出', 'exported')}[/]", f"{len(audience.members):,}")
    for reason, count in counts.items():
        zh, en = EXCLUSION_LABELS[reason]
        table.add_row(f"[yellow]{_text('排除', 'excluded')}[/]: {_text(zh, en)}", f"{count:,}")
    console.print(table)
    shown = sorted({m.visibility for m in audience.members})
    console.print(
        f"[green]✓[/] {result.out} ({audience.contact_type}: {', '.join(shown) or '-'}; "
        f"{_text('审计序号', 'audit entry')} #{audience.audit_seq})"
    )

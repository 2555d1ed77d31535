"""Profile commands: ``build``, ``profile`` (the 360° card) and ``tags list | show | changes``.

Each command parses, calls one function of :mod:`huaxiang.tags` and renders with Rich (zh-CN or English by
``HUAXIANG_LANG``); ``--json`` prints the same data for machines. Dates given with ``--as-of`` are read in
the workspace's time zone; a bare date means the end of that day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.panel import Panel
from rich.table import Table

from huaxiang import api
from huaxiang.cli.common import JsonOption, WorkspaceOption, console, errors, friendly_errors, print_json
from huaxiang.cli.progress import progress_bars
from huaxiang.i18n import Label, bilingual, current_language
from huaxiang.privacy import access
from huaxiang.tags.build import BuildReport, parse_as_of
from huaxiang.tags.definitions import DIMENSIONS, Tag
from huaxiang.tags.library import Catalogue, load_catalogue
from huaxiang.tags.profiles import ProfileCard, ShownValue, profile_card
from huaxiang.tags.reports import ChangeReport, Distribution, changes_since, tag_distribution
from huaxiang.workspace import Workspace

tags_app = typer.Typer(help="The tag catalogue, distributions and changes. 标签体系。", no_args_is_help=True)

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="A past date (2024-03-01: the end of that day) or time, in the workspace zone."
    ),
]


def _t(zh: str, en: str) -> str:
    return bilingual(zh, en).text(current_language())


def _label(label: Label | None) -> str:
    return "" if label is None else label.text(current_language())


def _zone(workspace: Workspace) -> ZoneInfo:
    return ZoneInfo(workspace.config.workspace.timezone)


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _show(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _t("是", "yes") if value else _t("否", "no")
    if isinstance(value, datetime):
        return _local(value, zone)
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(_show(v, zone) for v in value)
    return str(value)


def build(
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    reset_history: Annotated[
        bool,
        typer.Option("--reset-history", help="Forget every kept version first (the event log is untouched)."),
    ] = False,
    models: Annotated[
        bool,
        typer.Option(
            "--models/--no-models", help="Score with the trained models (CLV, churn, clusters, text)."
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Compute every trait, model score and tag for every person; keep a version where values changed. 构建画像。"""
    with Workspace.open(workspace) as ws, progress_bars(errors) as advance:
        moment = parse_as_of(as_of, _zone(ws)) if as_of else None
        report = api.build(ws, as_of=moment, reset_history=reset_history, models=models, on_progress=advance)
        zone = _zone(ws)
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(render_build(report, zone))


def render_build(report: BuildReport, zone: ZoneInfo) -> Table:
    record = report.build
    table = Table(title=_t("画像构建", "Profile build"), show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row(_t("构建编号", "build"), record.build_id)
    table.add_row(_t("截至", "as of"), f"{_local(record.as_of, zone)} ({zone.key})")
    table.add_row(_t("人数", "persons"), f"{record.persons:,}")
    table.add_row(_t("有变化", "changed"), f"{record.changed:,}")
    table.add_row(_t("特征 / 标签", "traits / tags"), f"{report.traits} / {report.tags}")
    table.add_row(_t("耗时", "seconds"), ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))
    for item in report.skipped:
        table.add_row(_t("已跳过", "skipped"), f"{item.what} {item.name}: {item.reason}")
    return table


def profile(
    reference: Annotated[
        str, typer.Argument(help="A person id or any identifier (phone, e-mail, member number…).")
    ],
    workspace: WorkspaceOption = Path("."),
    as_of: AsOfOption = None,
    purpose: Annotated[
        str, typer.Option(help="Why you read this profile (kept in the audit log).")
    ] = "analytics",
    events: Annotated[int, typer.Option(min=0, max=200, help="Recent events to show.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """A customer's 360° profile: identities, attributes, tags by dimension, recent events. 客户画像卡片。"""
    with Workspace.open(workspace) as ws:
        zone = _zone(ws)
        moment = parse_as_of(as_of, zone) if as_of else None
        card = profile_card(
            ws, reference, access.acting_principal(ws), purpose=purpose, moment=moment, events=events
        )
    if as_json:
        print_json(card.to_dict(current_language()))
        return
    for part in render_card(card, zone):
        console.print(part)


def render_card(card: ProfileCard, zone: ZoneInfo) -> list[Any]:
    valid = f"{_local(card.valid_from, zone)} → {_local(card.valid_to, zone) if card.valid_to else _t('至今', 'now')}"
    header = (
        f"[bold]{card.person_id}[/]   {_t('截至', 'as of')} {_local(card.moment, zone)}   "
        f"{_t('版本', 'version')} {valid}   {_t('构建', 'build')} {card.build_id}"
    )
    parts: list[Any] = [Panel(header, title=_t("客户画像", "Customer profile"), expand=False)]
    who = Table(title=_t("身份与属性", "Identities and attributes"), show_header=False)
    who.add_column(style="bold")
    who.add_column()
    for identity in card.identities:
        who.add_row(identity.id_type, identity.value)
    for attribute in card.attributes:
        who.add_row(_label(attribute.label), _show(attribute.value, zone))
    parts.append(who)
    tags = Table(title=_t("标签", "Tags"))
    tags.add_column(_t("维度", "dimension"), style="bold")
    tags.add_column(_t("标签", "tag"))
    tags.add_column(_t("值", "value"))
    for dimension, values in card.tags.items():
        for position, item in enumerate(values):
            tags.add_row(
                _label(DIMENSIONS[dimension]) if position == 0 else "",
                _label(item.label),
                _tag_value(item, zone),
            )
    parts.append(tags)
    timeline = Table(title=_t("最近事件", "Recent events"))
    for heading in (_t("时间", "time"), _t("类型", "type"), _t("来源", "source"), _t("详情", "details")):
        timeline.add_column(heading)
    for event in card.timeline:
        details = ", ".join(f"{k}={v}" for k, v in event.details.items())
        timeline.add_row(_local(event.ts, zone), event.type, event.source, details)
    parts.append(timeline)
    return parts


def _tag_value(item: ShownValue, zone: ZoneInfo) -> str:
    return _label(item.value_label) if item.value_label is not None else _show(item.value, zone)


@tags_app.command("list")
@friendly_errors
def tags_list(
    workspace: WorkspaceOption = Path("."),
    dimension: Annotated[
        str | None, typer.Option(help="Only this dimension (demographic, behavior, …).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The tag catalogue: name, dimension, kind, value type, label, cadence, owner. 标签目录。"""
    with Workspace.open(workspace) as ws:
        catalogue = load_catalogue(ws.config)
    tags = [t for t in catalogue.tags if dimension in (None, t.dimension)]
    if as_json:
        print_json([_tag_dict(t) for t in tags])
        return
    console.print(render_catalogue(tags, catalogue))


def _tag_dict(tag: Tag) -> dict[str, Any]:
    definition = tag.of.text if tag.of else None
    return {
        "name": tag.name,
        "dimension": tag.dimension,
        "kind": tag.kind,
        "value_type": tag.value_type,
        "label": {"zh": tag.label.zh, "en": tag.label.en},
        "description": {"zh": tag.description.zh, "en": tag.description.en} if tag.description else None,
        "cadence": tag.cadence,
        "owner": tag.owner,
        "of": definition,
        "cases": [{"value": v, "when": c.text} for c, v in tag.cases],
        "otherwise": tag.otherwise,
        "quantile": {
            "of": tag.quantile.of.text,
            "bins": tag.quantile.bins,
            "descending": tag.quantile.descending,
        }
        if tag.quantile
        else None,
        "rfm": {"recency": tag.rfm.recency, "frequency": tag.rfm.frequency, "monetary": tag.rfm.monetary}
        if tag.rfm
        else None,
        "values": {k: {"zh": v.zh, "en": v.en} for k, v in tag.values.items()},
    }


def render_catalogue(tags: list[Tag], catalogue: Catalogue) -> Table:
    table = Table(title=_t(f"标签目录（{len(tags)} 个）", f"Tag catalogue ({len(tags)})"))
    for heading in ("name", "dimension", "kind", "type", "label", "cadence", "owner"):
        table.add_column(heading)
    for tag in tags:
        table.add_row(
            tag.name,
            _label(DIMENSIONS[tag.dimension]),
            tag.kind,
            tag.value_type,
            _label(tag.label),
            tag.cadence,
            tag.owner or "—",
        )
    if catalogue.skipped:
        table.caption = _t("已跳过：", "skipped: ") + ", ".join(s.name for s in catalogue.skipped)
    return table


@tags_app.command("show")
@friendly_errors
def tags_show(
    name: Annotated[str, typer.Argument(help="The tag's name (see `huaxiang tags list`).")],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """One tag: its definition and its distribution over the current profiles. 标签详情与分布。"""
    with Workspace.open(workspace) as ws:
        distribution = tag_distribution(ws, name)
    if as_json:
        print_json(
            {
                **_tag_dict(distribution.tag),
                "persons": distribution.persons,
                "missing": distribution.missing,
                "values": [{"value": v, "persons": n} for v, n in distribution.values],
                "summary": distribution.summary,
            }
        )
        return
    for part in render_distribution(distribution):
        console.print(part)


def render_distribution(distribution: Distribution) -> list[Any]:
    tag = distribution.tag
    lines = [
        f"[bold]{tag.name}[/] — {_label(tag.label)}",
        f"{_t('维度', 'dimension')}: {_label(DIMENSIONS[tag.dimension])}",
    ]
    lines.append(f"{_t('类型', 'kind')}: {tag.kind} · {tag.value_type} · {tag.cadence}")
    if tag.description:
        lines.append(_label(tag.description))
    if tag.of is not None:
        lines.append(f"of: {tag.of.text}")
    for condition, value in tag.cases:
        lines.append(f"{value} ← {condition.text}")
    if tag.quantile is not None:
        lines.append(
            f"quantile: {tag.quantile.of.text}, bins={tag.quantile.bins}, descending={tag.quantile.descending}"
        )
    parts: list[Any] = [Panel("\n".join(lines), expand=False)]
    known = distribution.persons - distribution.missing
    table = Table(
        title=_t(
            f"分布（{known:,} / {distribution.persons:,} 人有值）",
            f"Distribution ({known:,} of {distribution.persons:,} have a value)",
        )
    )
    if distribution.summary is not None:
        for key in distribution.summary:
            table.add_column(key)
        table.add_row(*(f"{v:,.2f}" for v in distribution.summary.values()))
    else:
        table.add_column(_t("值", "value"))
        table.add_column(_t("人数", "persons"), justify="right")
        table.add_column("%", justify="right")
        table.add_column("")
        for value, count in distribution.values:
            share = count / known if known else 0.0
            label = tag.value_label(value)
            shown = f"{_label(label)} ({value})" if label else value
            table.add_row(shown, f"{count:,}", f"{share:.1%}", "█" * max(1, round(share * 30)))
    parts.append(table)
    return parts


@tags_app.command("changes")
@friendly_errors
def tags_changes(
    workspace: WorkspaceOption = Path("."),
    since: Annotated[str, typer.Option(help="A build id (or prefix), `previous` or `latest`.")] = "previous",
    until: Annotated[str, typer.Option(help="A build id (or prefix), or `latest`.")] = "latest",
    as_json: JsonOption = False,
) -> None:
    """Who entered and left each tag value between two builds. 标签变化。"""
    with Workspace.open(workspace) as ws:
        report = changes_since(ws, since, until)
        zone = _zone(ws)
    if as_json:
        print_json(
            {
                "since": {"build_id": report.since.build_id, "as_of": report.since.as_of.isoformat()},
                "until": {"build_id": report.until.build_id, "as_of": report.until.as_of.isoformat()},
                "changes": [
                    {"tag": c.tag, "value": c.value, "entered": c.entered, "left": c.left, "now": c.now}
                    for c in report.changes
                ],
            }
        )
        return
    console.print(render_changes(report, zone))


def render_changes(report: ChangeReport, zone: ZoneInfo) -> Table:
    title = _t(
        f"标签变化：{_local(report.since.as_of, zone)} → {_local(report.until.as_of, zone)}",
        f"Tag changes: {_local(report.since.as_of, zone)} → {_local(report.until.as_of, zone)}",
    )
    table = Table(title=title)
    for heading, justify in (
        ("tag", "left"),
        ("value", "left"),
        ("entered", "right"),
        ("left", "right"),
        ("now", "right"),
    ):
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for change in report.changes:
        table.add_row(
            change.tag, change.value, f"+{change.entered:,}", f"-{change.left:,}", f"{change.now:,}"
        )
    if not report.changes:
        table.caption = _t("没有变化", "no changes")
    return table


def register(app: typer.Typer) -> None:
    """Add ``build``, ``profile`` and the ``tags`` sub-app to the main ``huaxiang`` app."""
    app.command("build")(friendly_errors(build))
    app.command("profile")(friendly_errors(profile))
    app.add_typer(tags_app, name="tags")

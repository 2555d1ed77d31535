"""Rich views of identity resolution: run report, a person's explanation tree, evaluation, overrides."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from huaxiang.i18n import Label, Language, bilingual
from huaxiang.identity.explain import ExplainedLink, Explanation
from huaxiang.identity.export import Evaluation, ExportResult
from huaxiang.identity.overrides import Override
from huaxiang.identity.resolve import ResolveReport

_STAGES = {
    "match": bilingual("概率匹配", "probabilistic matching"),
    "scope": bilingual("确定范围", "scope"),
    "graph": bilingual("构建关系图", "graph"),
    "components": bilingual("连通分量", "components"),
    "attribute": bilingual("共享设备归属", "shared values"),
    "ids": bilingual("稳定编号", "stable ids"),
    "write": bilingual("写入", "write"),
}
_VIA = {
    "identifier": bilingual("标识符", "identifier"),
    "last_login": bilingual("设备上最近一次登录者", "last login on the device"),
    "next_login": bilingual("设备上随后的登录者", "next login on the device"),
    "device": bilingual("仅设备（从未登录）", "device only (never logged in)"),
    "event": bilingual("仅含黑名单标识符", "only blocklisted identifiers"),
}
_LINK = {
    "identifier": bilingual("同一条记录中出现", "appear in the same record"),
    "shared": bilingual("共享标识符，仅附加不合并", "shared value: attached, never merging"),
    "match": bilingual("概率匹配", "probabilistic match"),
    "must_link": bilingual("人工指定合并", "steward must-link"),
    "cannot_link": bilingual("人工指定分开", "steward cannot-link"),
    "attributed": bilingual("匿名事件归属", "anonymous events attributed"),
    "cut": bilingual("因规则断开", "cut by a rule"),
}


def _t(label: Label, language: Language) -> str:
    return label.text(language)


def render_resolve(report: ResolveReport, language: Language) -> RenderableType:
    title = bilingual("身份识别", "Identity resolution").text(language)
    mode = bilingual("全量", "full") if report.mode == "full" else bilingual("增量", "incremental")
    summary = Table(title=f"{title} ({_t(mode, language)})", title_justify="left", show_header=False)
    summary.add_column()
    summary.add_column(justify="right")
    rows = [
        (bilingual("新事件", "new events"), report.new_events),
        (bilingual("重新计算的事件", "events recomputed"), report.scope_events),
        (bilingual("涉及的已有人员", "earlier persons touched"), report.scope_persons),
        (bilingual("人员总数", "persons"), report.persons),
        (bilingual("新建人员", "persons created"), report.created),
        (bilingual("合并", "merges"), report.merges),
        (bilingual("拆分", "splits"), report.splits),
        (bilingual("规则冲突（已断开）", "rule conflicts (links cut)"), report.conflicts),
        (bilingual("超出共享上限的值", "shared values over their limit"), report.shared_over_limit),
        (bilingual("概率匹配对", "probabilistic pairs"), report.match.pairs),
    ]
    for label, value in rows:
        summary.add_row(_t(label, language), f"{value:,}")
    for via, count in sorted(report.attributed.items()):
        summary.add_row("  " + _t(_VIA.get(via, bilingual(via, via)), language), f"{count:,}")
    stages = Table(title=bilingual("各阶段耗时", "Time per stage").text(language), title_justify="left")
    stages.add_column(bilingual("阶段", "Stage").text(language))
    stages.add_column(bilingual("秒", "Seconds").text(language), justify="right")
    for stage, seconds in report.stages.items():
        stages.add_row(_t(_STAGES.get(stage, bilingual(stage, stage)), language), f"{seconds:.2f}")
    stages.add_row(bilingual("合计", "Total").text(language), f"{report.seconds:.2f}", style="bold")
    notes: list[RenderableType] = []
    if report.match.skipped:
        notes.append(
            Text(f"{_t(_STAGES['match'], language)}: {report.match.skipped.text(language)}", style="dim")
        )
    notes += [Text("⚠ " + w.text(language), style="yellow") for w in report.match.warnings]
    return Group(summary, stages, *notes)


def _link_line(link: ExplainedLink, language: Language) -> Text:
    reason = _t(_LINK.get(link.kind, bilingual(link.kind, link.kind)), language)
    if link.kind == "attributed":
        text = (
            f"{link.events:,} {bilingual('条记录', 'records').text(language)}: {_t(_VIA[link.b], language)}"
        )
        return Text(text, style="cyan")
    line = Text(f"{link.a}  ↔  {link.b}", style="red" if link.kind in ("cut", "cannot_link") else "")
    details = [reason]
    if link.events:
        details.append(f"{link.events:,} {bilingual('条记录', 'records').text(language)}")
    if link.sources:
        details.append(", ".join(link.sources))
    if link.probability is not None:
        details.append(f"p={link.probability:.4f}, w={link.weight:.1f}")
    if link.detail:
        details.append(link.detail)
    line.append(f"  ({'; '.join(details)})", style="dim")
    return line


def render_explanation(explanation: Explanation, language: Language) -> RenderableType:
    e = explanation
    head = Text(e.person_id, style="bold")
    if e.alias_of:
        head.append(
            f"  ← {e.reference} ({bilingual('已合并的编号', 'absorbed id').text(language)})", style="dim"
        )
    if e.created_at:
        head.append(f"  {bilingual('创建于', 'since').text(language)} {e.created_at:%Y-%m-%d}", style="dim")
    tree = Tree(head)
    if e.aliases:
        tree.add(f"{bilingual('别名', 'Aliases').text(language)}: {', '.join(e.aliases)}")
    ids = tree.add(
        Text(bilingual("标识符", "Identifiers").text(language) + f" ({len(e.identifiers)})", style="bold")
    )
    for i in e.identifiers:
        role = "" if i.role == "member" else f" [{i.role}]"
        seen = f"{i.first_seen:%Y-%m-%d}…{i.last_seen:%Y-%m-%d}" if i.first_seen and i.last_seen else ""
        ids.add(
            Text(f"{i.id_type:<14} {i.masked:<22} #{i.token}{role}  ")
            + Text(f"{i.events:,} · {seen}", style="dim")
        )
    links = tree.add(
        Text(bilingual("关联及原因", "Links and why").text(language) + f" ({len(e.links)})", style="bold")
    )
    for link in e.links:
        links.add(_link_line(link, language))
    sources = ", ".join(f"{s} {n:,}" for s, n in e.sources.items())
    records = tree.add(
        Text(bilingual("记录", "Records").text(language) + f" ({e.events:,}: {sources})", style="bold")
    )
    for r in e.records:
        records.add(
            Text(f"{r.ts:%Y-%m-%d %H:%M}  {r.source:<16} {r.type:<16} {r.record_key}  ")
            + Text(_t(_VIA.get(r.via, bilingual(r.via, r.via)), language), style="dim")
        )
    if e.events > len(e.records):
        records.add(
            Text(
                f"… {e.events - len(e.records):,} {bilingual('条更早的记录', 'older records').text(language)}",
                style="dim",
            )
        )
    if e.history:
        history = tree.add(Text(bilingual("合并与拆分", "Merges and splits").text(language), style="bold"))
        for change in e.history:
            rule = change.evidence.get("rule", "")
            history.add(
                f"{change.at:%Y-%m-%d %H:%M}  {change.action}  {change.other_id} → {change.person_id}  ({rule})"
            )
    return tree


def render_evaluation(evaluation: Evaluation, language: Language) -> RenderableType:
    m = evaluation.metrics
    table = Table(title=bilingual("与真实标签对比", "Against the truth").text(language), title_justify="left")
    table.add_column(bilingual("指标", "Metric").text(language))
    table.add_column(bilingual("值", "Value").text(language), justify="right")
    rows: list[tuple[Label, str]] = [
        (bilingual("评估的记录", "records evaluated"), f"{m.records:,}"),
        (
            bilingual("不在事件日志中的真实记录", "truth records not in the event log"),
            f"{evaluation.missing:,}",
        ),
        (bilingual("成对精确率", "pairwise precision"), f"{m.precision:.4f}"),
        (bilingual("成对召回率", "pairwise recall"), f"{m.recall:.4f}"),
        (bilingual("成对 F1", "pairwise F1"), f"{m.f1:.4f}"),
        (
            bilingual("真实人数 / 预测人数", "true / predicted persons"),
            f"{m.true_clusters:,} / {m.predicted_clusters:,}",
        ),
        (bilingual("完全还原的人员比例", "persons reproduced exactly"), f"{m.exact_cluster_rate:.4f}"),
        (
            bilingual("B-cubed 精确率 / 召回率", "B-cubed precision / recall"),
            f"{m.bcubed_precision:.4f} / {m.bcubed_recall:.4f}",
        ),
        (bilingual("调整兰德指数", "adjusted Rand index"), f"{m.adjusted_rand_index:.4f}"),
    ]
    for label, value in rows:
        table.add_row(_t(label, language), value)
    return table


def render_export(result: ExportResult, language: Language) -> str:
    return (
        f"[green]✓[/] {result.records:,} {bilingual('条记录', 'records').text(language)}, "
        f"{result.persons:,} {bilingual('位人员', 'persons').text(language)} → {result.path}"
    )


def render_overrides(overrides: Sequence[Override], language: Language) -> RenderableType:
    table = Table(title=bilingual("人工决定", "Steward decisions").text(language), title_justify="left")
    for header in (
        bilingual("编号", "Id"),
        bilingual("类型", "Kind"),
        bilingual("标识符", "Identifiers"),
        bilingual("作者", "By"),
        bilingual("时间", "At"),
        bilingual("备注", "Note"),
    ):
        table.add_column(header.text(language))
    for o in overrides:
        kind = _t(_LINK[o.kind], language)
        style = "dim" if o.removed_at else ""
        table.add_row(
            o.override_id,
            kind,
            f"{o.type_a} #{o.token_a[:8]} ↔ {o.type_b} #{o.token_b[:8]}",
            o.created_by,
            f"{o.created_at:%Y-%m-%d %H:%M}",
            o.note or "",
            style=style,
        )
    return table

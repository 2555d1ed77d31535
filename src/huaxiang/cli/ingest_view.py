"""Rich views of ingest results and the quarantine."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from huaxiang.i18n import Language, bilingual
from huaxiang.ingest.pipeline import IngestResult
from huaxiang.ingest.quarantine import QuarantinedRecord, QuarantineSummary

_HEADERS = {
    "source": bilingual("数据源", "Source"),
    "read": bilingual("读取", "Read"),
    "accepted": bilingual("接受", "Accepted"),
    "inserted": bilingual("新增", "New"),
    "duplicates": bilingual("重复", "Duplicates"),
    "quarantined": bilingual("隔离", "Quarantined"),
    "seconds": bilingual("耗时(秒)", "Seconds"),
    "files": bilingual("文件", "Files"),
}


def render_ingest(results: Sequence[IngestResult], language: Language) -> RenderableType:
    title = bilingual("导入结果", "Ingest results").text(language)
    table = Table(title=title, title_justify="left")
    for key in ("source", "read", "accepted", "inserted", "duplicates", "quarantined", "seconds"):
        table.add_column(_HEADERS[key].text(language), justify="left" if key == "source" else "right")
    totals = [0, 0, 0, 0, 0]
    for r in results:
        numbers = [r.records_read, r.accepted, r.inserted, r.duplicates, r.quarantined]
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
        style = "yellow" if r.quarantined else ""
        label = (
            r.source
            if r.batch_id
            else f"{r.source} [dim]({bilingual('无新文件', 'no new files').text(language)})"
        )
        table.add_row(
            label,
            *[f"{n:,}" for n in numbers[:4]],
            Text(f"{r.quarantined:,}", style=style),
            f"{r.seconds:.1f}",
        )
    if len(results) > 1:
        table.add_row(
            bilingual("合计", "Total").text(language), *[f"{n:,}" for n in totals], "", style="bold"
        )
    reasons = Table(
        title=bilingual("主要隔离原因", "Top quarantine reasons").text(language), title_justify="left"
    )
    reasons.add_column(_HEADERS["source"].text(language))
    reasons.add_column(bilingual("原因", "Reason").text(language))
    reasons.add_column(bilingual("记录数", "Records").text(language), justify="right")
    for r in results:
        for reason, count in list(r.reasons.items())[:4]:
            reasons.add_row(r.source, reason, f"{count:,}")
    return Group(table, reasons) if reasons.row_count else table


def render_quarantine_summary(summaries: Sequence[QuarantineSummary], language: Language) -> RenderableType:
    table = Table(title=bilingual("隔离区", "Quarantine").text(language), title_justify="left")
    table.add_column(_HEADERS["source"].text(language))
    table.add_column(bilingual("待处理", "Open").text(language), justify="right")
    table.add_column(bilingual("已重新接受", "Readmitted").text(language), justify="right")
    table.add_column(bilingual("主要原因", "Top reasons").text(language))
    for s in summaries:
        top = "\n".join(f"{reason} ({count:,})" for reason, count in s.top_reasons)
        table.add_row(s.source, f"{s.open:,}", f"{s.readmitted:,}", top)
    return table


def render_quarantine_list(records: Sequence[QuarantinedRecord], language: Language) -> RenderableType:
    table = Table(title=bilingual("隔离记录", "Quarantined records").text(language), title_justify="left")
    for header in (("编号", "Id"), ("数据源", "Source"), ("位置", "Where"), ("原因", "Reasons")):
        table.add_column(bilingual(*header).text(language))
    for r in records:
        where = f"{r.file}:{r.line}" if r.line is not None else r.file
        reasons = "\n".join(f"{x['field']}: {x['reason']}" for x in r.reasons)
        table.add_row(r.quarantine_id[:12], r.source, where, reasons)
    return table


def render_quarantined(record: QuarantinedRecord, language: Language) -> RenderableType:
    table = Table(
        show_header=False, title=f"{record.source} {record.file}:{record.line}", title_justify="left"
    )
    table.add_column(style="bold")
    table.add_column()
    table.add_row(bilingual("编号", "Id").text(language), record.quarantine_id)
    table.add_row(bilingual("状态", "Status").text(language), record.status)
    table.add_row(bilingual("记录键", "Record key").text(language), record.record_key or "")
    for reason in record.reasons:
        table.add_row(bilingual("原因", "Reason").text(language), f"{reason['field']}: {reason['reason']}")
    table.add_row(
        bilingual("原始内容", "Raw record").text(language),
        json.dumps(record.raw, ensure_ascii=False, indent=1),
    )
    return table

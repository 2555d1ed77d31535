"""Bilingual labels and number formatting shared by the terminal view and the HTML report.

One table of labels keeps the two renderings saying the same thing in the same words.
"""

from __future__ import annotations

from typing import Literal

from huaxiang.i18n import Label, Language

Grade = Literal["good", "fair", "poor", "none"]
GOOD_FROM = 95.0
FAIR_FROM = 80.0

LABELS: dict[str, Label] = {
    "title": Label(zh="数据质量报告", en="Data-quality report"),
    "overall": Label(zh="总分", en="Overall score"),
    "completeness": Label(zh="完整性", en="Completeness"),
    "validity": Label(zh="有效性", en="Validity"),
    "uniqueness": Label(zh="唯一性", en="Uniqueness"),
    "timeliness": Label(zh="及时性", en="Timeliness"),
    "consistency": Label(zh="一致性", en="Consistency"),
    "score": Label(zh="得分", en="Score"),
    "source": Label(zh="数据源", en="Source"),
    "sources": Label(zh="各数据源", en="Sources"),
    "field": Label(zh="字段", en="Field"),
    "column": Label(zh="列", en="Column"),
    "role": Label(zh="角色", en="Role"),
    "kind": Label(zh="类型", en="Kind"),
    "level": Label(zh="分级", en="Level"),
    "records": Label(zh="记录数", en="Records"),
    "records_read": Label(zh="读取", en="Read"),
    "accepted": Label(zh="接收", en="Accepted"),
    "inserted": Label(zh="新增", en="New"),
    "duplicates": Label(zh="重复", en="Duplicates"),
    "quarantined": Label(zh="隔离", en="Quarantined"),
    "quarantine_rate": Label(zh="隔离率", en="Quarantine rate"),
    "freshness_lag": Label(zh="数据滞后", en="Freshness lag"),
    "ingest_lag": Label(zh="到达延迟(中位数)", en="Arrival delay (median)"),
    "latest_event": Label(zh="最新事件", en="Latest event"),
    "record_counts": Label(zh="各数据源记录去向", en="Where each source's records went"),
    "source_scores": Label(zh="各数据源得分", en="Scores per source"),
    "field_heatmap": Label(zh="字段完整性与有效性", en="Completeness and validity per field"),
    "reasons": Label(zh="主要隔离原因", en="Top quarantine reasons"),
    "reason": Label(zh="原因", en="Reason"),
    "count": Label(zh="数量", en="Count"),
    "no_reasons": Label(zh="没有被隔离的记录。", en="No records are held in quarantine."),
    "consistency_findings": Label(zh="跨来源一致性", en="Consistency across sources"),
    "identifier_type": Label(zh="标识类型", en="Identifier"),
    "attribute": Label(zh="属性", en="Attribute"),
    "tokens_checked": Label(zh="已检查标识", en="Tokens checked"),
    "tokens_with_conflicts": Label(zh="存在冲突", en="With conflicts"),
    "cross_source": Label(zh="跨来源冲突", en="Across sources"),
    "conflict_rate": Label(zh="冲突率", en="Conflict rate"),
    "examples": Label(zh="示例(标识前缀与脱敏值)", en="Examples (token prefix, masked values)"),
    "no_findings": Label(
        zh="没有可检查的标识(同一标识至少需在两条事件中出现)。",
        en="Nothing to check yet: no identifier token carries these attributes in two events.",
    ),
    "history": Label(zh="历次报告得分", en="Scores over past reports"),
    "no_history": Label(
        zh="这是第一份报告,暂无历史可比。", en="This is the first report: no history to compare yet."
    ),
    "no_sources": Label(zh="仓库中还没有数据。", en="The warehouse holds no data yet."),
    "report_id": Label(zh="报告编号", en="Report"),
    "created_at": Label(zh="生成时间(UTC)", en="Created (UTC)"),
    "not_scored": Label(zh="不适用", en="n/a"),
    "events": Label(zh="事件", en="events"),
    "how_scored": Label(zh="评分方法", en="How scores are computed"),
    "how_scored_text": Label(
        zh=(
            "完整性 = 已填单元格 / 映射单元格;有效性 = 有效值 / 已填值;唯一性 = 不同值 / 有效值"
            "(仅画像类数据源的标识字段);及时性:最新事件在 1 天内为 100,30 天及以上为 0,其间线性;"
            "一致性 = 1 − 冲突标识 / 已检查标识。总分为各维度平均值。"
        ),
        en=(
            "Completeness = filled cells / mapped cells; validity = valid values / filled values; "
            "uniqueness = distinct / valid values (identifier fields of profile sources only); "
            "timeliness: 100 while the latest event is under 1 day old, 0 from 30 days on, "
            "linear in between; "
            "consistency = 1 − conflicting tokens / tokens checked. "
            "The overall score is the mean of the dimensions."
        ),
    ),
}

DIMENSION_KEYS = ("completeness", "validity", "uniqueness", "timeliness", "consistency")


def label(key: str, language: Language) -> str:
    return LABELS[key].text(language)


def grade(score: float | None) -> Grade:
    """Traffic-light grade of a 0–100 score: good from 95, fair from 80, poor below."""
    if score is None:
        return "none"
    if score >= GOOD_FROM:
        return "good"
    return "fair" if score >= FAIR_FROM else "poor"


def format_score(score: float | None) -> str:
    return "—" if score is None else f"{score:.1f}"


def format_share(share: float | None) -> str:
    """A 0–1 share as a percentage; keeps one decimal so 99.96% does not read as a perfect 100%."""
    if share is None:
        return "—"
    percent = 100 * share
    if percent < 100 and round(percent, 1) >= 100:
        return "99.9%"
    return f"{percent:.1f}%"


def format_lag(seconds: float | None, language: Language) -> str:
    """A duration in the largest unit that keeps it readable: ``3.2 天`` / ``3.2 days``, ``45 min``."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    value = abs(seconds)
    units = (
        (86400, "天", "days"),
        (3600, "小时", "h"),
        (60, "分钟", "min"),
        (1, "秒", "s"),
    )
    for size, zh, en in units:
        if value >= size or size == 1:
            amount = value / size
            text = f"{amount:.1f}" if size > 1 and amount < 100 else f"{amount:.0f}"
            return f"{sign}{text} {zh if language == 'zh' else en}"
    return "—"

"""Statistic tags on DuckDB: quantile bins (ties, NULLs, descending order) and the eight RFM groups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import ibis
import pyarrow as pa
import pytest

from huaxiang.config import TagSpec
from huaxiang.expressions import EvaluationContext, ValueType
from huaxiang.i18n import Label
from huaxiang.tags import RFM_GROUPS, compile_tags
from huaxiang.tags.definitions import resolve_tag

CONTEXT = EvaluationContext(datetime(2024, 1, 1))
LABEL = Label(zh="测试", en="test")


@pytest.fixture(scope="module")
def backend() -> Iterator[Any]:
    con = duckdb.connect()
    yield con, ibis.duckdb.from_connection(con)
    con.close()


def tag_values(backend: Any, columns: dict[str, list[Any]], specs: list[TagSpec]) -> list[dict[str, Any]]:
    con, ibis_backend = backend
    names: dict[str, ValueType] = dict.fromkeys(columns, "number")
    names |= {s.name: s.value_type for s in specs}
    tags = [resolve_tag(s, names, timezone=ZoneInfo("UTC"), where=s.name) for s in specs]
    people = len(next(iter(columns.values())))
    con.register("people", pa.table({"person_id": list(range(people)), **columns}))
    result = ibis_backend.to_pyarrow(
        compile_tags(tags, ibis_backend.table("people"), CONTEXT).order_by("person_id")
    )
    return [{s.name: row[s.name] for s in specs} for row in result.to_pylist()]


def quantile(name: str, of: str, bins: int = 5, descending: bool = False) -> TagSpec:
    return TagSpec(
        name=name,
        dimension="value",
        kind="statistic",
        value_type="number",
        quantile={"of": of, "bins": bins, "descending": descending},  # type: ignore[arg-type]
        label=LABEL,
    )


def test_equal_frequency_bins(backend: Any) -> None:
    rows = tag_values(
        backend, {"spend": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]}, [quantile("bin", "spend")]
    )
    assert [r["bin"] for r in rows] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ties_share_a_bin_and_nulls_get_none(backend: Any) -> None:
    rows = tag_values(backend, {"orders": [1, 1, 1, 1, 2, None]}, [quantile("bin", "orders")])
    # four of five have 1 order: k = 4 of n = 5 → ⌈5·4/5⌉ = 4; the one with 2 is at 5; NULL is not scored
    assert [r["bin"] for r in rows] == [4, 4, 4, 4, 5, None]


def test_descending_bins_give_small_values_the_high_score(backend: Any) -> None:
    rows = tag_values(backend, {"days": [1, 5, 10, 30, 60]}, [quantile("recency", "days", descending=True)])
    assert [r["recency"] for r in rows] == [5, 4, 3, 2, 1]


def test_a_bin_edge_never_lands_a_bin_too_high(backend: Any) -> None:
    """3 of 5 at bins=5 is exactly bin 3 (a floating cume_dist · 5 would give 3.0000000000000004 → 4)."""
    rows = tag_values(backend, {"x": [1.0, 2.0, 3.0, 4.0, 5.0]}, [quantile("bin", "x")])
    assert [r["bin"] for r in rows] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("pattern", "group"), [(key, name) for key, (name, _) in RFM_GROUPS.items()])
def test_each_of_the_eight_rfm_groups(backend: Any, pattern: tuple[bool, bool, bool], group: str) -> None:
    # Two reference people hold the scores 1 and 5 on every dimension (means stay near 3); the third
    # person is high (5) or low (1) on each dimension as the pattern says.
    third = [5 if high else 1 for high in pattern]
    columns = {"r": [1, 5, third[0]], "f": [1, 5, third[1]], "m": [1, 5, third[2]]}
    spec = TagSpec(
        name="rfm_group",
        dimension="value",
        kind="statistic",
        rfm={"recency": "r", "frequency": "f", "monetary": "m"},  # type: ignore[arg-type]
        label=LABEL,
    )
    rows = tag_values(backend, columns, [spec])
    assert rows[2]["rfm_group"] == group
    assert rows[0]["rfm_group"] == "general_winback" and rows[1]["rfm_group"] == "important_value"


def test_rfm_groups_have_their_chinese_names() -> None:
    names = {label.zh for _, label in RFM_GROUPS.values()}
    assert names == {
        "重要价值客户",
        "重要发展客户",
        "重要保持客户",
        "重要挽留客户",
        "一般价值客户",
        "一般发展客户",
        "一般保持客户",
        "一般挽留客户",
    }

"""The expression language: cases kept as data (expression_cases.yaml), run through both compilers.

Every valid case is evaluated by the row evaluator and by Ibis on a real DuckDB connection; both must give
the expected values. Every invalid case must fail with a located, explained error.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import ibis
import pyarrow as pa
import pytest
import yaml

from huaxiang.expressions import (
    FUNCTIONS,
    EvaluationContext,
    ExpressionError,
    ValueType,
    check_syntax,
    evaluate,
    parse_expression,
    to_ibis,
)
from huaxiang.expressions.row_evaluator import FUNCTIONS as ROW_FUNCTIONS

CASES = yaml.safe_load((Path(__file__).parent / "expression_cases.yaml").read_text(encoding="utf-8"))
NAMES: dict[str, ValueType] = CASES["names"]
ZONE = ZoneInfo(CASES["context"]["timezone"])
CONTEXT = EvaluationContext(datetime.fromisoformat(CASES["context"]["as_of"]), ZONE)
ARROW_TYPES = {
    "number": pa.float64(),
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "boolean": pa.bool_(),
    "list": pa.list_(pa.string()),
}


def typed(value: Any, value_type: str) -> Any:
    if value is None:
        return None
    if value_type == "timestamp":
        return datetime.fromisoformat(value)
    if value_type == "date":
        return date.fromisoformat(value)
    return value


ROWS: dict[str, dict[str, Any]] = {
    row_name: {name: typed(row.get(name), NAMES[name]) for name in NAMES}
    for row_name, row in CASES["rows"].items()
}
ROW_ORDER = list(ROWS)


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    schema = pa.schema([(name, ARROW_TYPES[t]) for name, t in NAMES.items()])
    rows = pa.Table.from_pylist([ROWS[r] for r in ROW_ORDER], schema=schema)
    con.register("rows", rows)
    backend = ibis.duckdb.from_connection(con)
    yield backend, backend.table("rows")
    con.close()


def same(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float | int) and isinstance(right, float | int) and not isinstance(left, bool):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return bool(left == right)


def batch_values(table: Any, text: str) -> list[Any]:
    backend, rows = table
    expression = parse_expression(text, NAMES, timezone=ZONE)
    value = to_ibis(expression, lambda name: rows[name], CONTEXT)
    frame = backend.to_pyarrow(rows.select(value=value))
    values: list[Any] = frame.column("value").to_pylist()
    return values


@pytest.mark.parametrize("case", CASES["valid"], ids=lambda case: case["text"])
def test_valid_case_text_and_values_agree_in_both_evaluators(case: dict[str, Any], table: Any) -> None:
    expression = parse_expression(case["text"], NAMES, timezone=ZONE)
    assert expression.sql() == case["sql"]
    reparsed = parse_expression(expression.sql(), NAMES, timezone=ZONE)
    assert reparsed.sql() == case["sql"], "the canonical text must read back to itself"
    batch = batch_values(table, case["text"])
    for position, row_name in enumerate(ROW_ORDER):
        expected = case["values"][row_name]
        row_value = evaluate(expression, ROWS[row_name], CONTEXT)
        assert same(row_value, expected), f"row evaluator, row {row_name}: {row_value!r} != {expected!r}"
        assert same(batch[position], expected), (
            f"Ibis/DuckDB, row {row_name}: {batch[position]!r} != {expected!r}"
        )


@pytest.mark.parametrize("case", CASES["invalid"], ids=lambda case: case["text"])
def test_invalid_case_is_refused_with_a_located_explained_error(case: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_expression(
            case["text"],
            NAMES,
            expect=case.get("expect"),
            allow_clock=case.get("allow_clock", True),
            where="huaxiang.yaml tags.definitions[0].when",
        )
    error = raised.value
    assert case["error"] in error.reason
    assert str(error).startswith("huaxiang.yaml tags.definitions[0].when: ")
    if "hint" in case:
        assert error.hint is not None and case["hint"] in error.hint
    if "column" in case:
        assert error.offset is not None and error.offset + 1 == case["column"]
        assert f"column {case['column']}" in str(error)


def test_every_function_has_both_forms_and_a_case() -> None:
    assert set(FUNCTIONS) == set(ROW_FUNCTIONS)
    used = {name for case in CASES["valid"] for name in FUNCTIONS if f"{name}(" in case["sql"]}
    assert used == set(FUNCTIONS), f"functions without a test case: {set(FUNCTIONS) - used}"


@pytest.mark.parametrize(
    "text", ["1; DROP TABLE events", "(SELECT 1)", "events.x > 1", "foo(x)", "x::INT", "sum(x) > 1"]
)
def test_syntax_check_needs_no_catalogue_and_refuses_hostile_text(text: str) -> None:
    with pytest.raises(ExpressionError):
        check_syntax(text)


def test_syntax_check_accepts_any_name() -> None:
    check_syntax("anything_at_all > 3 AND days_since(last_seen) < 30")


def test_names_and_clock_use_are_reported() -> None:
    expression = parse_expression("days_since(ts) < 30 AND city = '上海市'", NAMES)
    assert expression.names == {"ts", "city"}
    assert expression.uses_clock
    assert not parse_expression("amount > 1", NAMES).uses_clock


def test_overlong_and_deeply_nested_text_is_refused_cleanly() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        parse_expression("amount > 1 AND " * 400 + "TRUE", NAMES)
    with pytest.raises(ExpressionError):
        parse_expression("(" * 3000 + "1" + ")" * 3000, NAMES)


def test_clock_functions_need_an_as_of_time() -> None:
    expression = parse_expression("days_since(ts)", NAMES)
    with pytest.raises(ValueError, match="as-of"):
        evaluate(expression, ROWS["full"], EvaluationContext())

"""Compile a checked expression to an Ibis value, for batch evaluation on the workspace backend.

Names are resolved by the caller (an event field becomes a typed column of the events, a trait a column of
the trait table), so the same expression compiles over either. Division and ``%`` by zero are made NULL
explicitly (DuckDB alone would give infinity), matching the row evaluator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from huaxiang.expressions.builtins import local_time
from huaxiang.expressions.nodes import (
    Between,
    Binary,
    Call,
    Case,
    Const,
    InList,
    IsNull,
    Name,
    Negate,
    Node,
    Not,
    ToTimestamp,
    ValueType,
)
from huaxiang.expressions.parse import Expression
from huaxiang.expressions.row_evaluator import EvaluationContext

IBIS_TYPES: dict[ValueType, dt.DataType] = {
    "number": dt.float64,
    "string": dt.string,
    "boolean": dt.boolean,
    "timestamp": dt.timestamp,
    "date": dt.date,
    "list": dt.Array(dt.string),
}

Columns = Mapping[str, ir.Value] | Callable[[str], ir.Value]


def to_ibis(expression: Expression | Node, columns: Columns, context: EvaluationContext) -> ir.Value:
    """An unexecuted Ibis value computing ``expression``; ``columns`` gives the value of each name."""
    root = expression.root if isinstance(expression, Expression) else expression
    resolve = columns.__getitem__ if isinstance(columns, Mapping) else columns
    return _Compiler(resolve, context).compile(root)


class _Compiler:
    def __init__(self, resolve: Callable[[str], ir.Value], context: EvaluationContext) -> None:
        self.resolve = resolve
        self.context = context

    def compile(self, node: Node) -> Any:
        match node:
            case Const(value, value_type):
                return _literal(value, value_type)
            case Name(name):
                return self.resolve(name)
            case Negate(operand):
                return -self.compile(operand)
            case Not(operand):
                return ~self.compile(operand)
            case Binary(op, left, right):
                return self.binary(op, self.compile(left), self.compile(right))
            case InList(operand, values, negated):
                target = self.compile(operand)
                items = [self.compile(v) for v in values]
                return target.notin(items) if negated else target.isin(items)
            case Between(operand, low, high, negated):
                inside = self.compile(operand).between(self.compile(low), self.compile(high))
                return ~inside if negated else inside
            case IsNull(operand, negated):
                value = self.compile(operand)
                return value.notnull() if negated else value.isnull()
            case Case(branches, default, value_type):
                target = IBIS_TYPES.get(value_type, dt.string)
                pairs = [(self.compile(c), self.compile(v).cast(target)) for c, v in branches]
                otherwise = self.compile(default).cast(target) if default is not None else ibis.null(target)
                return ibis.cases(*pairs, else_=otherwise)
            case Call(function, args):
                return self.call(function, [self.compile(a) for a in args], [a.type for a in args])
            case ToTimestamp(operand):
                return self.compile(operand).cast(dt.timestamp)

    def binary(self, op: str, a: Any, b: Any) -> Any:
        match op:
            case "AND":
                return a & b
            case "OR":
                return a | b
            case "+":
                return a + b
            case "-":
                return a - b
            case "*":
                return a * b
            case "/":
                return a / b.nullif(0)
            case "%":
                return a % b.nullif(0)
            case "=":
                return a == b
            case "<>":
                return a != b
            case "<":
                return a < b
            case "<=":
                return a <= b
            case ">":
                return a > b
            case ">=":
                return a >= b
            case "LIKE":
                return a.like(b)
            case "ILIKE":
                return a.ilike(b)
        raise ValueError(f"unknown operator {op}")  # pragma: no cover - the parser builds only these

    def call(self, name: str, args: list[Any], types: Sequence[ValueType]) -> Any:
        match name:
            case "coalesce":
                return ibis.coalesce(*args) if len(args) > 1 else args[0]
            case "nullif":
                return args[0].nullif(args[1])
            case "greatest":
                return ibis.greatest(*args)
            case "least":
                return ibis.least(*args)
            case "lower":
                return args[0].lower()
            case "upper":
                return args[0].upper()
            case "length":
                return args[0].length()
            case "contains":
                return args[0].contains(args[1])
            case "abs":
                return args[0].abs()
            case "round":
                return args[0].round(args[1] if len(args) > 1 else 0)
            case "hour":
                return self.local(args[0]).hour()
            case "weekday":
                moment = args[0] if types[0] == "date" else self.local(args[0])
                return moment.day_of_week.index() + 1
            case "days_between":
                return _days_between(args[0], types[0], args[1], types[1])
            case "days_since":
                clock = ibis.literal(self.context.clock(), type=dt.timestamp)
                return _days_between(args[0], types[0], clock, "timestamp")
            case "years_since":
                return self.years_since(args[0], types[0])
            case "has":
                return args[0].contains(args[1])
        raise ValueError(f"no Ibis form for {name}()")  # pragma: no cover - a test keeps the lists equal

    def local(self, moment: Any) -> Any:
        zone = self.context.timezone.key
        return local_time(zone, moment.cast(dt.Timestamp(timezone="UTC")))

    def years_since(self, value: Any, value_type: ValueType) -> Any:
        today = self.context.clock().replace(tzinfo=UTC).astimezone(self.context.timezone).date()
        born = self.local(value).date() if value_type == "timestamp" else value
        later_in_year = (born.month() > today.month) | (
            (born.month() == today.month) & (born.day() > today.day)
        )
        return today.year - born.year() - ibis.ifelse(later_in_year, 1, 0)


def _days_between(start: Any, start_type: ValueType, end: Any, end_type: ValueType) -> Any:
    first = start.cast(dt.timestamp) if start_type == "date" else start
    last = end.cast(dt.timestamp) if end_type == "date" else end
    return ((last.epoch_seconds() - first.epoch_seconds()) / 86400).floor()


def _literal(value: object, value_type: ValueType) -> Any:
    if value is None:
        return ibis.null()
    if isinstance(value, bool):
        return ibis.literal(value, type=dt.boolean)
    if isinstance(value, int):
        return ibis.literal(value, type=dt.int64)
    if isinstance(value, float):
        return ibis.literal(value, type=dt.float64)
    if isinstance(value, datetime):
        return ibis.literal(value, type=dt.timestamp)
    if isinstance(value, date):
        return ibis.literal(value, type=dt.date)
    return ibis.literal(value, type=IBIS_TYPES[value_type])

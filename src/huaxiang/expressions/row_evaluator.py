"""The row evaluator: one expression over one row (a profile or an event) in plain Python.

It follows the SQL rules the batch compiler gets from DuckDB, so a tag computed for one profile in real time
equals the same tag computed in a build: three-valued logic (NULL propagates; AND/OR are Kleene), division by
zero is NULL, ``%`` keeps the dividend's sign, ``round`` goes half away from zero on the scaled double, and
``greatest``/``least`` skip NULLs. The cases in ``tests/expression_cases.yaml`` run through both.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

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
)
from huaxiang.expressions.parse import Expression


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """What an expression may read besides its row: the as-of time (naive UTC) and the workspace zone."""

    as_of: datetime | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def clock(self) -> datetime:
        if self.as_of is None:
            raise ValueError("this expression reads the as-of time, but none was given")
        return self.as_of


def evaluate(expression: Expression | Node, row: Mapping[str, Any], context: EvaluationContext) -> Any:
    """The value of ``expression`` for ``row`` (a missing name reads as NULL)."""
    root = expression.root if isinstance(expression, Expression) else expression
    return _eval(root, row, context)


def holds(expression: Expression | Node, row: Mapping[str, Any], context: EvaluationContext) -> bool:
    """A condition as a filter reads it: NULL counts as false."""
    return evaluate(expression, row, context) is True


def _eval(node: Node, row: Mapping[str, Any], ctx: EvaluationContext) -> Any:
    match node:
        case Const(value):
            return value
        case Name(name):
            value = row.get(name)
            return float(value) if isinstance(value, Decimal) else value
        case Negate(operand):
            value = _eval(operand, row, ctx)
            return None if value is None else -value
        case Not(operand):
            value = _eval(operand, row, ctx)
            return None if value is None else not value
        case Binary("AND", left, right):
            return _and(_eval(left, row, ctx), _eval(right, row, ctx))
        case Binary("OR", left, right):
            return _or(_eval(left, row, ctx), _eval(right, row, ctx))
        case Binary(op, left, right):
            a, b = _eval(left, row, ctx), _eval(right, row, ctx)
            if a is None or b is None:
                return None
            return _BINARY[op](a, b)
        case InList(operand, values, negated):
            value = _eval(operand, row, ctx)
            if value is None:
                return None
            found = any(value == _eval(v, row, ctx) for v in values)
            return found != negated
        case Between(operand, low, high, negated):
            value = _eval(operand, row, ctx)
            lo, hi = _eval(low, row, ctx), _eval(high, row, ctx)
            inside = _and(_compare(operator.ge, value, lo), _compare(operator.le, value, hi))
            return None if inside is None else inside != negated
        case IsNull(operand, negated):
            return (_eval(operand, row, ctx) is None) != negated
        case Case(branches, default):
            for condition, result in branches:
                if _eval(condition, row, ctx) is True:
                    return _eval(result, row, ctx)
            return None if default is None else _eval(default, row, ctx)
        case Call(function, args):
            return FUNCTIONS[function]([_eval(a, row, ctx) for a in args], ctx)
        case ToTimestamp(operand):
            return _as_timestamp(_eval(operand, row, ctx))


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _compare(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else op(a, b)


def _divide(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def _remainder(a: float, b: float) -> float | None:
    """SQL ``%``: the sign follows the dividend (C's fmod), unlike Python's ``%``."""
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        magnitude = abs(a) % abs(b)
        return -magnitude if a < 0 else magnitude
    return math.fmod(a, b)


@lru_cache(maxsize=256)
def _like_pattern(pattern: str) -> re.Pattern[str]:
    """SQL LIKE as a regular expression: ``%`` any run, ``_`` one character, nothing else special."""
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(body, flags=re.DOTALL)


def _like(value: str, pattern: str) -> bool:
    return _like_pattern(pattern).fullmatch(value) is not None


def _ilike(value: str, pattern: str) -> bool:
    return _like_pattern(pattern.lower()).fullmatch(value.lower()) is not None


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": _remainder,
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "LIKE": _like,
    "ILIKE": _ilike,
}


def _as_timestamp(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    raise TypeError(f"expected a date or timestamp, got {value!r}")


def _local(moment: datetime, ctx: EvaluationContext) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(ctx.timezone)


def _round(value: float, digits: int = 0) -> float:
    """DuckDB's ``round``: scale, round half away from zero (C's ``round``), scale back."""
    if isinstance(value, int):
        return value
    scale = 10.0**digits
    scaled = value * scale
    whole = math.floor(abs(scaled))
    rounded = whole + (1 if abs(scaled) - whole >= 0.5 else 0)
    return math.copysign(rounded, scaled) / scale


def _days_between(start: Any, end: Any) -> int:
    seconds = (_as_timestamp(end) - _as_timestamp(start)).total_seconds()  # type: ignore[operator]
    return math.floor(seconds / 86400)


def _years_since(value: Any, ctx: EvaluationContext) -> int:
    today = _local(ctx.clock(), ctx).date()
    born = _local(value, ctx).date() if isinstance(value, datetime) else value
    return int(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


def _weekday(value: Any, ctx: EvaluationContext) -> int:
    return (_local(value, ctx) if isinstance(value, datetime) else value).isoweekday()


def _strict(function: Callable[..., Any]) -> Callable[[Sequence[Any], EvaluationContext], Any]:
    """A function that is NULL when any argument is NULL (most SQL functions)."""

    def call(args: Sequence[Any], ctx: EvaluationContext) -> Any:
        return None if any(a is None for a in args) else function(*args)

    return call


def _clocked(
    function: Callable[[Any, EvaluationContext], Any],
) -> Callable[[Sequence[Any], EvaluationContext], Any]:
    def call(args: Sequence[Any], ctx: EvaluationContext) -> Any:
        return None if args[0] is None else function(args[0], ctx)

    return call


def _skip_nulls(pick: Callable[[list[Any]], Any]) -> Callable[[Sequence[Any], EvaluationContext], Any]:
    def call(args: Sequence[Any], ctx: EvaluationContext) -> Any:
        present = [a for a in args if a is not None]
        return pick(present) if present else None

    return call


def _nullif(args: Sequence[Any], ctx: EvaluationContext) -> Any:
    first, second = args
    return None if first is not None and second is not None and first == second else first


FUNCTIONS: dict[str, Callable[[Sequence[Any], EvaluationContext], Any]] = {
    "coalesce": _skip_nulls(lambda present: present[0]),
    "nullif": _nullif,
    "greatest": _skip_nulls(max),
    "least": _skip_nulls(min),
    "lower": _strict(str.lower),
    "upper": _strict(str.upper),
    "length": _strict(len),
    "contains": _strict(lambda text, part: part in text),
    "abs": _strict(abs),
    "round": _strict(_round),
    "hour": _clocked(lambda ts, ctx: _local(ts, ctx).hour),
    "weekday": _clocked(_weekday),
    "days_between": _strict(_days_between),
    "days_since": _clocked(lambda ts, ctx: _days_between(ts, ctx.clock())),
    "years_since": _clocked(_years_since),
    "has": _strict(lambda items, value: value in items),
}

"""The functions the expression language knows, with their argument and result types.

Kept to a short, documented list on purpose: every function here has a twin in the Ibis compiler and in the
row evaluator, and a test checks that the three lists are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from huaxiang.expressions.nodes import Const, Node, ValueType

ORDERED: frozenset[ValueType] = frozenset({"number", "string", "timestamp", "date"})
TEMPORAL: frozenset[ValueType] = frozenset({"timestamp", "date"})


class SignatureError(ValueError):
    """An argument of the wrong type or number; the parser turns it into a located ExpressionError."""


@dataclass(frozen=True, slots=True)
class Signature:
    """One function: how many arguments, what they must be, what it returns, whether it reads the clock."""

    name: str
    usage: str
    min_args: int
    max_args: int | None
    check: Callable[[tuple[Node, ...]], ValueType]
    uses_clock: bool = False


def unify(types: list[ValueType], what: str) -> ValueType:
    """The one type a list of values shares (NULL fits anything; a date mixed with timestamps is one)."""
    known = {t for t in types if t != "null"}
    if known == {"date", "timestamp"}:
        return "timestamp"
    if len(known) > 1:
        raise SignatureError(f"{what} mixes {' and '.join(sorted(known))} values")
    return known.pop() if known else "null"


def _expect(node: Node, allowed: frozenset[ValueType], position: int, name: str) -> None:
    if node.type != "null" and node.type not in allowed:
        raise SignatureError(
            f"argument {position} of {name}() must be {' or '.join(sorted(allowed))}, got {node.type}"
        )


def _fixed(
    *params: frozenset[ValueType], result: ValueType, name: str
) -> Callable[[tuple[Node, ...]], ValueType]:
    def check(args: tuple[Node, ...]) -> ValueType:
        for position, (arg, allowed) in enumerate(zip(args, params, strict=False), start=1):
            _expect(arg, allowed, position, name)
        return result

    return check


def _same(name: str, allowed: frozenset[ValueType] | None = None) -> Callable[[tuple[Node, ...]], ValueType]:
    def check(args: tuple[Node, ...]) -> ValueType:
        if allowed is not None:
            for position, arg in enumerate(args, start=1):
                _expect(arg, allowed, position, name)
        return unify([a.type for a in args], f"{name}()")

    return check


def _round(args: tuple[Node, ...]) -> ValueType:
    _expect(args[0], frozenset({"number"}), 1, "round")
    if len(args) == 2:
        digits = args[1]
        if not (isinstance(digits, Const) and isinstance(digits.value, int) and 0 <= digits.value <= 12):
            raise SignatureError("the second argument of round() must be a whole number from 0 to 12")
    return "number"


def _build(*signatures: Signature) -> dict[str, Signature]:
    return {s.name: s for s in signatures}


NUMBER: frozenset[ValueType] = frozenset({"number"})
STRING: frozenset[ValueType] = frozenset({"string"})
LIST: frozenset[ValueType] = frozenset({"list"})
TIMESTAMP: frozenset[ValueType] = frozenset({"timestamp"})

FUNCTIONS: dict[str, Signature] = _build(
    Signature(
        "coalesce", "coalesce(x, y, ...): the first value that is not NULL", 1, None, _same("coalesce")
    ),
    Signature("nullif", "nullif(x, y): NULL when x = y, else x", 2, 2, _same("nullif")),
    Signature(
        "greatest",
        "greatest(x, y, ...): the largest value, NULLs ignored",
        2,
        None,
        _same("greatest", ORDERED),
    ),
    Signature(
        "least", "least(x, y, ...): the smallest value, NULLs ignored", 2, None, _same("least", ORDERED)
    ),
    Signature("lower", "lower(text)", 1, 1, _fixed(STRING, result="string", name="lower")),
    Signature("upper", "upper(text)", 1, 1, _fixed(STRING, result="string", name="upper")),
    Signature(
        "length", "length(text): number of characters", 1, 1, _fixed(STRING, result="number", name="length")
    ),
    Signature(
        "contains",
        "contains(text, part): TRUE when part occurs in text",
        2,
        2,
        _fixed(STRING, STRING, result="boolean", name="contains"),
    ),
    Signature("abs", "abs(x)", 1, 1, _fixed(NUMBER, result="number", name="abs")),
    Signature("round", "round(x[, digits]): half away from zero", 1, 2, _round),
    Signature(
        "hour",
        "hour(ts): hour of day 0-23 in the workspace time zone",
        1,
        1,
        _fixed(TIMESTAMP, result="number", name="hour"),
    ),
    Signature(
        "weekday",
        "weekday(ts): 1 = Monday … 7 = Sunday, in the workspace time zone",
        1,
        1,
        _fixed(TEMPORAL, result="number", name="weekday"),
    ),
    Signature(
        "days_between",
        "days_between(a, b): whole days from a to b",
        2,
        2,
        _fixed(TEMPORAL, TEMPORAL, result="number", name="days_between"),
    ),
    Signature(
        "days_since",
        "days_since(ts): whole days from ts to the as-of time",
        1,
        1,
        _fixed(TEMPORAL, result="number", name="days_since"),
        uses_clock=True,
    ),
    Signature(
        "years_since",
        "years_since(date): whole years from date to the as-of date (age)",
        1,
        1,
        _fixed(TEMPORAL, result="number", name="years_since"),
        uses_clock=True,
    ),
    Signature(
        "has",
        "has(list, value): TRUE when the list (a top_k trait) holds value",
        2,
        2,
        _fixed(LIST, frozenset({"number", "string"}), result="boolean", name="has"),
    ),
)

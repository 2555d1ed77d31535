"""Parse and check an expression: sqlglot reads the text, a whitelist keeps the safe subset, names are typed.

sqlglot is the parser because the language *is* a subset of SQL expressions and its tokenizer and parser
already know every corner of that syntax (quoting, comments, precedence). What it returns is a full SQL
tree, so this module walks it against an explicit whitelist of node classes: anything else (statements,
subqueries, casts, ``*``, parameters, JSON operators, window or aggregate functions, unknown functions) is
refused with its position. The accepted tree is rebuilt as our own typed nodes (``nodes.py``); user text is
never handed to a database.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

from huaxiang.expressions.errors import ExpressionError
from huaxiang.expressions.functions import FUNCTIONS, ORDERED, TEMPORAL, SignatureError, unify
from huaxiang.expressions.nodes import (
    Between,
    Binary,
    BinaryOp,
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
    children,
    names_in,
)

MAX_LENGTH = 4000
_DIALECT = DuckDB()

_COMPARISONS: dict[type[exp.Expr], BinaryOp] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
}
_ARITHMETIC: dict[type[exp.Expr], BinaryOp] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
}
_LOGICAL: dict[type[exp.Expr], BinaryOp] = {exp.And: "AND", exp.Or: "OR"}
_MATCHES: dict[type[exp.Expr], BinaryOp] = {exp.Like: "LIKE", exp.ILike: "ILIKE"}
_STRUCTURAL: tuple[type, ...] = (
    exp.Paren,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Column,
    exp.Identifier,
    exp.Neg,
    exp.Not,
    exp.In,
    exp.Between,
    exp.Is,
    exp.Case,
    exp.If,
    *_COMPARISONS,
    *_ARITHMETIC,
    *_LOGICAL,
    *_MATCHES,
)
_TIMESTAMP_TYPES = frozenset(
    {
        exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPNTZ,
        exp.DataType.Type.TIMESTAMPTZ,
        exp.DataType.Type.DATETIME,
    }
)

#: Why a construct is refused, for the constructs people actually try.
_REFUSED: tuple[tuple[type, str, str | None], ...] = (
    (
        exp.Subquery,
        "subqueries are not allowed",
        "an expression reads one row; declare a trait for aggregates",
    ),
    (exp.Select, "queries are not allowed", "write a condition such as amount > 100"),
    (exp.Exists, "subqueries are not allowed", None),
    (exp.Star, "* is not allowed", "name the field you mean"),
    (exp.Placeholder, "parameters are not allowed", "write the value itself"),
    (exp.Window, "window functions are not allowed", "declare a trait with a window: instead"),
    (exp.AggFunc, "aggregate functions are not allowed here", "declare a trait with agg: (count, sum, ...)"),
    (exp.Dot, "qualified names are not allowed", "write the bare name"),
    (exp.DPipe, "string concatenation (||) is not supported", None),
    (exp.IntDiv, "integer division (//) is not supported", "use round(a / b) or a / b"),
    (exp.Interval, "intervals are not supported", "use days_since(x) > 30, or a trait window such as 30d"),
    (exp.Cast, "casts are not supported", "write DATE '2024-03-01' or TIMESTAMP '2024-03-01 08:00'"),
    (
        exp.JSONExtract,
        "JSON operators are not allowed",
        "name the property directly (amount, not properties->'amount')",
    ),
    (exp.JSONExtractScalar, "JSON operators are not allowed", "name the property directly"),
)


@dataclass(frozen=True, slots=True)
class Expression:
    """A checked expression: its source text and its typed tree."""

    text: str
    root: Node

    @property
    def type(self) -> ValueType:
        return self.root.type

    @property
    def names(self) -> frozenset[str]:
        return names_in(self.root)

    @property
    def uses_clock(self) -> bool:
        """True when the value depends on the as-of time (``days_since``, ``years_since``)."""
        return _uses_clock(self.root)

    def sql(self) -> str:
        from huaxiang.expressions.render import render

        return render(self.root)


def _uses_clock(node: Node) -> bool:
    if isinstance(node, Call) and FUNCTIONS[node.function].uses_clock:
        return True
    return any(_uses_clock(child) for child in children(node))


def check_syntax(text: str, *, where: str | None = None) -> None:
    """Refuse text outside the language's syntax (no catalogue needed: names are checked later)."""
    try:
        _check_structure(_parse_tree(text), text)
    except ExpressionError as error:
        raise error.at(where) if where else error from None


def parse_expression(
    text: str,
    names: Mapping[str, ValueType],
    *,
    expect: ValueType | None = None,
    allow_clock: bool = True,
    timezone: ZoneInfo | None = None,
    where: str | None = None,
) -> Expression:
    """Parse, check every name against ``names`` and type the tree.

    ``expect="boolean"`` for filters and rules; ``allow_clock=False`` where a value must not depend on the
    as-of time (event filters: a time window belongs in the trait's ``window``). String literals compared
    with timestamps are read in ``timezone`` (the workspace's), and stored in UTC like every timestamp.
    """
    try:
        tree = _parse_tree(text)
        _check_structure(tree, text)
        builder = _Builder(text, names, allow_clock=allow_clock, timezone=timezone or ZoneInfo("UTC"))
        root = builder.build(tree)
        if expect is not None and root.type not in (expect, "null"):
            raise ExpressionError(
                f"expected a {_describe(expect)}, got a {root.type} value",
                text=text,
                hint="a filter or rule is a condition such as amount > 100 or city = '上海市'"
                if expect == "boolean"
                else None,
            )
    except ExpressionError as error:
        raise error.at(where) if where else error from None
    return Expression(text, root)


def _describe(value_type: ValueType) -> str:
    return "condition (TRUE or FALSE)" if value_type == "boolean" else f"{value_type} value"


def _parse_tree(text: str) -> exp.Expr:
    if not text.strip():
        raise ExpressionError("the expression is empty", text=text)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", text=text[:200])
    try:
        tokens = _DIALECT.tokenize(text)
    except TokenError as error:
        raise ExpressionError(
            "cannot read the expression (an unclosed quote?)", text=text, hint=str(error).split("\n")[0]
        ) from None
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            raise ExpressionError(
                "only one expression is allowed; ';' ends a statement",
                text=text,
                offset=token.start,
                hint="remove the ';' and everything after it",
            )
    try:
        tree = sqlglot.parse_one(text, read=_DIALECT)
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        near = first.get("highlight") or ""
        offset = _offset(text, first.get("line"), first.get("col"), near)
        raise ExpressionError(
            f"not a valid expression near {near!r}" if near else "not a valid expression",
            text=text,
            offset=offset,
        ) from None
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply", text=text) from None
    if tree is None:
        raise ExpressionError("the expression is empty", text=text)
    return tree


def _offset(text: str, line: int | None, column: int | None, near: str) -> int | None:
    """sqlglot reports the line and the column where the offending token *ends*."""
    if line is None or column is None:
        return None
    lines = text.split("\n")
    start = sum(len(part) + 1 for part in lines[: line - 1])
    return max(0, start + column - len(near))


def _function_name(node: exp.Func) -> str:
    return str(node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()


def _check_structure(tree: exp.Expr, text: str) -> None:
    for node in tree.walk():
        if isinstance(node, exp.Column) and node.table:
            raise ExpressionError(
                "qualified names are not allowed",
                text=text,
                offset=_locate(node, text),
                hint="write the bare name",
            )
        if isinstance(node, exp.DataType) and isinstance(node.parent, exp.Cast):
            continue
        if isinstance(node, exp.Cast) and _typed_literal(node) is not None:
            continue
        if isinstance(node, _STRUCTURAL):
            continue
        for kind, message, hint in _REFUSED:
            if isinstance(node, kind):
                raise ExpressionError(message, text=text, offset=_locate(node, text), hint=hint)
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name in FUNCTIONS:
                continue
            raise ExpressionError(
                f"unknown function {name}()",
                text=text,
                offset=_locate(node, text),
                hint=_suggest(name, FUNCTIONS, what="functions"),
            )
        if isinstance(node, exp.Expr):
            what = "statements" if node.parent is None or isinstance(node, exp.Block) else type(node).__name__
            raise ExpressionError(
                f"{what} are not part of the expression language"
                if what == "statements"
                else f"{what} is not allowed",
                text=text,
                offset=_locate(node, text),
                hint="the language has comparisons, AND/OR/NOT, IN, BETWEEN, IS NULL, LIKE, arithmetic, "
                "CASE and the functions listed in docs/tags.md",
            )


def _typed_literal(node: exp.Cast) -> Literal["date", "timestamp"] | None:
    """``DATE '2024-03-01'`` and ``TIMESTAMP '…'`` are literals (sqlglot reads them as casts of a string)."""
    if not (isinstance(node.this, exp.Literal) and node.this.is_string):
        return None
    target = node.to.this
    if target == exp.DataType.Type.DATE:
        return "date"
    if target in _TIMESTAMP_TYPES:
        return "timestamp"
    return None


def _locate(node: exp.Expr, text: str) -> int | None:
    """Best-effort 0-based offset of a node: identifiers carry their position, functions are found by name."""
    if isinstance(node, exp.Column):
        starts = [int(i.meta["start"]) for i in node.find_all(exp.Identifier) if "start" in i.meta]
        if starts:
            return min(starts)
    if isinstance(node, exp.Func):
        found = re.search(rf"\b{re.escape(_function_name(node))}\s*\(", text, flags=re.IGNORECASE)
        if found:
            return found.start()
    keyword = {exp.Select: "select", exp.Subquery: "(", exp.Star: "*", exp.Exists: "exists"}.get(type(node))
    if keyword and (position := text.lower().find(keyword)) >= 0:
        return position
    starts = [int(i.meta["start"]) for i in node.find_all(exp.Identifier) if "start" in i.meta]
    return min(starts) if starts else None


def _suggest(name: str, known: Iterable[str], *, what: str) -> str:
    candidates = sorted(known)
    close = difflib.get_close_matches(name.lower(), candidates, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(close) + "?"
    if not candidates:
        return f"no {what} are defined here"
    shown = ", ".join(candidates[:12]) + (", …" if len(candidates) > 12 else "")
    return f"known {what}: {shown}"


class _Builder:
    """Rebuild a whitelisted sqlglot tree as typed nodes, resolving names and checking types."""

    def __init__(
        self, text: str, names: Mapping[str, ValueType], *, allow_clock: bool, timezone: ZoneInfo
    ) -> None:
        self.text = text
        self.names = names
        self.allow_clock = allow_clock
        self.timezone = timezone

    def fail(self, message: str, node: exp.Expr, hint: str | None = None) -> ExpressionError:
        return ExpressionError(message, text=self.text, offset=_locate(node, self.text), hint=hint)

    def build(self, node: exp.Expr) -> Node:
        if isinstance(node, exp.Paren):
            return self.build(node.this)
        if isinstance(node, exp.Literal):
            return self.literal(node)
        if isinstance(node, exp.Boolean):
            return Const(bool(node.this), "boolean")
        if isinstance(node, exp.Null):
            return Const(None, "null")
        if isinstance(node, exp.Cast):
            return self.typed_literal(node)
        if isinstance(node, exp.Column):
            return self.name(node)
        if isinstance(node, exp.Neg):
            operand = self.build(node.this)
            if isinstance(operand, Const) and isinstance(operand.value, int | float):
                return Const(-operand.value, "number")
            self.expect(operand, {"number"}, node, "-")
            return Negate(operand)
        if isinstance(node, exp.Not):
            return self.negation(node)
        if type(node) in _LOGICAL:
            left, right = self.build(node.this), self.build(node.expression)
            op = _LOGICAL[type(node)]
            self.expect(left, {"boolean"}, node, op)
            self.expect(right, {"boolean"}, node, op)
            return Binary(op, left, right, "boolean")
        if type(node) in _COMPARISONS:
            left, right = self.comparable(self.build(node.this), self.build(node.expression), node)
            op = _COMPARISONS[type(node)]
            if op not in ("=", "<>") and left.type not in ORDERED:
                raise self.fail(f"{left.type} values cannot be ordered with {op}", node)
            return Binary(op, left, right, "boolean")
        if type(node) in _ARITHMETIC:
            left, right = self.build(node.this), self.build(node.expression)
            op = _ARITHMETIC[type(node)]
            self.expect(left, {"number"}, node, op)
            self.expect(right, {"number"}, node, op)
            return Binary(op, left, right, "number")
        if type(node) in _MATCHES:
            left, right = self.build(node.this), self.build(node.expression)
            op = _MATCHES[type(node)]
            self.expect(left, {"string"}, node, op)
            self.expect(right, {"string"}, node, op)
            match = Binary(op, left, right, "boolean")
            return Not(match) if node.args.get("negate") else match
        if isinstance(node, exp.In):
            return self.in_list(node, negated=False)
        if isinstance(node, exp.Between):
            return self.between(node, negated=False)
        if isinstance(node, exp.Is):
            return self.is_null(node, negated=False)
        if isinstance(node, exp.Case):
            return self.case(node)
        if isinstance(node, exp.If):
            return self.case(
                exp.Case(
                    ifs=[exp.If(this=node.this, true=node.args.get("true"))], default=node.args.get("false")
                )
            )
        if isinstance(node, exp.Func):
            return self.call(node)
        raise self.fail(
            f"{type(node).__name__} is not allowed", node
        )  # pragma: no cover - whitelist ran first

    def literal(self, node: exp.Literal) -> Const:
        if node.is_string:
            return Const(str(node.this), "string")
        text = str(node.this)
        return Const(int(text) if text.isdigit() else float(text), "number")

    def typed_literal(self, node: exp.Cast) -> Const:
        kind = _typed_literal(node)
        assert kind is not None  # the whitelist lets no other cast through
        return self.temporal(Const(str(node.this.this), "string"), kind, node)

    def temporal(self, const: Const, kind: ValueType, node: exp.Expr) -> Const:
        """A string literal read as a date, or as a timestamp in the workspace zone stored in UTC."""
        text = str(const.value).strip()
        try:
            if kind == "date":
                return Const(date.fromisoformat(text), "date")
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(
                f"{text!r} is not a {'date' if kind == 'date' else 'timestamp'}",
                node,
                hint="write dates as '2024-03-01' and times as '2024-03-01 08:30:00'",
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.timezone)
        return Const(moment.astimezone(UTC).replace(tzinfo=None), "timestamp")

    def name(self, node: exp.Column) -> Name:
        name = str(node.name)
        key = name if name in self.names else name.lower()
        if key not in self.names:
            raise self.fail(f"unknown name {name!r}", node, hint=_suggest(name, self.names, what="names"))
        return Name(key, self.names[key])

    def negation(self, node: exp.Not) -> Node:
        inner = node.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.In):
            return self.in_list(inner, negated=True)
        if isinstance(inner, exp.Between):
            return self.between(inner, negated=True)
        if isinstance(inner, exp.Is):
            return self.is_null(inner, negated=True)
        operand = self.build(inner)
        self.expect(operand, {"boolean"}, node, "NOT")
        return Not(operand)

    def in_list(self, node: exp.In, *, negated: bool) -> InList:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise self.fail(
                "subqueries are not allowed in IN", node, hint="list the values: city IN ('北京市', '上海市')"
            )
        operand = self.build(node.this)
        values: list[Node] = []
        for item in node.expressions:
            value = self.build(item)
            if not isinstance(value, Const) or value.value is None:
                raise self.fail(
                    "IN takes a list of literal values (no names, no NULL)",
                    item,
                    hint="write x IN ('a', 'b'); test for NULL with IS NULL",
                )
            operand, value = self.comparable(operand, value, node)
            values.append(value)
        if not values:
            raise self.fail("IN needs at least one value", node)
        return InList(operand, tuple(values), negated)

    def between(self, node: exp.Between, *, negated: bool) -> Between:
        operand = self.build(node.this)
        operand, low = self.comparable(operand, self.build(node.args["low"]), node)
        operand, high = self.comparable(operand, self.build(node.args["high"]), node)
        if operand.type not in ORDERED:
            raise self.fail(f"{operand.type} values have no order for BETWEEN", node)
        return Between(operand, low, high, negated)

    def is_null(self, node: exp.Is, *, negated: bool) -> IsNull:
        if not isinstance(node.expression, exp.Null):
            raise self.fail(
                "only IS NULL and IS NOT NULL are supported", node, hint="write x = TRUE instead of x IS TRUE"
            )
        return IsNull(self.build(node.this), negated)

    def case(self, node: exp.Case) -> Case:
        subject = self.build(node.this) if node.this is not None else None
        conditions: list[Node] = []
        results: list[Node] = []
        for branch in node.args.get("ifs") or []:
            condition = self.build(branch.this)
            if subject is not None:
                left, right = self.comparable(subject, condition, branch)
                condition = Binary("=", left, right, "boolean")
            self.expect(condition, {"boolean"}, branch, "WHEN")
            conditions.append(condition)
            results.append(self.build(branch.args["true"]))
        default = node.args.get("default")
        if default is not None:
            results.append(self.build(default))
        try:
            common = unify([r.type for r in results], "CASE")
        except SignatureError as error:
            raise self.fail(f"{error}; every THEN and ELSE must have one type", node) from None
        results = [self.coerce(r, common, node) for r in results]
        branches = tuple(zip(conditions, results[: len(conditions)], strict=True))
        return Case(branches, results[-1] if default is not None else None, common)

    def call(self, node: exp.Func) -> Call:
        name = _function_name(node)
        signature = FUNCTIONS[name]
        if signature.uses_clock and not self.allow_clock:
            raise self.fail(
                f"{name}() depends on the as-of time and is not allowed here",
                node,
                hint="an event filter sees one event; give the trait a window such as 30d instead",
            )
        raw: list[exp.Expr] = []
        for key in node.arg_types:
            value = node.args.get(key)
            items = value if isinstance(value, list) else [value]
            raw.extend(item for item in items if isinstance(item, exp.Expr))
        args = tuple(self.build(item) for item in raw)
        if len(args) < signature.min_args or (
            signature.max_args is not None and len(args) > signature.max_args
        ):
            raise self.fail(f"wrong number of arguments to {name}()", node, hint=f"usage: {signature.usage}")
        try:
            result = signature.check(args)
        except SignatureError as error:
            raise self.fail(str(error), node, hint=f"usage: {signature.usage}") from None
        if name in ("coalesce", "nullif", "greatest", "least"):
            args = tuple(self.coerce(arg, result, node) for arg in args)
        return Call(name, args, result)

    def comparable(self, left: Node, right: Node, node: exp.Expr) -> tuple[Node, Node]:
        """Bring two sides to one type: string literals become dates/times, dates meet timestamps."""
        if _is_null(left) or _is_null(right):
            raise self.fail(
                "a comparison with NULL is never true", node, hint="write x IS NULL or x IS NOT NULL"
            )
        if left.type in TEMPORAL and _is_string_literal(right):
            right = self.temporal(right, left.type, node)  # type: ignore[arg-type]
        elif right.type in TEMPORAL and _is_string_literal(left):
            left = self.temporal(left, right.type, node)  # type: ignore[arg-type]
        if {left.type, right.type} == {"date", "timestamp"}:
            return self.coerce(left, "timestamp", node), self.coerce(right, "timestamp", node)
        if left.type != right.type:
            raise self.fail(f"cannot compare {left.type} with {right.type}", node)
        return left, right

    def coerce(self, value: Node, to: ValueType, node: exp.Expr) -> Node:
        if value.type == to or value.type == "null":
            return value
        if value.type == "date" and to == "timestamp":
            if isinstance(value, Const) and isinstance(value.value, date):
                return Const(datetime.combine(value.value, datetime.min.time()), "timestamp")
            return ToTimestamp(value)
        raise self.fail(f"expected a {to} value, got {value.type}", node)  # pragma: no cover - unify checked

    def expect(self, value: Node, allowed: set[str], node: exp.Expr, op: str) -> None:
        if value.type != "null" and value.type not in allowed:
            raise self.fail(f"{op} needs {' or '.join(sorted(allowed))} values, got {value.type}", node)


def _is_null(node: Node) -> bool:
    return isinstance(node, Const) and node.value is None


def _is_string_literal(node: Node) -> bool:
    return isinstance(node, Const) and node.type == "string"

"""The typed tree of a checked expression: small immutable nodes, each carrying its result type.

sqlglot's own tree is converted into these nodes once, after every name and function was checked, so the
two compilers (Ibis and the row evaluator) and the printer see only what the language allows, never a raw
SQL node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

ValueType = Literal["number", "string", "boolean", "timestamp", "date", "list", "null"]
"""Types of the language; ``null`` is the type of the bare ``NULL`` literal, which fits any other type."""

ArithmeticOp = Literal["+", "-", "*", "/", "%"]
ComparisonOp = Literal["=", "<>", "<", "<=", ">", ">="]
LogicalOp = Literal["AND", "OR"]
MatchOp = Literal["LIKE", "ILIKE"]
BinaryOp = ArithmeticOp | ComparisonOp | LogicalOp | MatchOp

ARITHMETIC: frozenset[str] = frozenset({"+", "-", "*", "/", "%"})
COMPARISON: frozenset[str] = frozenset({"=", "<>", "<", "<=", ">", ">="})
LOGICAL: frozenset[str] = frozenset({"AND", "OR"})
MATCH: frozenset[str] = frozenset({"LIKE", "ILIKE"})


@dataclass(frozen=True, slots=True)
class Const:
    """A literal: a number, a string, TRUE/FALSE, NULL, or a timestamp/date a string literal was read as."""

    value: object
    type: ValueType


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to a catalogue name: an event field, a trait or a tag."""

    name: str
    type: ValueType


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node
    type: ValueType = "number"


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    type: ValueType = "boolean"


@dataclass(frozen=True, slots=True)
class Binary:
    op: BinaryOp
    left: Node
    right: Node
    type: ValueType


@dataclass(frozen=True, slots=True)
class InList:
    operand: Node
    values: tuple[Node, ...]
    negated: bool = False
    type: ValueType = "boolean"


@dataclass(frozen=True, slots=True)
class Between:
    operand: Node
    low: Node
    high: Node
    negated: bool = False
    type: ValueType = "boolean"


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: Node
    negated: bool = False
    type: ValueType = "boolean"


@dataclass(frozen=True, slots=True)
class Case:
    """Searched CASE; a simple ``CASE x WHEN v`` is rewritten to ``WHEN x = v`` when parsed."""

    branches: tuple[tuple[Node, Node], ...]
    default: Node | None
    type: ValueType


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    args: tuple[Node, ...]
    type: ValueType


@dataclass(frozen=True, slots=True)
class ToTimestamp:
    """A date compared with (or mixed with) a timestamp is read as midnight of that day."""

    operand: Node
    type: ValueType = "timestamp"


Node: TypeAlias = Const | Name | Negate | Not | Binary | InList | Between | IsNull | Case | Call | ToTimestamp


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of a node, in source order."""
    match node:
        case Const() | Name():
            return ()
        case Negate(operand) | Not(operand) | IsNull(operand) | ToTimestamp(operand):
            return (operand,)
        case Binary(_, left, right):
            return (left, right)
        case InList(operand, values):
            return (operand, *values)
        case Between(operand, low, high):
            return (operand, low, high)
        case Case(branches, default):
            flat = tuple(part for branch in branches for part in branch)
            return (*flat, default) if default is not None else flat
        case Call(_, args):
            return args


def names_in(node: Node) -> frozenset[str]:
    """Every catalogue name an expression reads."""
    if isinstance(node, Name):
        return frozenset({node.name})
    found: set[str] = set()
    for child in children(node):
        found |= names_in(child)
    return frozenset(found)

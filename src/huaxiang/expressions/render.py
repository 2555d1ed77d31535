"""Print a checked expression as canonical SQL text: fully parenthesised, keywords upper-case.

Used for messages, documentation and the input → expected-text test cases; it is never sent to a database
(the compilers build Ibis expressions from the nodes instead).
"""

from __future__ import annotations

from datetime import date, datetime

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


def render(node: Node) -> str:
    """Canonical text of a node."""
    match node:
        case Const(value):
            return _literal(value)
        case Name(name):
            return name
        case Negate(operand):
            return f"-{_wrapped(operand)}"
        case Not(operand):
            return f"NOT {_wrapped(operand)}"
        case Binary(op, left, right):
            return f"{_wrapped(left)} {op} {_wrapped(right)}"
        case InList(operand, values, negated):
            keyword = "NOT IN" if negated else "IN"
            return f"{_wrapped(operand)} {keyword} ({', '.join(render(v) for v in values)})"
        case Between(operand, low, high, negated):
            keyword = "NOT BETWEEN" if negated else "BETWEEN"
            return f"{_wrapped(operand)} {keyword} {_wrapped(low)} AND {_wrapped(high)}"
        case IsNull(operand, negated):
            return f"{_wrapped(operand)} IS {'NOT ' if negated else ''}NULL"
        case Case(branches, default):
            parts = [f"WHEN {render(c)} THEN {render(v)}" for c, v in branches]
            if default is not None:
                parts.append(f"ELSE {render(default)}")
            return f"CASE {' '.join(parts)} END"
        case Call(function, args):
            return f"{function}({', '.join(render(a) for a in args)})"
        case ToTimestamp(operand):
            return render(operand)  # implicit: reading the text back applies the same conversion


def _wrapped(node: Node) -> str:
    text = render(node)
    compound = isinstance(node, Binary | InList | Between | IsNull | Not | Negate)
    return f"({text})" if compound else text


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}+00:00'"  # stored in UTC; say so, so it reads back
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)

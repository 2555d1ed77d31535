"""The safe expression language of tag rules, event filters and segments: a checked subset of SQL.

``parse_expression`` reads and checks a text against a catalogue of names; ``to_ibis`` compiles it for batch
runs and ``evaluate`` computes it for one row. Only ``parse`` and the row evaluator load eagerly; the Ibis
compiler is imported on first use so reading a config never pays for Ibis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from huaxiang.expressions.errors import ExpressionError
from huaxiang.expressions.functions import FUNCTIONS
from huaxiang.expressions.nodes import ValueType
from huaxiang.expressions.parse import Expression, check_syntax, parse_expression
from huaxiang.expressions.row_evaluator import EvaluationContext, evaluate, holds

if TYPE_CHECKING:
    from huaxiang.expressions.ibis_compiler import to_ibis

__all__ = [
    "FUNCTIONS",
    "EvaluationContext",
    "Expression",
    "ExpressionError",
    "ValueType",
    "check_syntax",
    "evaluate",
    "holds",
    "parse_expression",
    "to_ibis",
]


def __getattr__(name: str) -> Any:
    if name == "to_ibis":
        from huaxiang.expressions.ibis_compiler import to_ibis

        return to_ibis
    raise AttributeError(name)

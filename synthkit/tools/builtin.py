"""Built-in tools: ``calculator`` (arithmetic, evaluated on the syntax tree, never by ``eval``).

Example:
    >>> calculate("(2 + 3) * 4 / 5")
    '4'
"""

from __future__ import annotations

import ast
import operator
from fractions import Fraction
from typing import Any

from synthkit.tools.spec import Tool

__all__ = ["calculate", "calculator"]

_BINARY: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Any] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _eval(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return Fraction(str(node.value))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and (right.denominator != 1 or abs(right) > 64):
            msg = "exponents must be whole numbers up to 64"
            raise ValueError(msg)
        return Fraction(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    msg = f"only numbers, + - * / // % ** and parentheses are allowed, not {ast.unparse(node)!r}"
    raise ValueError(msg)


def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression exactly; the result is an integer, else a decimal.

    Raises:
        ValueError: the expression is not arithmetic, or divides by zero.
    """
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError:
        msg = f"not an arithmetic expression: {expression!r}"
        raise ValueError(msg) from None
    try:
        value = _eval(tree)
    except ZeroDivisionError:
        msg = "division by zero"
        raise ValueError(msg) from None
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.10g}"


def calculator() -> Tool:
    """The ``calculator`` tool: ``{"expression": "2 * (3 + 4)"}`` -> ``"14"``."""
    return Tool(
        name="calculator",
        description="Evaluate an arithmetic expression (numbers, + - * / // % ** and parentheses) and return the result.",
        parameters={
            "type": "object",
            "properties": {"expression": {"type": "string", "description": "the expression, e.g. 2 * (3 + 4)"}},
            "required": ["expression"],
            "additionalProperties": False,
        },
        function=calculate,
    )

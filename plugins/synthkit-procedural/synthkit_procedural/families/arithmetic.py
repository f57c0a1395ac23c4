"""Multi-step arithmetic: integer expressions with ``+``, ``-``, ``*`` and parentheses.

Difficulty ``d`` gives ``d + 1`` operators on operands up to ``5 + 5 * d``. The
generator builds a random expression tree and computes its value on the tree; the
solver parses the text with :mod:`ast` (never ``eval``) and narrates each operation
in the order precedence dictates.
"""

from __future__ import annotations

import ast
import random
import re

from ..problem import Problem, Solution

NAME = "arithmetic"

_PATTERN = re.compile(r"Evaluate the expression ([-+*() 0-9]+)")
_PRECEDENCE = {"+": 1, "-": 1, "*": 2}
_AST_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
_TOKEN = re.compile(r"\d+|[-+*()]")
_MAX_CHARS = 400  # a guard: the solver only reads expressions of the size it generates


def make(rng: random.Random, difficulty: int) -> Problem:
    """Return a random expression with ``difficulty + 1`` operators and its value."""
    text, value, _ = _tree(rng, difficulty + 1, 5 + 5 * difficulty)
    return Problem(f"Evaluate the expression {text}.", str(value))


def _tree(rng: random.Random, ops: int, top: int) -> tuple[str, int, int]:
    """Return (text, value, precedence) of a random expression with ``ops`` operators."""
    if ops == 0:
        n = rng.randint(1, top)
        return str(n), n, 3
    op = rng.choice("+-*")
    left_ops = rng.randint(0, ops - 1)
    lt, lv, lp = _tree(rng, left_ops, top)
    rt, rv, rp = _tree(rng, ops - 1 - left_ops, top)
    p = _PRECEDENCE[op]
    if lp < p:
        lt = f"({lt})"
    if rp < p or (rp == p and op == "-"):
        rt = f"({rt})"
    return f"{lt} {op} {rt}", _apply(lv, op, rv), p


def _apply(left: int, op: str, right: int) -> int:
    return left + right if op == "+" else left - right if op == "-" else left * right


def solve(question: str) -> Solution | None:
    """Evaluate the expression in ``question`` step by step, or return ``None``."""
    m = _PATTERN.search(question)
    if m is None or len(m.group(1)) > _MAX_CHARS:
        return None
    try:
        tree = ast.parse(m.group(1).strip(), mode="eval").body
    except (SyntaxError, RecursionError):  # e.g. too many nested parentheses
        return None
    steps = ["Follow the order of operations: parentheses first, then multiplication, then + and - from left to right."]
    value = _evaluate(tree, steps)
    if value is None or len(steps) == 1:
        return None
    return Solution(steps, str(value))


def _evaluate(node: ast.expr, steps: list[str]) -> int | None:
    """Return the value of ``node``, appending one step per operation; ``None`` if unsupported."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _evaluate(node.operand, steps)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and type(node.op) in _AST_OPS:
        left = _evaluate(node.left, steps)
        right = _evaluate(node.right, steps)
        if left is None or right is None:
            return None
        op = _AST_OPS[type(node.op)]
        value = _apply(left, op, right)
        steps.append(f"{_show(left)} {op} {_show(right)} = {value}")
        return value
    return None


def _show(n: int) -> str:
    return f"({n})" if n < 0 else str(n)



def slip(question: str, answer: str, rng: random.Random) -> str:
    """Return the value got by ignoring precedence (left to right), or a value a little off."""
    tokens = _TOKEN.findall(_PATTERN.search(question).group(1))
    wrong = _left_to_right(tokens)
    if wrong is None or wrong == int(answer):
        wrong = int(answer) + rng.choice((-10, -2, -1, 1, 2, 10))
    return str(wrong)


def _left_to_right(tokens: list[str]) -> int | None:
    """Evaluate with parentheses but without precedence: ``2 + 3 * 4`` gives 20."""
    stack: list[tuple[int, str]] = []
    value, op = 0, "+"
    for tok in tokens:
        if tok == "(":
            stack.append((value, op))
            value, op = 0, "+"
        elif tok == ")":
            if not stack:
                return None
            inner = value
            value, op = stack.pop()
            value = _apply(value, op, inner)
        elif tok in "+-*":
            op = tok
        else:
            value = _apply(value, op, int(tok))
    return value

"""Linear equations in one unknown: ``ax + b = c``, and ``ax + b = cx + e`` from difficulty 4.

Difficulty 1-2 have integer solutions; from difficulty 3 the solution may be a fraction
(written in lowest terms, such as ``-9/4``). The generator picks the solution first and
builds the equation around it; the solver reads both sides and isolates ``x``.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction

from .. import mistakes
from ..mistakes import number_text
from ..problem import Problem, Solution

NAME = "linear-equations"

_PATTERN = re.compile(r"Solve for x: ([-+x0-9 ]+)=([-+x0-9 ]+)")
_SIDE = re.compile(r"[+-]?(?:\d*x|\d+)(?:[+-](?:\d*x|\d+))*")
_TERM = re.compile(r"([+-]?)(\d*)(x?)")


def make(rng: random.Random, difficulty: int) -> Problem:
    """Return an equation whose solution was chosen first, and that solution."""
    top = 4 + 3 * difficulty
    a = _nonzero(rng, top)
    c = _nonzero(rng, top) if difficulty >= 4 else 0
    while c == a:
        c = _nonzero(rng, top)
    k = a - c
    x = Fraction(rng.randint(-top, top), k) if difficulty >= 3 else Fraction(rng.randint(-top, top))
    if difficulty == 1:
        x = abs(x)
    b = rng.randint(-3 * top, 3 * top)
    e = int(k * x) + b if c else 0  # k * x is an integer: x's denominator divides k
    rhs = f"{_expr(c, e)}" if c else str(int(a * x) + b)
    return Problem(f"Solve for x: {_expr(a, b)} = {rhs}.", number_text(x))


def _nonzero(rng: random.Random, top: int) -> int:
    return rng.choice([n for n in range(-top, top + 1) if n != 0])


def _expr(a: int, b: int) -> str:
    """Render ``a*x + b`` the way people write it: ``3x - 5``, ``-x``, ``x + 2``."""
    coef = {1: "", -1: "-"}.get(a, str(a))
    if b == 0:
        return f"{coef}x"
    return f"{coef}x {'-' if b < 0 else '+'} {abs(b)}"


def _side(text: str) -> tuple[int, int] | None:
    """Return (coefficient of x, constant) of one side, or ``None`` if it is not linear."""
    text = text.replace(" ", "")
    if not _SIDE.fullmatch(text):
        return None
    coef = const = 0
    for sign, digits, x in _TERM.findall(text):
        if not (digits or x):
            continue
        value = (-1 if sign == "-" else 1) * (int(digits) if digits else 1)
        if x:
            coef += value
        else:
            const += value
    return coef, const


def solve(question: str) -> Solution | None:
    """Isolate ``x`` in the equation in ``question`` step by step, or return ``None``."""
    m = _PATTERN.search(question)
    if m is None:
        return None
    left, right = _side(m.group(1)), _side(m.group(2))
    if left is None or right is None or left[0] == right[0]:
        return None
    (a, b), (c, e) = left, right
    steps = []
    if c:
        verb = f"Subtract {_expr(c, 0)} from" if c > 0 else f"Add {_expr(-c, 0)} to"
        a -= c
        steps.append(f"{verb} both sides: {_expr(a, b)} = {e}.")
    if b:
        verb = f"Subtract {b} from" if b > 0 else f"Add {-b} to"
        steps.append(f"{verb} both sides: {_expr(a, 0)} = {e - b}.")
    x = Fraction(e - b, a)
    if a != 1:
        num, den = (e - b, a) if a > 0 else (b - e, -a)
        raw, shown = f"{num}/{den}", number_text(x)
        steps.append(f"Divide both sides by {a}: x = {raw}" + (f" = {shown}." if raw != shown else "."))
    lhs, rhs = left[0] * x + left[1], right[0] * x + right[1]
    steps.append(f"Check: with x = {number_text(x)} the left side is {number_text(lhs)} and the right side is {number_text(rhs)}.")
    return Solution(steps, number_text(x))


def slip(question: str, answer: str, rng: random.Random) -> str:
    """Return the answer with its sign flipped (a term moved without changing sign), or miscounted."""
    x = Fraction(answer)
    return number_text(-x) if x and rng.random() < 0.5 else mistakes.slip(question, answer, rng)

"""Modular powers ``a^b mod m``, solved by fast exponentiation (square and multiply).

Difficulty ``d`` sets the exponent's size (up to ``2^(3d + 2)``) and the modulus (up to
``10 + 20 d^2``). The generator's answer is Python's ``pow(a, b, m)``; the solver writes
the exponent in binary, squares repeatedly and multiplies the powers it needs.
"""

from __future__ import annotations

import random
import re

from ..problem import Problem, Solution

NAME = "modular"

_PATTERN = re.compile(r"Compute (\d+)\^(\d+) mod (\d+)")
_MAX_EXPONENT_BITS = 64


def make(rng: random.Random, difficulty: int) -> Problem:
    """Return a modular power and its value."""
    m = rng.randint(3, 10 + 20 * difficulty**2)
    a = rng.randint(2, max(3, m + 5 * difficulty))
    b = rng.randint(2, 2 ** (3 * difficulty + 2))
    return Problem(f"Compute {a}^{b} mod {m}.", str(pow(a, b, m)))


def solve(question: str) -> Solution | None:
    """Compute the modular power in ``question`` by repeated squaring, or return ``None``."""
    match = _PATTERN.search(question)
    if match is None:
        return None
    a, b, m = (int(g) for g in match.groups())
    if m < 2 or b.bit_length() > _MAX_EXPONENT_BITS:
        return None
    bits = bin(b)[2:]
    steps = [f"Write the exponent in binary: {b} = {bits} (base 2)."]
    base = a % m
    if base != a:
        steps.append(f"Reduce the base: {a} mod {m} = {base}.")
    power, square, used = 1, base, []
    for i, bit in enumerate(reversed(bits)):
        if i:
            new = square * square % m
            steps.append(f"{a}^{2**i} ≡ {square}^2 = {square * square} ≡ {new} (mod {m}).")
            square = new
        if bit == "1":
            used.append(f"{a}^{2**i}")
            new = power * square % m
            if len(used) > 1:
                steps.append(f"Multiply in {a}^{2**i}: {power} * {square} = {power * square} ≡ {new} (mod {m}).")
            power = new
    steps.append(f"So {a}^{b} = {' * '.join(used)} ≡ {power} (mod {m}).")
    return Solution(steps, str(power))

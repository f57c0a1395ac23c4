"""Plausible wrong answers, for a teacher that should sometimes be wrong.

Every function returns an answer that :func:`~synthkit_procedural.answers.same_answer`
never accepts as equal to the right one, so a verifier has exactly these to catch.
"""

from __future__ import annotations

import random
from fractions import Fraction

from .answers import as_number

__all__ = ["slip"]


def slip(question: str, answer: str, rng: random.Random) -> str:
    """Return a wrong answer of the same shape: a number a little off, or a list with two neighbours swapped."""
    if "," in answer:
        return _swap_neighbours(answer, rng)
    value = as_number(answer)
    if value is None:
        return answer + "?"  # families with other answers bring their own slip
    return _number_text(_off(value, rng))


def _off(value: Fraction, rng: random.Random) -> Fraction:
    """Return ``value`` with a sign slip or a small miscount, never ``value`` itself."""
    if value and rng.random() < 0.25:
        return -value
    if value.denominator != 1:
        return Fraction(value.numerator + rng.choice((-1, 1)), value.denominator)
    return value + rng.choice((-10, -2, -1, 1, 2, 10))


def _number_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _swap_neighbours(answer: str, rng: random.Random) -> str:
    """Swap two different neighbours of a comma-separated list (or bump one item if all are equal)."""
    items = [t.strip() for t in answer.split(",")]
    spots = [i for i in range(len(items) - 1) if items[i] != items[i + 1]]
    if not spots:
        items[-1] = str(int(items[-1]) + 1)
    else:
        i = rng.choice(spots)
        items[i], items[i + 1] = items[i + 1], items[i]
    return ", ".join(items)

"""Plausible wrong answers, for a teacher that should sometimes be wrong.

Every function returns an answer that :func:`~synthkit_procedural.answers.same_answer`
never accepts as equal to the right one, so a verifier has exactly these to catch.
"""

from __future__ import annotations

import random
from fractions import Fraction

from .answers import as_number

__all__ = ["slip", "number_text"]


def slip(question: str, answer: str, rng: random.Random) -> str:
    """Return a wrong answer of the same shape: a number a little off, or a list with two neighbours swapped.

    This is the default for a family that defines no ``slip`` of its own.
    """
    if "," in answer:
        return _swap_neighbours(answer, rng)
    value = as_number(answer)
    if value is None:
        return answer + "?"  # families with other answers bring their own slip
    return number_text(_off(value, rng))


def _off(value: Fraction, rng: random.Random) -> Fraction:
    """Return ``value`` miscounted a little (a fraction's numerator by one), never ``value`` itself.

    A value that is not negative stays so: a count does not turn negative by a slip.
    """
    if value.denominator != 1:
        return Fraction(value.numerator + rng.choice((-1, 1)), value.denominator)
    delta = rng.choice((-10, -2, -1, 1, 2, 10))
    return value - delta if value >= 0 > value + delta else value + delta


def number_text(x: Fraction) -> str:
    """Return ``x`` as ``5``, ``-5`` or ``9/4``."""
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

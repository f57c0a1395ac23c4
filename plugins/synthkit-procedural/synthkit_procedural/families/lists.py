"""List tasks: sort a list of integers, or find its k-th smallest or largest element.

Difficulty ``d`` gives ``3 + 2d`` numbers up to ``10 * 3^(d - 1)``, negative from
difficulty 3; repeats may occur. A sorted answer is written ``1, 3, 5, 9``. The solver
picks the smallest (or largest) remaining number once per step.
"""

from __future__ import annotations

import random
import re

from ..problem import Problem, Solution

NAME = "lists"

_NUMBERS = r"(-?\d+(?:, -?\d+)*)"
_SORT = re.compile(r"Sort these numbers in (ascending|descending) order: " + _NUMBERS)
_KTH = re.compile(r"Find the (\d+)(?:st|nd|rd|th) (smallest|largest) number in this list: " + _NUMBERS)
_MAX_ITEMS = 200


def make(rng: random.Random, difficulty: int) -> Problem:
    """Return a sorting or k-th element question and its answer."""
    top = 10 * 3 ** (difficulty - 1)
    low = -top if difficulty >= 3 else 0
    xs = [rng.randint(low, top) for _ in range(3 + 2 * difficulty)]
    shown = ", ".join(map(str, xs))
    if rng.random() < 0.5:
        order = rng.choice(("ascending", "descending"))
        answer = ", ".join(map(str, sorted(xs, reverse=order == "descending")))
        return Problem(f"Sort these numbers in {order} order: {shown}.", answer)
    k, which = rng.randint(1, len(xs)), rng.choice(("smallest", "largest"))
    answer = sorted(xs, reverse=which == "largest")[k - 1]
    return Problem(f"Find the {ordinal(k)} {which} number in this list: {shown}.", str(answer))


def ordinal(k: int) -> str:
    """Return ``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``21st``..."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def solve(question: str) -> Solution | None:
    """Sort or select from the list in ``question`` step by step, or return ``None``."""
    if m := _SORT.search(question):
        xs, k, largest_first = _numbers(m.group(2)), None, m.group(1) == "descending"
    elif m := _KTH.search(question):
        xs, k, largest_first = _numbers(m.group(3)), int(m.group(1)), m.group(2) == "largest"
    else:
        return None
    if not xs or len(xs) > _MAX_ITEMS or (k is not None and not 1 <= k <= len(xs)):
        return None
    pick, word = (max, "largest") if largest_first else (min, "smallest")
    rest, done, steps = list(xs), [], []
    for _ in range(k or len(xs)):
        x = pick(rest)
        rest.remove(x)
        done.append(x)
        steps.append(f"The {word} number left is {x}; so far: {', '.join(map(str, done))}.")
    if k is None:
        answer = ", ".join(map(str, done))
        steps.append(f"The list in {m.group(1)} order is {answer}.")
    else:
        answer = str(done[-1])
        steps.append(f"The {ordinal(k)} {word} number is {answer}.")
    return Solution(steps, answer)


def _numbers(text: str) -> list[int]:
    return [int(t) for t in text.split(", ")]

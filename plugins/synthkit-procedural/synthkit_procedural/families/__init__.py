"""The problem families, and how to choose among them.

A family is one small module with a ``NAME``, ``make(rng, difficulty) -> Problem`` and
``solve(question) -> Solution | None``; it may add ``slip(question, answer, rng) -> str``
for a plausible wrong answer of its own kind (otherwise :func:`..mistakes.slip` is used).
``make`` knows the answer from how it built the problem; ``solve`` finds it again by
reading the text, so each checks the other.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Callable, Iterable
from types import ModuleType

import attrs
from synthkit.errors import InputError

from .. import mistakes
from ..problem import Problem, Solution
from . import arithmetic, bases, dates, linear, lists, logic, modular, word_problems

__all__ = ["Family", "FAMILIES", "LEVELS", "select", "levels", "solve_any"]

#: The difficulty levels every family accepts.
LEVELS = range(1, 6)


@attrs.frozen
class Family:
    """One kind of problem: how to make it, how to solve it, how to get it plausibly wrong."""

    name: str
    make: Callable[[random.Random, int], Problem]
    solve: Callable[[str], Solution | None]
    slip: Callable[[str, str, random.Random], str] = mistakes.slip

    @classmethod
    def from_module(cls, module: ModuleType) -> Family:
        """Build a family from a module defining ``NAME``, ``make``, ``solve`` and maybe ``slip``."""
        return cls(module.NAME, module.make, module.solve, getattr(module, "slip", mistakes.slip))


#: Every family, by name, in the order the teacher tries them.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in map(Family.from_module, (arithmetic, word_problems, linear, modular, bases, dates, lists, logic))
}


def solve_any(question: str) -> tuple[Family, Solution] | None:
    """Return the family that can read ``question`` and its solution, or ``None``."""
    for family in FAMILIES.values():
        solution = family.solve(question)
        if solution is not None:
            return family, solution
    return None


def select(names: str | Iterable[str] | None) -> list[Family]:
    """Return the families called ``names`` (all of them for ``None``).

    Raises:
        InputError: a name is not a family; the message lists them and the closest one.
    """
    if names is None:
        return list(FAMILIES.values())
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if name not in FAMILIES:
            close = difflib.get_close_matches(name, FAMILIES, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = f"unknown problem family {name!r}.{hint} The procedural teacher has: {', '.join(FAMILIES)}"
            raise InputError(msg)
    if not names:
        msg = f"families is empty; name at least one of: {', '.join(FAMILIES)}"
        raise InputError(msg)
    return [FAMILIES[name] for name in names]


def levels(difficulty: int | Iterable[int]) -> list[int]:
    """Return the difficulty levels asked for: one level, or a range or list of them.

    Raises:
        InputError: a level is not an integer from 1 to 5.
    """
    chosen = [difficulty] if isinstance(difficulty, int) else list(difficulty)
    bad = [d for d in chosen if not isinstance(d, int) or isinstance(d, bool) or d not in LEVELS]
    if bad or not chosen:
        msg = f"difficulty must be 1 to 5, or a range or list of them (such as range(1, 4)); got {difficulty!r}"
        raise InputError(msg)
    return chosen

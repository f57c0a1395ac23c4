"""Race puzzles: from clues about who beat whom, say who finished in a given place.

Difficulty ``d`` gives ``d + 2`` runners (3 to 7). Clues say ``A finishes before B``,
``A finishes after B`` and, from difficulty 3, ``A finishes right before B`` or
``A finishes first`` / ``last``. The generator hides a finishing order and adds true
clues until the asked place is certain; the solver keeps the orders that fit every clue.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Sequence

from ..problem import Problem, Solution
from ._text import sentences

NAME = "logic"

_NAMES = ("Ann", "Ben", "Cal", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jon")
PLACES = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh")
_INTRO = re.compile(r"\b((?:[A-Z][a-z]+, )*[A-Z][a-z]+) and ([A-Z][a-z]+) run a race with no ties\.")
_CLUE = re.compile(r"\b([A-Z][a-z]+) finishes (before|after|right before|first|last)(?: ([A-Z][a-z]+))?\.")
_QUESTION = re.compile(r"Who finishes (" + "|".join(PLACES) + r")\?")

Order = tuple[str, ...]
Clue = tuple[str, str, str | None]  # (who, relation, other)


def make(rng: random.Random, difficulty: int) -> Problem:
    """Return a race puzzle whose asked place the clues pin down, and the runner there."""
    order = tuple(rng.sample(_NAMES, difficulty + 2))
    place = rng.randrange(len(order))
    orders = list(itertools.permutations(order))
    clues: list[Clue] = []
    while len({o[place] for o in orders}) > 1:
        clue = _true_clue(rng, order, difficulty)
        if clue[1] in ("first", "last") and clue[0] == order[place]:
            continue  # a clue that just states the answer makes no puzzle
        kept = [o for o in orders if holds(clue, o)]
        if len(kept) < len(orders):
            clues.append(clue)
            orders = kept
    names = sorted(order)
    text = " ".join(
        [f"{', '.join(names[:-1])} and {names[-1]} run a race with no ties."]
        + [_sentence(c) for c in clues]
        + [f"Who finishes {PLACES[place]}?"]
    )
    return Problem(text, order[place])


def _true_clue(rng: random.Random, order: Order, difficulty: int) -> Clue:
    """Return a random clue that holds for ``order``."""
    kinds = ["before", "after"] + (["right before", "end"] if difficulty >= 3 else [])
    kind = rng.choice(kinds)
    if kind == "end":
        return (order[0], "first", None) if rng.random() < 0.5 else (order[-1], "last", None)
    if kind == "right before":
        i = rng.randrange(len(order) - 1)
        return order[i], "right before", order[i + 1]
    i, j = sorted(rng.sample(range(len(order)), 2))
    return (order[i], "before", order[j]) if kind == "before" else (order[j], "after", order[i])


def _sentence(clue: Clue) -> str:
    who, relation, other = clue
    return f"{who} finishes {relation} {other}." if other else f"{who} finishes {relation}."


_RELATIONS: dict[str, Callable[[Order, str, str | None], bool]] = {
    "before": lambda o, a, b: o.index(a) < o.index(b),
    "after": lambda o, a, b: o.index(a) > o.index(b),
    "right before": lambda o, a, b: o.index(a) + 1 == o.index(b),
    "first": lambda o, a, _: o[0] == a,
    "last": lambda o, a, _: o[-1] == a,
}


def holds(clue: Clue, order: Order) -> bool:
    """Return whether ``clue`` is true of the finishing ``order``."""
    who, relation, other = clue
    return _RELATIONS[relation](order, who, other)


def solve(question: str) -> Solution | None:
    """Eliminate finishing orders clue by clue, or return ``None``."""
    intro, ask = _INTRO.search(question), _QUESTION.search(question)
    if intro is None or ask is None:
        return None
    names = [*intro.group(1).split(", "), intro.group(2)]
    matches = sentences(_CLUE, question, intro.end(), ask.start())
    if matches is None:
        return None
    clues = [(m.group(1), m.group(2), m.group(3)) for m in matches]
    place = PLACES.index(ask.group(1))
    if not _well_formed(names, clues, place):
        return None
    orders = list(itertools.permutations(names))
    steps = [f"{len(names)} runners can finish in {len(orders)} orders."]
    for clue in clues:
        orders = [o for o in orders if holds(clue, o)]
        steps.append(f"{_sentence(clue)[:-1]}: {len(orders)} orders remain.")
    winners = {o[place] for o in orders}
    if len(winners) != 1:
        return None
    (answer,) = winners
    shown = "; ".join(", ".join(o) for o in orders[:3]) + ("; ..." if len(orders) > 3 else "")
    steps.append(f"Remaining: {shown}.")
    steps.append(f"In every remaining order, {answer} finishes {PLACES[place]}.")
    return Solution(steps, answer)


def _well_formed(names: Sequence[str], clues: Sequence[Clue], place: int) -> bool:
    """Return whether the puzzle is small enough and its clues name only its runners."""
    if not 2 <= len(names) <= len(PLACES) or len(set(names)) != len(names) or place >= len(names):
        return False
    for who, relation, other in clues:
        needs_other = relation not in ("first", "last")
        if who not in names or needs_other != (other is not None) or (other is not None and other not in names):
            return False
    return True


def slip(question: str, answer: str, rng: random.Random) -> str:
    """Return another runner from the puzzle."""
    intro = _INTRO.search(question)
    names = [*intro.group(1).split(", "), intro.group(2)] if intro else [*_NAMES]
    return rng.choice([n for n in names if n != answer])

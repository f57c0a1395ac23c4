"""Arithmetic word problems: a person's stock of items changes in a few sentences.

Each sentence uses one fixed phrasing, so the solver can read it back:
``buys K more`` (+K), ``gives K ... to a friend`` (-K), ``buys B boxes with K ... in
each box`` (+B*K), ``doubles the number of`` (*2) and ``splits the ... into K equal
groups and keeps one group`` (/K, always exact). Difficulty ``d`` gives ``d + 1`` changes.
"""

from __future__ import annotations

import random
import re

from ..problem import Problem, Solution
from ._text import sentences

NAME = "word-problems"

_PEOPLE = {"Maya": "She", "Omar": "He", "Lena": "She", "Ravi": "He", "Ines": "She", "Kofi": "He", "Aiko": "She"}
_ITEMS = ("apples", "marbles", "stickers", "pencils", "coins", "cards", "shells", "stamps")

_START = re.compile(r"\b([A-Z][a-z]+) has (\d+) ([a-z]+)\.")
_CHANGE = re.compile(
    r"\b(?:She|He) (?:"
    r"buys (?P<more>\d+) more [a-z]+"
    r"|gives (?P<give>\d+) [a-z]+ to a friend"
    r"|buys (?P<boxes>\d+) boxes with (?P<each>\d+) [a-z]+ in each box"
    r"|(?P<double>doubles) the number of [a-z]+"
    r"|splits the [a-z]+ into (?P<groups>\d+) equal groups and keeps one group"
    r")\."
)
_QUESTION = re.compile(r"How many ([a-z]+) does ([A-Z][a-z]+) have now\?")


def make(rng: random.Random, difficulty: int) -> Problem:
    """Return a story of ``difficulty + 1`` changes and the final count."""
    name = rng.choice(sorted(_PEOPLE))
    she, items = _PEOPLE[name], rng.choice(_ITEMS)
    count = rng.randint(5, 10 + 10 * difficulty)
    sentences = [f"{name} has {count} {items}."]
    for _ in range(difficulty + 1):
        sentence, count = _change(rng, she, items, count, difficulty)
        sentences.append(sentence)
    sentences.append(f"How many {items} does {name} have now?")
    return Problem(" ".join(sentences), str(count))


def _change(rng: random.Random, she: str, items: str, count: int, difficulty: int) -> tuple[str, int]:
    """Return one sentence changing ``count`` and the new count."""
    top = 5 + 5 * difficulty
    divisors = [k for k in range(2, 7) if count % k == 0 and count // k >= 2]
    kinds = ["more", "boxes"] + (["give"] if count >= 3 else []) + (["double"] if count <= 60 else [])
    kinds += ["split"] * bool(divisors)
    kind = rng.choice(kinds)
    if kind == "more":
        k = rng.randint(2, top)
        return f"{she} buys {k} more {items}.", count + k
    if kind == "give":
        k = rng.randint(1, count - 1)
        return f"{she} gives {k} {items} to a friend.", count - k
    if kind == "boxes":
        b, k = rng.randint(2, 2 + difficulty), rng.randint(2, 12)
        return f"{she} buys {b} boxes with {k} {items} in each box.", count + b * k
    if kind == "double":
        return f"{she} doubles the number of {items}.", count * 2
    k = rng.choice(divisors)
    return f"{she} splits the {items} into {k} equal groups and keeps one group.", count // k


def solve(question: str) -> Solution | None:
    """Follow the story in ``question`` change by change, or return ``None``."""
    start, ask = _START.search(question), _QUESTION.search(question)
    if start is None or ask is None:
        return None
    changes = sentences(_CHANGE, question, start.end(), ask.start())
    if not changes:
        return None
    name, count, items = start.group(1), int(start.group(2)), start.group(3)
    steps = [f"{name} starts with {count} {items}."]
    for m in changes:
        count, step = _apply(m, count)
        if count is None:
            return None
        steps.append(step)
    steps.append(f"So {name} has {count} {items} now.")
    return Solution(steps, str(count))


def _apply(m: re.Match[str], count: int) -> tuple[int | None, str]:
    """Return the count after the change ``m`` describes, and the step that says so."""
    if m["more"]:
        k = int(m["more"])
        return count + k, f"Buying {k} more: {count} + {k} = {count + k}."
    if m["give"]:
        k = int(m["give"])
        return count - k, f"Giving {k} away: {count} - {k} = {count - k}."
    if m["boxes"]:
        b, k = int(m["boxes"]), int(m["each"])
        return count + b * k, f"{b} boxes of {k} hold {b} * {k} = {b * k}, so {count} + {b * k} = {count + b * k}."
    if m["double"]:
        return count * 2, f"Doubling: {count} * 2 = {count * 2}."
    k = int(m["groups"])
    if k == 0 or count % k:
        return None, ""
    return count // k, f"Splitting into {k} equal groups and keeping one: {count} / {k} = {count // k}."

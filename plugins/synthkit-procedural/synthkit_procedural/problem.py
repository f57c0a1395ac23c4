"""The two values every problem family trades in."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Problem", "Solution"]


class Problem(NamedTuple):
    """A generated problem and the answer known from how it was built.

    Attributes:
        text: the problem as a user would read it.
        answer: the canonical final answer, e.g. ``"42"``, ``"9/4"``, ``"Friday, 2023-04-28"``.
    """

    text: str
    answer: str


class Solution(NamedTuple):
    """A worked solution found by reading a problem's text.

    Attributes:
        steps: one line of reasoning per step, in order.
        answer: the final answer, in the same canonical form as :attr:`Problem.answer`.
    """

    steps: list[str]
    answer: str

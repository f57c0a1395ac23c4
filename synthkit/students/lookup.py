"""The ``lookup`` student: memorises answers, a baseline that needs no model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from synthkit.errors import InputError
from synthkit.interfaces import Student
from synthkit.records import Record

__all__ = ["LookupStudent"]


class LookupStudent(Student):
    """Answer a prompt seen in training with the response it was trained on, any other with the most common response.

    It learns nothing that carries over to new prompts, so it is the floor a real student
    must beat, and a fast student for testing loops. ``budget`` caps how many records it
    memorises (the first ones).
    """

    name = "lookup"

    def __init__(self) -> None:
        self._memory: dict[str, str] = {}
        self._default = ""

    def train(self, records: Sequence[Record], *, seed: int, budget: int) -> LookupStudent:
        """Memorise up to ``budget`` (prompt, response) pairs; ``seed`` is unused (it is deterministic)."""
        pairs = [(r.prompt, r.response) for r in records if r.prompt is not None and r.response is not None]
        if not pairs:
            msg = "the lookup student got no records with both a prompt and a response to train on"
            raise InputError(msg)
        trained = LookupStudent()
        trained._memory = dict(pairs[: max(budget, 0)])  # noqa: SLF001 - building a new instance of this class
        trained._default = Counter(a for _, a in pairs).most_common(1)[0][0]  # noqa: SLF001
        return trained

    def answer(self, prompts: Sequence[str]) -> list[str]:
        """Return the memorised response, or the most common one."""
        return [self._memory.get(p, self._default) for p in prompts]

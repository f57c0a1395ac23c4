"""A trained student used as a teacher, for recursive training (the student of round r teaches round r+1)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from synthkit.interfaces import Completion, Student, Teacher, Usage

__all__ = ["StudentTeacher"]


class StudentTeacher(Teacher):
    """A :class:`~synthkit.Teacher` that answers the last user message with a trained student.

    Every sample is the student's one answer (a student decodes greedily), so ``n > 1``
    repeats it.
    """

    name = "student"

    def __init__(self, student: Student) -> None:
        self.student = student
        self.model = f"student:{student.name}"

    async def complete(self, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        """Return the student's answer to the last user message, ``n`` times."""
        prompt = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
        (text,) = await asyncio.to_thread(self.student.answer, [prompt])
        usage = Usage(prompt_tokens=len(prompt.split()), completion_tokens=len(text.split()))
        return [Completion(text=text, usage=usage, model=self.model) for _ in range(n)]

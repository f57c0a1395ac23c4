"""A trained student used as a teacher, for recursive training (the student of round r teaches round r+1)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from synthkit.interfaces import Completion, Student, Teacher, Usage

__all__ = ["StudentTeacher"]


class _Batch:
    """The requests waiting for the student's next ``answer`` call (shared by a teacher's copies)."""

    def __init__(self) -> None:
        self.waiting: list[tuple[str, asyncio.Future[str]]] = []


class StudentTeacher(Teacher):
    """A :class:`~synthkit.Teacher` that answers the last user message with a trained student.

    Requests that arrive together (the pipeline's concurrent requests) are answered with
    one ``student.answer`` call, off the event loop. Every sample is the student's one
    answer (a student decodes greedily), so ``n > 1`` repeats it.
    """

    name = "student"

    def __init__(self, student: Student) -> None:
        self.student = student
        self.model = f"student:{student.name}"
        self._batch = _Batch()

    async def complete(self, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        """Return the student's answer to the last user message, ``n`` times."""
        prompt = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._batch.waiting.append((prompt, future))
        if len(self._batch.waiting) == 1:
            asyncio.ensure_future(self._answer_waiting())
        text = await future
        usage = Usage(prompt_tokens=len(prompt.split()), completion_tokens=len(text.split()))
        return [Completion(text=text, usage=usage, model=self.model) for _ in range(n)]

    async def _answer_waiting(self) -> None:
        await asyncio.sleep(0)  # let the requests sent at the same time join the batch
        batch = list(self._batch.waiting)
        del self._batch.waiting[:]
        try:
            answers = await asyncio.to_thread(self.student.answer, [p for p, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every waiting request fails with the student's error
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), text in zip(batch, answers):
            future.set_result(text)

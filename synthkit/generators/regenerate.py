"""Verify, then regenerate: a failed sample is asked for again with the failure reason.

:class:`Regenerate` is a generator step wrapping a :class:`~synthkit.Generate` and a
verifier. Each sample the generator makes is verified; one that fails is regenerated in
the same conversation (the rejected reply as the assistant's turn, then a user turn
holding the failure reason), up to ``attempts`` tries in all. The kept record carries
every rejected attempt in ``lineage.attempts`` (oldest first: response, reason, finish
reason, usage) and the passing verdict in ``lineage.verdicts``. A sample that still
fails after the last attempt is dropped (a :class:`~synthkit.Drop`) by this step: its
reject line holds the last response, every earlier attempt in its lineage, and the reason.

Example:
    >>> regen = Regenerate(Generate(teacher, template="cot"), get_verifier("math"), attempts=3)  # doctest: +SKIP
    >>> Pipeline("problems.jsonl").step(regen).run(sink="kept.jsonl", rejects="rejects.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from synthkit.interfaces import Context, Drop, Generator, Swap, Teacher, Verifier, copy_with
from synthkit.plugins import resolve
from synthkit.records import Lineage, Record, content_id

__all__ = ["Regenerate", "DEFAULT_FEEDBACK"]

#: The user turn sent after a rejected reply; ``{reason}`` is the verifier's reason.
DEFAULT_FEEDBACK = (
    "Your answer was checked and rejected: {reason}\n"
    "Correct it and answer again in the same format as before."
)


class Regenerate(Generator):
    """Generate, verify, and regenerate failures with the reason in the prompt.

    Args:
        generate: the :class:`~synthkit.Generate` step to run (its teacher, template,
            params and ``n`` are used).
        verifier: a verifier object or registered name.
        attempts: tries per sample in all, at least 1.
        feedback: the user turn after a rejected reply, with ``{reason}`` in it.
    """

    def __init__(
        self,
        generate: Any,
        verifier: Verifier | str,
        *,
        attempts: int = 3,
        feedback: str = DEFAULT_FEEDBACK,
        name: str | None = None,
    ) -> None:
        if attempts < 1:
            msg = f"attempts must be at least 1, got {attempts}"
            raise ValueError(msg)
        if "{reason}" not in feedback:
            msg = "feedback must contain '{reason}', where the failure reason goes"
            raise ValueError(msg)
        verifier = resolve("verifier", verifier)
        self.gen = generate
        self.verifier = verifier
        self.attempts = attempts
        self.feedback = feedback
        self.name = name or f"regenerate:{verifier.name}"

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record | Drop]:
        children = await self.gen.generate(record, ctx)
        base = self.gen.messages(record)
        return [await self._settle(record, child, base, i) for i, child in enumerate(children)]

    async def _settle(self, parent: Record, child: Record, base: list[dict[str, Any]], index: int) -> Record | Drop:
        gen = self.gen
        history: list[dict[str, Any]] = []
        conversation = list(base)
        for attempt in range(1, self.attempts + 1):
            verdict = await self.verifier.verify(child)
            if verdict.passed:
                lineage = attrs.evolve(child.lineage, attempts=tuple(history))
                return child.evolve(lineage=lineage).with_verdict(verdict)
            history.append(
                {
                    "attempt": attempt,
                    "response": child.response,
                    "reason": verdict.reason,
                    "finish_reason": child.lineage.finish_reason,
                    "usage": dict(child.lineage.usage),
                }
            )
            if attempt == self.attempts:
                lineage = attrs.evolve(child.lineage, attempts=tuple(history[:-1]))
                last = child.evolve(lineage=lineage).with_verdict(verdict)
                return Drop(last, f"{verdict.reason} (still failing after {self.attempts} attempts)")
            conversation += [
                {"role": "assistant", "content": child.response or ""},
                {"role": "user", "content": self.feedback.format(reason=verdict.reason)},
            ]
            completion = (await gen.teacher.complete(conversation, gen.params, n=1))[0]
            child = self._child(parent, child, completion, index, attempt + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    def _child(self, parent: Record, prev: Record, completion: Any, index: int, attempt: int) -> Record:
        gen = self.gen
        tmpl = gen.template
        cid = content_id(
            [parent.id, gen.teacher.name, completion.model or gen.teacher.model, tmpl.hash if tmpl is not None else None, gen.params, index, attempt]
        )
        lineage: Lineage = attrs.evolve(
            prev.lineage,
            model=completion.model or gen.teacher.model,
            finish_reason=completion.finish_reason,
            usage=completion.usage.to_dict(),
        )
        from synthkit.teachers.reasoning import completion_reasoning, with_reasoning

        reasoning, answer = completion_reasoning(completion)
        return prev.evolve(id=cid, response=answer, data=with_reasoning(prev.data, reasoning), lineage=lineage)

    async def aclose(self) -> None:
        await self.gen.aclose()
        await self.verifier.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        return (*self.gen.teachers(), *self.verifier.teachers())

    def with_teachers(self, swap: Swap) -> Regenerate:
        return copy_with(self, gen=self.gen.with_teachers(swap), verifier=self.verifier.with_teachers(swap))

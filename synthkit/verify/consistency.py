"""The ``self-consistency`` verifier: fresh samples must agree with the final answer.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any
from synthkit.interfaces import PromptTemplate, Swap, Teacher, Verifier, copy_with
from synthkit.plugins import resolve
from synthkit.teachers.cost import spent
from synthkit.templates.render import messages_for
from synthkit.records import Record, Verdict


__all__ = [
    "SelfConsistencyVerifier",
]


class SelfConsistencyVerifier(Verifier):
    """Samples ``k`` fresh answers; passes when at least ``q`` of them agree with the final answer.

    The final answer compared is the record's response's (without a response, the most
    common sampled answer, so the check is that the problem has a stable answer).

    Args:
        teacher: the model sampled (object or registered name; ``teacher_options`` build it).
        k: samples drawn (one request with ``n=k``).
        q: the share of samples that must agree, from 0 to 1.
        template: a template for the sampling prompt; default the record's prompt or messages.
        params: sampling parameters (default temperature 0.8).
        compare: ``"math"`` (final-answer equivalence) or ``"exact"`` (the final answers as text,
            whitespace and case ignored).
    """

    name = "self-consistency"

    def __init__(
        self,
        teacher: Teacher | str,
        *,
        k: int = 5,
        q: float = 0.6,
        template: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        compare: str = "math",
        teacher_options: Mapping[str, Any] | None = None,
    ) -> None:
        if k < 1 or not 0 < q <= 1:
            msg = f"self-consistency needs k >= 1 and 0 < q <= 1, got k={k}, q={q}"
            raise ValueError(msg)
        if compare not in ("math", "exact"):
            msg = f"compare must be 'math' or 'exact', got {compare!r}"
            raise ValueError(msg)
        self.teacher: Teacher = resolve("teacher", teacher, **dict(teacher_options or {}))
        self.k = k
        self.q = q
        self.template = None if template is None else resolve("template", template)
        self.params = dict(params if params is not None else {"temperature": 0.8})
        self.compare = compare

    def _same(self, reference: str, sample: str) -> bool:
        from synthkit.verify.math import equivalent, final_answer

        if self.compare == "math":
            return equivalent(reference, sample)[0]
        a = final_answer(sample)
        return a is not None and " ".join(a.split()).casefold() == " ".join(reference.split()).casefold()

    async def verify(self, record: Record) -> Verdict:
        from synthkit.verify.math import final_answer

        completions = await self.teacher.complete(messages_for(record, self.template, question_only=True), self.params, n=self.k)
        cost = spent(self.teacher, completions)
        samples = [c.text for c in completions]
        answers = [final_answer(s) for s in samples]
        if record.response is not None:
            reference = final_answer(record.response)
            if reference is None:
                return Verdict(self.name, False, "no final answer found in the response", 0.0, cost=cost)
            source = "the response's final answer"
        else:
            counts = collections.Counter(a for a in answers if a is not None)
            if not counts:
                return Verdict(self.name, False, f"none of the {self.k} samples has a final answer", 0.0, cost=cost)
            reference = counts.most_common(1)[0][0]
            source = "the most common sampled answer"
        agree = sum(self._same(reference, s) for s in samples)
        share = agree / len(samples) if samples else 0.0
        ok = share >= self.q
        rel = ">=" if ok else "<"
        return Verdict(
            self.name,
            ok,
            f"{agree}/{len(samples)} samples agree with {source} {reference!r} ({share:.0%} {rel} {self.q:.0%})",
            share,
            cost=cost,
        )

    async def aclose(self) -> None:
        await self.teacher.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        return self.teacher.teachers()

    def with_teachers(self, swap: Swap) -> SelfConsistencyVerifier:
        return copy_with(self, teacher=self.teacher.with_teachers(swap))


"""The ``judge`` verifier: an LLM judge scores the response against a rubric.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from synthkit.interfaces import PromptTemplate, Swap, Teacher, Verifier, copy_with
from synthkit.plugins import resolve
from synthkit.teachers.cost import spent
from synthkit.records import Record, Verdict
from synthkit.verify.quoting import quote_record, with_note, without_quotes


__all__ = [
    "JudgeVerifier",
    "parse_score",
]


_SCORE = re.compile(
    r"(?:score|rating|grade)\W{0,5}\s*(?:is\s*)?(-?\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?)|out of\s*(\d+))?", re.I
)


def parse_score(text: str, *, scale: float | None = None) -> float | None:
    """Return the last score in a judge's reply (``Score: 8/10``, ``"score": 8``...), or ``None``.

    A score written out of another scale (``4/5``) is rescaled to ``scale`` when one is given.

    >>> parse_score("Clear and correct.\\nScore: 8/10")
    8.0
    >>> parse_score("**Rating:** 4 out of 5", scale=10)
    8.0
    """
    matches = list(_SCORE.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    value = float(m.group(1))
    out_of = m.group(2) or m.group(3)
    if scale is not None and out_of is not None and float(out_of) not in (0, scale):
        value = value * scale / float(out_of)
    return value



class JudgeVerifier(Verifier):
    """An LLM judge scores the response with a rubric; passes at or above ``threshold``.

    Args:
        teacher: the judge model (object or registered name; ``teacher_options`` build it).
        threshold: the lowest passing score.
        rubric: the rubric text (default :data:`~synthkit.templates.strategies.DEFAULT_RUBRIC`).
        scale: the top of the score scale.
        template: a template (object or name) instead of the built-in ``judge`` one.
        params: sampling parameters (default temperature 0).

    The verdict's score is the judge's score; its reason is the score and the judge's reasons.
    The task and the response are quoted in the prompt (:mod:`~synthkit.verify.quoting`), so
    instructions written inside them are material to grade, not instructions to the judge.
    """

    name = "judge"

    def __init__(
        self,
        teacher: Teacher | str,
        *,
        threshold: float = 7,
        rubric: str | None = None,
        scale: int = 10,
        template: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        teacher_options: Mapping[str, Any] | None = None,
    ) -> None:
        from synthkit.templates.strategies import DEFAULT_RUBRIC, judge_template

        self.teacher: Teacher = resolve("teacher", teacher, **dict(teacher_options or {}))
        self.threshold = threshold
        self.scale = scale
        self.template = resolve("template", template) if template is not None else judge_template(rubric=rubric or DEFAULT_RUBRIC, scale=scale)
        self.params = dict(params if params is not None else {"temperature": 0})

    async def verify(self, record: Record) -> Verdict:
        if record.response is None:
            return Verdict(self.name, False, "the record has no response to judge")
        messages = self.messages(record)
        completions = await self.teacher.complete(messages, self.params, n=1)
        cost = spent(self.teacher, completions)
        reply = completions[0].text
        own = without_quotes(reply)  # a score inside quoted text the judge echoes is not its score
        score = parse_score(own, scale=self.scale)
        reasons = " ".join(re.sub(r"(?im)^\W*score\W.*$", "", own).split())[:400]
        if score is None:
            return Verdict(self.name, False, f"the judge's reply has no score: {reply[:200]!r}", cost=cost)
        ok = score >= self.threshold
        rel = ">=" if ok else "<"
        return Verdict(self.name, ok, f"judge score {score:g}/{self.scale} {rel} {self.threshold:g}: {reasons}", score, cost=cost)

    def messages(self, record: Record) -> list[dict[str, str]]:
        """The judge's prompt for ``record``: the template rendered with the task and the response quoted."""
        quoted, tags = quote_record(record)
        return with_note(self.template.render(quoted), tags)

    async def aclose(self) -> None:
        await self.teacher.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        return self.teacher.teachers()

    def with_teachers(self, swap: Swap) -> JudgeVerifier:
        return copy_with(self, teacher=self.teacher.with_teachers(swap))


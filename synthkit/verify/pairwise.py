"""The ``pairwise-judge`` verifier: an LLM judge compares the response with a baseline, in both orders.

A judge asked "which is better, A or B?" favours one position more often than chance. So
the question is asked twice, the response first as A, then as B, and only a verdict both
orders agree on is kept: the response passes when it wins both; when the two verdicts
disagree the record fails with the reason *position bias*, and no verdict counts. Both
responses and the task are quoted (:mod:`~synthkit.verify.quoting`), so instructions
written inside them are material to judge, not instructions to the judge.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from synthkit.interfaces import PromptTemplate, Swap, Teacher, Verifier, copy_with
from synthkit.plugins import resolve
from synthkit.records import Record, Verdict
from synthkit.teachers.cost import spent
from synthkit.templates.jinja import JinjaTemplate
from synthkit.verify.quoting import quote, quote_record, tag, with_note, without_quotes

__all__ = ["PAIRWISE", "PAIRWISE_SYSTEM", "PairwiseJudge", "pairwise_template", "parse_winner"]

PAIRWISE_SYSTEM = "You are a strict, fair judge comparing two responses to one task. You follow the rubric exactly."

PAIRWISE = """Compare the two responses to the task below with the rubric, and say which is better.

# Task
{{ prompt if prompt is not none else record.user_content() }}

# Response A
{{ response_a }}

# Response B
{{ response_b }}

{% if answer is defined %}
# Reference answer
{{ answer }}

{% endif %}
# Rubric
{{ rubric }}

Give your reasons in a few sentences. Then end with a last line of the form
Winner: A   or   Winner: B   or   Winner: tie"""

DEFAULT_RUBRIC = "The better response is correct, complete and clear; correctness comes first, then completeness, then clarity."

_WINNER = re.compile(r"(?:winner|better(?:\s+response)?|verdict)\W{0,5}\s*(?:is\s*)?(?:response\s*)?\b(A|B|tie)\b|\[\[(A|B|tie)\]\]", re.I)


def pairwise_template(*, rubric: str = DEFAULT_RUBRIC) -> JinjaTemplate:
    """The ``pairwise`` template: the task, ``response_a``, ``response_b`` (and ``answer``, if any), the rubric."""
    return JinjaTemplate(name="pairwise", user=PAIRWISE, system=PAIRWISE_SYSTEM, defaults={"rubric": rubric})


def parse_winner(text: str) -> str | None:
    """Return ``"A"``, ``"B"`` or ``"tie"`` from the last verdict line of a judge's reply, or ``None``.

    >>> parse_winner("B misses a case.\\nWinner: A")
    'A'
    >>> parse_winner("Both are fine. [[tie]]")
    'tie'
    """
    matches = list(_WINNER.finditer(text))
    if not matches:
        return None
    found = matches[-1].group(1) or matches[-1].group(2)
    return "tie" if found.lower() == "tie" else found.upper()


class PairwiseJudge(Verifier):
    """Passes a record when a judge prefers its response to its baseline with the two in either order.

    Args:
        teacher: the judge model (object or registered name; ``teacher_options`` build it).
        baseline_field: the data field holding the response to compare with.
        rubric: what makes a response better.
        template: a template (object or name) rendering ``response_a`` and ``response_b``.
        ties: whether a tie in both orders passes.
        params: sampling parameters (default temperature 0).
        teacher_options: options building ``teacher`` when it is a name.

    The verdict's score is 1 (wins both), 0.5 (ties both), 0 (loses both); when the two
    orders disagree it fails with no score and the reason says so.
    """

    name = "pairwise-judge"

    def __init__(
        self,
        teacher: Teacher | str,
        *,
        baseline_field: str = "baseline",
        rubric: str | None = None,
        template: PromptTemplate | str | None = None,
        ties: bool = False,
        params: Mapping[str, Any] | None = None,
        teacher_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.teacher: Teacher = resolve("teacher", teacher, **dict(teacher_options or {}))
        self.baseline_field = baseline_field
        self.template = resolve("template", template) if template is not None else pairwise_template(rubric=rubric or DEFAULT_RUBRIC)
        self.ties = ties
        self.params = dict(params if params is not None else {"temperature": 0})

    def messages(self, record: Record, first: str, second: str) -> list[dict[str, str]]:
        """The prompt putting ``first`` as response A and ``second`` as response B, every text quoted."""
        quoted, tags = quote_record(record, ("prompt",))
        data = {**quoted.data, "response_a": quote(first), "response_b": quote(second)}
        return with_note(self.template.render(quoted.evolve(data=data)), list(dict.fromkeys([*tags, tag(first), tag(second)])))

    async def _winner(self, record: Record, first: str, second: str) -> tuple[str | None, str, list[Any]]:
        completions = await self.teacher.complete(self.messages(record, first, second), self.params, n=1)
        own = without_quotes(completions[0].text)
        why = " ".join(re.sub(r"(?im)^\W*(winner|verdict)\W.*$", "", own).split())[:300]
        return parse_winner(own), why, list(completions)

    async def verify(self, record: Record) -> Verdict:
        baseline = record.data.get(self.baseline_field)
        if record.response is None or baseline is None:
            return Verdict(self.name, False, f"the record needs a response and a baseline in {self.baseline_field!r} to compare")
        (w1, why1, c1), (w2, why2, c2) = await asyncio.gather(
            self._winner(record, record.response, str(baseline)), self._winner(record, str(baseline), record.response)
        )
        cost = spent(self.teacher, [*c1, *c2])  # both orders' requests
        if w1 is None or w2 is None:
            why = "the judge's reply names no winner (a last line 'Winner: A', 'Winner: B' or 'Winner: tie')"
            return Verdict(self.name, False, why, cost=cost)
        as_a = {"A": "response", "B": "baseline", "tie": "tie"}[w1]
        as_b = {"A": "baseline", "B": "response", "tie": "tie"}[w2]
        if as_a != as_b:
            return Verdict(
                self.name, False,
                f"the judge's verdicts disagree when the two swap places (the {as_a} wins with the response as A, "
                f"the {as_b} with it as B): position bias, no verdict kept",
                cost=cost,
            )
        if as_a == "response":
            return Verdict(self.name, True, f"the response beats the baseline in both orders: {why1}", 1.0, cost=cost)
        if as_a == "tie":
            return Verdict(self.name, self.ties, f"a tie in both orders: {why1}", 0.5, cost=cost)
        return Verdict(self.name, False, f"the baseline beats the response in both orders: {why2}", 0.0, cost=cost)

    async def aclose(self) -> None:
        await self.teacher.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        return self.teacher.teachers()

    def with_teachers(self, swap: Swap) -> PairwiseJudge:
        return copy_with(self, teacher=self.teacher.with_teachers(swap))

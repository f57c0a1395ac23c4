"""The ``procedural`` teacher: makes problems of its own families, and solves them."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from synthkit import Completion, Lineage, Record, Teacher, Usage
from synthkit.errors import InputError, RecordError

from .families import levels, select, solve_any

__all__ = ["ProceduralTeacher"]


class ProceduralTeacher(Teacher):
    """A teacher that needs no model: it reads problems of its own families and works them out.

    ``complete`` answers the last user message with a step-by-step solution ending in
    ``Final answer: <answer>``. The problem may be wrapped in any template's instructions.

    Args:
        error_rate: the fraction of answers to get plausibly wrong on purpose, so a
            verifier has something to catch. Which ones is decided by ``seed``, the
            request's ``params["seed"]``, the message and the sample index.
        seed: seeds the choice of deliberate mistakes.
        think: write the steps as a reasoning model does, in a ``<think>...</think>`` block
            before ``Final answer: <answer>`` (synthkit keeps the block as the record's
            ``reasoning`` and the final-answer line as its ``response``).
    """

    name = "procedural"
    model = "procedural-v1"

    def __init__(self, error_rate: float = 0.0, seed: int = 0, think: bool = False) -> None:
        if not 0.0 <= error_rate <= 1.0:
            msg = f"error_rate must be between 0 and 1 for the procedural teacher, got {error_rate!r}"
            raise InputError(msg)
        self.error_rate = error_rate
        self.seed = seed
        self.think = think

    def problems(
        self,
        n: int,
        *,
        seed: int = 0,
        difficulty: int | Iterable[int] = 1,
        families: str | Iterable[str] | None = None,
    ) -> Iterator[Record]:
        """Return ``n`` problem records, the same ones for the same arguments.

        Each record has the problem as ``prompt`` and ``data`` holding ``answer``,
        ``family`` and ``difficulty``. Problem ``i`` depends only on ``seed`` and ``i``,
        so a longer run begins with the problems of a shorter one.

        Args:
            n: how many problems.
            seed: the seed of the whole set.
            difficulty: a level from 1 to 5, or a range or list of levels to draw from.
            families: the family names to draw from (default: all of them).

        Raises:
            InputError: an unknown family or a difficulty outside 1 to 5 (raised at once).
        """
        chosen, allowed = select(families), levels(difficulty)
        lineage = Lineage(origin="synthetic", teacher=self.name, model=self.model, seed=seed)

        def generate() -> Iterator[Record]:
            for i in range(n):
                rng = random.Random(f"synthkit-procedural/{seed}/{i}")
                family, level = rng.choice(chosen), rng.choice(allowed)
                problem = family.make(rng, level)
                data = {"answer": problem.answer, "family": family.name, "difficulty": level}
                yield Record.create(prompt=problem.text, data=data, lineage=lineage)

        return generate()

    async def complete(self, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        """Return ``n`` worked solutions to the problem in the last user message.

        Raises:
            RecordError: the message holds no problem this teacher can read (``kind="unparseable"``).
        """
        question = _last_user_message(messages)
        found = solve_any(question)
        if found is None:
            msg = (
                f"the procedural teacher found no problem it can solve in {question[:80]!r}; it solves only "
                "problems made by its own families (see ProceduralTeacher.problems)"
            )
            raise RecordError(msg, kind="unparseable")
        family, (steps, answer) = found
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completions = []
        for sample in range(n):
            rng = random.Random(f"{self.seed}/{params.get('seed')}/{question}/{sample}")
            if rng.random() < self.error_rate:
                wrong = family.slip(question, answer, rng)
                steps_out, answer_out = [*steps[:-1], _restate(steps[-1], answer, wrong)], wrong
            else:
                steps_out, answer_out = steps, answer
            if self.think:
                text = "<think>\n" + "\n".join(steps_out) + f"\n</think>\n\nFinal answer: {answer_out}"
            else:
                text = "\n".join([*steps_out, f"Final answer: {answer_out}"])
            usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=len(text.split()))
            completions.append(Completion(text=text, usage=usage, model=self.model))
        return completions


def _last_user_message(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def _restate(step: str, answer: str, wrong: str) -> str:
    """Return the last step with the wrong answer in place of the right one, so the slip shows."""
    return re.sub(rf"(?<![\w/.-]){re.escape(answer)}(?![\w/]|\.\d)", lambda _: wrong, step)

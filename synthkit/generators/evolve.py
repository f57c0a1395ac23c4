"""Evol-instruct: rewrite each record's prompt with a depth or breadth operator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from synthkit.generators.generate import child_of
from synthkit.interfaces import Context, Generator, Swap, Teacher, copy_with
from synthkit.plugins import resolve
from synthkit.records import Record
from synthkit.templates.strategies import DEPTH_OPERATORS, evol_template


__all__ = [
    "Evolve",
]


_REWRITTEN = re.compile(r"#?\s*Rewritten Prompt\s*#?\s*:?\s*", re.I)


class Evolve(Generator):
    """Evol-instruct: rewrite each record's prompt with a depth or breadth operator.

    Args:
        teacher: a teacher object or registered name.
        operators: operator names from :data:`EVOL_OPERATORS`; one is picked per record
            from the run seed, so a run is reproducible. ``"depth"`` stands for the four
            depth operators.
        params: sampling parameters.

    The child's ``prompt`` is the evolved prompt (no response); its data keeps the
    parent's data plus ``evol_operator``. A rewrite that is empty, unchanged, or still
    talks about "the given prompt" is dropped (evol-instruct's elimination step).
    """

    def __init__(
        self,
        teacher: Teacher | str,
        operators: Sequence[str] = ("depth", "breadth"),
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        ops: list[str] = []
        for op in operators:
            ops.extend(DEPTH_OPERATORS if op == "depth" else [op])
        self.templates = {op: evol_template(op) for op in ops}
        self.operators = ops
        self.teacher: Teacher = resolve("teacher", teacher)
        self.params = dict(params or {})
        self.name = "evol-instruct"

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record]:
        op = ctx.rng_for(record, self.name).choice(self.operators)
        tmpl = self.templates[op]
        completion = (await self.teacher.complete(tmpl.render(record), self.params, n=1))[0]
        text = _REWRITTEN.sub("", completion.text).strip()
        original = record.user_content().strip()
        if not text or text == original or "given prompt" in text.lower():
            return []
        data = {**record.data, "evol_operator": op}
        key = [self.name, self.teacher.name, completion.model or self.teacher.model, tmpl.hash, self.params, 0, text]
        return [
            child_of(
                record, completion, teacher=self.teacher, template=tmpl, params=self.params, ctx=ctx, step=self.name, key=key, prompt=text, data=data
            )
        ]

    async def aclose(self) -> None:
        await self.teacher.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        return self.teacher.teachers()

    def with_teachers(self, swap: Swap) -> Evolve:
        return copy_with(self, teacher=self.teacher.with_teachers(swap))


"""Self-instruct: show a seeded sample of seed tasks, ask for new ones, one record per new task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from synthkit.filters.novelty import seed_texts
from synthkit.generators.generate import child_of
from synthkit.interfaces import Context, Generator, PromptTemplate, Swap, Teacher, copy_with
from synthkit.plugins import resolve
from synthkit.records import Record
from synthkit.templates.strategies import self_instruct_template


__all__ = [
    "parse_tasks",
    "SelfInstruct",
]


_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*•]|Task\s*\d+\s*[:.])\s*(.+?)\s*$", re.I | re.M)


def parse_tasks(text: str) -> list[str]:
    """Return the tasks of a numbered (or bulleted) list, in order; blank ones are skipped."""
    return [t for t in (m.group(1).strip() for m in _NUMBERED.finditer(text)) if t]


class SelfInstruct(Generator):
    """Self-instruct: show a seeded sample of seed tasks and ask for new ones; one record per new task.

    Follow it with :class:`NoveltyFilter` (``.filter("novelty", seeds=...)``) to drop tasks
    too close to a seed or to each other.

    Args:
        teacher: a teacher object or registered name.
        seeds: the seed tasks (strings, records, or a JSONL path).
        examples: seed tasks shown per request (sampled per record from the run seed).
        num_tasks: new tasks asked for per request.
        params: sampling parameters (self-instruct samples at a high temperature).
        template: the template; default the registered ``self-instruct``.

    An input record whose data has ``seed_tasks`` uses those instead of a sample; any
    other record (for example from :meth:`rounds`) just triggers one request.
    """

    def __init__(
        self,
        teacher: Teacher | str,
        seeds: Iterable[str] | str | Path,
        *,
        examples: int = 4,
        num_tasks: int = 5,
        params: Mapping[str, Any] | None = None,
        template: PromptTemplate | None = None,
    ) -> None:
        self.teacher: Teacher = resolve("teacher", teacher)
        self.seeds = seed_texts(seeds)
        if not self.seeds:
            msg = "self-instruct needs at least one seed task"
            raise ValueError(msg)
        self.examples = examples
        self.params = dict(params if params is not None else {"temperature": 1.0})
        self.template = template or self_instruct_template(num_tasks=num_tasks)
        self.name = "self-instruct"

    @staticmethod
    def rounds(n: int) -> Iterator[Record]:
        """Yield ``n`` trigger records, one request each."""
        for i in range(n):
            yield Record.create(data={"round": i})

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record]:
        shown = record.data.get("seed_tasks")
        if shown is None:
            rng = ctx.rng_for(record, self.name)
            shown = rng.sample(self.seeds, min(self.examples, len(self.seeds)))
        rec = record.evolve(data={**record.data, "seed_tasks": list(shown)})
        messages = self.template.render(rec)
        completion = (await self.teacher.complete(messages, self.params, n=1))[0]
        tasks = parse_tasks(completion.text)
        return [
            child_of(
                record,
                completion,
                teacher=self.teacher,
                template=self.template,
                params=self.params,
                ctx=ctx,
                step=self.name,
                key=[self.name, self.teacher.name, completion.model or self.teacher.model, self.template.hash, self.params, i, task],
                charge=i == 0,
                prompt=task,
                data={"seed_tasks": list(shown)},
            )
            for i, task in enumerate(tasks)
        ]

    async def aclose(self) -> None:
        await self.teacher.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        return self.teacher.teachers()

    def with_teachers(self, swap: Swap) -> SelfInstruct:
        return copy_with(self, teacher=self.teacher.with_teachers(swap))


"""The basic generator: render a template, ask a teacher, make one child record per sample.

:func:`child_of` builds every generated record's lineage (teacher, model, template and its
hash, parameters, seed, parent, generation, finish reason, usage), for this generator and
every other one (self-instruct, evol-instruct, structured...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthkit.errors import SynthkitError
from synthkit.interfaces import Completion, Context, Drop, Generator, PromptTemplate, Swap, Teacher, copy_with
from synthkit.plugins import resolve
from synthkit.records import Lineage, Record, content_id
from synthkit.teachers.params import check_params
from synthkit.teachers.reasoning import completion_reasoning, with_reasoning
from synthkit.templates.render import messages_for

if TYPE_CHECKING:
    from synthkit.teachers.cost import CostEstimate

__all__ = ["Generate", "child_of", "inherited_costs"]


def inherited_costs(parent: Record) -> tuple[Any, ...]:
    """The ``lineage.costs`` a child of ``parent`` carries: the parent's, plus the parent's own requests.

    The parent's own requests are its ``usage`` and its regenerated ``attempts``; they become
    entries named after the parent, so the children of one parent share them and a sum
    over distinct ``request`` ids counts each once.
    """
    lin = parent.lineage
    own = [("usage", lin.usage), *((f"attempt {i}", a.get("usage")) for i, a in enumerate(lin.attempts))]
    out = list(lin.costs)
    for label, usage in own:
        if not usage or not (usage.get("prompt_tokens") or usage.get("completion_tokens") or usage.get("cost_usd")):
            continue
        out.append(
            {
                "request": content_id([parent.id, label]),
                "step": lin.template or "generate",
                "teacher": lin.teacher,
                "model": lin.model,
                "prompt_tokens": usage.get("prompt_tokens", 0),
                "completion_tokens": usage.get("completion_tokens", 0),
                "cost_usd": usage.get("cost_usd"),
                **({"batch": True} if usage.get("batch") else {}),
            }
        )
    return tuple(out)


def child_of(
    parent: Record,
    completion: Completion,
    *,
    teacher: Teacher,
    template: PromptTemplate | None,
    params: Mapping[str, Any],
    ctx: Context,
    step: str,
    key: Sequence[Any],
    charge: bool = True,
    **content: Any,
) -> Record:
    """Return the record a teacher's ``completion`` makes from ``parent``, with its lineage.

    Args:
        parent: the record it was made from.
        completion: the teacher's sample.
        teacher: who answered; its name (and model, unless the completion names one) go into lineage.
        template: the template that made the request, if any.
        params: the sampling parameters sent.
        ctx: the run context (the record's seed derives from it and ``step``).
        step: the generating step's name.
        key: what makes the child's id unique among its siblings (hashed with the parent's id).
        charge: give the child the completion's usage; ``False`` for the 2nd, 3rd... record cut
            from one completion (self-instruct's tasks), so a request is counted once.
        content: the child's fields (``prompt``, ``messages``, ``response``, ``data``);
            ``data`` defaults to the parent's.
    """
    lineage = Lineage(
        origin="synthetic",
        teacher=completion.teacher or teacher.name,
        model=completion.model or teacher.model,
        template=template.name if template is not None else None,
        template_hash=template.hash if template is not None else None,
        params=params,
        seed=ctx.seed_for(parent, step),
        parents=(parent.id,),
        generation=parent.lineage.generation + 1,
        finish_reason=completion.finish_reason,
        usage=completion.usage.to_dict() if charge else {},
        commands=parent.lineage.commands,
        costs=inherited_costs(parent),
    )
    content.setdefault("data", parent.data)
    return Record(id=content_id([parent.id, *key]), lineage=lineage, **content)


class Generate(Generator):
    """Render a template, ask a teacher, and make one child record per sample.

    Args:
        teacher: a :class:`~synthkit.Teacher` or a registered teacher name.
        template: a :class:`~synthkit.PromptTemplate`, a registered template name, or
            ``None`` to send the record's ``messages`` (or its ``prompt`` as one user message).
        params: sampling parameters (``temperature``, ``max_tokens``...), sent as given.
        n: samples per record (fan-out).
        cache: a SQLite file that keeps every response as it arrives, so a re-run (after
            a crash, or with more steps) re-pays nothing (see :class:`~synthkit.teachers.cache.CachedTeacher`).
        name: the step's name (default ``generate:<teacher>``).
        batch: ``True`` sends the requests through the provider's batch API (half the price,
            answers within 24 hours; needs ``cache``, where the batches are kept), ``"auto"``
            only when enough requests wait together (see :mod:`synthkit.teachers.batch`).
        batch_options: settings of batch mode (``poll_interval``, ``linger``, ``limits``,
            ``max_attempts``, ``auto_min``), for :class:`~synthkit.teachers.batch.BatchTeacher`.
    """

    def __init__(
        self,
        teacher: Teacher | str,
        template: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        n: int = 1,
        cache: str | Path | None = None,
        name: str | None = None,
        batch: bool | str = False,
        batch_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.teacher: Teacher = resolve("teacher", teacher)
        self.concurrency: int | None = None  # records the engine keeps in flight for this step (None: the plan's)
        if batch:
            from synthkit.teachers.batch import BatchTeacher

            if batch not in (True, "auto"):
                msg = f"batch must be True, False or 'auto', got {batch!r}"
                raise ValueError(msg)
            if cache is None:
                msg = "batch mode keeps its batches in the response cache, so it needs one: give cache='PATH.sqlite' (CLI: drop --no-cache)"
                raise SynthkitError(msg)
            self.teacher = BatchTeacher(self.teacher, cache, mode=batch, **dict(batch_options or {}))  # type: ignore[arg-type]
            self.concurrency = self.teacher.concurrency
        elif cache is not None:
            from synthkit.teachers.cache import CachedTeacher
            from synthkit.teachers.failover import FailoverTeacher

            if isinstance(self.teacher, FailoverTeacher):
                self.teacher = self.teacher.cached(cache)  # each teacher of the chain keeps its own entries
            else:
                self.teacher = CachedTeacher(self.teacher, cache)
        self.template: PromptTemplate | None = None if template is None else resolve("template", template)
        self.params = check_params(params)
        if n < 1:
            msg = f"n must be at least 1, got {n}"
            raise ValueError(msg)
        self.n = n
        self.name = name or f"generate:{self.teacher.name}"

    def messages(self, record: Record) -> list[dict[str, Any]]:
        """Return the messages sent for ``record``."""
        return messages_for(record, self.template)

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record | Drop]:
        messages = self.messages(record)
        completions = await self.teacher.complete(messages, self.params, n=self.n)
        tmpl = self.template
        msgs = record.messages if (record.messages or record.prompt is not None) else messages
        children = []
        for i, c in enumerate(completions):
            reasoning, answer = completion_reasoning(c)  # the answer alone is the response; the trace goes to data
            children.append(
                child_of(
                    record,
                    c,
                    teacher=self.teacher,
                    template=tmpl,
                    params=self.params,
                    ctx=ctx,
                    step=self.name,
                    key=[self.teacher.name, c.model or self.teacher.model, tmpl.hash if tmpl is not None else None, self.params, i],
                    prompt=record.prompt,
                    messages=msgs,
                    response=answer,
                    data=with_reasoning(record.data, reasoning),
                )
            )
        return children

    def estimate(self, source: Any) -> CostEstimate:
        """Estimate the requests, tokens and dollars of running this step on ``source``; send nothing.

        Samples already in this step's cache are not counted. Unreadable lines are skipped.
        """
        from synthkit.io.interchange import read_records
        from synthkit.teachers.cost import CostEstimate, estimate_tokens, price_of

        cache = getattr(self.teacher, "cache", None)
        keys_of = getattr(self.teacher, "keys", None)
        records = requests = prompt_tokens = hits = 0
        bound = self.params.get("max_tokens") or self.params.get("max_completion_tokens")
        for rec in read_records(source, on_bad_line="skip"):
            if not isinstance(rec, Record):
                continue
            records += 1
            messages = self.messages(rec)
            if cache is not None and keys_of is not None:
                found = len(cache.get_many(keys_of(messages, self.params, self.n)))
                hits += found
                if found == self.n:
                    continue
            requests += 1
            prompt_tokens += estimate_tokens(messages)
        per_sample = int(bound) if bound else 256
        completion_tokens = (records * self.n - hits) * per_sample
        meter = vars(self.teacher).get("cost") or getattr(getattr(self.teacher, "teacher", None), "cost", None)
        price = vars(self.teacher).get("price") or getattr(meter, "price", None) or price_of(self.teacher.model)  # batch mode: its batch price
        return CostEstimate(
            model=self.teacher.model,
            records=records,
            requests=requests,
            cached_samples=hits,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            completion_tokens_per_sample=per_sample,
            completion_tokens_assumed=not bound,
            cost_usd=None if price is None else price.cost(prompt_tokens, completion_tokens),
        )

    def teachers(self) -> tuple[Teacher, ...]:
        return self.teacher.teachers()

    def with_teachers(self, swap: Swap) -> Generate:
        return copy_with(self, teacher=self.teacher.with_teachers(swap))

    async def aclose(self) -> None:
        await self.teacher.aclose()


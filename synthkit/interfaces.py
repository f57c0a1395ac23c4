"""The interfaces every part implements.

Core steps: :class:`Generator` (async, may fan out), :class:`Filter` (sync, cheap,
may keep state such as a dedup index), :class:`Mixer` (several sources in, one
stream out). Plugin-supplied parts: :class:`Teacher`, :class:`PromptTemplate`,
:class:`Verifier`, :class:`Exporter`. What runs them is an
:class:`Engine`, given a :class:`~synthkit.pipeline.plan.Plan`.

A part that asks teachers says which (:meth:`Generator.teachers`) and can be copied
with other teachers (:meth:`Generator.with_teachers`), so an engine can hand a teacher
shared limits without touching the caller's objects.
"""

from __future__ import annotations

import abc
import copy
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs

from synthkit._frozen import freeze
from synthkit.records import Record, Verdict, content_id

if TYPE_CHECKING:
    from synthkit.pipeline.engine import ProgressReporter
    from synthkit.pipeline.plan import Plan
    from synthkit.pipeline.summary import Summary

__all__ = [
    "Message",
    "Usage",
    "Completion",
    "Context",
    "Teacher",
    "PromptTemplate",
    "Generator",
    "Filter",
    "Verifier",
    "Mixer",
    "MixReport",
    "Drop",
    "Engine",
    "Swap",
    "copy_with",
    "Exporter",
    "Student",
]

#: A chat message: ``{"role": "system" | "user" | "assistant", "content": str}``.
Message = Mapping[str, Any]

#: Replaces one teacher by another (an engine's way to hand teachers shared limits).
Swap = Callable[["Teacher"], "Teacher"]

_P = TypeVar("_P")


def copy_with(part: _P, **changes: Any) -> _P:
    """Return a shallow copy of a part with some attributes replaced; the original is left as it is.

    For :meth:`Generator.with_teachers` and its kin: ``copy_with(self, teacher=self.teacher.with_teachers(swap))``.
    """
    new = copy.copy(part)
    vars(new).update(changes)
    return new


@attrs.frozen
class Usage:
    """Token counts of one request, and its cost when the price is known."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    batch: bool = False  # answered through a provider's batch API (at its batch price)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}
        if self.cost_usd is not None:
            d["cost_usd"] = self.cost_usd
        if self.batch:
            d["batch"] = True
        return d


@attrs.frozen
class Completion:
    """One sample returned by a teacher.

    Attributes:
        text: the answer (without the model's reasoning).
        reasoning: the model's reasoning, when it returned any (see :mod:`synthkit.teachers.reasoning`).
        tool_calls: the tool calls the model asked for, in the OpenAI wire format
            (``{"id", "type": "function", "function": {"name", "arguments"}}``); empty for a text answer.
    """

    text: str
    finish_reason: str | None = "stop"
    usage: Usage = attrs.field(factory=Usage)
    model: str | None = None
    cached: bool = False
    reasoning: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = attrs.field(default=(), converter=freeze)
    teacher: str | None = None  # who answered, when a failover chain asked several teachers


@attrs.frozen
class Context:
    """Run-wide settings handed to every step.

    Attributes:
        seed: the run's seed; per-record randomness derives from it, so a run is
            reproducible whatever the concurrency.
    """

    seed: int = 0

    def seed_for(self, record: Record, step: str) -> int:
        """Return a 31-bit seed that depends only on the run seed, the record and the step."""
        return int(content_id([self.seed, record.id, step])[:8], 16) & 0x7FFFFFFF

    def rng_for(self, record: Record, step: str) -> random.Random:
        """Return a private random generator for one record at one step."""
        return random.Random(self.seed_for(record, step))


class Teacher(abc.ABC):
    """Produces completions for chat messages: an LLM client or a programmatic generator.

    Attributes:
        name: the registered plugin name (``"openai"``, ``"litellm"``...).
        model: the model the teacher calls.
    """

    name: ClassVar[str] = "teacher"
    model: str = ""

    @abc.abstractmethod
    async def complete(self, messages: Sequence[Message], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        """Return ``n`` completions for ``messages`` sampled with ``params``.

        Raises:
            RecordError: this request failed for good (kind and attempts set).
            FatalError: the run cannot go on (for example, :class:`AuthError`).
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections; called once when the run ends."""

    def teachers(self) -> tuple[Teacher, ...]:
        """This teacher and, for a wrapper (such as the cache), the teachers it wraps, outermost first."""
        return (self,)

    def with_teachers(self, swap: Swap) -> Teacher:
        """Return ``swap(self)``; a wrapper returns a copy of itself around ``inner.with_teachers(swap)``."""
        return swap(self)


class PromptTemplate(abc.ABC):
    """Turns a record into chat messages. Its :attr:`hash` goes into lineage."""

    name: str

    @property
    @abc.abstractmethod
    def hash(self) -> str:
        """A content hash of the template source."""

    @abc.abstractmethod
    def render(self, record: Record) -> list[dict[str, str]]:
        """Return the messages for ``record``.

        Raises:
            TemplateError: the record lacks a field the template uses.
        """


@attrs.frozen
class Drop:
    """Returned by a generator among its records to drop one sample with a reason.

    The pipeline counts it as dropped by the generator's step and writes ``record`` (with
    whatever lineage the generator gave it) to the rejects file.
    """

    record: Record
    reason: str


class Generator(abc.ABC):
    """An async step that turns one record into zero or more records."""

    name: str = "generator"

    @abc.abstractmethod
    async def generate(self, record: Record, ctx: Context) -> Sequence[Record]:
        """Return the records made from ``record`` (an empty list drops it).

        Among the records, a :class:`Drop` drops one sample with a
        reason (for example a sample that failed verification after its last attempt).

        Raises:
            RecordError: the record failed; any other exception fails it too.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources; called once when the run ends."""

    def teachers(self) -> tuple[Teacher, ...]:
        """Every teacher this part asks (wrapped ones included); none by default."""
        return ()

    def with_teachers(self: _P, swap: Swap) -> _P:
        """Return a copy that asks ``teacher.with_teachers(swap)`` instead of each of its teachers.

        A part without teachers returns itself. The original is left as it was.
        """
        return self


class Filter(abc.ABC):
    """A cheap synchronous check; may keep state (a dedup index), so it sees records in order.

    Attributes:
        stateful: ``True`` when a verdict depends on the records seen before (a dedup
            index, a growing novelty pool). An engine that runs filters in parallel
            (``ray``) runs a stateful filter in one place, over the records in input
            order; a stateless one anywhere.
        batch_size: how many records :meth:`check_batch` is best given at once, for a
            vectorised check whose cost per call is high (dedup); ``None`` (the default) leaves
            it to the engine (the local engine gives up to 256).

    A filter in two phases (exact and near dedup) also has ``prepare(records)`` (what depends on
    the records alone: hashes, signatures), ``decide(batch)`` (the verdicts, in input order)
    and ``preparer(records)``: ``prepare`` as a picklable call, which the local engine runs in
    a worker process while it decides the batch before.
    """

    name: str = "filter"
    stateful: ClassVar[bool] = False
    batch_size: ClassVar[int | None] = None

    @abc.abstractmethod
    def check(self, record: Record) -> Verdict:
        """Return whether ``record`` passes, with the reason."""

    def check_batch(self, records: Sequence[Record]) -> list[Verdict]:
        """Return one verdict per record, in order; override to vectorise."""
        return [self.check(r) for r in records]


class Verifier(abc.ABC):
    """An async check of a record's correctness (math, code, schema, judge...)."""

    name: str = "verifier"

    @abc.abstractmethod
    async def verify(self, record: Record) -> Verdict:
        """Return whether ``record`` is right, with the reason and, where it fits, a score."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources; called once when the run ends."""

    def teachers(self) -> tuple[Teacher, ...]:
        """Every teacher this part asks (wrapped ones included); none by default."""
        return ()

    def with_teachers(self: _P, swap: Swap) -> _P:
        """Return a copy that asks ``teacher.with_teachers(swap)`` instead of each of its teachers.

        A part without teachers returns itself. The original is left as it was.
        """
        return self


@attrs.frozen
class MixReport:
    """What a mixer produced against what it was asked for.

    Attributes:
        asked: the requested share of each source (by count or by tokens).
        produced: how many records (or tokens) of each source were emitted.
        unit: ``"records"`` or ``"tokens"``.
    """

    asked: Mapping[str, float]
    produced: Mapping[str, float]
    unit: str = "records"

    @property
    def shares(self) -> dict[str, float]:
        total = sum(self.produced.values()) or 1
        return {k: v / total for k, v in self.produced.items()}

    def __str__(self) -> str:
        parts = [
            f"{k}: {self.produced.get(k, 0):g} {self.unit} ({self.shares.get(k, 0):.1%}, asked {self.asked.get(k, 0):.1%})"
            for k in sorted(set(self.asked) | set(self.produced))
        ]
        return "mix " + "; ".join(parts)


class Mixer(abc.ABC):
    """Blends several named sources into one stream in stated proportions.

    The pipeline hands its own output as the source named ``"synthetic"``; the others
    (for example ``"real"``) are given when the mixer is added.
    """

    name: str = "mixer"

    @abc.abstractmethod
    def mix(self, sources: Mapping[str, Iterable[Record]], *, seed: int = 0) -> Iterator[Record]:
        """Yield the mixed stream; afterwards :attr:`report` says what was produced."""

    @property
    @abc.abstractmethod
    def report(self) -> MixReport:
        """What the last :meth:`mix` produced against what was asked."""


class Engine(abc.ABC):
    """Runs a :class:`~synthkit.pipeline.plan.Plan`: ``local`` (asyncio in this process) or a plugin's, such as ``ray``.

    An engine gives the output the local engine gives: kept records in input order in
    the sink, dropped and failed ones (with their reasons) in the rejects file, and the
    same :class:`~synthkit.pipeline.summary.Summary` counts. A
    :class:`~synthkit.pipeline.ledger.RunLedger` does that bookkeeping for every engine.

    Attributes:
        name: the registered engine name.
    """

    name: str = "engine"

    @abc.abstractmethod
    def run(
        self,
        plan: Plan,
        sink: str | Path | None = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        """Run ``plan`` to the end and return its summary.

        Args:
            plan: the source, steps, mix and settings.
            sink: the file for kept records (``None`` counts them only).
            rejects: JSONL file for dropped and failed records.
            progress: told of progress as records finish.

        Raises:
            FatalError: a step could not go on; everything finished before it is written,
                and the summary is on the exception as ``exc.summary``.
        """


class Exporter(abc.ABC):
    """Turns a record into one row of a trainer's dataset format (OpenAI chat, ShareGPT, Alpaca...).

    Attributes:
        name: the registered exporter name (``synthkit export --format NAME``).
    """

    name: str = "exporter"

    @abc.abstractmethod
    def convert(self, record: Record) -> dict[str, Any]:
        """Return the row for ``record``.

        Raises:
            RecordError: the format cannot express the record (no response, turns out of
                order...); ``kind`` is a short reason such as ``"no_response"``, counted in
                the export summary, and the record goes to the rejects file.
        """

    def rows(self, record: Record) -> list[dict[str, Any]]:
        """Return every row ``record`` makes: one (``convert``) unless the format unpairs records (KTO)."""
        return [self.convert(record)]


class Student(abc.ABC):
    """A model that learns from records and answers prompts, to measure what a data set teaches.

    ``train`` returns the trained student (``self`` or a new object); ``answer`` gives one
    response per prompt. synthkit scores the responses with its own verifiers
    (:func:`synthkit.students.evaluate`), so a student need not know how it is graded.
    """

    name: ClassVar[str] = "student"

    @abc.abstractmethod
    def train(self, records: Sequence[Record], *, seed: int, budget: int) -> Student:
        """Learn ``records`` (their ``prompt`` and ``response``) within ``budget`` (the student's unit, e.g. optimiser steps); return the trained student."""

    @abc.abstractmethod
    def answer(self, prompts: Sequence[str]) -> list[str]:
        """Return one response per prompt, in order."""

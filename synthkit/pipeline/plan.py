"""The plan: what a :class:`~synthkit.Pipeline` describes and an engine runs.

A :class:`Plan` is a frozen value: the source, the steps in order, an optional mix step
at the end, and the run settings. Steps are public types, so an engine (the built-in
``local`` one, ``ray``, a plugin's) dispatches on them without knowing the builder:

* :class:`GeneratorStep`: a :class:`~synthkit.Generator`, run on many records at once;
* :class:`VerifyStep`: a :class:`~synthkit.Verifier`, run on many records at once;
* :class:`FilterStep`: consecutive :class:`~synthkit.Filter` s, each over the survivors
  of the ones before, in input order;
* :class:`MixStep`: a :class:`~synthkit.Mixer` over the run's output and other sources.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Union

import attrs

from synthkit.interfaces import Context, Filter, Generator, Mixer, Swap, Teacher, Verifier
from synthkit.io.jsonl import OnBadLine
from synthkit._frozen import FrozenDict
from synthkit.records import Record

__all__ = ["FilterStep", "GeneratorStep", "MixStep", "OnBadLine", "Plan", "Source", "Step", "VerifyStep"]

#: What a pipeline reads: a JSONL or Parquet path, a ``Dataset``, a frame, or an (async) iterable of records.
Source = Union[str, Path, Iterable[Record], AsyncIterable[Record], Any]



@attrs.frozen
class GeneratorStep:
    """A generator: each record becomes zero or more records."""

    generator: Generator

    @property
    def name(self) -> str:
        return self.generator.name

    def teachers(self) -> tuple[Teacher, ...]:
        return self.generator.teachers()

    def with_teachers(self, swap: Swap) -> GeneratorStep:
        return GeneratorStep(self.generator.with_teachers(swap))


@attrs.frozen
class VerifyStep:
    """A verifier: its verdict joins the lineage; a failing record is dropped."""

    verifier: Verifier

    @property
    def name(self) -> str:
        return self.verifier.name

    def teachers(self) -> tuple[Teacher, ...]:
        return self.verifier.teachers()

    def with_teachers(self, swap: Swap) -> VerifyStep:
        return VerifyStep(self.verifier.with_teachers(swap))


@attrs.frozen
class FilterStep:
    """Consecutive filters, run as one stage: each sees the survivors of the ones before, in order."""

    filters: tuple[Filter, ...] = attrs.field(converter=tuple)

    @property
    def name(self) -> str:
        return self.filters[0].name

    def teachers(self) -> tuple[Teacher, ...]:
        return ()

    def with_teachers(self, swap: Swap) -> FilterStep:
        return self


#: One step of a plan.
Step = Union[GeneratorStep, VerifyStep, FilterStep]


@attrs.frozen
class MixStep:
    """Blend the run's output (the source named ``"synthetic"``) with other named sources.

    Records of the run the mixer does not pick are dropped with the reason ``not selected
    by the mixer``: counted in the summary and written to the rejects file.
    """

    mixer: Mixer
    sources: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=FrozenDict)

    @property
    def name(self) -> str:
        return f"mix:{self.mixer.name}"


@attrs.frozen
class Plan:
    """A frozen description of a run: source, steps, an optional mix, and settings.

    Attributes:
        source: what the run reads (see :func:`~synthkit.io.interchange.read_records`).
        steps: the steps in order.
        mix: the mix step at the end, or ``None``.
        seed: the run's seed; per-record randomness derives from it.
        concurrency: records in flight at once in each generator or verifier step.
        on_bad_line: ``"stop"`` or ``"skip"`` at a malformed source line.
        queue_size: capacity of the queues between steps.
        grace: seconds the records in flight get to finish after a stop (budget, signal,
            fatal error) before they are abandoned; what arrives in that time is kept.
        hold: finished records a step keeps in memory while an earlier one is still in
            flight; more are spilled to a temporary file, so one slow request never stalls the rest.
        command: the command line that runs the plan, if any; kept records carry it in
            ``lineage.commands`` (run metadata for the dataset card).
    """

    source: Source
    steps: tuple[Step, ...] = attrs.field(default=(), converter=tuple)
    mix: MixStep | None = None
    seed: int = 0
    concurrency: int = 16
    on_bad_line: OnBadLine = "stop"
    queue_size: int = 256
    grace: float = 30.0
    hold: int = 10_000
    command: str | None = None

    @property
    def context(self) -> Context:
        """The run-wide settings handed to every step."""
        return Context(seed=self.seed)

    def teachers(self) -> Iterator[Teacher]:
        """Yield every teacher the steps ask (wrappers and what they wrap), each once, in step order."""
        seen: set[int] = set()
        for step in self.steps:
            for teacher in step.teachers():
                if id(teacher) not in seen:
                    seen.add(id(teacher))
                    yield teacher

    def with_teachers(self, swap: Swap) -> Plan:
        """Return a copy whose steps ask ``swap(t)`` instead of each teacher ``t``; this plan is unchanged."""
        return attrs.evolve(self, steps=tuple(step.with_teachers(swap) for step in self.steps))

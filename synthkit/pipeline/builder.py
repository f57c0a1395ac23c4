"""The pipeline builder: compose steps in a few lines, get a frozen :class:`~synthkit.pipeline.plan.Plan`, run it on an engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from synthkit.interfaces import Engine, Filter, Generator, Mixer, PromptTemplate, Teacher, Verifier
from synthkit.io.jsonl import OnBadLine
from synthkit.pipeline.engine import ProgressReporter, Sink
from synthkit.pipeline.plan import FilterStep, GeneratorStep, MixStep, Plan, Source, Step, VerifyStep
from synthkit.pipeline.summary import Summary
from synthkit.plugins import resolve

__all__ = ["Pipeline"]


class Pipeline:
    """A streaming pipeline, composed step by step: source -> generators, verifiers, filters -> optional mix -> sink.

    Args:
        source: a JSONL or Parquet path, a Hugging Face ``Dataset``, a pandas or polars
            ``DataFrame`` (see :func:`~synthkit.io.interchange.read_records`), or an iterable or
            async iterable of :class:`~synthkit.Record`.
        seed: the run's seed; per-record randomness derives from it.
        concurrency: records in flight at once in each generator or verifier step.
        on_bad_line: for a JSONL source, ``"stop"`` at a malformed line (error names
            file and line) or ``"skip"`` it, counting it as failed.
        queue_size: capacity of the queues between steps.
        grace: seconds the records in flight get to finish after a stop (a budget reached,
            Ctrl-C, SIGTERM, a fatal error); what arrives in that time is cached and kept.
        hold: finished records a step holds in memory while an earlier one waits on a slow
            request (more spill to a temporary file).
        command: the command line this run stands for (the CLI gives its own); kept records
            carry it in ``lineage.commands``.

    Every input is accounted for: kept, dropped (by which step, with the reason) or failed
    (with the error kind). :meth:`plan` returns what an engine runs.

    Example:
        >>> summary = Pipeline("in.jsonl").generate("openai", template="cot").verify("math").run(sink="out.jsonl")  # doctest: +SKIP
    """

    def __init__(
        self,
        source: Source,
        *,
        seed: int = 0,
        concurrency: int = 16,
        on_bad_line: OnBadLine = "stop",
        queue_size: int = 256,
        grace: float = 30.0,
        hold: int = 10_000,
        command: str | None = None,
    ) -> None:
        if concurrency < 1:
            msg = f"concurrency must be at least 1, got {concurrency}"
            raise ValueError(msg)
        if grace < 0 or hold < 1:
            msg = f"grace must be >= 0 and hold >= 1, got grace={grace}, hold={hold}"
            raise ValueError(msg)
        self.source = source
        self.seed = seed
        self.concurrency = concurrency
        self.on_bad_line = on_bad_line
        self.queue_size = queue_size
        self.grace = grace
        self.hold = hold
        self.command = command
        self._steps: list[Step] = []
        self._mix: MixStep | None = None

    # -- composition -------------------------------------------------------------------

    def generate(
        self,
        teacher: Teacher | str,
        template: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        n: int = 1,
        cache: str | Path | None = None,
    ) -> Pipeline:
        """Add a :class:`~synthkit.generators.generate.Generate` step (``cache``: a SQLite file of responses, for resuming)."""
        from synthkit.generators.generate import Generate

        return self.step(Generate(teacher, template, params, n=n, cache=cache))

    def verify(self, verifier: Verifier | str, **options: Any) -> Pipeline:
        """Add a verifier (an object, or a registered name built with ``options``)."""
        return self.step(resolve("verifier", verifier, **options))

    def filter(self, filt: Filter | str, **options: Any) -> Pipeline:
        """Add a filter (an object, or a registered name built with ``options``)."""
        return self.step(resolve("filter", filt, **options))

    def step(self, step: Generator | Filter | Verifier) -> Pipeline:
        """Add any generator, filter or verifier; consecutive filters run as one stage."""
        if isinstance(step, Generator):
            self._steps.append(GeneratorStep(step))
        elif isinstance(step, Verifier):
            self._steps.append(VerifyStep(step))
        elif isinstance(step, Filter):
            last = self._steps[-1] if self._steps else None
            if isinstance(last, FilterStep):
                self._steps[-1] = FilterStep((*last.filters, step))
            else:
                self._steps.append(FilterStep((step,)))
        else:
            msg = f"a pipeline step must be a Generator, Filter or Verifier, got {type(step).__name__}"
            raise TypeError(msg)
        return self

    def mix(self, mixer: Mixer | str, *, sources: Mapping[str, Any] | None = None, **options: Any) -> Pipeline:
        """Blend the pipeline's output (source ``"synthetic"``) with other sources at the end.

        Args:
            mixer: a :class:`~synthkit.Mixer` or a registered mixer name built with ``options``.
            sources: the other sources by name, e.g. ``{"real": "real.jsonl"}``; each a
                JSONL or Parquet path or an iterable of records.

        The pipeline's output is spooled to a temporary file before mixing, so memory
        stays bounded by what the mixer itself holds. Records the mixer does not pick are
        dropped (``not selected by the mixer``) and written to the rejects file.
        """
        self._mix = MixStep(resolve("mixer", mixer, **options), dict(sources or {}))
        return self

    # -- recipes -----------------------------------------------------------------------

    @classmethod
    def from_recipe(cls, recipe: Any, *, command: str | None = None) -> Pipeline:
        """Return the pipeline a recipe file (or a read :class:`~synthkit.recipes.Recipe`) describes.

        Its sink, rejects file and engine are on the recipe: ``synthkit.recipes.read_recipe(path)``,
        or run it all with :func:`synthkit.recipes.run_recipe`. Errors name the file, line and column.
        """
        from synthkit.recipes.recipe import read_recipe

        if isinstance(recipe, (str, Path)):
            recipe = read_recipe(recipe)
        pipe = cls(recipe.source, command=command, **recipe.settings)
        for step in recipe.steps:
            pipe.step(step)
        if recipe.mix is not None:
            mixer, sources = recipe.mix
            pipe.mix(mixer, sources=sources)
        return pipe

    def to_recipe(
        self,
        path: str | Path | None = None,
        *,
        sink: Sink = None,
        rejects: str | Path | None = None,
        engine: Engine | str = "local",
        then: Sequence[Any] = (),
    ) -> str:
        """Return this pipeline as the text of a recipe file (and write it to ``path`` if given).

        Every part must have been built by name (``.verify("math")``, ``sk.get_teacher(...)``,
        :func:`synthkit.recipes.generator`); API keys are never written. ``then`` are the
        file commands to run after it (:func:`synthkit.recipes.stage`), written as the recipe's ``then:``.
        """
        from synthkit.recipes.describe import describe_plan, recipe_text

        text = recipe_text(describe_plan(self.plan(), sink=sink, rejects=rejects, engine=engine, then=then))
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # -- the plan and running it -------------------------------------------------------

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps so far, in order."""
        return tuple(self._steps)

    def plan(self) -> Plan:
        """Return the frozen plan of this pipeline: what an engine runs."""
        return Plan(
            source=self.source,
            steps=tuple(self._steps),
            mix=self._mix,
            seed=self.seed,
            concurrency=self.concurrency,
            on_bad_line=self.on_bad_line,
            queue_size=self.queue_size,
            grace=self.grace,
            hold=self.hold,
            command=self.command,
        )

    def run(
        self,
        sink: Sink = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
        engine: Engine | str = "local",
    ) -> Summary:
        """Run to the end and return the :class:`~synthkit.pipeline.summary.Summary`.

        Args:
            sink: file for kept records, Parquet for ``.parquet``, else JSONL (``None``
                discards them; counts still kept).
            rejects: JSONL file for dropped and failed records, each with a ``reject`` object.
            progress: told of progress as records finish.
            engine: what runs the plan: ``"local"`` (this process), a registered engine
                name such as ``"ray"`` (from ``synthkit-ray``), or an :class:`~synthkit.Engine`.
                Every engine writes the same output.

        Raises:
            FatalError: a step could not go on (e.g. a rejected API key); everything
                finished before it is written. :class:`~synthkit.errors.BudgetExceeded` does
                not raise: the run stops cleanly and ``summary.stopped`` says why. The
                summary is on the exception as ``exc.summary``.
        """
        return resolve("engine", engine).run(self.plan(), sink, rejects=rejects, progress=progress)

    async def arun(
        self,
        sink: Sink = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        """Run on the local engine inside a running event loop; see :meth:`run`."""
        from synthkit.pipeline.local import LocalEngine

        return await LocalEngine().arun(self.plan(), sink, rejects=rejects, progress=progress)

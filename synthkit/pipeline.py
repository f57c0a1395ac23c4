"""The streaming pipeline: source -> generators, verifiers, filters -> optional mixer -> sink.

Records stream through bounded queues, so memory does not depend on the data size.
Generators and verifiers run up to ``concurrency`` records at a time; filters see
records one by one in input order (they may keep state, such as a dedup index). The
output order equals the input order whatever the concurrency, so a run is
deterministic for a given seed. Every input is accounted for: kept, dropped (by which
step, with the reason) or failed (with the error kind).
"""

from __future__ import annotations

import asyncio
import collections
import re
import tempfile
import time
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from .errors import BudgetExceeded, FatalError, InputError, RecordError, TemplateError
from .interchange import check_source, is_table_source, open_writer, read_records
from .interfaces import (
    Context,
    Engine,
    Filter,
    Generator,
    Mixer,
    MixReport,
    PromptTemplate,
    Teacher,
    Verifier,
)
from .jsonl import BadLine, JsonlWriter, OnBadLine, iter_records
from .records import Lineage, Record, Verdict, content_id

__all__ = ["Pipeline", "Generate", "Drop", "Summary", "Outcome", "ProgressReporter", "apply_filters", "run_step"]

_END = object()


@attrs.frozen
class Drop:
    """Returned by a generator among its records to drop one sample with a reason.

    The pipeline counts it as dropped by the generator's step and writes ``record`` (with
    whatever lineage the generator gave it) to the rejects file.
    """

    record: Record
    reason: str


@attrs.frozen
class Outcome:
    """A record that left the pipeline before the sink: dropped or failed."""

    status: str  # "dropped" | "failed"
    step: str
    reason: str
    record: Record | None
    kind: str = ""
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        d = self.record.to_dict() if self.record is not None else {}
        d["reject"] = {
            "status": self.status,
            "step": self.step,
            "reason": self.reason,
            "kind": self.kind,
            "attempts": self.attempts,
        }
        return d


_VOLATILE = re.compile(r"'[^']*'|\"[^\"]*\"|\b[0-9a-f]{8,}\b|-?\d+(?:\.\d+)?(?:/\d+)?")


def reason_key(reason: str) -> str:
    """Return ``reason`` with ids, numbers and quoted values masked, so like reasons count together."""
    return _VOLATILE.sub("#", reason)[:120]


@attrs.define
class Summary:
    """Counts of a run. ``inputs + expanded == kept + dropped + failed`` when the run completes.

    Attributes:
        inputs: records read from the source (bad lines included).
        expanded: extra records made by generators that fan out (n outputs add n - 1).
        kept: records written to the sink.
        dropped: counts per (step, reason) of records a filter or verifier rejected.
        failed: counts per (step, error kind) of records a step failed on.
        stopped: why the run stopped early, or ``None``.
        mix: what the mixer produced against what it was asked.
        mixed_in: records the mixer added from its other sources.
    """

    inputs: int = 0
    expanded: int = 0
    kept: int = 0
    dropped: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    failed: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    stopped: str | None = None
    mix: MixReport | None = None
    mixed_in: int = 0
    started: float = attrs.Factory(time.monotonic)
    elapsed: float = 0.0

    @property
    def n_dropped(self) -> int:
        return sum(self.dropped.values())

    @property
    def n_failed(self) -> int:
        return sum(self.failed.values())

    @property
    def balanced(self) -> bool:
        """Whether every record is accounted for."""
        return self.inputs + self.expanded == self.kept + self.n_dropped + self.n_failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "expanded": self.expanded,
            "kept": self.kept,
            "dropped": [{"step": s, "reason": r, "count": n} for (s, r), n in self.dropped.most_common()],
            "failed": [{"step": s, "kind": k, "count": n} for (s, k), n in self.failed.most_common()],
            "stopped": self.stopped,
            "mixed_in": self.mixed_in,
            "mix": None if self.mix is None else {"asked": dict(self.mix.asked), "produced": dict(self.mix.produced)},
            "elapsed_s": round(self.elapsed, 3),
        }

    def __str__(self) -> str:
        head = (
            f"{self.inputs} inputs -> {self.kept} kept, {self.n_dropped} dropped, {self.n_failed} failed"
            f" ({self.elapsed:.1f} s)"
        )
        if self.expanded:
            head += f"; generators added {self.expanded}"
        lines = [head]
        rows = [("dropped", s, r, n) for (s, r), n in self.dropped.most_common()]
        rows += [("failed", s, k, n) for (s, k), n in self.failed.most_common()]
        if rows:
            w1 = max(len(r[1]) for r in rows)
            w2 = max(len(r[2]) for r in rows)
            lines += [f"  {a:<7}  {s:<{w1}}  {r:<{w2}}  {n:>7}" for a, s, r, n in rows]
        if self.mix is not None:
            lines.append(f"  {self.mix}" + (f" (+{self.mixed_in} from other sources)" if self.mixed_in else ""))
        if self.stopped:
            lines.append(f"  stopped early: {self.stopped}")
        return "\n".join(lines)


class ProgressReporter(Protocol):
    """Told of progress as records finish; see :mod:`synthkit.progress` for a live bar."""

    def update(self, summary: Summary) -> None: ...

    def close(self, summary: Summary) -> None: ...


class Generate(Generator):
    """Render a template, ask a teacher, and make one child record per sample.

    Args:
        teacher: a :class:`Teacher` or a registered teacher name.
        template: a :class:`PromptTemplate`, a registered template name, or ``None`` to
            send the record's ``messages`` (or its ``prompt`` as one user message).
        params: sampling parameters (``temperature``, ``max_tokens``...), sent as given.
        n: samples per record (fan-out).
        cache: a SQLite file that keeps every response as it arrives, so a re-run (after
            a crash, or with more steps) re-pays nothing (see :class:`~synthkit.cache.CachedTeacher`).
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
    ) -> None:
        from .plugins import get_teacher, get_template

        self.teacher = get_teacher(teacher) if isinstance(teacher, str) else teacher
        if cache is not None:
            from .cache import CachedTeacher

            self.teacher = CachedTeacher(self.teacher, cache)
        self.template = get_template(template) if isinstance(template, str) else template
        self.params = dict(params or {})
        if n < 1:
            msg = f"n must be at least 1, got {n}"
            raise ValueError(msg)
        self.n = n
        self.name = name or f"generate:{self.teacher.name}"

    def messages(self, record: Record) -> list[dict[str, Any]]:
        """Return the messages sent for ``record``."""
        if self.template is not None:
            return self.template.render(record)
        if record.messages:
            return [dict(m) for m in record.messages]
        if record.prompt is not None:
            return [{"role": "user", "content": record.prompt}]
        msg = f"record {record.id} has neither 'prompt' nor 'messages'; add one, or give a template that uses its fields"
        raise TemplateError(msg)

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record]:
        messages = self.messages(record)
        completions = await self.teacher.complete(messages, self.params, n=self.n)
        tmpl = self.template
        children = []
        for i, c in enumerate(completions):
            lineage = Lineage(
                origin="synthetic",
                teacher=self.teacher.name,
                model=c.model or self.teacher.model,
                template=tmpl.name if tmpl is not None else None,
                template_hash=tmpl.hash if tmpl is not None else None,
                params=self.params,
                seed=ctx.seed_for(record, self.name),
                parents=(record.id,),
                generation=record.lineage.generation + 1,
                finish_reason=c.finish_reason,
                usage=c.usage.to_dict(),
            )
            cid = content_id([record.id, self.teacher.name, lineage.model, lineage.template_hash, self.params, i])
            msgs = record.messages if (record.messages or record.prompt is not None) else messages
            children.append(
                Record(id=cid, prompt=record.prompt, messages=msgs, response=c.text, data=record.data, lineage=lineage)
            )
        return children

    async def aclose(self) -> None:
        await self.teacher.aclose()


class _VerifyStep:
    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.name = verifier.name


class _FilterStep:
    """Consecutive filters, run in one stage: each sees the survivors of the ones before, in order."""

    def __init__(self, filt: Filter) -> None:
        self.filters = [filt]
        self.name = filt.name


def _fail(step: str, record: Record | None, exc: BaseException) -> Outcome:
    if isinstance(exc, RecordError):
        return Outcome("failed", step, str(exc), record, kind=exc.kind, attempts=exc.attempts)
    if isinstance(exc, TemplateError):
        return Outcome("failed", step, str(exc), record, kind="template")
    return Outcome("failed", step, f"{type(exc).__name__}: {exc}", record, kind=type(exc).__name__)


class Pipeline:
    """A streaming pipeline, composed step by step.

    Args:
        source: a JSONL or Parquet path, a Hugging Face ``Dataset``, a pandas or polars
            ``DataFrame`` (see :func:`~synthkit.interchange.read_records`), or an iterable or
            async iterable of :class:`Record`.
        seed: the run's seed; per-record randomness derives from it.
        concurrency: records in flight at once in each generator or verifier step.
        on_bad_line: for a JSONL source, ``"stop"`` at a malformed line (error names
            file and line) or ``"skip"`` it, counting it as failed.
        queue_size: capacity of the queues between steps.

    Example:
        >>> summary = Pipeline("in.jsonl").generate("openai", template="cot").verify("math").run(sink="out.jsonl")
    """

    def __init__(
        self,
        source: str | Path | Iterable[Record] | AsyncIterable[Record],
        *,
        seed: int = 0,
        concurrency: int = 16,
        on_bad_line: OnBadLine = "stop",
        queue_size: int = 256,
    ) -> None:
        if concurrency < 1:
            msg = f"concurrency must be at least 1, got {concurrency}"
            raise ValueError(msg)
        self.source = source
        self.ctx = Context(seed=seed)
        self.concurrency = concurrency
        self.on_bad_line = on_bad_line
        self.queue_size = queue_size
        self.steps: list[Any] = []
        self._mixer: tuple[Mixer, dict[str, Any]] | None = None
        self._fatal: BaseException | None = None

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
        """Add a :class:`Generate` step (``cache``: a SQLite file of responses, for resuming)."""
        return self.step(Generate(teacher, template, params, n=n, cache=cache))

    def verify(self, verifier: Verifier | str, **options: Any) -> Pipeline:
        """Add a verifier (an object, or a registered name built with ``options``)."""
        if isinstance(verifier, str):
            from .plugins import get_verifier

            verifier = get_verifier(verifier, **options)
        return self.step(verifier)

    def filter(self, filt: Filter | str, **options: Any) -> Pipeline:
        """Add a filter (an object, or a registered name built with ``options``)."""
        if isinstance(filt, str):
            from .plugins import get_filter

            filt = get_filter(filt, **options)
        return self.step(filt)

    def step(self, step: Generator | Filter | Verifier) -> Pipeline:
        """Add any generator, filter or verifier."""
        if isinstance(step, Generator):
            self.steps.append(step)
        elif isinstance(step, Verifier):
            self.steps.append(_VerifyStep(step))
        elif isinstance(step, Filter):
            if self.steps and isinstance(self.steps[-1], _FilterStep):
                self.steps[-1].filters.append(step)
            else:
                self.steps.append(_FilterStep(step))
        else:
            msg = f"a pipeline step must be a Generator, Filter or Verifier, got {type(step).__name__}"
            raise TypeError(msg)
        return self

    def mix(self, mixer: Mixer | str, *, sources: Mapping[str, Any] | None = None, **options: Any) -> Pipeline:
        """Blend the pipeline's output (source ``"synthetic"``) with other sources at the end.

        Args:
            mixer: a :class:`Mixer` or a registered mixer name built with ``options``.
            sources: the other sources by name, e.g. ``{"real": "real.jsonl"}``; each a
                JSONL path or an iterable of records.

        The pipeline's output is spooled to a temporary file before mixing, so memory
        stays bounded by what the mixer itself holds.
        """
        if isinstance(mixer, str):
            from .plugins import get_mixer

            mixer = get_mixer(mixer, **options)
        self._mixer = (mixer, dict(sources or {}))
        return self

    # -- running -----------------------------------------------------------------------

    def run(
        self,
        sink: str | Path | None = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
        engine: Engine | str = "local",
    ) -> Summary:
        """Run to the end and return the :class:`Summary` (see :meth:`arun`).

        Args:
            engine: what runs the pipeline: ``"local"`` (this process, :meth:`arun`), a
                registered engine name such as ``"ray"`` (from ``synthkit-ray``), or an
                :class:`~synthkit.Engine`. Every engine writes the same output.
        """
        from .engines import resolve_engine

        return resolve_engine(engine).run(self, sink, rejects=rejects, progress=progress)

    async def arun(
        self,
        sink: str | Path | None = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        """Run to the end.

        Args:
            sink: file for kept records, Parquet for ``.parquet``, else JSONL (``None``
                discards them; counts still kept).
            rejects: JSONL file for dropped and failed records, each with a ``reject`` object.
            progress: told of progress as records finish.

        Raises:
            FatalError: a step could not go on (e.g. a rejected API key); everything
                finished before it is written. :class:`BudgetExceeded` does not raise: the
                run stops cleanly and ``summary.stopped`` says why. The summary is on the
                exception as ``exc.summary``.
        """
        check_source(self.source)  # a missing input file leaves no empty output behind
        summary = Summary()
        self._fatal = None
        self._source_error: InputError | None = None
        fatal_event = asyncio.Event()
        spool = None
        if self._mixer is not None:
            spool = tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False)  # noqa: SIM115
            spool.close()
        out = open_writer(spool.name if spool else sink)
        rej = JsonlWriter(rejects) if rejects is not None else None
        tasks: list[asyncio.Task[Any]] = []
        try:
            queues = [asyncio.Queue(self.queue_size) for _ in range(len(self.steps) + 1)]
            guard = self._guard
            tasks.append(asyncio.create_task(guard(self._feed(queues[0], summary, fatal_event), fatal_event)))
            for i, step in enumerate(self.steps):
                stage = self._stage(step, queues[i], queues[i + 1], summary, fatal_event)
                tasks.append(asyncio.create_task(guard(stage, fatal_event)))
            sink_task = asyncio.create_task(guard(self._drain(queues[-1], summary, out, rej, progress), fatal_event))
            tasks.append(sink_task)
            fatal_wait = asyncio.create_task(fatal_event.wait())
            await asyncio.wait([sink_task, fatal_wait], return_when=asyncio.FIRST_COMPLETED)
            fatal_wait.cancel()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            out.close()
            await self._close_steps()
            if self._fatal is None and self._source_error is None and spool is not None:
                try:
                    self._run_mixer(Path(spool.name), sink, summary, rej)
                finally:
                    Path(spool.name).unlink(missing_ok=True)
            elif spool is not None:
                Path(spool.name).unlink(missing_ok=True)
            if rej is not None:
                rej.close()
            summary.elapsed = time.monotonic() - summary.started
            if progress is not None:
                progress.close(summary)
        if self._fatal is not None:
            summary.stopped = str(self._fatal)
            if isinstance(self._fatal, BudgetExceeded):
                return summary
            self._fatal.summary = summary  # type: ignore[attr-defined]
            raise self._fatal
        if self._source_error is not None:
            summary.stopped = str(self._source_error)
            self._source_error.summary = summary  # type: ignore[attr-defined]
            raise self._source_error
        return summary

    async def _guard(self, coro: Any, event: asyncio.Event) -> None:
        """Run one stage; any error it raises stops the whole run instead of hanging it."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - re-raised by arun
            self._stop(exc, event)

    def _stop(self, exc: BaseException, event: asyncio.Event) -> None:
        if self._fatal is None:
            self._fatal = exc
        event.set()

    async def _feed(self, q: asyncio.Queue[Any], summary: Summary, fatal: asyncio.Event) -> None:
        src = self.source
        if is_table_source(src):  # a JSONL or Parquet path, a Dataset, a DataFrame
            src = read_records(src, on_bad_line=self.on_bad_line)
        try:
            if isinstance(src, AsyncIterable):
                async for item in src:
                    await self._put_source_item(q, item, summary)
            else:
                for item in src:
                    await self._put_source_item(q, item, summary)
        except InputError as exc:
            # stop reading, but finish the records already read before raising
            self._source_error = exc
        await q.put(_END)

    async def _put_source_item(self, q: asyncio.Queue[Any], item: Any, summary: Summary) -> None:
        if isinstance(item, BadLine):
            item = Outcome("failed", "source", item.message, None, kind="bad_line")
        elif not isinstance(item, Record):
            msg = f"a pipeline source must yield Record objects, got {type(item).__name__}; wrap dicts with Record.from_dict"
            raise InputError(msg)
        summary.inputs += 1
        await q.put(item)

    async def _stage(self, step: Any, inq: asyncio.Queue[Any], outq: asyncio.Queue[Any], summary: Summary, fatal: asyncio.Event) -> None:
        if isinstance(step, _FilterStep):
            await self._filter_stage(step, inq, outq)
            return
        sem = asyncio.Semaphore(self.concurrency)
        pending: asyncio.Queue[Any] = asyncio.Queue(self.concurrency * 2)

        async def work(record: Record) -> list[Any]:
            try:
                out = await run_step(step, record, self.ctx)
            except FatalError as exc:
                self._stop(exc, fatal)
                raise
            finally:
                sem.release()
            summary.expanded += len(out) - 1
            return out

        async def feeder() -> None:
            while True:
                item = await inq.get()
                if item is _END:
                    await pending.put(_END)
                    return
                if isinstance(item, Record):
                    await sem.acquire()
                    await pending.put(asyncio.ensure_future(work(item)))
                else:
                    await pending.put(item)

        feed_task = asyncio.create_task(feeder())
        try:
            while True:
                item = await pending.get()
                if item is _END:
                    break
                if isinstance(item, asyncio.Future):
                    for produced in await item:
                        await outq.put(produced)
                else:
                    await outq.put(item)
            await outq.put(_END)
        finally:
            feed_task.cancel()
            while not pending.empty():
                item = pending.get_nowait()
                if isinstance(item, asyncio.Future):
                    item.cancel()

    async def _filter_stage(self, step: _FilterStep, inq: asyncio.Queue[Any], outq: asyncio.Queue[Any]) -> None:
        done = False
        while not done:
            batch = [await inq.get()]
            while not inq.empty() and len(batch) < 256:
                batch.append(inq.get_nowait())
            if batch[-1] is _END:
                batch.pop()
                done = True
            for r in self._filter_batch(step, batch):
                await outq.put(r)
            await asyncio.sleep(0)
        await outq.put(_END)

    def _filter_batch(self, step: _FilterStep, batch: list[Any]) -> list[Any]:
        return apply_filters(step.filters, batch)

    @staticmethod
    def _check_batch(filt: Filter, records: list[Record]) -> list[Verdict | BaseException]:
        """Return one verdict per record, or the exception a record's check raised."""
        if not records:
            return []
        try:
            verdicts = list(filt.check_batch(records))
            if len(verdicts) == len(records):
                return verdicts  # type: ignore[return-value]
        except FatalError:
            raise
        except Exception:  # noqa: BLE001, S110 - check one by one, so only the records that raise fail
            pass
        out: list[Verdict | BaseException] = []
        for r in records:
            try:
                out.append(filt.check(r))
            except FatalError:
                raise
            except Exception as exc:  # noqa: BLE001 - a broken check fails this record, not the run
                out.append(exc)
        return out

    async def _drain(
        self,
        q: asyncio.Queue[Any],
        summary: Summary,
        out: JsonlWriter,
        rej: JsonlWriter | None,
        progress: ProgressReporter | None,
    ) -> None:
        while True:
            item = await q.get()
            if item is _END:
                return
            if isinstance(item, Record):
                out.write(item)
                summary.kept += 1
            else:
                if item.status == "dropped":
                    summary.dropped[(item.step, reason_key(item.reason))] += 1
                else:
                    summary.failed[(item.step, item.kind)] += 1
                if rej is not None:
                    rej.write(item.to_dict())
            if progress is not None:
                progress.update(summary)

    async def _close_steps(self) -> None:
        for step in self.steps:
            target = getattr(step, "verifier", None) or (step if isinstance(step, Generator) else None)
            if target is not None:
                try:
                    await target.aclose()
                except Exception:  # noqa: BLE001, S110 - closing must not hide the run's own outcome
                    pass

    def _run_mixer(self, spool: Path, sink: str | Path | None, summary: Summary, rej: JsonlWriter | None) -> None:
        assert self._mixer is not None
        mixer, others = self._mixer
        spooled_ids: set[str] = set()
        sources: dict[str, Iterable[Record]] = {}
        for name, src in others.items():
            sources[name] = _records(src)

        def synthetic() -> Iterable[Record]:
            for r in iter_records(spool):
                assert isinstance(r, Record)
                spooled_ids.add(r.id)
                yield r

        sources["synthetic"] = synthetic()
        emitted_spooled = 0
        with open_writer(sink) as out:
            kept = 0
            for r in mixer.mix(sources, seed=self.ctx.seed):
                out.write(r)
                kept += 1
                if r.id in spooled_ids:
                    emitted_spooled += 1
        # drain the spool so every pipeline record is counted even if the mixer stopped early
        for _ in sources["synthetic"]:
            pass
        not_taken = len(spooled_ids) - emitted_spooled
        if not_taken:
            summary.dropped[(f"mix:{mixer.name}", "not selected by the mixer")] += not_taken
        summary.kept = emitted_spooled
        summary.mixed_in = kept - emitted_spooled
        summary.mix = mixer.report


async def run_step(step: Generator | Any, record: Record, ctx: Context) -> list[Record | Outcome]:
    """Run a generator, or a verifier step (an object with ``verifier`` and ``name``), on one record.

    Returns the records it keeps and the :class:`Outcome` of the others: a verifier's verdict
    is appended to the lineage, a :class:`Drop` or an empty result is a drop, and any error but
    a :class:`~synthkit.errors.FatalError` (which propagates) fails only this record. Every
    engine runs steps through this, so the same record meets the same fate everywhere.
    """
    try:
        if not isinstance(step, Generator):
            verdict = await step.verifier.verify(record)
            record = record.with_verdict(verdict)
            if verdict.passed:
                return [record]
            return [Outcome("dropped", step.name, verdict.reason, record)]
        produced = list(await step.generate(record, ctx))
        if not produced:
            return [Outcome("dropped", step.name, "generator produced no output", record)]
        return [Outcome("dropped", step.name, p.reason, p.record) if isinstance(p, Drop) else p for p in produced]
    except FatalError:
        raise
    except Exception as exc:  # noqa: BLE001 - every other error fails only this record
        return [_fail(step.name, record, exc)]


def apply_filters(filters: Sequence[Filter], batch: list[Any]) -> list[Any]:
    """Run each filter over the records of ``batch`` that passed the ones before it, in order.

    Returns ``batch`` with each record replaced by the record with its verdicts, or by an
    :class:`Outcome` (dropped, or failed when its check raised); other items pass through.
    A :class:`~synthkit.errors.FatalError` from a check propagates. Every engine filters
    through this, so verdicts, drops and failures are the same whatever runs the pipeline.
    """
    out = list(batch)
    alive = [i for i, x in enumerate(batch) if isinstance(x, Record)]
    for filt in filters:
        results = Pipeline._check_batch(filt, [out[i] for i in alive])
        survivors = []
        for i, v in zip(alive, results):
            if not isinstance(v, Verdict):
                out[i] = _fail(filt.name, out[i], v)
                continue
            rec = out[i].with_verdict(v)
            if v.passed:
                out[i] = rec
                survivors.append(i)
            else:
                out[i] = Outcome("dropped", filt.name, v.reason, rec)
        alive = survivors
    return out


def _records(src: Any) -> Iterable[Record]:
    if is_table_source(src):
        for r in read_records(src):
            assert isinstance(r, Record)
            yield r
    else:
        yield from src

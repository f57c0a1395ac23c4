"""The ``ray`` engine: the same pipeline, run over Ray Data on a Ray cluster.

Where each part runs:

* the **driver** (the process that called ``run``) reads the source with the local
  engine's reader (same bad-line rules), puts it into Ray's object store in blocks, and
  at the end writes kept records and rejects in input order and counts them;
* **generators and verifiers** run in pools of Ray Data actors (``actors`` each), each
  actor an asyncio loop with ``pipeline.concurrency`` records in flight;
* **stateless filters** run as Ray Data tasks, anywhere, in parallel;
* **stateful filters** (``Filter.stateful``: exact/near/semantic dedup, novelty) run in
  one actor that gets the blocks in input order, so "keep the first" keeps the record
  the local engine keeps; their index lives in that actor's memory;
* each **remote teacher's RPM/TPM limit** lives in one named actor,
  ``synthkit-ratelimit-<run>-<n>``, that every generation actor takes permits from;
* each **remote teacher's cost meter and budget** live in one named actor,
  ``synthkit-budget-<run>-<n>``, that every request reserves in and settles with, so
  ``--budget`` holds for the whole cluster; the driver's teacher gets the run's totals.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
import warnings
from collections.abc import AsyncIterable, Iterable, Iterator
from pathlib import Path
from typing import Any

from synthkit import errors
from synthkit.cost import CostMeter
from synthkit.errors import FatalError, InputError, SynthkitError
from synthkit.interchange import (
    is_table_source,
    open_writer,
    read_records,
)
from synthkit.interfaces import Engine, Filter
from synthkit.jsonl import BadLine, JsonlWriter
from synthkit.pipeline import (
    Outcome,
    Pipeline,
    Summary,
    _FilterStep,
    _VerifyStep,
    reason_key,
)
from synthkit.records import Record
from synthkit.remote import RemoteTeacher

from .budget import SharedCostMeter, start_meter, take_totals
from .limiter import SharedRateLimiter, start_limiter
from .stages import (
    AsyncStep,
    FilterTask,
    OrderedFilters,
    outcome_row,
    record_row,
    to_table,
)

__all__ = ["RayEngine", "RayEngineError", "ensure_ray"]

#: Set before Ray starts: Ray sends no usage statistics anywhere.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_USAGE_STATS_PROMPT_ENABLED": "0"}


class RayEngineError(SynthkitError):
    """A pipeline cannot run on the ray engine as given; the message says why and what to do."""


def ensure_ray(address: str | None = None, *, num_cpus: int | None = None, namespace: str | None = None) -> None:
    """Connect to Ray, or start a local Ray, with usage statistics off.

    Args:
        address: a cluster address (``ray://head:10001`` or ``auto``); default
            ``$RAY_ADDRESS``, else a new local Ray on this machine.
        num_cpus: CPUs of a new local Ray (default: all).
        namespace: the Ray namespace (the limiter actors are named in it).
    """
    for key, value in RAY_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    if ray.is_initialized():
        return
    import logging

    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None and num_cpus is not None:
        kwargs["num_cpus"] = num_cpus
    ray.init(address=address, namespace=namespace, **kwargs)


class RayEngine(Engine):
    """Run a pipeline on Ray: the same output as the local engine, spread over a cluster.

    Args:
        address: the cluster to use (``ray://head:10001``, ``auto``); default
            ``$RAY_ADDRESS``, else a local Ray on this machine.
        num_cpus: CPUs of a local Ray started by the engine (default: all).
        actors: actors per generator or verifier step (default: the cluster's CPUs, at least 2).
        actor_cpus: CPUs reserved per generation actor (I/O-bound: a fraction is enough).
        block_size: records per block in the object store (and per batch given to a worker).
        share_limits: one RPM/TPM limit per remote teacher for the whole cluster
            (``False``: each actor applies the full limit on its own; only for comparison).
            A teacher's ``--budget`` is one for the whole cluster either way.

    Example:
        >>> pipeline.run("out.jsonl", engine=RayEngine(num_cpus=2))  # doctest: +SKIP
    """

    name = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        num_cpus: int | None = None,
        actors: int | None = None,
        actor_cpus: float = 0.25,
        block_size: int = 1000,
        share_limits: bool = True,
    ) -> None:
        if block_size < 1:
            msg = f"ray engine block_size must be at least 1, got {block_size}"
            raise ValueError(msg)
        if actors is not None and actors < 1:
            msg = f"ray engine actors must be at least 1, got {actors}"
            raise ValueError(msg)
        self.address = address
        self.num_cpus = num_cpus
        self.actors = actors
        self.actor_cpus = actor_cpus
        self.block_size = block_size
        self.share_limits = share_limits
        self.namespace = "synthkit"
        self.limiters: dict[str, Any] = {}
        self.meters: dict[str, Any] = {}

    # -- the run ------------------------------------------------------------------------

    def run(
        self,
        pipeline: Pipeline,
        sink: str | Path | None = None,
        *,
        rejects: str | Path | None = None,
        progress: Any = None,
    ) -> Summary:
        ensure_ray(self.address, num_cpus=self.num_cpus, namespace=self.namespace)
        import ray

        run_id = uuid.uuid4().hex[:8]
        summary = Summary()
        restore = self._share_limits(pipeline, run_id) if self.share_limits else []
        metered: list[tuple[RemoteTeacher, CostMeter]] = []
        spool = None
        try:
            self._share_meters(pipeline, run_id, metered)
            blobs = [self._ship(pipeline, step) for step in pipeline.steps]
            refs, source_error = self._load(pipeline, summary)
            if pipeline._mixer is not None:
                import tempfile

                spool = tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False)  # noqa: SIM115
                spool.close()
            fatal = self._execute(pipeline, blobs, refs, spool.name if spool else sink, rejects, summary, progress)
            if fatal is None and source_error is None and spool is not None:
                rej = JsonlWriter(rejects, append=True) if rejects is not None else None
                try:
                    pipeline._run_mixer(Path(spool.name), sink, summary, rej)
                finally:
                    if rej is not None:
                        rej.close()
        finally:
            if spool is not None:
                Path(spool.name).unlink(missing_ok=True)
            for teacher, limiter in restore:
                teacher.limiter = limiter
            try:
                self._take_totals(metered)
            finally:
                for handle in [*self.limiters.values(), *self.meters.values()]:
                    ray.kill(handle)
                self.limiters.clear()
                self.meters.clear()
            summary.elapsed = time.monotonic() - summary.started
            if progress is not None:
                progress.close(summary)
        if fatal is not None:
            summary.stopped = str(fatal)
            if isinstance(fatal, errors.BudgetExceeded):
                return summary
            fatal.summary = summary  # type: ignore[attr-defined]
            raise fatal
        if source_error is not None:
            summary.stopped = str(source_error)
            source_error.summary = summary  # type: ignore[attr-defined]
            raise source_error
        return summary

    def _share_limits(self, pipeline: Pipeline, run_id: str) -> list[tuple[RemoteTeacher, Any]]:
        """Give each remote teacher a limiter whose RPM/TPM buckets are one named actor's."""
        restore = []
        for step in pipeline.steps:
            for teacher in _teachers(step):
                if not isinstance(teacher, RemoteTeacher) or isinstance(teacher.limiter, SharedRateLimiter):
                    continue
                name = f"synthkit-ratelimit-{run_id}-{len(self.limiters)}"
                self.limiters[name] = start_limiter(name, self.namespace, teacher.limiter)
                restore.append((teacher, teacher.limiter))
                teacher.limiter = SharedRateLimiter.like(teacher.limiter, name, self.namespace)
        return restore

    def _share_meters(self, pipeline: Pipeline, run_id: str, metered: list[tuple[RemoteTeacher, CostMeter]]) -> None:
        """Give each remote teacher a cost meter whose spent and reserved totals (and budget) are one named actor's.

        Each teacher and its own meter are appended to ``metered`` as it is swapped, for :meth:`_take_totals`.
        """
        for step in pipeline.steps:
            for teacher in _teachers(step):
                if not isinstance(teacher, RemoteTeacher) or isinstance(teacher.cost, SharedCostMeter):
                    continue
                name = f"synthkit-budget-{run_id}-{len(self.meters)}"
                shared = SharedCostMeter.like(teacher.cost, name, self.namespace)
                self.meters[name] = start_meter(name, self.namespace, teacher.cost)
                metered.append((teacher, teacher.cost))
                teacher.cost = shared

    def _take_totals(self, metered: list[tuple[RemoteTeacher, CostMeter]]) -> None:
        """Give each teacher its own meter back, holding the run's totals (spent, tokens, requests)."""
        import ray

        actors = []
        for teacher, meter in metered:
            actors.append(self.meters[teacher.cost.actor])
            teacher.cost = meter
        for (teacher, meter), handle in zip(metered, actors):
            take_totals(meter, teacher.stats, ray.get(handle.totals.remote()))

    def _ship(self, pipeline: Pipeline, step: Any) -> list[Any]:
        """Return the parts of a step, checking that each pickles; one that cannot travel is named with the fix."""
        import cloudpickle

        parts: list[Any]
        if isinstance(step, _FilterStep):
            parts = list(step.filters)
        elif isinstance(step, _VerifyStep):
            parts = [step.verifier]
        else:
            parts = [step]
        for part in parts:
            try:
                cloudpickle.dumps(part)
            except Exception as exc:
                msg = (
                    f"step {part.name!r} ({type(part).__name__}) cannot be sent to Ray workers: it does not pickle "
                    f"({type(exc).__name__}: {exc}). Build it from registered parts, keep open files, sockets and "
                    f"locks out of its attributes (or open them lazily), or run it with --engine local"
                )
                raise RayEngineError(msg) from exc
        return parts

    def _load(self, pipeline: Pipeline, summary: Summary) -> tuple[list[Any], InputError | None]:
        """Read the source on the driver into the object store, in blocks of ``block_size`` rows."""
        import ray

        refs: list[Any] = []
        rows: list[dict[str, Any]] = []
        error: InputError | None = None
        seq = 0
        try:
            for item in _source_items(pipeline):
                if isinstance(item, BadLine):
                    rows.append(outcome_row(seq, "", Outcome("failed", "source", item.message, None, kind="bad_line")))
                elif isinstance(item, Record):
                    rows.append(record_row(seq, "", item))
                else:
                    msg = f"a pipeline source must yield Record objects, got {type(item).__name__}; wrap dicts with Record.from_dict"
                    raise InputError(msg)
                summary.inputs += 1
                seq += 1
                if len(rows) >= self.block_size:
                    refs.append(ray.put(to_table(rows)))
                    rows = []
        except InputError as exc:
            error = exc  # stop reading, but finish the records already read before raising
        if rows:
            refs.append(ray.put(to_table(rows)))
        return refs, error

    def _plan(self, pipeline: Pipeline, blobs: list[Any], ds: Any) -> Any:
        """Chain one Ray Data operator per step (per run of stateless or stateful filters)."""
        import cloudpickle
        import ray

        actors = self.actors or max(2, int(ray.cluster_resources().get("CPU", 2)))
        for step, parts in zip(pipeline.steps, blobs):
            if not isinstance(step, _FilterStep):
                ds = ds.map_batches(
                    AsyncStep,
                    fn_constructor_kwargs={"step": cloudpickle.dumps(parts[0]), "seed": pipeline.ctx.seed, "concurrency": pipeline.concurrency},
                    batch_format="pyarrow",
                    batch_size=None,
                    compute=ray.data.ActorPoolStrategy(size=actors),
                    num_cpus=self.actor_cpus,
                )
                continue
            for stateful, group in _runs(parts):
                blob = cloudpickle.dumps(group)
                if stateful:
                    with warnings.catch_warnings():
                        # Ray 2.60 deprecates these remote args but names no replacement for them yet; they
                        # matter: a restarted actor would come back with an empty index and keep duplicates
                        warnings.simplefilter("ignore", DeprecationWarning)
                        ds = ds.map_batches(
                            OrderedFilters,
                            fn_constructor_kwargs={"filters": blob},
                            batch_format="pyarrow",
                            batch_size=None,
                            compute=ray.data.ActorPoolStrategy(size=1, max_tasks_in_flight_per_actor=1),
                            num_cpus=self.actor_cpus,
                            max_restarts=0,
                            max_task_retries=0,
                            allow_out_of_order_execution=False,
                        )
                else:
                    ds = ds.map_batches(FilterTask(blob), batch_format="pyarrow", batch_size=None)
        return ds

    def _execute(
        self,
        pipeline: Pipeline,
        blobs: list[Any],
        refs: list[Any],
        sink: str | Path | None,
        rejects: str | Path | None,
        summary: Summary,
        progress: Any,
    ) -> BaseException | None:
        """Run the plan and write its rows in input order; return the fatal error, if one stopped the run."""
        out = open_writer(sink)
        rej = JsonlWriter(rejects)  # rejects are JSONL, as the local engine writes them
        fatal: BaseException | None = None
        rows_out = 0
        try:
            if not refs:
                return None
            import logging

            import ray.data

            logging.getLogger("ray.data").setLevel(logging.ERROR)  # no per-run INFO lines in the CLI's output
            ctx = ray.data.DataContext.get_current()
            ctx.execution_options.preserve_order = True
            ctx.enable_progress_bars = False
            ctx.print_on_execution_start = False
            ds = self._plan(pipeline, blobs, ray.data.from_arrow_refs(refs))
            for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
                cols = batch.to_pydict()
                for status, step, why, line in zip(cols["status"], cols["step"], cols["why"], cols["json"]):
                    if status == "fatal":
                        fatal = _rebuild_error(step, why)
                        break
                    rows_out += 1
                    if not status:
                        out.write_line(line)
                        summary.kept += 1
                    else:
                        if status == "dropped":
                            summary.dropped[(step, reason_key(why))] += 1
                        else:
                            summary.failed[(step, why)] += 1
                        rej.write_line(line)
                    if progress is not None:
                        progress.update(summary)
                if fatal is not None:
                    break
        finally:
            out.close()
            rej.close()
            summary.expanded = max(0, rows_out - summary.inputs)
        return fatal


def _teachers(step: Any) -> Iterator[Any]:
    """Yield the teachers a step holds (through wrappers such as the cache), outermost first."""
    seen: set[int] = set()
    todo = [getattr(step, "verifier", step)]
    while todo:
        obj = todo.pop()
        for attr in ("teacher", "judge"):
            t = obj.__dict__.get(attr) if hasattr(obj, "__dict__") else None
            if t is not None and id(t) not in seen:
                seen.add(id(t))
                yield t
                todo.append(t)


def _runs(parts: list[Filter]) -> Iterator[tuple[bool, list[Filter]]]:
    """Split consecutive filters into runs of stateless and stateful ones, in order."""
    group: list[Filter] = []
    kind: bool | None = None
    for filt in parts:
        stateful = bool(getattr(filt, "stateful", False))
        if kind is not None and stateful != kind:
            yield kind, group
            group = []
        kind = stateful
        group.append(filt)
    if group:
        yield bool(kind), group


def _source_items(pipeline: Pipeline) -> Iterable[Any]:
    src = pipeline.source
    if is_table_source(src):  # a JSONL or Parquet path, a Dataset, a DataFrame: the local engine's reader
        return read_records(src, on_bad_line=pipeline.on_bad_line)
    if isinstance(src, AsyncIterable):
        return _sync(src)
    return src


def _sync(src: AsyncIterable[Any]) -> Iterator[Any]:
    """Iterate an async source from the driver's synchronous code."""
    loop = asyncio.new_event_loop()
    it = src.__aiter__()
    try:
        while True:
            try:
                yield loop.run_until_complete(it.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.close()


def _rebuild_error(kind: str, message: str) -> BaseException:
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, FatalError):
        return cls(message)
    return FatalError(f"{kind}: {message}")

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

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthkit import errors
from synthkit.errors import FatalError, InputError, SynthkitError
from synthkit.interfaces import Filter, Teacher
from synthkit.pipeline.engine import Engine, ProgressReporter, Sink
from synthkit.pipeline.ledger import RunLedger
from synthkit.pipeline.plan import FilterStep, Plan
from synthkit.pipeline.source import iter_source
from synthkit.pipeline.summary import Summary
from synthkit.records import Record
from synthkit.teachers.remote import RemoteTeacher

from .budget import SharedCostMeter, start_meter, take_totals
from .limiter import SharedRateLimiter, start_limiter
from .stages import AsyncStep, FilterTask, OrderedFilters, outcome_row, record_row, to_table

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

    # -- the run ------------------------------------------------------------------------

    def run(
        self,
        plan: Plan,
        sink: Sink = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        ensure_ray(self.address, num_cpus=self.num_cpus, namespace=self.namespace)
        import ray

        ledger = RunLedger(plan, sink, rejects=rejects, progress=progress)
        actors: list[Any] = []
        shared: list[tuple[RemoteTeacher, Any]] = []
        error: BaseException | None = None
        try:
            shipped = self._share(plan, uuid.uuid4().hex[:8], actors, shared)
            blobs = [self._ship(step) for step in shipped.steps]
            refs, source_error = self._load(shipped, ledger)
            error = self._execute(shipped, blobs, refs, ledger) or source_error
        except BaseException as exc:
            error = exc
        finally:
            try:
                for teacher, meter_actor in shared:
                    take_totals(teacher.cost, teacher.stats, ray.get(meter_actor.totals.remote()))
            finally:
                for handle in actors:
                    ray.kill(handle)
        return ledger.finish(error)

    def _share(self, plan: Plan, run_id: str, actors: list[Any], shared: list[tuple[RemoteTeacher, Any]]) -> Plan:
        """Return the plan whose remote teachers take permits from one limiter actor and reserve in one meter actor each.

        The caller's teachers are left as they are: the workers get copies made with
        :meth:`~synthkit.teachers.remote.RemoteTeacher.with_limits`. Each original teacher and
        its meter actor are appended to ``shared``, so the run's totals reach the original.
        """
        copies: dict[int, Teacher] = {}
        for teacher in plan.teachers():
            if not isinstance(teacher, RemoteTeacher) or id(teacher) in copies:
                continue
            n = len(copies)
            limiter = None
            if self.share_limits and not isinstance(teacher.limiter, SharedRateLimiter):
                name = f"synthkit-ratelimit-{run_id}-{n}"
                actors.append(start_limiter(name, self.namespace, teacher.limiter))
                limiter = SharedRateLimiter.like(teacher.limiter, name, self.namespace)
            name = f"synthkit-budget-{run_id}-{n}"
            meter_actor = start_meter(name, self.namespace, teacher.cost)
            actors.append(meter_actor)
            shared.append((teacher, meter_actor))
            copies[id(teacher)] = teacher.with_limits(limiter=limiter, meter=SharedCostMeter.like(teacher.cost, name, self.namespace))
        return plan.with_teachers(lambda t: copies.get(id(t), t))

    def _ship(self, step: Any) -> list[Any]:
        """Return the parts of a step, checking that each pickles; one that cannot travel is named with the fix."""
        import cloudpickle

        parts: list[Any] = list(step.filters) if isinstance(step, FilterStep) else [step]
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

    def _load(self, plan: Plan, ledger: RunLedger) -> tuple[list[Any], InputError | None]:
        """Read the source on the driver into the object store, in blocks of ``block_size`` rows."""
        import ray

        refs: list[Any] = []
        rows: list[dict[str, Any]] = []
        error: InputError | None = None
        seq = 0
        try:
            for item in iter_source(plan):
                admitted = ledger.admit(item)
                rows.append(record_row(seq, "", admitted) if isinstance(admitted, Record) else outcome_row(seq, "", admitted))
                seq += 1
                if len(rows) >= self.block_size:
                    refs.append(ray.put(to_table(rows)))
                    rows = []
        except InputError as exc:
            error = exc  # stop reading, but finish the records already read before raising
        if rows:
            refs.append(ray.put(to_table(rows)))
        return refs, error

    def _operators(self, plan: Plan, blobs: list[Any], ds: Any) -> Any:
        """Chain one Ray Data operator per step (per run of stateless or stateful filters)."""
        import cloudpickle
        import ray

        actors = self.actors or max(2, int(ray.cluster_resources().get("CPU", 2)))
        for step, parts in zip(plan.steps, blobs):
            if not isinstance(step, FilterStep):
                ds = ds.map_batches(
                    AsyncStep,
                    fn_constructor_kwargs={"step": cloudpickle.dumps(parts[0]), "seed": plan.seed, "concurrency": plan.concurrency},
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

    def _execute(self, plan: Plan, blobs: list[Any], refs: list[Any], ledger: RunLedger) -> BaseException | None:
        """Run the operators and hand their rows to the ledger in input order; return the fatal error, if one stopped the run."""
        if not refs:
            return None
        import logging

        import ray.data

        logging.getLogger("ray.data").setLevel(logging.ERROR)  # no per-run INFO lines in the CLI's output
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        ds = self._operators(plan, blobs, ray.data.from_arrow_refs(refs))
        rows_out = 0
        try:
            for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
                cols = batch.to_pydict()
                for status, step, why, line in zip(cols["status"], cols["step"], cols["why"], cols["json"]):
                    if status == "fatal":
                        return _rebuild_error(step, why)
                    rows_out += 1
                    ledger.write_line(status, step, why, line)
        finally:
            ledger.expand(max(0, rows_out - ledger.summary.inputs))
        return None


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


def _rebuild_error(kind: str, message: str) -> BaseException:
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, FatalError):
        return cls(message)
    return FatalError(f"{kind}: {message}")

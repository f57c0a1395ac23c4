"""The ``ray`` engine: the same pipeline, streamed through Ray tasks and actors on a Ray cluster.

Where each part runs:

* the **source** is read in blocks by Ray tasks (JSONL and Parquet files: byte ranges and row
  groups, numbered so ids and messages equal the local reader's) or, for any other source, by
  the driver with the local engine's reader; either way at most ``window`` blocks (and
  ``driver_memory`` bytes of input) are in flight, so no process holds the whole input;
* **stateless filters**, and the hashing half of **dedup** (normalising, n-grams, MinHash
  signatures, band keys), run in Ray tasks, one per block, anywhere, in parallel;
* the **dedup index** (``exact-dedup``, ``near-dedup``) is split over ``shards`` actors per
  filter, by key; one router actor per filter gets the blocks in input order and decides, so
  the kept set is the local engine's (keep the first in input order);
* **other stateful filters** (semantic dedup, novelty) run in one actor that gets the blocks
  in input order;
* **generators and verifiers** run in pools of actors (``actors`` each), each actor an
  asyncio loop with ``pipeline.concurrency`` records in flight;
* each **remote teacher's RPM/TPM limit** lives in one named actor,
  ``synthkit-ratelimit-<run>-<n>``, that every generation actor takes permits from;
* each **remote teacher's cost meter and budget** live in one named actor,
  ``synthkit-budget-<run>-<n>``, that every request reserves in and settles with, so
  ``--budget`` holds for the whole cluster; the driver's teacher gets the run's totals;
* the **driver** sends each block's chain of tasks, then writes the results, block by block
  in input order, through the run ledger.
"""

from __future__ import annotations

import collections
import functools
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from synthkit import errors
from synthkit.errors import FatalError, InputError, SynthkitError
from synthkit.interfaces import Engine, Filter, Teacher
from synthkit.pipeline.engine import ProgressReporter, Sink
from synthkit.pipeline.ledger import RunLedger
from synthkit.pipeline.plan import FilterStep, Plan
from synthkit.pipeline.source import iter_source
from synthkit.pipeline.summary import Summary
from synthkit.records import Record
from synthkit.teachers.remote import RemoteTeacher

from .budget import SharedCostMeter, start_meter, take_totals
from .limiter import SharedRateLimiter, start_limiter
from .stages import Op, Program, outcome_row, record_row, to_table

__all__ = ["RayEngine", "RayEngineError", "ensure_ray", "parse_bytes"]

#: Set before Ray starts: Ray sends no usage statistics anywhere.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_USAGE_STATS_PROMPT_ENABLED": "0"}

READERS = ("auto", "workers", "driver")


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


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30}


def parse_bytes(value: int | str) -> int:
    """Return a size in bytes from an int or a string such as ``"256MB"``, ``"64k"``, ``"1.5GB"``."""
    if isinstance(value, int):
        return value
    m = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(value))
    if not m or m.group(2).lower() not in _UNITS:
        msg = f"ray engine: cannot read {value!r} as a size; give bytes or e.g. 256MB, 64KB, 1GB"
        raise ValueError(msg)
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


@functools.cache
def _remote(fn: Any, **options: Any) -> Any:
    import ray

    return ray.remote(**options)(fn) if options else ray.remote(fn)


def _shardable(filt: Filter) -> bool:
    """Whether a stateful filter has a sharded index (two phases: ``prepare`` anywhere, ``decide`` in order)."""
    return all(callable(getattr(filt, m, None)) for m in ("prepare", "decide", "shard", "sharded"))


class _Tasks:
    """A program of stateless steps, run as one Ray task per block."""

    def __init__(self, program: Program) -> None:
        import cloudpickle
        import ray

        from .stages import read_and_run, run_program

        self.program = program
        self.key = uuid.uuid4().hex
        self.blob = ray.put(cloudpickle.dumps(program))
        self.fn = _remote(run_program)
        self.read_fn = _remote(read_and_run)  # the first program, run in the task that reads the block
        if program.prepares:
            self.fn = self.fn.options(num_returns=1 + program.prepares)
            self.read_fn = self.read_fn.options(num_returns=1 + program.prepares)


class _Pool:
    """A generator or verifier in a pool of actors; block ``i`` goes to actor ``i % n``."""

    def __init__(self, handles: list[Any]) -> None:
        self.handles = handles


class _Ordered:
    """Stateful filters without a sharded index, in one actor that gets the blocks in input order."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle


class _Route:
    """A dedup filter's router actor (its shards are actors too); ``slot``: its place among the filters its program prepared."""

    def __init__(self, handle: Any, shards: list[Any], name: str, slot: int) -> None:
        self.handle = handle
        self.shards = shards
        self.name = name
        self.slot = slot


class RayEngine(Engine):
    """Run a pipeline on Ray: the same output as the local engine, streamed over a cluster.

    Args:
        address: the cluster to use (``ray://head:10001``, ``auto``); default
            ``$RAY_ADDRESS``, else a local Ray on this machine.
        num_cpus: CPUs of a local Ray started by the engine (default: all).
        actors: actors per generator or verifier step (default: the cluster's CPUs, at least 2).
        actor_cpus: CPUs reserved per generation actor (I/O-bound: a fraction is enough).
        block_size: records per block (JSONL files are cut at about this many lines).
        share_limits: one RPM/TPM limit per remote teacher for the whole cluster
            (``False``: each actor applies the full limit on its own; only for comparison).
            A teacher's ``--budget`` is one for the whole cluster either way.
        reader: ``"auto"`` (Ray tasks read JSONL and Parquet files, the driver reads the rest),
            ``"workers"`` (the same, and a source tasks cannot read is an error) or ``"driver"``
            (the driver reads every source, for files that only the driver's machine sees).
        shards: index shards (actors) per dedup filter (default: the cluster's nodes, at least 2).
        window: most blocks in flight at once (default: four per CPU, at least 8).
        driver_memory: most bytes of input in flight at once (read, not yet written), an int or
            a string such as ``"256MB"``; with ``window``, what bounds memory on every node.

    After a run, :attr:`last_run` holds what the run did: blocks, the reader, the peak blocks
    and bytes in flight, the dedup shards and routers with their peak memory.

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
        reader: str = "auto",
        shards: int | None = None,
        window: int | None = None,
        driver_memory: int | str = "256MB",
    ) -> None:
        if block_size < 1:
            msg = f"ray engine block_size must be at least 1, got {block_size}"
            raise ValueError(msg)
        if actors is not None and actors < 1:
            msg = f"ray engine actors must be at least 1, got {actors}"
            raise ValueError(msg)
        if reader not in READERS:
            msg = f"ray engine reader must be one of {', '.join(READERS)}, got {reader!r}"
            raise ValueError(msg)
        if shards is not None and shards < 1:
            msg = f"ray engine shards must be at least 1, got {shards}"
            raise ValueError(msg)
        if window is not None and window < 1:
            msg = f"ray engine window must be at least 1, got {window}"
            raise ValueError(msg)
        self.address = address
        self.num_cpus = num_cpus
        self.actors = actors
        self.actor_cpus = actor_cpus
        self.block_size = block_size
        self.share_limits = share_limits
        self.reader = reader
        self.shards = shards
        self.window = window
        self.driver_memory = parse_bytes(driver_memory)
        self.namespace = "synthkit"
        self.last_run: dict[str, Any] = {}

    # -- the run ------------------------------------------------------------------------

    def run(
        self,
        plan: Plan,
        sink: Sink = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        for step in plan.steps:  # refuse a step that cannot travel before any output file is made
            self._ship(step)
        ensure_ray(self.address, num_cpus=self.num_cpus, namespace=self.namespace)
        import ray

        # kept records get the command line in the workers (the last program stamps them), so the
        # driver writes their lines as they come instead of parsing each one again
        ledger = RunLedger(attrs.evolve(plan, command=None), sink, rejects=rejects, progress=progress)
        actors: list[Any] = []
        routes: list[_Route] = []
        shared: list[tuple[RemoteTeacher, Any]] = []
        error: BaseException | None = None
        self.last_run = {"blocks": 0, "reader": "", "peak_in_flight_blocks": 0, "peak_in_flight_bytes": 0}
        try:
            shipped = self._share(plan, uuid.uuid4().hex[:8], actors, shared)
            stages = self._compile(shipped, actors, routes)
            error = self._stream(shipped, stages, ledger)
        except BaseException as exc:
            error = exc
        finally:
            try:
                for teacher, meter_actor in shared:
                    take_totals(teacher.cost, teacher.stats, ray.get(meter_actor.totals.remote()))
                if error is None:
                    self._report(routes)
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

    # -- the stages ---------------------------------------------------------------------

    def _compile(self, plan: Plan, actors: list[Any], routes: list[_Route]) -> list[Any]:
        """Turn the plan's steps into stages: task programs, actor pools, ordered actors and dedup routers."""
        import cloudpickle
        import ray

        from .dedup import Router, ShardActor
        from .stages import OrderedFilters, StepActor

        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        nodes = max(1, sum(1 for n in ray.nodes() if n.get("Alive")))
        stages: list[Any] = []
        ops: list[Op] = []

        def close() -> None:
            if ops:
                stages.append(_Tasks(Program(tuple(ops))))
                ops.clear()

        for step in plan.steps:
            if not isinstance(step, FilterStep):
                close()
                n = self.actors or max(2, cpus)
                cls = _remote(StepActor, num_cpus=self.actor_cpus, max_restarts=0, max_task_retries=0)
                blob = cloudpickle.dumps(step)
                handles = [cls.remote(blob, plan.seed, plan.concurrency) for _ in range(n)]
                actors.extend(handles)
                stages.append(_Pool(handles))
                continue
            ordered: list[Filter] = []
            group: list[Filter] = []  # consecutive dedup filters with a sharded index: prepared together

            def flush_group() -> None:
                if not group:
                    return
                ops.extend(Op("prepare", (f,)) for f in group)
                close()
                k = self.shards or max(2, nodes)
                for slot, f in enumerate(group):
                    shard_cls = _remote(ShardActor, num_cpus=0, max_restarts=0, max_task_retries=0, scheduling_strategy="SPREAD")
                    shards = [shard_cls.remote(cloudpickle.dumps(f.shard(s, k))) for s in range(k)]
                    router = _remote(Router, num_cpus=0, max_restarts=0, max_task_retries=0).remote(cloudpickle.dumps(f), shards)
                    actors.extend([*shards, router])
                    route = _Route(router, shards, f.name, slot)
                    routes.append(route)
                    stages.append(route)
                ops.append(Op("apply", tuple(group)))
                group.clear()

            for filt in step.filters:
                stateful = bool(getattr(filt, "stateful", False))
                if stateful and _shardable(filt):
                    if ordered:
                        close()
                        stages.append(self._ordered(ordered, OrderedFilters, actors))
                        ordered = []
                    group.append(filt)
                    continue
                flush_group()
                if stateful:
                    ordered.append(filt)
                    continue
                if ordered:
                    close()
                    stages.append(self._ordered(ordered, OrderedFilters, actors))
                    ordered = []
                if ops and ops[-1].kind == "filters":
                    ops[-1] = Op("filters", (*ops[-1].parts, filt))
                else:
                    ops.append(Op("filters", (filt,)))
            flush_group()
            if ordered:
                close()
                stages.append(self._ordered(ordered, OrderedFilters, actors))
        if plan.command is not None:
            ops.append(Op("stamp", (plan.command,)))
        close()
        return stages

    def _ordered(self, filters: list[Filter], cls: Any, actors: list[Any]) -> _Ordered:
        import cloudpickle

        handle = _remote(cls, num_cpus=self.actor_cpus, max_restarts=0, max_task_retries=0).remote(cloudpickle.dumps(filters))
        actors.append(handle)
        return _Ordered(handle)

    def _chain(self, i: int, source: Any, stages: list[Any]) -> Any:
        """Send block ``i`` (a block for a worker to read, or the ref of a table) through every stage; return the ref of its last table."""
        from .read import JsonlBlock, ParquetBlock

        prepared: list[Any] = []
        verdicts: list[Any] = []
        table = source

        def tasks(fn: Any, st: _Tasks, *args: Any) -> Any:
            nonlocal prepared
            out = fn.remote(*args)
            if st.program.prepares:
                prepared = list(out[1:])
                return out[0]
            return out

        if isinstance(source, (JsonlBlock, ParquetBlock)):
            if stages and isinstance(stages[0], _Tasks):
                table = tasks(stages[0].read_fn, stages[0], source, stages[0].key, stages[0].blob)
                stages = stages[1:]
            else:
                table = _remote(_read_block).remote(source)
        for st in stages:
            if isinstance(st, _Tasks):
                table = tasks(st.fn, st, st.key, st.blob, table, *verdicts)
                verdicts = []
            elif isinstance(st, _Route):
                verdicts.append(st.handle.decide.remote(i, prepared[st.slot], *verdicts))
            elif isinstance(st, _Pool):
                table = st.handles[i % len(st.handles)].run.remote(table)
            else:
                table = st.handle.run.remote(table)
        return table

    # -- the stream ---------------------------------------------------------------------

    def _blocks(self, plan: Plan, ledger: RunLedger) -> Iterator[tuple[Any, int, bool]]:
        """Yield ``(table or its ref, input bytes, read by a worker)`` per block of the source, in order."""
        import ray

        from .read import index_jsonl, index_parquet, worker_readable

        kind = None if self.reader == "driver" else worker_readable(plan.source)
        if kind is None and self.reader == "workers":
            msg = (
                f"the ray engine's reader='workers' reads JSONL and Parquet files only; {plan.source!r} is not one "
                f"(a .gz file, standard input or an in-memory source): use reader='auto' or 'driver'"
            )
            raise RayEngineError(msg)
        self.last_run["reader"] = "workers" if kind else "driver"
        if kind == "jsonl":

            def submit(fn: Any, *args: Any) -> Any:
                ref = _remote(fn).remote(*args)
                return lambda: ray.get(ref)

            for blk in index_jsonl(plan.source, self.block_size, plan.on_bad_line, submit):
                yield blk, blk.nbytes, True
            return
        if kind == "parquet":
            from .stages import fatal_row

            for blk in index_parquet(plan.source, plan.on_bad_line):
                if isinstance(blk, InputError):
                    yield ray.put(to_table([fatal_row(-1, "", blk)])), 0, True
                    return
                yield blk, blk.nbytes, True
            return
        rows: list[dict[str, Any]] = []
        seq = 0
        try:
            for item in iter_source(plan):
                admitted = ledger.admit(item)
                rows.append(record_row(seq, "", admitted) if isinstance(admitted, Record) else outcome_row(seq, "", admitted))
                seq += 1
                if len(rows) >= self.block_size:
                    table = to_table(rows)
                    rows = []
                    yield ray.put(table), table.nbytes, False
        except InputError as exc:
            self._source_error = exc  # stop reading, but finish the records already read before raising
        if rows:
            table = to_table(rows)
            yield ray.put(table), table.nbytes, False

    def _stream(self, plan: Plan, stages: list[Any], ledger: RunLedger) -> BaseException | None:
        """Send blocks through the stages, at most ``window`` blocks and ``driver_memory`` bytes in flight; write the results in order."""
        import logging

        import ray

        logging.getLogger("ray").setLevel(logging.ERROR)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        window = self.window or max(8, 4 * cpus)
        self._source_error: InputError | None = None
        pending: collections.deque[tuple[Any, int, bool]] = collections.deque()
        in_flight = 0
        state = {"rows": 0, "last_seq": None}
        run = self.last_run
        try:
            for i, (table, nbytes, counted) in enumerate(self._blocks(plan, ledger)):
                pending.append((self._chain(i, table, stages), nbytes, counted))
                in_flight += nbytes
                run["blocks"] = i + 1
                run["peak_in_flight_blocks"] = max(run["peak_in_flight_blocks"], len(pending))
                run["peak_in_flight_bytes"] = max(run["peak_in_flight_bytes"], in_flight)
                while pending and (len(pending) >= window or in_flight > self.driver_memory):
                    ref, nbytes, counted = pending.popleft()
                    in_flight -= nbytes
                    stop = self._write(ray.get(ref), counted, ledger, state)
                    if stop is not None:
                        return stop
            while pending:
                ref, nbytes, counted = pending.popleft()
                stop = self._write(ray.get(ref), counted, ledger, state)
                if stop is not None:
                    return stop
        finally:
            ledger.expand(max(0, state["rows"] - ledger.summary.inputs))
        return self._source_error

    def _write(self, table: Any, counted: bool, ledger: RunLedger, state: dict[str, Any]) -> BaseException | None:
        """Hand a block's rows to the ledger in order; return the error of a fatal row (the run stops there).

        Items read by workers are counted as inputs here, one per distinct ``seq`` (the driver
        counts what it reads itself, as it admits it).
        """
        cols = table.to_pydict()
        stop: BaseException | None = None
        summary = ledger.summary
        last = state["last_seq"]
        for seq, status, step, why, line in zip(cols["seq"], cols["status"], cols["step"], cols["why"], cols["json"]):
            if counted and seq != last and not (status == "fatal" and step == "InputError"):
                summary.inputs += 1  # a worker read it: RunLedger.admit's count, for an item the driver never saw
            last = seq
            if stop is not None:
                continue  # count what was read before the stop, write nothing more
            if status == "fatal":
                stop = _rebuild_error(step, why)
                continue
            state["rows"] += 1
            ledger.write_line(status, step, why, line)
        state["last_seq"] = last
        return stop

    def _report(self, routes: list[_Route]) -> None:
        """Put the dedup routers' and shards' sizes and peak memory in :attr:`last_run`."""
        import ray

        out = []
        for r in routes:
            info = ray.get(r.handle.finish.remote())
            info["filter"] = r.name
            info["shards"] = ray.get([s.info.remote() for s in r.shards])
            out.append(info)
        self.last_run["dedup"] = out


def _read_block(block: Any) -> Any:
    from .read import read_block

    return read_block(block)


def _rebuild_error(kind: str, message: str) -> BaseException:
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, (FatalError, InputError)):
        return cls(message)
    return FatalError(f"{kind}: {message}")

"""The built-in ``local`` engine: a plan run by one asyncio loop in this process.

Records stream through bounded queues, so memory does not depend on the data size.
Generator and verifier steps run up to ``plan.concurrency`` records at a time; filter
steps see records one by one in input order (they may keep state, such as a dedup
index). The output order equals the input order whatever the concurrency, so a run is
deterministic for a given seed.

No record holds up the others: while the oldest record of a step is still waiting on a
slow request, the step keeps ``concurrency`` requests in flight and holds the records
that finished after it (in memory up to ``plan.hold``, then spilled to a temporary file)
until their turn comes.

A stop of any kind (a budget reached, SIGINT or SIGTERM, a fatal error such as a rejected
key) drains: no new record starts, the records in flight get ``plan.grace`` seconds to
finish, and everything that arrived is cached, counted and written before the summary.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import os
import pickle
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from synthkit.errors import FatalError, InputError, Interrupted, SynthkitError
from synthkit.interfaces import Engine
from synthkit.pipeline.engine import ProgressReporter, Sink
from synthkit.pipeline.ledger import RunLedger
from synthkit.pipeline.plan import FilterStep, GeneratorStep, Plan, Step, VerifyStep
from synthkit.pipeline.preparers import Preparers, default_workers
from synthkit.pipeline.source import aiter_source
from synthkit.pipeline.steps import apply_filters, run_step
from synthkit.pipeline.summary import Summary
from synthkit.records import Record

__all__ = ["LocalEngine"]

_END = object()
_SKIPPED = object()  # a record not started because the run is stopping
_FILTER_BATCH = 256  # records a filter step checks at once (when they are there), unless its filters ask for more
_AHEAD = 2  # batches a filter step reads before it decides the first (the others are being prepared)


class _Block(list):  # type: ignore[type-arg] - of records and outcomes
    """What a filter step hands on for one batch: one queue entry instead of one a record."""

    __slots__ = ()


def _filter_limit(step: FilterStep) -> int:
    """The records a filter step checks at once: the smallest ``batch_size`` its filters ask, else the engine's."""
    wanted = [f.batch_size for f in step.filters if f.batch_size]
    return min(wanted) if wanted else _FILTER_BATCH


def _items(entry: Any) -> Any:
    """The records and outcomes of one queue entry (a filter step's block, or one item)."""
    return entry if isinstance(entry, _Block) else (entry,)
_WINDOW = 25  # a step reads ahead at most this many times ``plan.hold`` records of the oldest in flight


class LocalEngine(Engine):
    """Run a plan in this process: one asyncio loop, bounded queues between steps.

    :meth:`run` drives :meth:`arun` with :func:`asyncio.run`, so it cannot be called from
    inside a running event loop (await ``arun`` there, or ``Pipeline.arun``). Run from the
    main thread, SIGINT (Ctrl-C) and SIGTERM drain the run and raise
    :class:`~synthkit.errors.Interrupted` with the summary; a second signal stops at once.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        """Args:
        workers: processes that prepare dedup batches (hashes, MinHash signatures) beside
            the loop while it decides the batch before (:mod:`synthkit.pipeline.preparers`);
            ``None``: one when this process may use two cores or more, else none; ``0``: none.
            The output is the same either way.
        """
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
            msg = f"local engine option workers must be a whole number of at least 0, got {workers!r} (e.g. --engine-option workers=0)"
            raise InputError(msg)
        self.workers = workers

    def run(
        self,
        plan: Plan,
        sink: Sink = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(plan, sink, rejects=rejects, progress=progress))
        msg = "Pipeline.run() was called inside a running event loop (a notebook or async code); use `await pipeline.arun(...)`"
        raise SynthkitError(msg)

    async def arun(
        self,
        plan: Plan,
        sink: Sink = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        """Run ``plan`` to the end in the running loop; see :meth:`Engine.run`."""
        ledger = RunLedger(plan, sink, rejects=rejects, progress=progress)
        workers = default_workers() if self.workers is None else self.workers
        with _few_collections():
            return await _Run(plan, ledger, Preparers(workers)).go()


@contextlib.contextmanager
def _few_collections() -> Any:
    """Collect cyclic garbage less often while a run lasts (it makes and drops objects per record, few of them cycles).

    The objects alive at the start (modules, plugins) are frozen out of the collector's
    scans and the young generation is collected every 50,000 allocations instead of 700;
    both are undone at the end.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


class _Spill:
    """Finished results held beyond memory's share, pickled to a temporary file until their turn."""

    def __init__(self) -> None:
        self._file: Any = None

    def put(self, value: Any) -> tuple[int, int]:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.seek(0, os.SEEK_END)
        offset = self._file.tell()
        self._file.write(data)
        return offset, len(data)

    def take(self, handle: tuple[int, int]) -> Any:
        offset, size = handle
        self._file.seek(offset)
        return pickle.loads(self._file.read(size))  # noqa: S301 - our own file, written above

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _Run:
    """One run of a plan: a feeder, one stage per step, and the drain into the ledger."""

    def __init__(self, plan: Plan, ledger: RunLedger, preparers: Preparers) -> None:
        self.plan = plan
        self.ledger = ledger
        self.preparers = preparers
        self.ctx = plan.context
        self.error: BaseException | None = None
        self.source_error: InputError | None = None
        self.stopping = asyncio.Event()
        self.signals = 0

    # -- the run -------------------------------------------------------------------------

    async def go(self) -> Summary:
        plan = self.plan
        # after a filter step a queue holds blocks: as many records as the others hold, or one block
        sizes = [max(1, plan.queue_size // _filter_limit(step)) if isinstance(step, FilterStep) else plan.queue_size for step in plan.steps]
        queues: list[asyncio.Queue[Any]] = [asyncio.Queue(size) for size in (plan.queue_size, *sizes)]
        tasks = [asyncio.create_task(self._guard(self._feed(queues[0])))]
        for i, step in enumerate(plan.steps):
            tasks.append(asyncio.create_task(self._guard(self._stage(step, queues[i], queues[i + 1]))))
        drain = asyncio.create_task(self._guard(self._drain(queues[-1])))
        tasks.append(drain)
        restore = self._catch_signals()
        try:
            stop = asyncio.create_task(self.stopping.wait())
            await asyncio.wait([drain, stop], return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not drain.done():  # stopping: the records in flight get the grace period to finish
                await asyncio.wait([drain], timeout=plan.grace)
        finally:
            restore()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.preparers.close()
            await self._close_steps()
        return self.ledger.finish(self.error or self.source_error)

    def stop(self, exc: BaseException) -> None:
        """Stop the run for ``exc``: start no new record, let those in flight finish (drain)."""
        if self.error is None:
            self.error = exc
        self.stopping.set()

    def _catch_signals(self) -> Any:
        """Drain on SIGINT and SIGTERM while the run lasts (main thread only); return the undo."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        loop = asyncio.get_running_loop()
        caught = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
                caught.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - not on this platform
                pass

        def restore() -> None:
            for sig in caught:
                loop.remove_signal_handler(sig)

        return restore

    def _on_signal(self, sig: signal.Signals) -> None:
        self.signals += 1
        if self.signals == 1:
            self.stop(Interrupted(sig))
            return
        for task in asyncio.all_tasks():  # a second signal: stop now, keep what was written
            if task is not asyncio.current_task():
                task.cancel()

    async def _guard(self, coro: Any) -> None:
        """Run one stage; an error it raises stops the whole run instead of hanging it."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - raised again by the ledger's finish
            self.stop(exc)

    # -- the stages ----------------------------------------------------------------------

    async def _feed(self, q: asyncio.Queue[Any]) -> None:
        try:
            async for item in aiter_source(self.plan):
                if self.stopping.is_set():
                    break
                await q.put(self.ledger.admit(item))
        except InputError as exc:
            # stop reading, but finish the records already read before raising
            self.source_error = exc
        await q.put(_END)

    async def _stage(self, step: Step, inq: asyncio.Queue[Any], outq: asyncio.Queue[Any]) -> None:
        if isinstance(step, FilterStep):
            await self._filter_stage(step, inq, outq)
        else:
            await self._record_stage(step, inq, outq)

    async def _record_stage(self, step: GeneratorStep | VerifyStep, inq: asyncio.Queue[Any], outq: asyncio.Queue[Any]) -> None:
        """Run ``concurrency`` records at a time; release results in input order, holding the early ones."""
        plan = self.plan
        # a step may ask for more records at once than the plan's (batch mode: a batch's worth)
        wanted = getattr(step.generator, "concurrency", None) if isinstance(step, GeneratorStep) else None
        slots = asyncio.Semaphore(wanted or plan.concurrency)
        window: collections.deque[Any] = collections.deque()  # futures, spilled handles, pass-through items
        held = 0  # finished futures still in memory in the window
        spill = _Spill()
        arrived = asyncio.Event()
        shrunk = asyncio.Event()
        cap = _WINDOW * plan.hold  # entries at most (in memory, spilled or in flight): bounded read-ahead

        async def work(record: Record) -> Any:
            try:
                if self.stopping.is_set():
                    return _SKIPPED
                try:
                    out = await run_step(step, record, self.ctx)
                except FatalError as exc:  # a budget reached, a rejected key: drain, and this record did not run
                    self.stop(exc)
                    return _SKIPPED
            finally:
                slots.release()
            self.ledger.expand(len(out) - 1)
            return out

        def finished(fut: asyncio.Future[Any]) -> None:
            nonlocal held
            held += 1
            arrived.set()

        async def feeder() -> None:
            while True:
                for item in _items(await inq.get()):
                    if item is _END:
                        window.append(_END)
                        arrived.set()
                        return
                    while len(window) >= cap:
                        shrunk.clear()
                        await shrunk.wait()
                    if isinstance(item, Record):
                        if self.stopping.is_set():
                            continue  # not started: a re-run picks it up
                        await slots.acquire()
                        fut = asyncio.ensure_future(work(item))
                        fut.add_done_callback(finished)
                        window.append(fut)
                    else:
                        window.append(item)
                    arrived.set()
                    spill_early()

        def spill_early() -> None:
            """Move finished results past the head to disk while more than ``plan.hold`` are in memory."""
            nonlocal held
            if held <= plan.hold:
                return
            for i in range(1, len(window)):
                entry = window[i]
                if isinstance(entry, asyncio.Future) and entry.done() and not entry.cancelled():
                    window[i] = ("spilled", spill.put(entry.result()))
                    held -= 1
                    if held <= plan.hold // 2:
                        return

        feed_task = asyncio.create_task(feeder())
        try:
            while True:
                while not window:
                    arrived.clear()
                    await arrived.wait()
                head = window[0]
                if head is _END:
                    break
                if isinstance(head, asyncio.Future):
                    result = await head
                    held -= 1
                elif isinstance(head, tuple) and head and head[0] == "spilled":
                    result = spill.take(head[1])
                else:
                    result = [head]
                window.popleft()
                shrunk.set()
                if result is _SKIPPED:
                    continue
                for produced in result:
                    await outq.put(produced)
            await outq.put(_END)
        finally:
            feed_task.cancel()
            for entry in window:
                if isinstance(entry, asyncio.Future):
                    entry.cancel()
            spill.close()

    async def _filter_stage(self, step: FilterStep, inq: asyncio.Queue[Any], outq: asyncio.Queue[Any]) -> None:
        """Check batches in order; while the preparers hash a batch, read the next one (up to ``_AHEAD`` batches read)."""
        done = False
        limit = _filter_limit(step)
        pending: list[Any] = []  # read, not yet checked (a block from a filter step before may be bigger than limit)
        ahead: collections.deque[tuple[list[Any], Any]] = collections.deque()  # read and sent to the preparers, not yet decided
        while not done or ahead:
            if not done:
                if not pending:
                    pending.extend(_items(await inq.get()))
                while len(pending) < limit and pending[-1] is not _END:
                    if inq.empty():
                        await asyncio.sleep(0)  # let the step before refill the queue; a slow one is not waited for
                        if inq.empty():
                            break
                    pending.extend(_items(inq.get_nowait()))
                batch, pending = pending[:limit], pending[limit:]
                if batch[-1] is _END:
                    batch.pop()
                    done = True
                futures = self.preparers.ahead(step.filters, [x for x in batch if isinstance(x, Record)])
                ahead.append((batch, futures))
                if futures is not None and not done and len(ahead) < _AHEAD:
                    continue  # read the next batch while this one is prepared
            batch, futures = ahead.popleft()
            out = _Block(apply_filters(step.filters, batch, await self.preparers.results(futures)))
            if out:
                await outq.put(out)
            await asyncio.sleep(0)
        await outq.put(_END)

    async def _drain(self, q: asyncio.Queue[Any]) -> None:
        while True:
            entry = await q.get()
            if entry is _END:
                return
            for item in _items(entry):
                self.ledger.write(item)
                if self.ledger.alarm is not None and not self.stopping.is_set():
                    self.stop(self.ledger.alarm)

    async def _close_steps(self) -> None:
        for step in self.plan.steps:
            part = step.generator if isinstance(step, GeneratorStep) else step.verifier if isinstance(step, VerifyStep) else None
            if part is not None:
                with contextlib.suppress(Exception):  # closing must not hide the run's own outcome
                    await part.aclose()




"""The built-in ``local`` engine: a plan run by one asyncio loop in this process.

Records stream through bounded queues, so memory does not depend on the data size.
Generator and verifier steps run up to ``plan.concurrency`` records at a time; filter
steps see records one by one in input order (they may keep state, such as a dedup
index). The output order equals the input order whatever the concurrency, so a run is
deterministic for a given seed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from synthkit.errors import FatalError, InputError, SynthkitError
from synthkit.pipeline.engine import Engine, ProgressReporter, Sink
from synthkit.pipeline.ledger import RunLedger
from synthkit.pipeline.plan import FilterStep, GeneratorStep, Plan, Step, VerifyStep
from synthkit.pipeline.source import aiter_source
from synthkit.pipeline.steps import apply_filters, run_step
from synthkit.pipeline.summary import Summary
from synthkit.records import Record

__all__ = ["LocalEngine"]

_END = object()
_FILTER_BATCH = 256


class LocalEngine(Engine):
    """Run a plan in this process: one asyncio loop, bounded queues between steps.

    :meth:`run` drives :meth:`arun` with :func:`asyncio.run`, so it cannot be called from
    inside a running event loop (await ``arun`` there, or ``Pipeline.arun``).
    """

    name = "local"

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
        return await _Run(plan, ledger).go()


class _Run:
    """One run of a plan: a feeder, one stage per step, and the drain into the ledger."""

    def __init__(self, plan: Plan, ledger: RunLedger) -> None:
        self.plan = plan
        self.ledger = ledger
        self.ctx = plan.context
        self.error: BaseException | None = None
        self.source_error: InputError | None = None
        self.stop = asyncio.Event()

    async def go(self) -> Summary:
        plan = self.plan
        queues: list[asyncio.Queue[Any]] = [asyncio.Queue(plan.queue_size) for _ in range(len(plan.steps) + 1)]
        tasks = [asyncio.create_task(self._guard(self._feed(queues[0])))]
        for i, step in enumerate(plan.steps):
            tasks.append(asyncio.create_task(self._guard(self._stage(step, queues[i], queues[i + 1]))))
        drain = asyncio.create_task(self._guard(self._drain(queues[-1])))
        tasks.append(drain)
        stopped = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait([drain, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._close_steps()
        return self.ledger.finish(self.error or self.source_error)

    def _fail_run(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self.stop.set()

    async def _guard(self, coro: Any) -> None:
        """Run one stage; an error it raises stops the whole run instead of hanging it."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - raised again by the ledger's finish
            self._fail_run(exc)

    async def _feed(self, q: asyncio.Queue[Any]) -> None:
        try:
            async for item in aiter_source(self.plan):
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
        concurrency = self.plan.concurrency
        sem = asyncio.Semaphore(concurrency)
        pending: asyncio.Queue[Any] = asyncio.Queue(concurrency * 2)

        async def work(record: Record) -> list[Any]:
            try:
                out = await run_step(step, record, self.ctx)
            except FatalError as exc:
                self._fail_run(exc)
                raise
            finally:
                sem.release()
            self.ledger.expand(len(out) - 1)
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

    async def _filter_stage(self, step: FilterStep, inq: asyncio.Queue[Any], outq: asyncio.Queue[Any]) -> None:
        done = False
        while not done:
            batch = [await inq.get()]
            while not inq.empty() and len(batch) < _FILTER_BATCH:
                batch.append(inq.get_nowait())
            if batch[-1] is _END:
                batch.pop()
                done = True
            for r in apply_filters(step.filters, batch):
                await outq.put(r)
            await asyncio.sleep(0)
        await outq.put(_END)

    async def _drain(self, q: asyncio.Queue[Any]) -> None:
        while True:
            item = await q.get()
            if item is _END:
                return
            self.ledger.write(item)

    async def _close_steps(self) -> None:
        for step in self.plan.steps:
            part = step.generator if isinstance(step, GeneratorStep) else step.verifier if isinstance(step, VerifyStep) else None
            if part is not None:
                try:
                    await part.aclose()
                except Exception:  # noqa: BLE001, S110 - closing must not hide the run's own outcome
                    pass

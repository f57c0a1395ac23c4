"""Batch mode: requests go through a provider's batch API at half the price, kept in the SQLite cache.

:class:`BatchTeacher` is a response cache (:class:`~synthkit.teachers.cache.CachedTeacher`)
whose misses do not go out one by one: they gather for ``linger`` seconds, are written as a
JSONL file, uploaded, and submitted as a batch; a poller watches each batch and, when it
ends, stores every answer in the cache under the same key a real-time answer has, then
wakes the records waiting for it. Nothing else changes: a batch result and a real-time
result for the same request are the same cache entry.

What survives the process, in two tables of the cache file:

* ``batches``: one row per batch (our id, the provider's id, the input file, the state,
  the request counts); written *before* the upload, and our id travels in the batch's
  ``metadata``, so a process killed between creating a batch and recording its id finds
  it again on the provider's list instead of sending its requests twice;
* ``batch_requests``: one row per request (its ``custom_id``, the cache keys of its
  samples, its JSONL line, its attempts), so a re-run joins the batches in flight.

When a batch ends ``expired``, ``cancelled`` or with some lines failed for a transient
reason (5xx, 429), its answered lines are kept and only the missing requests go into the
next batch (at most ``max_attempts`` batches a request). A line refused for good (4xx)
fails its record. Work larger than the provider's limits (``max_requests`` lines,
``max_bytes`` bytes a batch) is split. Costs use batch prices
(:func:`~synthkit.teachers.cost.batch_price_of`) and completions carry ``usage.batch``.

``batch="auto"`` sends a group of waiting requests as a batch only when it holds at least
``auto_min`` of them; smaller groups go in real time through the wrapped teacher.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from synthkit.errors import RecordError, SynthkitError
from synthkit.interfaces import Completion, Message, Swap, Teacher, Usage
from synthkit.teachers.batch_apis import BatchAPI, BatchLimits, Transient, BatchResult, batch_api_for
from synthkit.teachers.cache import CachedTeacher, ResponseCache
from synthkit.teachers.cost import Price, batch_price_of, estimate_tokens
from synthkit.teachers.remote import split_usage

__all__ = ["AUTO_MIN", "BatchTeacher"]

#: ``batch="auto"``: the fewest requests waiting together that go as a batch.
AUTO_MIN = 500

_FINAL = frozenset({"completed", "expired", "cancelled", "failed"})
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS batches (local_id TEXT PRIMARY KEY, provider TEXT NOT NULL, identity TEXT NOT NULL,"
    " remote_id TEXT, input_file_id TEXT, state TEXT NOT NULL, counts TEXT, created REAL NOT NULL, updated REAL NOT NULL,"
    " settled INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS batch_requests (custom_id TEXT PRIMARY KEY, local_id TEXT NOT NULL, keys TEXT NOT NULL,"
    " line TEXT NOT NULL, attempts INTEGER NOT NULL, state TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS batch_requests_by_batch ON batch_requests (local_id)",
)


@attrs.define
class _Request:
    custom_id: str
    keys: tuple[str, ...]
    line: str
    future: asyncio.Future[list[Completion]]
    attempts: int = 0
    reserved: float = 0.0


class BatchTeacher(CachedTeacher):
    """A cached teacher whose misses go through the provider's batch API (see the module docstring).

    Args:
        teacher: the real-time teacher (its endpoint, key, model and cost meter are used).
        cache: the cache file (batch states live in it too).
        mode: ``True`` (every miss goes in a batch) or ``"auto"`` (only groups of at least ``auto_min``).
        api: the batch API (default: :func:`batch_api_for` the teacher).
        limits: lines and bytes a batch may hold (default: the provider's).
        poll_interval: seconds between two looks at a batch in flight.
        linger: seconds without a new request after which the waiting requests are submitted.
        max_attempts: batches a request may go into (expired, cancelled, 5xx lines are resubmitted).
        auto_min: with ``mode="auto"``, the fewest requests that go as a batch.
    """

    def __init__(
        self,
        teacher: Teacher,
        cache: ResponseCache | str | Path,
        *,
        mode: bool | Literal["auto"] = True,
        api: BatchAPI | None = None,
        limits: BatchLimits | None = None,
        poll_interval: float = 30.0,
        linger: float = 2.0,
        max_attempts: int = 3,
        auto_min: int = AUTO_MIN,
    ) -> None:
        super().__init__(teacher, cache)
        self.api = api if api is not None else batch_api_for(teacher, limits)
        self.mode = mode
        self.poll_interval = float(poll_interval)
        self.linger = float(linger)
        self.max_attempts = int(max_attempts)
        self.auto_min = int(auto_min)
        meter = getattr(teacher, "cost", None)
        self.price: Price | None = batch_price_of(teacher.model, getattr(meter, "price", None))
        self._meter = meter
        self._stats = getattr(teacher, "stats", None)
        self._id = json.dumps(self.identity, sort_keys=True)
        self._pending: list[_Request] = []
        self._waiting: dict[str, _Request] = {}  # custom_id -> the request a record awaits
        self._arrived: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ready: asyncio.Future[None] | None = None
        self.error: BaseException | None = None

    @property
    def concurrency(self) -> int:
        """Records a step should keep waiting at once: a batch's worth."""
        return self.api.limits.max_requests

    def with_teachers(self, swap: Swap) -> Teacher:
        inner = self.teacher.with_teachers(swap)
        if inner is self.teacher:
            return swap(self)
        return swap(
            BatchTeacher(inner, self.cache, mode=self.mode, api=batch_api_for(inner, self.api.limits), poll_interval=self.poll_interval,
                         linger=self.linger, max_attempts=self.max_attempts, auto_min=self.auto_min)
        )

    # -- the store ---------------------------------------------------------------------------

    @property
    def _db(self) -> Any:
        db = self.cache._db  # noqa: SLF001 - the same file, the same connection
        if not getattr(self.cache, "_batch_schema", False):
            for sql in _SCHEMA:
                db.execute(sql)
            self.cache._batch_schema = True  # type: ignore[attr-defined]
        return db

    def custom_id(self, keys: Sequence[str]) -> str:
        """The ``custom_id`` of the request for the samples ``keys`` (stable across runs)."""
        return "sk-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:40]

    # -- asking -----------------------------------------------------------------------------

    async def complete(self, messages: Sequence[Message], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        await self._start()
        keys = self.keys(messages, params, n)
        found = self.cache.get_many(keys)
        missing = tuple(k for k in keys if k not in found)
        self.hits += n - len(missing)
        if self._stats is not None and n - len(missing):
            self._stats.cached += n - len(missing)
        if missing:
            cid = self.custom_id(missing)
            req = self._waiting.get(cid)
            if req is None:
                req = self._join(cid, missing, [dict(m) for m in messages], params)
            fresh = await asyncio.shield(req.future)
            found.update(zip(missing, fresh))
        return [found[k] for k in keys]

    def _join(self, cid: str, keys: tuple[str, ...], messages: list[dict[str, Any]], params: Mapping[str, Any]) -> _Request:
        """Wait for ``cid``: in the batch in flight that holds it, or in the next batch."""
        fut: asyncio.Future[list[Completion]] = asyncio.get_running_loop().create_future()
        row = self._db.execute(
            "SELECT r.attempts, r.state, b.settled FROM batch_requests r LEFT JOIN batches b ON b.local_id = r.local_id WHERE r.custom_id = ?", (cid,)
        ).fetchone()
        line = json.dumps(self.api.line(cid, messages, params, len(keys)), ensure_ascii=False, separators=(",", ":"))
        req = _Request(cid, keys, line, fut, attempts=int(row[0]) if row else 0)
        if self.error is not None:
            raise self.error
        if row is not None and row[1] == "submitted" and row[2] == 0:
            self._waiting[cid] = req
            return req  # its batch is not settled yet: its poller (started by _recover or _submit) answers it
        if self._meter is not None:
            prompt = estimate_tokens(messages)
            req.reserved = self._meter.reserve(prompt, self._meter.completion_guess(params) * len(keys), price=self.price)
        self._waiting[cid] = req
        self._pending.append(req)
        assert self._arrived is not None
        self._arrived.set()
        return req

    # -- the background work ----------------------------------------------------------------

    async def _start(self) -> None:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._arrived = asyncio.Event()
            self._spawn(self._run())
        await asyncio.shield(self._ready)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        assert self._ready is not None and self._arrived is not None
        try:
            await self._recover()
        except BaseException as exc:
            self._ready.set_exception(exc)
            self._ready.exception()
            raise
        self._ready.set_result(None)
        try:
            while True:
                await self._arrived.wait()
                while True:  # linger: wait until no request arrived for ``linger`` seconds, or a batch is full
                    self._arrived.clear()
                    if len(self._pending) >= self.api.limits.max_requests:
                        break
                    try:
                        await asyncio.wait_for(self._arrived.wait(), self.linger)
                    except asyncio.TimeoutError:
                        break
                group, self._pending = self._pending, []
                if not group:
                    continue
                if self.mode == "auto" and len(group) < self.auto_min:
                    for req in group:
                        self._spawn(self._realtime(req))
                    continue
                for chunk in self._split(group):
                    await self._submit(chunk)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to every record waiting
            self._fail_all(exc)

    def _split(self, group: list[_Request]) -> list[list[_Request]]:
        """Chunks within the provider's limits (lines and bytes a batch)."""
        limits = self.api.limits
        chunks: list[list[_Request]] = [[]]
        size = 0
        for req in group:
            nbytes = len(req.line.encode()) + 1
            if chunks[-1] and (len(chunks[-1]) >= limits.max_requests or size + nbytes > limits.max_bytes):
                chunks.append([])
                size = 0
            chunks[-1].append(req)
            size += nbytes
        return [c for c in chunks if c]

    async def _submit(self, chunk: list[_Request]) -> None:
        local_id = uuid.uuid4().hex
        now = time.time()
        db = self._db
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO batches (local_id, provider, identity, state, created, updated) VALUES (?, ?, ?, 'submitting', ?, ?)",
                (local_id, self.api.provider, self._id, now, now),
            )
            db.executemany(
                "INSERT OR REPLACE INTO batch_requests (custom_id, local_id, keys, line, attempts, state) VALUES (?, ?, ?, ?, ?, 'submitted')",
                [(r.custom_id, local_id, json.dumps(r.keys), r.line, r.attempts + 1, ) for r in chunk],
            )
        for r in chunk:
            r.attempts += 1
        for attempt in range(5):
            try:
                batch = await self.api.submit([r.line for r in chunk], local_id)
                break
            except Transient:
                if attempt == 4:
                    raise
                await asyncio.sleep(min(30.0, self.poll_interval) * (attempt + 1))
        self._record(local_id, batch)
        self._spawn(self._poll(local_id, batch))

    def _record(self, local_id: str, batch: Mapping[str, Any]) -> None:
        counts = batch.get("request_counts") or {}
        with self._db:
            self._db.execute(
                "UPDATE batches SET remote_id = ?, input_file_id = ?, state = ?, counts = ?, updated = ? WHERE local_id = ?",
                (batch.get("id"), batch.get("input_file_id"), batch.get("status"), json.dumps(counts), time.time(), local_id),
            )
        if self._stats is not None and batch.get("id"):
            total = counts.get("total") or 0
            state = str(batch.get("status"))
            self._stats.batches[str(batch["id"])] = f"{state} {counts.get('completed', 0)}/{total}" if total else state

    async def _recover(self) -> None:
        """Pick up this endpoint's batches in flight from an earlier process."""
        rows = self._db.execute("SELECT local_id, remote_id, state FROM batches WHERE identity = ? AND settled = 0", (self._id,)).fetchall()
        for local_id, remote_id, state in rows:
            if remote_id:
                try:
                    batch = await self.api.retrieve(remote_id)
                except Transient:  # the provider did not answer now: the poller asks again
                    batch = {"id": remote_id, "status": "in_progress" if state in _FINAL else state}
            else:
                batch = await self.api.find(local_id)
            if batch is None:  # killed before the batch was created: its requests go in the next batch
                with self._db:
                    self._db.execute("UPDATE batches SET state = 'never created', settled = 1 WHERE local_id = ?", (local_id,))
                    self._db.execute("UPDATE batch_requests SET state = 'missing' WHERE local_id = ? AND state = 'submitted'", (local_id,))
                continue
            self._record(local_id, batch)
            self._spawn(self._poll(local_id, batch))

    async def _poll(self, local_id: str, batch: Mapping[str, Any]) -> None:
        try:
            while batch.get("status") not in _FINAL:
                await asyncio.sleep(self.poll_interval)
                try:
                    batch = await self.api.retrieve(str(batch["id"]))
                except Transient:
                    continue
                self._record(local_id, batch)
            await self._settle(local_id, batch)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the records of this batch
            self._fail_batch(local_id, exc)

    async def _settle(self, local_id: str, batch: Mapping[str, Any]) -> None:
        """Store every answer of a finished batch; resubmit what is missing, fail what was refused."""
        results = {r.custom_id: r for r in await self._results(batch)}
        rows = self._db.execute("SELECT custom_id, keys, line, attempts FROM batch_requests WHERE local_id = ? AND state = 'submitted'", (local_id,)).fetchall()
        stored: list[tuple[str, Completion]] = []
        done: list[tuple[str, list[Completion]]] = []
        again: list[tuple[str, tuple[str, ...], str, int]] = []
        failed: list[tuple[str, str]] = []
        reason = f"batch {batch.get('id')} {batch.get('status')}"
        if batch.get("status") == "failed":
            errs = (batch.get("errors") or {}).get("data") or []
            reason += ": " + "; ".join(str(e.get("message") or e.get("code")) for e in errs[:3]) if errs else ""
        for cid, keys_json, line, attempts in rows:
            keys = tuple(json.loads(keys_json))
            res = results.get(cid)
            waiter = self._waiting.get(cid)
            reserved = waiter.reserved if waiter is not None else 0.0
            if waiter is not None:
                waiter.reserved = 0.0
            if res is not None and res.error is None:
                comps = self._completions(res, len(keys), reserved)
                stored += list(zip(keys, comps))
                done.append((cid, comps))
                if len(comps) < len(keys):
                    failed.append((cid, f"the batch answered {len(comps)} of {len(keys)} samples"))
                continue
            if self._meter is not None and reserved:
                self._meter.settle(reserved)  # no answer: release the reservation (a resubmission reserves nothing more)
            if batch.get("status") == "failed" or (res is not None and not res.retryable):
                failed.append((cid, res.error if res is not None and res.error else reason))
            elif attempts >= self.max_attempts:
                failed.append((cid, f"no answer after {attempts} batches ({res.error if res else reason})"))
            else:
                again.append((cid, keys, line, attempts))
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if stored:
                self._put(stored)
            self._db.executemany("UPDATE batch_requests SET state = 'done' WHERE custom_id = ?", [(c,) for c, _ in done])
            self._db.executemany("UPDATE batch_requests SET state = 'failed' WHERE custom_id = ?", [(c,) for c, _ in failed])
            self._db.executemany("UPDATE batch_requests SET state = 'missing' WHERE custom_id = ?", [(c,) for c, *_ in again])
            self._db.execute("UPDATE batches SET state = ?, settled = 1, updated = ? WHERE local_id = ?", (batch.get("status"), time.time(), local_id))
        self.misses += len(stored)
        for cid, comps in done:
            req = self._waiting.get(cid)
            if req is not None and len(comps) == len(req.keys):
                del self._waiting[cid]
                if not req.future.done():
                    req.future.set_result(comps)
        for cid, why in failed:
            req = self._waiting.pop(cid, None)
            if self._stats is not None:
                self._stats.failures += 1
            if req is not None and not req.future.done():
                kind = why.split(":", 1)[0] if ":" in why else "batch_failed"
                req.future.set_exception(RecordError(f"batch mode: {why}", kind=kind, attempts=req.attempts))
                req.future.exception()
        resubmit = [self._waiting[cid] for cid, *_ in again if cid in self._waiting]
        if resubmit:
            assert self._arrived is not None
            for req in resubmit:
                req.attempts = max(req.attempts, next(a for c, _k, _l, a in again if c == req.custom_id))
            self._pending += resubmit
            self._arrived.set()

    def _put(self, items: list[tuple[str, Completion]]) -> None:
        from synthkit.teachers.cache import _encode

        now = time.time()
        self._db.executemany("INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)", [(k, _encode(c), now) for k, c in items])

    async def _results(self, batch: Mapping[str, Any]) -> list[BatchResult]:
        for attempt in range(5):
            try:
                return await self.api.results(batch)
            except Transient:
                if attempt == 4:
                    raise
                await asyncio.sleep(min(30.0, self.poll_interval) * (attempt + 1))
        return []

    def _completions(self, res: BatchResult, n: int, reserved: float = 0.0) -> list[Completion]:
        k = min(n, len(res.texts))
        cost = None
        if self._meter is not None:
            cost = self._meter.settle(reserved, res.prompt_tokens, res.completion_tokens, price=self.price, batch=True)
        elif self.price is not None:
            cost = self.price.cost(res.prompt_tokens, res.completion_tokens)
        st = self._stats
        if st is not None:
            st.ok += 1
            st.prompt_tokens += res.prompt_tokens
            st.completion_tokens += res.completion_tokens
            if cost is not None:
                st.cost_usd = (self._meter.spent if self._meter is not None else (st.cost_usd or 0.0) + cost)
        prompts, outs = split_usage(res.prompt_tokens, k), split_usage(res.completion_tokens, k)
        total = res.prompt_tokens + res.completion_tokens
        comps = []
        for i in range(k):
            share = None if cost is None else (cost * (prompts[i] + outs[i]) / total if total else 0.0)
            usage = Usage(prompt_tokens=prompts[i], completion_tokens=outs[i], cost_usd=share, batch=True)
            comps.append(Completion(text=res.texts[i], finish_reason=res.finishes[i], usage=usage, model=res.model or self.teacher.model))
        return comps

    async def _realtime(self, req: _Request) -> None:
        """``auto`` mode, a small group: ask the wrapped teacher now."""
        if self._meter is not None and req.reserved:
            self._meter.settle(req.reserved)
        body = json.loads(req.line)["body"]
        messages = body.pop("messages")
        n = int(body.pop("n", 1))
        body.pop("model", None)
        try:
            fresh = await self.teacher.complete(messages, body, n=n)
            self.cache.put_many(list(zip(req.keys, fresh)))
            self.misses += len(fresh)
            req.future.set_result(fresh)
        except BaseException as exc:  # noqa: BLE001 - handed to the record
            req.future.set_exception(exc)
            req.future.exception()
        finally:
            self._waiting.pop(req.custom_id, None)

    def _fail_batch(self, local_id: str, exc: BaseException) -> None:
        cids = {c for (c,) in self._db.execute("SELECT custom_id FROM batch_requests WHERE local_id = ?", (local_id,)).fetchall()}
        for cid in cids:
            req = self._waiting.pop(cid, None)
            if req is not None and not req.future.done():
                req.future.set_exception(exc)
                req.future.exception()

    def _fail_all(self, exc: BaseException) -> None:
        self.error = exc
        for req in list(self._waiting.values()):
            if not req.future.done():
                req.future.set_exception(exc)
                req.future.exception()
        self._waiting.clear()

    async def aclose(self) -> None:
        """Stop polling (the batches go on at the provider; a re-run picks them up), then close."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.api.aclose()
        finally:
            await super().aclose()

"""A resumable response cache: SQLite in WAL mode, content-addressed per sample.

The key of one sample hashes everything that determines it: the teacher's endpoint
(base URL) and model, the full messages (system prompt included), the sampling
parameters and the sample index. It never includes the API key. Each response is
committed as it arrives, so a killed run loses at most its requests in flight, and
several processes can share one file.

:class:`CachedTeacher` wraps any :class:`~synthkit.Teacher`::

    teacher = CachedTeacher(sk.get_teacher("openai", model="gpt-4o-mini"), "cache.db")
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from synthkit.interfaces import Swap, Completion, Message, Teacher, Usage

__all__ = ["cache_key", "cache_identity", "ResponseCache", "CachedTeacher"]

_VERSION = 1


def cache_identity(teacher: Teacher) -> dict[str, Any]:
    """Return what identifies ``teacher``'s endpoint: its ``cache_identity()`` or name and model."""
    fn = getattr(teacher, "cache_identity", None)
    if callable(fn):
        return dict(fn())
    return {"teacher": teacher.name, "model": teacher.model}


def cache_key(identity: Mapping[str, Any], messages: Sequence[Message], params: Mapping[str, Any], index: int) -> str:
    """Return the hex SHA-256 key of one sample.

    Args:
        identity: the endpoint, e.g. ``{"base_url": ..., "model": ...}`` (never credentials).
        messages: the full chat messages.
        params: the sampling parameters.
        index: the sample's index among the ``n`` asked for.
    """
    payload = {"v": _VERSION, "id": dict(identity), "messages": [dict(m) for m in messages], "params": dict(params), "i": index}
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def _encode(c: Completion) -> str:
    value = {"text": c.text, "finish_reason": c.finish_reason, "model": c.model, "usage": c.usage.to_dict()}
    if c.reasoning is not None:
        value["reasoning"] = c.reasoning
    if c.tool_calls:
        value["tool_calls"] = c.tool_calls
    if c.teacher:
        value["teacher"] = c.teacher
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _decode(raw: str) -> Completion:
    d = json.loads(raw)
    u = d.get("usage") or {}
    usage = Usage(
        prompt_tokens=int(u.get("prompt_tokens", 0)),
        completion_tokens=int(u.get("completion_tokens", 0)),
        cost_usd=u.get("cost_usd"),
        batch=bool(u.get("batch", False)),
    )
    return Completion(
        text=d["text"], finish_reason=d.get("finish_reason"), usage=usage, model=d.get("model"), cached=True,
        reasoning=d.get("reasoning"), tool_calls=d.get("tool_calls", ()), teacher=d.get("teacher"),
    )


class ResponseCache:
    """The SQLite store behind :class:`CachedTeacher` (one row per sample).

    Args:
        path: the database file (created with its folder if missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, opened (and the file created) on first use: a dry run creates no file."""
        if self._conn is None:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a killed process
            db.execute("PRAGMA busy_timeout=60000")
            db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)")
            self._conn = db
        return self._conn

    def get_many(self, keys: Sequence[str]) -> dict[str, Completion]:
        """Return the cached completions among ``keys``."""
        if not keys or (self._conn is None and not self.path.exists()):
            return {}
        marks = ",".join("?" * len(keys))
        rows = self._db.execute(f"SELECT key, value FROM responses WHERE key IN ({marks})", list(keys)).fetchall()  # noqa: S608
        return {k: _decode(v) for k, v in rows}

    def put_many(self, items: Sequence[tuple[str, Completion]]) -> None:
        """Store completions and commit at once."""
        now = time.time()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)",
                [(k, _encode(c), now) for k, c in items],
            )

    def __len__(self) -> int:
        if self._conn is None and not self.path.exists():
            return 0
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the path: another process (a Ray worker) opens its own connection to the same file."""
        return (type(self), (str(self.path),))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class CachedTeacher(Teacher):
    """Wrap any teacher so each sample is answered from the cache or paid for once.

    Args:
        teacher: the teacher to wrap; its ``name`` and ``model`` show through.
        cache: a :class:`ResponseCache` or a database path.

    Samples already cached come back with ``Completion.cached=True`` and cost nothing;
    the missing ones are asked of the teacher in one call and stored before returning.
    Identical requests in flight at the same time are sent once.
    """

    def __init__(self, teacher: Teacher, cache: ResponseCache | str | Path) -> None:
        self.teacher = teacher
        self.name = teacher.name  # type: ignore[misc] - instance value mirrors the wrapped class's
        self.model = teacher.model
        self.cache = cache if isinstance(cache, ResponseCache) else ResponseCache(cache)
        self.identity = cache_identity(teacher)
        self.hits = 0
        self.misses = 0
        self._inflight: dict[tuple[str, ...], asyncio.Future[list[Completion]]] = {}

    def __getattr__(self, name: str) -> Any:
        # stats, cost, limiter... of the wrapped teacher
        try:
            teacher = self.__dict__["teacher"]
        except KeyError:  # not set yet: while unpickling (a Ray worker gets a copy)
            raise AttributeError(name) from None
        return getattr(teacher, name)

    def cache_identity(self) -> dict[str, Any]:
        return dict(self.identity)

    def keys(self, messages: Sequence[Message], params: Mapping[str, Any], n: int) -> list[str]:
        """Return the cache keys of the ``n`` samples of one request."""
        return [cache_key(self.identity, messages, params, i) for i in range(n)]

    async def complete(self, messages: Sequence[Message], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        keys = self.keys(messages, params, n)
        found = self.cache.get_many(keys)
        missing = tuple(k for k in keys if k not in found)
        self.hits += n - len(missing)
        stats = getattr(self.teacher, "stats", None)
        if stats is not None and n - len(missing):
            stats.cached += n - len(missing)
        if missing:
            fut = self._inflight.get(missing)
            if fut is not None:
                fresh = await asyncio.shield(fut)
            else:
                fut = asyncio.get_running_loop().create_future()
                self._inflight[missing] = fut
                try:
                    try:
                        fresh = await self.teacher.complete(messages, params, n=len(missing))
                    except Exception as exc:  # keep the samples that did arrive: a re-run pays only the rest
                        partial = list(getattr(exc, "partial", ()))[: len(missing)]
                        if partial:
                            self.cache.put_many(list(zip(missing, partial)))
                            self.misses += len(partial)
                        raise
                    if len(fresh) != len(missing):
                        msg = f"teacher {self.teacher.name!r} returned {len(fresh)} completions for n={len(missing)}"
                        raise RuntimeError(msg)
                    self.cache.put_many(list(zip(missing, fresh)))
                    self.misses += len(missing)
                    fut.set_result(fresh)
                except BaseException as exc:
                    fut.set_exception(exc)
                    fut.exception()  # mark retrieved: waiters (if any) re-raise it themselves
                    raise
                finally:
                    del self._inflight[missing]
            found.update(zip(missing, fresh))
        return [found[k] for k in keys]

    async def aclose(self) -> None:
        try:
            await self.teacher.aclose()
        finally:
            self.cache.close()

    def teachers(self) -> tuple[Teacher, ...]:
        return (self, *self.teacher.teachers())

    def with_teachers(self, swap: Swap) -> Teacher:
        """Return the cache (the same file) around ``self.teacher.with_teachers(swap)``, then ``swap`` of that."""
        inner = self.teacher.with_teachers(swap)
        if inner is self.teacher:
            return swap(self)
        wrapped = CachedTeacher(inner, self.cache)
        wrapped.identity = self.identity
        return swap(wrapped)

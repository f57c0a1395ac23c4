"""Teacher failover: an ordered chain that moves a request on when a teacher is out, and back when it recovers.

:class:`FailoverTeacher` asks its teachers in order. A teacher is *out* for a request when
its retries ran out on a transient failure (5xx, timeout, reset, bad body, 429s past the
attempts) or when its :class:`CircuitBreaker` is open. The breaker watches every attempt of
a remote teacher: ``threshold`` transient failures in a row open it, and while it is open
the teacher's requests stop at once (:class:`TeacherDown`, no retries), so a storm of 5xx
costs a few requests, not every record's full retry budget. After ``cooldown`` seconds one
request probes the teacher (half-open): a success closes the breaker and the chain goes
back to it; a failure opens it for another ``cooldown``.

What does not move on: a rejected key (:class:`~synthkit.errors.AuthError`) still stops the
run, and a request the provider refuses (400, 404) fails its record, since the next teacher
would most likely refuse it too. When every teacher is out, a request waits for the first
breaker to half-open.

Each completion carries ``Completion.teacher``, so lineage records which teacher answered;
with a cache each teacher keeps its own entries (its own endpoint and model in the key),
and a request answered by any of them earlier is not paid again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from synthkit.errors import AuthError, RecordError
from synthkit.interfaces import Completion, Message, Swap, Teacher
from synthkit.teachers.remote import RemoteTeacher, TeacherDown, TeacherStats

__all__ = ["CircuitBreaker", "FailoverTeacher", "TeacherDown", "TRANSIENT_KINDS"]

#: Error kinds that mean "this teacher is out", not "this request is bad".
TRANSIENT_KINDS = frozenset(
    {"teacher_down", "timeout", "connection_reset", "connection_error", "truncated_body", "invalid_json", "empty_choices", "rate_limited", "http_429"}
)


def _transient(kind: str | None) -> bool:
    if kind in TRANSIENT_KINDS:
        return True
    if kind and kind.startswith("http_") and kind[5:].isdigit():
        code = int(kind[5:])
        return code >= 500 or code in (408, 409)
    return False


@attrs.define
class CircuitBreaker:
    """Opens after ``threshold`` transient failures in a row; half-opens after ``cooldown`` seconds.

    States: ``closed`` (requests go), ``open`` (they stop at once), ``half_open`` (one probe goes).
    """

    threshold: int = 5
    cooldown: float = 30.0
    state: str = "closed"
    failures: int = 0
    opened_at: float = 0.0
    opens: int = 0
    _probing: bool = False

    def allow(self) -> bool:
        """May a request go now? (In half-open, only the one probe.)"""
        if self.state == "closed":
            return True
        if self.state == "open" and time.monotonic() - self.opened_at >= self.cooldown:
            self.state = "half_open"
            self._probing = False
        if self.state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def reopens_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when it would now)."""
        if self.state != "open":
            return 0.0
        return max(0.0, self.cooldown - (time.monotonic() - self.opened_at))

    def release(self) -> None:
        """The half-open probe ended without a verdict (a refused request): let another probe go."""
        self._probing = False

    def success(self) -> None:
        self.state = "closed"
        self.failures = 0
        self._probing = False

    def failure(self) -> None:
        self.failures += 1
        if self.state == "half_open" or (self.state == "closed" and self.failures >= self.threshold):
            self.state = "open"
            self.opened_at = time.monotonic()
            self.opens += 1
            self._probing = False


class FailoverTeacher(Teacher):
    """Ask ``teachers`` in order; move a request to the next when one is out (see the module docstring).

    Args:
        teachers: the chain, the preferred teacher first.
        threshold: transient failures in a row that open a teacher's breaker.
        cooldown: seconds an open breaker waits before a probe.

    Example:
        >>> chain = FailoverTeacher([sk.get_teacher("openai", model="gpt-4o"),
        ...                          sk.get_teacher("litellm", model="anthropic/claude-3-5-haiku-20241022")])  # doctest: +SKIP
    """

    name = "failover"

    def __init__(self, teachers: Sequence[Teacher], *, threshold: int = 5, cooldown: float = 30.0) -> None:
        if len(teachers) < 2:
            msg = f"a failover chain needs at least two teachers, got {len(teachers)}"
            raise ValueError(msg)
        self.members: tuple[Teacher, ...] = tuple(teachers)
        self.breakers: tuple[CircuitBreaker, ...] = tuple(CircuitBreaker(threshold, cooldown) for _ in teachers)
        for member, breaker in zip(self.members, self.breakers):
            inner = _remote(member)
            if inner is not None:
                inner.breaker = breaker  # every attempt feeds the breaker; an open one stops requests at once
        self.model = self.members[0].model
        self.answered: dict[str, int] = {}  # "teacher:model" -> requests answered

    def __repr__(self) -> str:
        return f"FailoverTeacher({', '.join(f'{t.name}:{t.model}' for t in self.members)})"

    def cached(self, cache: Any) -> FailoverTeacher:
        """Return the chain with each teacher behind its own entries of the cache ``cache`` (a path or :class:`ResponseCache`)."""
        from synthkit.teachers.cache import CachedTeacher, ResponseCache

        store = cache if isinstance(cache, ResponseCache) else ResponseCache(Path(cache))
        new = _copy(self, tuple(CachedTeacher(t, store) for t in self.members))
        return new

    @property
    def stats(self) -> _ChainStats:
        """The counters of every teacher of the chain, summed as they are read (for the progress display)."""
        return _ChainStats(self.members)

    async def complete(self, messages: Sequence[Message], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        hit = self._cached(messages, params, n)
        if hit is not None:
            return hit
        while True:
            last: RecordError | None = None
            tried = False
            for member, breaker in zip(self.members, self.breakers):
                if not breaker.allow():
                    continue
                tried = True
                try:
                    out = await member.complete(messages, params, n=n)
                except AuthError:
                    raise
                except RecordError as exc:
                    if not _transient(exc.kind):
                        raise
                    if _remote(member) is None:
                        breaker.failure()  # a teacher without attempts to watch: count its requests
                    last = exc
                    continue
                finally:
                    if breaker.state == "half_open":
                        breaker.release()
                if _remote(member) is None:
                    breaker.success()
                label = f"{member.name}:{member.model}"
                self.answered[label] = self.answered.get(label, 0) + 1
                return [c if c.teacher else attrs.evolve(c, teacher=member.name) for c in out]
            if tried and last is not None:
                names = ", ".join(f"{t.name}:{t.model}" for t in self.members)
                msg = f"every teacher of the chain ({names}) is out; the last said: {last}"
                raise RecordError(msg, kind=last.kind, attempts=last.attempts)
            await asyncio.sleep(max(0.01, min(b.reopens_in() for b in self.breakers)))

    def _cached(self, messages: Sequence[Message], params: Mapping[str, Any], n: int) -> list[Completion] | None:
        """Samples any teacher of the chain answered before (in its own cache entries), or ``None``."""
        for member in self.members:
            cache, keys_of = getattr(member, "cache", None), getattr(member, "keys", None)
            if cache is None or keys_of is None:
                continue
            keys = keys_of(messages, params, n)
            found = cache.get_many(keys)
            if len(found) == n:
                stats = getattr(member, "stats", None)
                if stats is not None:
                    stats.cached += n
                return [attrs.evolve(found[k], teacher=found[k].teacher or member.name) for k in keys]
        return None

    async def aclose(self) -> None:
        for member in self.members:
            await member.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        out: list[Teacher] = [self]
        for member in self.members:
            out += member.teachers()
        return tuple(out)

    def with_teachers(self, swap: Swap) -> Teacher:
        members = tuple(m.with_teachers(swap) for m in self.members)
        if all(a is b for a, b in zip(members, self.members)):
            return swap(self)
        return swap(_copy(self, members))


class _ChainStats:
    """A live sum of the chain's :class:`~synthkit.teachers.remote.TeacherStats`: every read adds up the members' counters now."""

    _SUMS = frozenset({"requests", "ok", "retries", "failures", "rate_limited", "cached", "prompt_tokens", "completion_tokens"})

    def __init__(self, members: Sequence[Teacher]) -> None:
        self._members = tuple(members)

    def _parts(self) -> list[TeacherStats]:
        return [s for s in (getattr(t, "stats", None) for t in self._members) if s is not None]

    def __getattr__(self, name: str) -> Any:
        parts = self._parts()
        if name in self._SUMS:
            return sum(getattr(p, name) for p in parts)
        if name == "cost_usd":
            known = [p.cost_usd for p in parts if p.cost_usd is not None]
            return sum(known) if known else None
        if name == "paused_until":
            return max((p.paused_until for p in parts), default=0.0)
        if name == "started":
            return min((p.started for p in parts), default=time.monotonic())
        if name in ("errors", "batches", "in_flight"):
            merged: dict[Any, Any] = {}
            for i, p in enumerate(parts):
                for k, v in getattr(p, name).items():
                    key = (i, k) if name == "in_flight" else k
                    merged[key] = merged.get(key, 0) + v if name == "errors" else v
            return merged
        raise AttributeError(name)

    @property
    def tokens(self) -> int:
        return int(self.prompt_tokens) + int(self.completion_tokens)

    def rate(self) -> float:
        return float(self.ok) / max(1e-9, time.monotonic() - float(self.started))

    def slow(self, older_than: float = 10.0) -> tuple[int, float]:
        counts = [p.slow(older_than) for p in self._parts()]
        return sum(c for c, _ in counts), max((a for _, a in counts), default=0.0)


def _copy(chain: FailoverTeacher, members: tuple[Teacher, ...]) -> FailoverTeacher:
    """The chain around other members, keeping its breakers (and wiring them into the new members)."""
    new = FailoverTeacher.__new__(FailoverTeacher)
    vars(new).update(vars(chain))
    new.members = members
    for member, breaker in zip(members, chain.breakers):
        inner = _remote(member)
        if inner is not None:
            inner.breaker = breaker
    return new


def _remote(teacher: Teacher) -> Any:
    """The remote teacher inside ``teacher`` (under a cache), or ``None``."""
    for t in teacher.teachers():
        if isinstance(t, RemoteTeacher):
            return t
    return None

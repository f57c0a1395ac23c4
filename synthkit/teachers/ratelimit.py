"""Rate control for remote teachers: RPM and TPM token buckets, adaptive concurrency, pauses.

* :class:`TokenBucket`: requests (or tokens) per minute; waiters queue in order, so one
  sleeper at a time, not a thundering herd.
* :class:`AdaptiveConcurrency`: AIMD. The limit grows by one after a window of
  successes (as many as the limit) and halves on a 429, at most once per window of
  requests started before the last cut. With ``slow_start`` it begins at 4 and doubles
  per window until the first 429 (as TCP does), so the first responses, and the limits
  their headers announce, arrive before a burst can trip the provider's limit. It never drops below ``minimum``: a 429 storm
  slows the run, it does not freeze it.
  Besides 429s it watches latency (a Vegas-style rule, below), so a server that queues
  instead of refusing (vLLM, llama.cpp, TGI with a fixed number of slots) is kept full
  without a growing queue.
* :class:`RateLimiter`: the three together, plus a pause honouring ``Retry-After`` and
  the ``x-ratelimit-*`` headers (capped at ``max_pause`` seconds). When the user gave no
  RPM/TPM, the limits the server announces in ``x-ratelimit-limit-*`` are adopted.
"""

from __future__ import annotations

import asyncio
import collections
import re
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["TokenBucket", "AdaptiveConcurrency", "RateLimiter", "Slot", "parse_duration"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str | None) -> float | None:
    """Parse an ``x-ratelimit-reset-*`` value (``"1s"``, ``"6m0s"``, ``"120ms"``, ``"0.5"``) into seconds."""
    if not text:
        return None
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(v) * scale[u] for v, u in parts)


class TokenBucket:
    """A token bucket refilled at ``per_minute / 60`` per second, holding at most ``capacity``.

    A request bigger than the bucket waits for a full bucket and then takes what it
    needs (the balance goes negative), so it is never stuck.
    """

    def __init__(self, per_minute: float, *, capacity: float | None = None) -> None:
        if per_minute <= 0:
            msg = f"a rate limit must be positive, got {per_minute} per minute"
            raise ValueError(msg)
        self.per_minute = float(per_minute)
        self.rate = self.per_minute / 60.0
        self.capacity = float(capacity) if capacity is not None else max(1.0, self.rate / 10)
        self.tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, amount: float = 1.0) -> float:
        """Take ``amount`` tokens, waiting as long as needed; return the seconds waited."""
        self._refill()
        if self.tokens >= amount and not self._lock.locked():
            self.tokens -= amount
            return 0.0
        t0 = time.monotonic()
        async with self._lock:
            while True:
                self._refill()
                need = min(amount, self.capacity)
                if self.tokens >= need:
                    self.tokens -= amount
                    return time.monotonic() - t0
                await asyncio.sleep((need - self.tokens) / self.rate)

    def give_back(self, amount: float) -> None:
        """Return tokens (or take more, if ``amount`` is negative) after the real cost is known."""
        self._refill()
        self.tokens = min(self.capacity, self.tokens + amount)

    def empty(self) -> None:
        """Start with no tokens: for a limit adopted from a server's headers while requests are in flight.

        The ``remaining`` a response reports is already stale: requests sent after it used
        part of it. Waiting for the refill costs at most one bucket (a second of the limit).
        """
        self.tokens = 0.0

    def set_rate(self, per_minute: float, capacity: float | None = None) -> None:
        """Change the rate (e.g. to the limit a server announces)."""
        self._refill()
        self.per_minute = float(per_minute)
        self.rate = self.per_minute / 60.0
        self.capacity = float(capacity) if capacity is not None else max(1.0, self.rate / 10)
        self.tokens = min(self.tokens, self.capacity)


class AdaptiveConcurrency:
    """An AIMD concurrency limit: +1 after a window of successes, x``decrease`` on overload, and a latency rule.

    The latency rule (TCP Vegas's, applied to requests): each window of ``limit`` successes
    gives the window's mean latency ``L``; the lowest window mean seen is the *floor* ``F``,
    the latency of a server that is not queueing. Little's law says that with ``limit``
    requests in flight, ``queue = limit * (1 - F / L)`` of them are waiting rather than being
    served. Then:

    * ``queue < alpha`` (or ``L - F`` under ``tolerance`` seconds): grow, as without the rule;
    * ``queue > beta``: cut to what the server served, ``limit * F / L``, plus
      ``(alpha + beta) / 2`` (never below ``minimum``);
    * in between: hold.

    With ``alpha=1``, ``beta=3`` a server with ``S`` slots settles at ``S + 1`` to ``S + 3`` in
    flight: every slot busy, at most three requests queued. ``tolerance`` (10 ms) keeps
    loopback jitter from reading as a queue. The rule waits for a floor of at least
    ``min_floor`` (50 ms): below it a request's time is mostly the client's and the
    network's, a rise says little about the server's queue, and cutting would cost
    throughput (a fast local server shares the CPU with the client). ``latency=False``
    turns the rule off.
    """

    def __init__(
        self,
        maximum: int,
        *,
        minimum: int = 1,
        initial: int | None = None,
        decrease: float = 0.5,
        slow_start: bool = False,
        latency: bool = True,
        alpha: float = 1.0,
        beta: float = 3.0,
        tolerance: float = 0.010,
        min_floor: float = 0.050,
    ) -> None:
        if maximum < 1:
            msg = f"concurrency must be at least 1, got {maximum}"
            raise ValueError(msg)
        self.maximum = maximum
        self.minimum = max(1, min(minimum, maximum))
        if initial is None:
            initial = min(maximum, 4) if slow_start else maximum
        self.limit = float(initial)
        self.slow_start = slow_start
        self.decrease = decrease
        self.in_flight = 0
        self.decreases = 0
        self._successes = 0
        self._last_cut = float("-inf")
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.latency = latency
        self.alpha = alpha
        self.beta = beta
        self.tolerance = tolerance
        self.min_floor = min_floor
        self.floor: float | None = None  # the lowest window mean latency seen: the unloaded latency
        self.latency_cuts = 0
        self._latencies: list[float] = []

    async def acquire(self) -> float:
        """Wait for a slot; return the start time (pass it to :meth:`overloaded`)."""
        if self.in_flight < int(self.limit) and not self._waiters:
            self.in_flight += 1
            return time.monotonic()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.in_flight -= 1  # the slot was handed over: give it back
                self._wake()
            else:
                self._waiters.remove(fut)
            raise
        return time.monotonic()

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < int(self.limit):
            fut = self._waiters.popleft()
            if not fut.done():
                self.in_flight += 1
                fut.set_result(None)

    def succeeded(self, latency: float | None = None) -> None:
        """Count a success (and its latency in seconds); after a window of them, apply the rules above."""
        if self.latency and latency is not None:
            self._latencies.append(latency)
            if len(self._latencies) < max(1, int(self.limit)):
                return
            mean = sum(self._latencies) / len(self._latencies)
            self._latencies.clear()
            self.floor = mean if self.floor is None else min(self.floor, mean)
            queue = self.limit * (1 - self.floor / mean) if mean > 0 else 0.0
            if self.floor < self.min_floor:
                queue = 0.0  # too fast to read a queue from: plain AIMD
            if mean - self.floor > self.tolerance and queue > self.beta:
                self.slow_start = False
                self.limit = max(float(self.minimum), min(self.limit - 1, self.limit * self.floor / mean + (self.alpha + self.beta) / 2))
                self.latency_cuts += 1
                return
            if mean - self.floor > self.tolerance and queue >= self.alpha:
                self.slow_start = False
                return  # hold: the server is full and the queue is short
            if self.limit < self.maximum:
                grown = self.limit * 2 if self.slow_start else self.limit + 1
                self.limit = min(float(self.maximum), grown)
                self._wake()
            return
        self._successes += 1
        if self._successes >= max(1, int(self.limit)) and self.limit < self.maximum:
            self._successes = 0
            grown = self.limit * 2 if self.slow_start else self.limit + 1
            self.limit = min(float(self.maximum), grown)
            self._wake()

    def overloaded(self, started: float) -> None:
        """Cut the limit after a 429, once per window (requests started before the last cut don't cut again)."""
        self._successes = 0
        self._latencies.clear()
        self.slow_start = False
        if started < self._last_cut:
            return
        self._last_cut = time.monotonic()
        self.limit = max(float(self.minimum), self.limit * self.decrease)
        self.decreases += 1


class Slot:
    """One request's hold on the limiter: report how it went with :meth:`ok` or :meth:`overloaded`."""

    __slots__ = ("limiter", "started", "tokens", "sent", "_done")

    def __init__(self, limiter: RateLimiter, started: float, tokens: float) -> None:
        self.limiter = limiter
        self.started = started
        self.tokens = tokens
        self.sent = time.monotonic()  # when the request may go (after the pause and the buckets)
        self._done = False

    def ok(self, headers: Mapping[str, str] | None = None, used_tokens: int | None = None) -> None:
        """The request succeeded; ``used_tokens`` beyond the reservation is charged to the TPM bucket.

        Nothing is refunded when a request used less than it reserved: providers such as
        OpenAI charge the limit, on arrival, the prompt plus ``max_tokens``, so a refund
        would let the client run ahead of the server's count and trip 429s.
        """
        lim = self.limiter
        lim.concurrency.succeeded(time.monotonic() - self.sent)
        if used_tokens is not None and lim.tpm is not None and used_tokens > self.tokens:
            lim.tpm.give_back(self.tokens - used_tokens)
        if headers:
            lim.observe_headers(headers)

    def overloaded(self, retry_after: float | None = None, headers: Mapping[str, str] | None = None) -> None:
        """The request got a 429."""
        lim = self.limiter
        lim.rate_limited += 1
        lim.concurrency.overloaded(self.started)
        if headers:
            lim.observe_headers(headers)
        lim.pause(retry_after if retry_after is not None else lim.default_pause)

    async def __aenter__(self) -> Slot:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if not self._done:
            self._done = True
            self.limiter.concurrency.release()


class RateLimiter:
    """Concurrency, RPM, TPM and server-requested pauses, for one teacher.

    Args:
        concurrency: the most requests in flight (the AIMD ceiling).
        rpm: requests per minute (``None``: adopt the server's announced limit, if any).
        tpm: tokens per minute (``None``: likewise).
        max_pause: the longest pause a ``Retry-After`` can impose, in seconds.
        adopt_server_limits: adopt ``x-ratelimit-limit-*`` when ``rpm``/``tpm`` are not given.
    """

    def __init__(
        self,
        *,
        concurrency: int = 64,
        rpm: float | None = None,
        tpm: float | None = None,
        max_pause: float = 60.0,
        adopt_server_limits: bool = True,
    ) -> None:
        # without a known RPM, start slowly so the server can announce its limits first
        self.concurrency = AdaptiveConcurrency(concurrency, slow_start=rpm is None)
        self.rpm = TokenBucket(rpm) if rpm else None
        self.tpm = TokenBucket(tpm, capacity=max(1.0, tpm / 60)) if tpm else None
        self._user_rpm = rpm is not None
        self._user_tpm = tpm is not None
        self.max_pause = max_pause
        self.default_pause = 1.0
        self.adopt = adopt_server_limits
        self.paused_until = 0.0
        self.rate_limited = 0

    def pause(self, seconds: float) -> None:
        """Hold every new request for ``seconds`` (at most :attr:`max_pause`)."""
        until = time.monotonic() + max(0.0, min(seconds, self.max_pause))
        self.paused_until = max(self.paused_until, until)

    async def slot(self, tokens: float = 0.0) -> Slot:
        """Wait for a concurrency slot, the pause, and RPM/TPM budget; return the :class:`Slot`.

        Use as ``async with await limiter.slot(n_tokens) as s: ...``.
        """
        started = await self.concurrency.acquire()
        try:
            delay = self.paused_until - time.monotonic()
            while delay > 0:
                await asyncio.sleep(delay)
                delay = self.paused_until - time.monotonic()
            if self.rpm is not None:
                await self.rpm.acquire(1)
            if self.tpm is not None and tokens:
                await self.tpm.acquire(tokens)
        except BaseException:
            self.concurrency.release()
            raise
        return Slot(self, started, tokens)

    def observe_headers(self, headers: Mapping[str, Any]) -> None:
        """Honour ``x-ratelimit-*``: pause at zero remaining; adopt announced limits."""
        get = headers.get
        limit = get("x-ratelimit-limit-requests")
        if limit and self.adopt and not self._user_rpm:
            try:
                per_minute = float(limit)
            except ValueError:
                per_minute = 0.0
            if per_minute > 0 and (self.rpm is None or self.rpm.per_minute != per_minute):
                if self.rpm is None:
                    self.rpm = TokenBucket(per_minute)
                    self.rpm.empty()
                else:
                    self.rpm.set_rate(per_minute)
        tlimit = get("x-ratelimit-limit-tokens")
        if tlimit and self.adopt and not self._user_tpm:
            try:
                per_minute = float(tlimit)
            except ValueError:
                per_minute = 0.0
            if per_minute > 0 and (self.tpm is None or self.tpm.per_minute != per_minute):
                if self.tpm is None:
                    self.tpm = TokenBucket(per_minute, capacity=max(1.0, per_minute / 60))
                    self.tpm.empty()
                else:
                    self.tpm.set_rate(per_minute, capacity=max(1.0, per_minute / 60))
        for kind in ("requests", "tokens"):
            remaining = get(f"x-ratelimit-remaining-{kind}")
            if remaining is None:
                continue
            try:
                left = float(remaining)
            except ValueError:
                continue
            if left <= 0:
                reset = parse_duration(get(f"x-ratelimit-reset-{kind}"))
                if reset:
                    self.pause(reset)

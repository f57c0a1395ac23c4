"""The base of teachers that call a paid remote API: limits, retries, cost, budget, counters.

A subclass implements one method, :meth:`RemoteTeacher.send`, which makes one HTTP
request and classifies its failure:

* :class:`~synthkit.teachers.retry.RateLimited` for a 429 (with ``retry_after`` and headers),
* :class:`~synthkit.teachers.retry.RetryableError` for 5xx, reset, timeout, bad or empty body,
* :class:`~synthkit.errors.RecordError` for a request the provider refuses (400, 404),
* :class:`~synthkit.errors.AuthError` for a rejected key (401, 403).

:meth:`RemoteTeacher.complete` does the rest: budget reservation, the rate limiter, the
retry wrapper, token and dollar accounting, and the counters a progress bar shows.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from synthkit.teachers.cost import CostMeter, Price, estimate_tokens
from synthkit.errors import RecordError, SynthkitError
from synthkit.interfaces import Completion, Message, Teacher, Usage, copy_with
from synthkit.teachers.ratelimit import RateLimiter, Slot
from synthkit.teachers.retry import RateLimited, RetryableError, call_with_retries

__all__ = ["TeacherStats", "RemoteTeacher", "Reply", "TeacherDown", "split_usage"]


class TeacherDown(RecordError):
    """A teacher's circuit breaker is open (:mod:`synthkit.teachers.failover`): the request was not sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="teacher_down", attempts=0)


@attrs.define
class TeacherStats:
    """Counters of one teacher, read by the progress display."""

    requests: int = 0  # HTTP requests sent (retries included)
    ok: int = 0  # completed requests
    retries: int = 0
    failures: int = 0  # requests given up on (the record failed)
    rate_limited: int = 0  # 429 answers
    cached: int = 0  # samples answered from the cache
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    started: float = attrs.Factory(time.monotonic)
    errors: dict[str, int] = attrs.Factory(dict)
    in_flight: dict[int, float] = attrs.Factory(dict)  # request -> when it was sent
    paused_until: float = 0.0  # monotonic time until which a Retry-After pauses new requests
    batches: dict[str, str] = attrs.Factory(dict)  # batch id -> its state, in batch mode

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def rate(self) -> float:
        """Completed requests per second since the start."""
        return self.ok / max(1e-9, time.monotonic() - self.started)

    def slow(self, older_than: float = 10.0) -> tuple[int, float]:
        """How many requests have been in flight longer than ``older_than`` seconds, and the oldest's age."""
        now = time.monotonic()
        ages = [now - t for t in list(self.in_flight.values())]
        old = [a for a in ages if a > older_than]
        return len(old), max(old, default=0.0)


@attrs.frozen
class Reply:
    """What :meth:`RemoteTeacher.send` returns: the samples, token usage of the whole request, headers."""

    texts: Sequence[str]
    finish_reasons: Sequence[str | None]
    prompt_tokens: int
    completion_tokens: int
    model: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    reasonings: Sequence[str | None] = ()  # per sample, when the server returned reasoning
    tool_calls: Sequence[Sequence[Mapping[str, Any]]] = ()  # per sample, OpenAI wire format; empty: none asked


def _sample_params(params: Mapping[str, Any], index: int) -> Mapping[str, Any]:
    """The parameters of sample ``index`` asked alone: a given ``seed`` moves on by the index, so samples differ."""
    seed = params.get("seed")
    if isinstance(seed, int) and index:
        return {**params, "seed": seed + index}
    return params


def split_usage(total: int, n: int) -> list[int]:
    """Split ``total`` tokens over ``n`` samples (the remainder goes to the first ones)."""
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


class RemoteTeacher(Teacher):
    """A teacher behind a rate-limited, paid API.

    Args:
        model: the model name.
        concurrency: the most requests in flight (AIMD ceiling).
        rpm: requests per minute (``None``: adopt what the server announces).
        tpm: tokens per minute (likewise).
        timeout: seconds per request.
        max_attempts: attempts per request, retries included.
        max_retry_time: seconds per request over all attempts and waits.
        budget: dollars the teacher may spend; the request that could pass it raises
            :class:`~synthkit.errors.BudgetExceeded` instead of being sent.
        price: an explicit :class:`~synthkit.teachers.cost.Price` (default: litellm's local price map).
    """

    def __init__(
        self,
        model: str,
        *,
        concurrency: int = 64,
        rpm: float | None = None,
        tpm: float | None = None,
        timeout: float = 120.0,
        max_attempts: int = 6,
        max_retry_time: float = 600.0,
        budget: float | None = None,
        price: Price | None = None,
        limiter: RateLimiter | None = None,
        meter: CostMeter | None = None,
    ) -> None:
        self.model = model
        self.timeout = float(timeout)
        self.max_attempts = int(max_attempts)
        self.max_retry_time = float(max_retry_time)
        self.limiter = limiter if limiter is not None else RateLimiter(concurrency=concurrency, rpm=rpm, tpm=tpm)
        self.cost = meter if meter is not None else CostMeter(model, budget=budget, price=price)
        self.stats = TeacherStats()
        self.n_supported: bool | None = None  # does the server answer n choices? learned on the first n > 1
        self.breaker: Any = None  # a failover chain's CircuitBreaker, fed by every attempt
        if self.cost.price is not None:
            self.stats.cost_usd = 0.0

    def with_limits(self, *, limiter: RateLimiter | None = None, meter: CostMeter | None = None) -> RemoteTeacher:
        """Return a copy that takes permits from ``limiter`` and reserves in ``meter`` (each kept when ``None``).

        An engine that spreads requests over processes hands every copy the same shared
        limiter and meter; this teacher is left as it is.
        """
        changes: dict[str, Any] = {}
        if limiter is not None:
            changes["limiter"] = limiter
        if meter is not None:
            changes["cost"] = meter
        return copy_with(self, **changes)

    @abc.abstractmethod
    async def send(self, messages: list[dict[str, Any]], params: Mapping[str, Any], n: int) -> Reply:
        """Make one request; classify failures as described in the module docstring."""

    async def complete(self, messages: Sequence[Message], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        """Return ``n`` completions; a server that answers fewer choices than asked gets further requests.

        Servers that ignore ``n`` (llama.cpp, Ollama, several proxies) are learned once: after
        the first short answer this teacher asks ``n`` one-choice requests at once. A request
        that fails after others of the same call answered raises with the answered ones on
        the error as ``exc.partial``, so the cache keeps them and a re-run pays only the rest.
        """
        msgs = [dict(m) for m in messages]
        out: list[Completion] = []
        try:
            if n == 1 or self.n_supported is not False:
                out += await self._request(msgs, params, n)
                if len(out) < n:
                    self.n_supported = False
                elif n > 1:
                    self.n_supported = True
            while len(out) < n:
                asks = [self._request(msgs, _sample_params(params, len(out) + i), 1) for i in range(n - len(out))]
                results = await asyncio.gather(*asks, return_exceptions=True)
                for r in results:
                    if isinstance(r, list):
                        out += r
                failed = [r for r in results if isinstance(r, BaseException)]
                if failed:
                    raise failed[0]
        except SynthkitError as exc:
            exc.partial = tuple(out)  # type: ignore[attr-defined]
            raise
        return out[:n]

    async def _request(self, msgs: list[dict[str, Any]], params: Mapping[str, Any], n: int) -> list[Completion]:
        """Send one request (budget reservation, limits, retries); return the choices it answered."""
        prompt_est = estimate_tokens(msgs)
        completion_est = self.cost.completion_guess(params) * n
        reserved = await self.cost.areserve(prompt_est, completion_est)
        used = (0, 0)
        try:
            reply = await call_with_retries(
                lambda: self._attempt(msgs, params, n, prompt_est + completion_est),
                attempts=self.max_attempts,
                timeout=self.max_retry_time,
                on_retry=self._on_retry,
            )
            used = (reply.prompt_tokens, reply.completion_tokens)
        except RecordError as exc:
            self.stats.failures += 1
            self.stats.errors[exc.kind] = self.stats.errors.get(exc.kind, 0) + 1
            raise
        finally:
            cost = await self.cost.asettle(reserved, *used)
        st = self.stats
        st.prompt_tokens += used[0]
        st.completion_tokens += used[1]
        if cost is not None:
            st.cost_usd = self.cost.spent
        return self._completions(reply, min(n, len(reply.texts)), cost)

    def _completions(self, reply: Reply, n: int, cost: float | None) -> list[Completion]:
        prompts = split_usage(reply.prompt_tokens, n)
        outs = split_usage(reply.completion_tokens, n)
        total = reply.prompt_tokens + reply.completion_tokens
        out = []
        for i in range(n):
            share = None
            if cost is not None:
                share = cost * (prompts[i] + outs[i]) / total if total else 0.0
            usage = Usage(prompt_tokens=prompts[i], completion_tokens=outs[i], cost_usd=share)
            reasoning = reply.reasonings[i] if i < len(reply.reasonings) else None
            calls = reply.tool_calls[i] if i < len(reply.tool_calls) else ()
            out.append(
                Completion(
                    text=reply.texts[i], finish_reason=reply.finish_reasons[i], usage=usage, model=reply.model or self.model,
                    reasoning=reasoning, tool_calls=calls,
                )
            )
        return out

    async def _attempt(self, msgs: list[dict[str, Any]], params: Mapping[str, Any], n: int, tokens: int) -> Reply:
        breaker = self.breaker
        if breaker is not None and breaker.state == "open":
            msg = f"{self.name}:{self.model} is out (its circuit breaker opened after {breaker.threshold} failures in a row)"
            raise TeacherDown(msg)
        try:
            reply = await self._attempt_limited(msgs, params, n, tokens)
        except RateLimited:
            raise  # a rate limit is not an outage: the limiter slows down
        except RetryableError:
            if breaker is not None:
                breaker.failure()
            raise
        if breaker is not None:
            breaker.success()
        return reply

    async def _attempt_limited(self, msgs: list[dict[str, Any]], params: Mapping[str, Any], n: int, tokens: int) -> Reply:
        slot: Slot = await self.limiter.slot(tokens)
        async with slot:
            self.stats.requests += 1
            token = id(slot)
            self.stats.in_flight[token] = time.monotonic()
            try:
                reply = await self.send(msgs, params, n)
            except RateLimited as exc:
                self.stats.rate_limited += 1
                slot.overloaded(exc.retry_after, getattr(exc, "headers", None))
                self.stats.paused_until = self.limiter.paused_until
                raise
            except RetryableError as exc:
                if exc.kind == "timeout":  # requests queue at the server: fewer in flight (AIMD cut, once a window)
                    self.limiter.concurrency.overloaded(slot.started)
                raise
            finally:
                self.stats.in_flight.pop(token, None)
            if not reply.texts:
                msg = f"asked for {n} choices, got none"
                raise RetryableError(msg, kind="empty_choices")
            slot.ok(reply.headers, reply.prompt_tokens + reply.completion_tokens)
            self.stats.ok += 1
            return reply

    def _on_retry(self, exc: BaseException, attempt: int) -> None:
        self.stats.retries += 1
        kind = getattr(exc, "kind", type(exc).__name__)
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1

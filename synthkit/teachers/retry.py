"""synthkit's one retry wrapper, over tenacity.

Bounded attempts and total time, jittered exponential backoff, and an explicit set of
retryable errors: only :class:`RetryableError` (and what the caller adds) is retried;
anything else, such as :class:`~synthkit.errors.RecordError` for an HTTP 400 or
:class:`~synthkit.errors.AuthError` for a 401, goes through at once. When the attempts
or the time run out, the last error becomes a :class:`~synthkit.errors.RecordError`
carrying its kind and the number of attempts.

Tests turn backoff off with :func:`set_testing` (or ``SYNTHKIT_RETRY_NO_WAIT=1`` in the
environment, which reaches subprocesses too); attempts stay bounded.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from synthkit.errors import RecordError, SynthkitError

__all__ = ["RetryableError", "RateLimited", "call_with_retries", "set_testing", "is_testing"]

T = TypeVar("T")

_testing: bool | None = None


class RetryableError(SynthkitError):
    """A transient failure worth another attempt (5xx, reset, timeout, bad body...).

    Args:
        message: what happened (never holding credentials).
        kind: a short error kind such as ``"http_503"``, ``"timeout"``, ``"invalid_json"``.
        retry_after: seconds the server asked to wait, if it said.
    """

    def __init__(self, message: str, *, kind: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """HTTP 429: the provider's rate limit was hit."""

    def __init__(self, message: str, *, retry_after: float | None = None, kind: str = "rate_limited") -> None:
        super().__init__(message, kind=kind, retry_after=retry_after)


def set_testing(on: bool = True) -> None:
    """Turn backoff waits off (``on=True``) or back on; attempts stay bounded."""
    global _testing  # noqa: PLW0603 - a process-wide test switch, like stamina.set_testing
    _testing = on


def is_testing() -> bool:
    """Whether backoff waits are off (by :func:`set_testing` or ``SYNTHKIT_RETRY_NO_WAIT``)."""
    if _testing is not None:
        return _testing
    return os.environ.get("SYNTHKIT_RETRY_NO_WAIT", "") not in ("", "0", "false")


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 6,
    timeout: float = 600.0,
    wait_initial: float = 0.5,
    wait_max: float = 30.0,
    retry_on: tuple[type[BaseException], ...] = (RetryableError,),
    on_retry: Callable[[BaseException, int], None] | None = None,
) -> T:
    """Await ``fn()`` until it succeeds, retrying only ``retry_on`` errors.

    Args:
        fn: makes one attempt.
        attempts: the most attempts in all (at least 1).
        timeout: the most seconds spent in all, waits included; no new attempt starts after it.
        wait_initial: the first backoff wait; it doubles each attempt, with jitter.
        wait_max: the longest single wait (a server's ``Retry-After`` is honoured up to it).
        retry_on: the error types worth retrying.
        on_retry: called with the error and the attempt number before each retry.

    Raises:
        RecordError: the attempts or the time ran out; ``kind`` is the last error's kind
            and ``attempts`` the number made.
        Exception: any error not in ``retry_on``, at once.
    """
    # The first attempt runs outside tenacity: the common case pays nothing for the machinery.
    started = time.monotonic()
    try:
        return await fn()
    except retry_on as exc:
        first: BaseException = exc
    if attempts <= 1:
        raise _give_up(first, 1) from first
    if on_retry is not None:
        on_retry(first, 1)

    import tenacity

    def backoff(state: tenacity.RetryCallState) -> float:
        # exponential from wait_initial, doubling per attempt, plus up to wait_initial of jitter
        exp = wait_initial * 2 ** (state.attempt_number)  # attempt 1 of tenacity is the 2nd in all
        return min(wait_max, exp + random.uniform(0, wait_initial))  # noqa: S311 - jitter, not crypto

    def wait(state: tenacity.RetryCallState) -> float:
        if is_testing():
            return 0.0
        exc = state.outcome.exception() if state.outcome is not None else None
        after = getattr(exc, "retry_after", None)
        if isinstance(exc, RateLimited):
            # the rate limiter pauses every request for Retry-After; only de-synchronise here
            return min(wait_max, backoff(state) / 4)
        if after is not None:
            return min(wait_max, max(0.0, float(after)))
        return backoff(state)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            on_retry(state.outcome.exception(), state.attempt_number + 1)

    retrying = tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(attempts - 1) | _stop_by(tenacity, timeout - (time.monotonic() - started)),
        wait=wait,
        retry=tenacity.retry_if_exception_type(retry_on),
        before_sleep=before_sleep,
        reraise=True,
    )
    # the first (failed) attempt above counts: wait once before the tenacity attempts
    first_wait = 0.0 if is_testing() else _first_wait(first, wait_initial, wait_max)
    if first_wait:
        import asyncio

        await asyncio.sleep(first_wait)
    made = 1
    try:
        async for attempt in retrying:
            with attempt:
                made = 1 + attempt.retry_state.attempt_number
                return await fn()
    except retry_on as exc:
        raise _give_up(exc, made) from exc
    msg = "unreachable: tenacity stopped without an outcome"  # pragma: no cover
    raise AssertionError(msg)  # pragma: no cover


def _stop_by(tenacity: Any, seconds: float) -> Any:
    """Stop when the next wait would pass ``seconds`` (older tenacity: once past it)."""
    seconds = max(0.0, seconds)
    stop_before = getattr(tenacity, "stop_before_delay", None)
    return stop_before(seconds) if stop_before is not None else tenacity.stop_after_delay(seconds)


def _first_wait(exc: BaseException, initial: float, wait_max: float) -> float:
    if isinstance(exc, RateLimited):
        return random.uniform(0, initial / 4)  # noqa: S311 - jitter, not crypto
    after = getattr(exc, "retry_after", None)
    if after is not None:
        return min(wait_max, max(0.0, float(after)))
    return random.uniform(0, initial)  # noqa: S311


def _give_up(exc: BaseException, attempts: int) -> RecordError:
    kind = getattr(exc, "kind", None) or type(exc).__name__
    noun = "attempt" if attempts == 1 else "attempts"
    return RecordError(f"gave up after {attempts} {noun}: {exc}", kind=kind, attempts=attempts)

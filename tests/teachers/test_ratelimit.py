"""Tests of the rate limiter parts: token buckets, AIMD concurrency, header handling, the retry wrapper."""

from __future__ import annotations

import asyncio
import time

import pytest

from synthkit.teachers import retry
from synthkit.errors import AuthError, RecordError
from synthkit.teachers.ratelimit import AdaptiveConcurrency, RateLimiter, TokenBucket, parse_duration
from synthkit.teachers.retry import RateLimited, RetryableError, call_with_retries


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("120ms", 0.12), ("0.5", 0.5), ("1h2m3s", 3723.0), ("", None), ("soon", None)],
)
def test_parse_duration(text, seconds):
    """x-ratelimit-reset values parse into seconds; junk gives None."""
    assert parse_duration(text) == seconds


async def test_token_bucket_paces_to_its_rate():
    """A 1200/min bucket lets 21 requests through in about one second, not at once."""
    bucket = TokenBucket(1200)  # 20/s, holds 2
    t0 = time.monotonic()
    await asyncio.gather(*(bucket.acquire() for _ in range(21)))
    elapsed = time.monotonic() - t0
    assert 0.85 <= elapsed <= 1.5


async def test_token_bucket_oversized_request_is_not_stuck():
    """A request larger than the bucket waits for a full bucket, then goes (balance negative)."""
    bucket = TokenBucket(600, capacity=5)
    await asyncio.wait_for(bucket.acquire(50), timeout=2)
    assert bucket.tokens < 0


async def test_aimd_grows_after_a_window_and_halves_on_overload():
    """The limit grows by one after `limit` successes, halves on a 429, and never drops below 1."""
    c = AdaptiveConcurrency(10, initial=4)
    for _ in range(4):
        c.succeeded()
    assert c.limit == 5
    started = await c.acquire()
    c.release()
    c.overloaded(started)
    assert c.limit == 2.5
    c.overloaded(started)  # same window: no second cut
    assert c.limit == 2.5
    for _ in range(10):
        c.overloaded(time.monotonic())
    assert c.limit == 1


async def test_aimd_limits_in_flight():
    """No more than `limit` acquirers hold a slot at once; releasing admits waiters."""
    c = AdaptiveConcurrency(2)
    peak = 0

    async def job():
        nonlocal peak
        await c.acquire()
        peak = max(peak, c.in_flight)
        await asyncio.sleep(0.01)
        c.release()

    await asyncio.gather(*(job() for _ in range(10)))
    assert peak == 2 and c.in_flight == 0


async def test_retry_after_pauses_new_requests_but_is_capped():
    """A 429 pauses every new request for Retry-After, capped at max_pause: slowed, not frozen."""
    lim = RateLimiter(concurrency=4, max_pause=0.2)
    slot = await lim.slot()
    async with slot:
        slot.overloaded(retry_after=3600)
    t0 = time.monotonic()
    async with await lim.slot():
        pass
    assert 0.15 <= time.monotonic() - t0 < 0.5


async def test_headers_adopt_limits_and_pause_at_zero_remaining():
    """Announced limits are adopted when the user gave none; zero remaining pauses until reset."""
    lim = RateLimiter(concurrency=4)
    lim.observe_headers({"x-ratelimit-limit-requests": "600", "x-ratelimit-limit-tokens": "60000"})
    assert lim.rpm.per_minute == 600 and lim.tpm.per_minute == 60000
    lim.observe_headers({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "150ms"})
    assert 0.1 < lim.paused_until - time.monotonic() <= 0.15
    user = RateLimiter(rpm=100)
    user.observe_headers({"x-ratelimit-limit-requests": "600"})
    assert user.rpm.per_minute == 100


async def test_retry_wrapper_bounds_attempts_and_reports_kind():
    """Retries stop after `attempts`; the RecordError carries the last kind and the count."""
    retry.set_testing(True)
    calls = 0

    async def flaky():
        nonlocal calls
        calls += 1
        raise RetryableError("boom", kind="http_502")

    try:
        with pytest.raises(RecordError) as info:
            await call_with_retries(flaky, attempts=3)
    finally:
        retry.set_testing(False)
    assert calls == 3 and info.value.kind == "http_502" and info.value.attempts == 3


async def test_retry_wrapper_lets_non_retryable_errors_through_at_once():
    """Errors outside the retryable set (AuthError, RecordError) are raised on the first attempt."""
    calls = 0

    async def denied():
        nonlocal calls
        calls += 1
        raise AuthError("bad key")

    with pytest.raises(AuthError):
        await call_with_retries(denied, attempts=5)
    assert calls == 1


async def test_retry_wrapper_waits_with_backoff_unless_testing():
    """With backoff on, a retry waits (Retry-After honoured); with the test switch, it does not."""
    calls = []

    async def once_then_ok():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RetryableError("busy", kind="http_503", retry_after=0.2)
        return "ok"

    assert await call_with_retries(once_then_ok, attempts=2) == "ok"
    assert calls[1] - calls[0] >= 0.19
    calls.clear()
    retry.set_testing(True)
    try:
        assert await call_with_retries(once_then_ok, attempts=2) == "ok"
    finally:
        retry.set_testing(False)
    assert calls[1] - calls[0] < 0.1


async def test_retry_wrapper_bounds_total_time():
    """No new attempt starts once the total time is spent."""
    calls = 0

    async def slow_fail():
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        raise RateLimited("429")

    with pytest.raises(RecordError) as info:
        await call_with_retries(slow_fail, attempts=100, timeout=0.35, wait_initial=0.01)
    assert calls <= 5 and info.value.kind == "rate_limited"


async def test_slow_start_doubles_until_the_first_429():
    """With slow start the limit begins at 4 and doubles per window, then grows by one after a 429."""
    c = AdaptiveConcurrency(100, slow_start=True)
    assert c.limit == 4
    for _ in range(4 + 8):
        c.succeeded()
    assert c.limit == 16
    c.overloaded(time.monotonic())
    assert c.limit == 8 and not c.slow_start
    for _ in range(8):
        c.succeeded()
    assert c.limit == 9

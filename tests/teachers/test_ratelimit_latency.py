"""The latency rule of the adaptive limiter: a server with fixed slots that queues (no 429s) is kept full, not flooded."""

from __future__ import annotations

import asyncio
import statistics
import time

from synthkit.teachers import AdaptiveConcurrency, OpenAITeacher, RateLimiter


def test_the_rule_settles_just_above_the_slots_of_a_simulated_server():
    """Fed Little's-law latencies of an 8-slot server, the limit leaves slow start and settles at 9 to 11."""
    c = AdaptiveConcurrency(64, slow_start=True)
    seen = []
    for _ in range(3000):
        c.succeeded(0.1 * max(1.0, c.limit / 8))
        seen.append(c.limit)
    tail = seen[-1000:]
    assert 9 <= min(tail) and max(tail) <= 11
    assert c.latency_cuts >= 1 and abs(c.floor - 0.1) < 1e-9


def test_flat_latency_grows_to_the_ceiling_and_jitter_under_the_tolerance_is_ignored():
    """A server whose latency does not rise with load (a big provider) lets the limit reach its ceiling."""
    c = AdaptiveConcurrency(40, initial=4)
    for i in range(4000):
        c.succeeded(0.060 + 0.004 * (i % 3))  # a flat 60 ms with a few ms of jitter
    assert c.limit == 40 and c.latency_cuts == 0


async def _run(url: str, fixed: int | None, requests: int) -> dict[str, float]:
    limiter = RateLimiter(concurrency=64)
    if fixed is not None:
        limiter.concurrency = AdaptiveConcurrency(fixed, latency=False)
    teacher = OpenAITeacher("m", base_url=url, api_key="k", limiter=limiter)
    latencies: list[float] = []
    send = teacher.send

    async def timed(*a):
        t0 = time.monotonic()
        out = await send(*a)
        latencies.append(time.monotonic() - t0)
        return out

    teacher.send = timed
    samples: list[int] = []
    numbers = iter(range(requests))

    async def worker():
        for i in numbers:
            await teacher.complete([{"role": "user", "content": f"q{i}"}], {})

    async def sampler():
        while True:
            samples.append(limiter.concurrency.in_flight)
            await asyncio.sleep(0.01)

    probe = asyncio.create_task(sampler())
    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(48)))
    rate = requests / (time.monotonic() - t0)
    probe.cancel()
    await teacher.aclose()
    tail = samples[len(samples) // 3 :]
    return {"rate": rate, "p50": statistics.median(latencies[requests // 3 :]), "in_flight": statistics.fmean(tail)}


def test_against_8_slots_the_limiter_keeps_about_8_in_flight_at_the_best_throughput(openai_server):
    """8 slots of 100 ms, queueing: ~8-12 in flight, p50 within 1.5x of unloaded, throughput within 10% of the best fixed setting."""
    openai_server.configure(latency=0.1, slots=8)

    async def unloaded():
        t = OpenAITeacher("m", base_url=openai_server.url, api_key="k")
        lat = []
        for i in range(15):
            t0 = time.monotonic()
            await t.complete([{"role": "user", "content": f"u{i}"}], {})
            lat.append(time.monotonic() - t0)
        await t.aclose()
        return statistics.median(lat)

    base = asyncio.run(unloaded())
    fixed = [asyncio.run(_run(openai_server.url, c, 240)) for c in (8, 12)]
    adaptive = asyncio.run(_run(openai_server.url, None, 240))
    best = max(r["rate"] for r in fixed)
    assert 7.0 <= adaptive["in_flight"] <= 12.5, adaptive
    assert adaptive["p50"] <= 1.5 * base, (adaptive, base)
    assert adaptive["rate"] >= 0.9 * best, (adaptive, fixed)


def test_a_server_faster_than_the_floor_minimum_is_left_to_aimd():
    """Under 50 ms unloaded, a latency rise (a local server sharing the CPU) does not cut the limit."""
    c = AdaptiveConcurrency(32, initial=4)
    for _ in range(2000):
        c.succeeded(0.005 * max(1.0, c.limit / 4))
    assert c.limit == 32 and c.latency_cuts == 0

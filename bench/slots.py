"""Benchmark: the latency-aware limiter against a server with a fixed number of slots that queues (no 429s).

Run: ``.venv/bin/python bench/slots.py`` (``--requests 300`` for a shorter run).

The fake server (``synthkit serve-test``, its own process) serves at most ``--slots`` (8)
requests at once, each in ``--latency`` (100 ms) seconds; the others wait in its queue, as
vLLM's or llama.cpp's do. It never answers 429. Against it, synthkit's ``openai`` teacher,
offered more work than it may send (``--offered`` requests waiting at once), with:

* fixed concurrency 4, 8, 12, 16, 32 (the limiter's rules off: exactly that many in flight);
* the default limiter (ceiling 64): slow start, 429s, and the latency rule.

Reported per setting: requests/s, p50 and p90 latency (from sending a request to its answer,
the server's queue included) as ratios of the unloaded p50 (one
request at a time), the mean number in flight (sampled every 10 ms), and for the adaptive
limiter its final limit. Goals (issue 17): near 8 in flight, p50 <= 1.5x unloaded,
throughput >= 0.9x the best fixed setting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def start_server(latency: float, slots: int) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("synthkit")
    proc = subprocess.Popen([str(exe), "serve-test", "--port", "0", "--latency", str(latency)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving on "):
        proc.kill()
        raise SystemExit(f"the fake server did not start: {line!r}")
    url = line.split()[-1]
    req = urllib.request.Request(url.removesuffix("/v1") + "/_configure", data=json.dumps({"slots": slots}).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req, timeout=10).read()
    return proc, url


async def measure(url: str, fixed: int | None, requests: int, offered: int) -> dict[str, float]:
    """Send ``requests`` requests, ``offered`` waiting at once; the limiter fixed at ``fixed`` or adaptive (``None``)."""
    from synthkit.teachers import AdaptiveConcurrency, OpenAITeacher, RateLimiter

    limiter = RateLimiter(concurrency=64)
    if fixed is not None:
        limiter.concurrency = AdaptiveConcurrency(fixed, latency=False)
    teacher = OpenAITeacher("bench", base_url=url, api_key="k", limiter=limiter)
    latencies: list[float] = []
    samples: list[int] = []
    numbers = iter(range(requests))

    send = teacher.send

    async def timed(*a: object) -> object:  # the server's latency: from sending to the answer (its queue included)
        t0 = time.monotonic()
        out = await send(*a)  # type: ignore[arg-type]
        latencies.append(time.monotonic() - t0)
        return out

    teacher.send = timed  # type: ignore[method-assign]

    async def worker() -> None:
        for i in numbers:
            await teacher.complete([{"role": "user", "content": f"q{i}"}], {})

    async def sampler() -> None:
        while True:
            samples.append(limiter.concurrency.in_flight)
            await asyncio.sleep(0.01)

    probe = asyncio.create_task(sampler())
    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(offered)))
    elapsed = time.monotonic() - t0
    probe.cancel()
    await teacher.aclose()
    tail = samples[len(samples) // 4 :]  # past the warm-up
    ordered = sorted(latencies)
    return {
        "rate": requests / elapsed,
        "p50": statistics.median(latencies),
        "p90": ordered[int(0.9 * (len(ordered) - 1))],
        "in_flight": statistics.fmean(tail) if tail else 0.0,
        "limit": limiter.concurrency.limit,
        "cuts": limiter.concurrency.latency_cuts,
    }


async def unloaded(url: str, n: int = 30) -> float:
    from synthkit.teachers import OpenAITeacher

    teacher = OpenAITeacher("bench", base_url=url, api_key="k")
    lat = []
    for i in range(n):
        t0 = time.monotonic()
        await teacher.complete([{"role": "user", "content": f"u{i}"}], {})
        lat.append(time.monotonic() - t0)
    await teacher.aclose()
    return statistics.median(lat)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slots", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--requests", type=int, default=800)
    ap.add_argument("--offered", type=int, default=64)
    args = ap.parse_args()
    proc, url = start_server(args.latency, args.slots)
    try:
        base = asyncio.run(unloaded(url))
        rows = []
        for fixed in (4, 8, 12, 16, 32, None):
            r = asyncio.run(measure(url, fixed, args.requests, args.offered))
            rows.append((fixed, r))
    finally:
        proc.kill()
    load = os.getloadavg()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"server: {args.slots} slots, {args.latency * 1000:.0f} ms a request, queueing; unloaded p50 {base * 1000:.1f} ms")
    best = max(r["rate"] for f, r in rows if f is not None)
    print("| setting | requests/s | vs best fixed | p50 / unloaded | p90 / unloaded | mean in flight |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for fixed, r in rows:
        name = f"fixed {fixed}" if fixed is not None else f"adaptive (ceiling 64; final limit {r['limit']:.0f}, {r['cuts']} latency cuts)"
        print(f"| {name} | {r['rate']:.1f} | {r['rate'] / best:.2f}x | {r['p50'] / base:.2f}x | {r['p90'] / base:.2f}x | {r['in_flight']:.1f} |")


if __name__ == "__main__":
    main()

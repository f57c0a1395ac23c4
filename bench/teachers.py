"""Benchmark: teacher client overhead and rate-limit tracking, against the local fake server.

Run: ``.venv/bin/python bench/teachers.py`` (``--quick`` for a short smoke run).

Part 1 (overhead): the fake server runs in its own process with 50 ms latency; each
client keeps 100 requests in flight for ``--requests`` requests (default 2,000):

* ``raw``: a bare aiohttp loop (post, read, json.loads): the floor.
* ``litellm``: bare ``litellm.acompletion`` (its retries off).
* ``openai``: synthkit's ``openai`` teacher (limiter, retry wrapper, cost, counters).
* ``litellm-teacher``: synthkit's ``litellm`` teacher.

Rounds alternate the clients so that noise from other work on the machine spreads over
all of them; each figure is the median over rounds. Reported: requests/s and client CPU
time per request, and the ratios the issue sets goals for (openai >= 0.7x raw,
litellm-teacher >= 0.9x litellm).

Part 2 (rate limit): the server allows 600 RPM (answering 429 beyond) for ``--rpm-seconds``
(default 60) seconds; synthkit's ``openai`` teacher with 100 in flight, once with
``rpm=600`` and once learning the limit from the ``x-ratelimit-*`` headers. Reported: the
share of the limit achieved and the share of requests answered 429 (goals: >= 95%, < 2%).
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


def start_server(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start the fake server in its own process; return it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthkit.testing", "serve", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving on "):
        proc.kill()
        raise SystemExit(f"the fake server did not start: {line!r}")
    return proc, line.split()[-1]


def server_stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/_stats", timeout=10) as r:
        return json.load(r)


def reset_server(url: str) -> None:
    req = urllib.request.Request(url.removesuffix("/v1") + "/_configure", data=b'{"reset": true}', method="POST")
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req, timeout=10).read()


async def drive(call, total: int, concurrency: int) -> None:
    """Run ``call(i)`` for i in range(total), ``concurrency`` at a time."""
    numbers = iter(range(total))

    async def worker() -> None:
        for i in numbers:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def messages(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"question number {i}"}]


def make_raw(url: str):
    import aiohttp

    state: dict[str, aiohttp.ClientSession] = {}

    async def call(i: int) -> None:
        session = state.get("s")
        if session is None:
            session = state["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        data = json.dumps({"model": "gpt-4o-mini", "messages": messages(i)}).encode()
        async with session.post(url + "/chat/completions", data=data, headers={"Content-Type": "application/json"}) as r:
            raw = await r.read()
        text = json.loads(raw)["choices"][0]["message"]["content"]
        assert text

    async def close() -> None:
        if "s" in state:
            await state.pop("s").close()

    return call, close


def make_litellm(url: str):
    from synthkit_litellm import import_litellm

    litellm = import_litellm()

    async def call(i: int) -> None:
        r = await litellm.acompletion(
            model="openai/gpt-4o-mini", messages=messages(i), api_base=url, api_key="sk-bench", num_retries=0, max_retries=0, timeout=60
        )
        assert r.choices[0].message.content

    async def close() -> None:
        return None

    return call, close


def make_teacher(teacher):
    async def call(i: int) -> None:
        out = await teacher.complete(messages(i), {})
        assert out[0].text

    return call, teacher.aclose


def make_openai_teacher(url: str):
    from synthkit.teachers.openai_client import OpenAITeacher

    return make_teacher(OpenAITeacher("gpt-4o-mini", base_url=url, api_key="sk-bench", concurrency=100))


def make_litellm_teacher(url: str):
    from synthkit_litellm import LiteLLMTeacher

    return make_teacher(LiteLLMTeacher("openai/gpt-4o-mini", base_url=url, api_key="sk-bench", concurrency=100))


CLIENTS = {
    "raw": make_raw,
    "litellm": make_litellm,
    "openai": make_openai_teacher,
    "litellm-teacher": make_litellm_teacher,
}


async def measure(name: str, url: str, total: int, concurrency: int) -> dict[str, float]:
    call, close = CLIENTS[name](url)
    await drive(call, min(200, total), concurrency)  # warm up: connections, imports, caches
    reset_server(url)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    await drive(call, total, concurrency)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    await close()
    ok = server_stats(url).get("ok", 0)
    return {"rps": total / wall, "cpu_us_per_request": cpu / total * 1e6, "server_ok": ok}


async def overhead(total: int, rounds: int) -> dict[str, dict[str, float]]:
    proc, url = start_server("--latency", "0.05")
    try:
        results: dict[str, list[dict[str, float]]] = {k: [] for k in CLIENTS}
        for r in range(rounds):
            order = list(CLIENTS) if r % 2 == 0 else list(reversed(CLIENTS))
            for name in order:
                res = await measure(name, url, total, 100)
                results[name].append(res)
                print(f"  round {r + 1} {name:16s} {res['rps']:8.1f} req/s  {res['cpu_us_per_request']:7.0f} us CPU/request", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    return {
        k: {m: statistics.median(x[m] for x in v) for m in ("rps", "cpu_us_per_request")} for k, v in results.items()
    }


async def rate_limit(seconds: float, rpm: float, client_rpm: float | None) -> dict[str, float]:
    from synthkit.teachers.openai_client import OpenAITeacher

    proc, url = start_server("--latency", "0.05", "--rpm", str(rpm))
    try:
        teacher = OpenAITeacher("gpt-4o-mini", base_url=url, api_key="sk-bench", concurrency=100, rpm=client_rpm, max_attempts=50)
        t0 = time.monotonic()
        done = 0
        counter = iter(range(10**9))

        async def worker() -> None:
            nonlocal done
            for i in counter:
                if time.monotonic() - t0 >= seconds:
                    return
                await teacher.complete(messages(i), {})
                if time.monotonic() - t0 <= seconds:
                    done += 1

        tasks = [asyncio.ensure_future(worker()) for _ in range(100)]
        await asyncio.wait(tasks, timeout=seconds + 1)
        for t in tasks:  # stop the workers still waiting for the limiter
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await teacher.aclose()
        stats = server_stats(url)
    finally:
        proc.terminate()
        proc.wait(10)
    limit = rpm / 60 * seconds
    return {
        "seconds": seconds,
        "completed": done,
        "achieved": done / limit,
        "requests": stats.get("requests", 0),
        "answered_429": stats.get("status_429", 0),
        "share_429": stats.get("status_429", 0) / max(1, stats.get("requests", 0)),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import aiohttp

    try:
        from importlib.metadata import version

        lv = version("litellm")
    except Exception:  # noqa: BLE001
        lv = "?"
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, aiohttp {aiohttp.__version__}, litellm {lv}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rpm-seconds", type=float, default=60.0)
    p.add_argument("--quick", action="store_true", help="400 requests, 1 round, 10 s of rate limit")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    a = p.parse_args()
    if a.quick:
        a.requests, a.rounds, a.rpm_seconds = 400, 1, 10.0
    print(f"machine: {machine()}")
    print(f"part 1: {a.requests} requests, 100 in flight, 50 ms server latency, {a.rounds} rounds")
    over = asyncio.run(overhead(a.requests, a.rounds))
    ratios = {
        "openai/raw": over["openai"]["rps"] / over["raw"]["rps"],
        "litellm-teacher/litellm": over["litellm-teacher"]["rps"] / over["litellm"]["rps"],
    }
    print("\n| client | requests/s | client CPU per request |")
    print("| --- | ---: | ---: |")
    for k, v in over.items():
        print(f"| {k} | {v['rps']:.0f} | {v['cpu_us_per_request']:.0f} us |")
    print(f"\nopenai teacher / raw aiohttp: {ratios['openai/raw']:.2f}x (goal >= 0.7x)")
    print(f"litellm teacher / bare litellm: {ratios['litellm-teacher/litellm']:.2f}x (goal >= 0.9x)")

    print(f"\npart 2: 600 RPM limit, {a.rpm_seconds:g} s, 100 in flight")
    limits = {}
    for label, client_rpm in (("rpm=600 given", 600.0), ("limit learned from headers", None)):
        res = asyncio.run(rate_limit(a.rpm_seconds, 600.0, client_rpm))
        limits[label] = res
        print(
            f"  {label:28s} achieved {res['achieved']:.1%} of the limit ({res['completed']} requests), "
            f"{res['answered_429']} of {res['requests']} answered 429 ({res['share_429']:.2%})",
            flush=True,
        )
    if a.json:
        a.json.write_text(json.dumps({"machine": machine(), "overhead": over, "ratios": ratios, "rate_limit": limits}, indent=2))


if __name__ == "__main__":
    main()

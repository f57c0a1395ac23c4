"""Code-verification throughput: sandboxed runs per second for a trivial correct solution.

Compares, in the same run, the full ``code`` verifier path (sandbox with every isolation
layer; the grader and the solution in two processes; solution + 3 assert tests, each a
call into the solution's process) against a bare ``subprocess.run([sys.executable, "-c", ...])``
of the same code, one at a time and two at a time. Rounds alternate between the two so
machine noise hits both alike; the median round is reported, with the load average before
and after (other work on the machine moves the figures). The goal: the sandbox runs at
least 0.8x as many runs per second as the bare interpreter start.

Run: ``.venv/bin/python bench/sandbox.py [--runs 60] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from synthkit.records import Record
from synthkit.verify.sandbox import probe_layers
from synthkit.verify.code import CodeVerifier

SOLUTION = "```python\ndef add(a, b):\n    return a + b\n```"
TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(0, 0) == 0"]
BARE = "def add(a, b):\n    return a + b\n" + "\n".join(TESTS)


def bare_rate(runs: int, workers: int) -> float:
    def one(_: int) -> None:
        subprocess.run([sys.executable, "-c", BARE], check=True, capture_output=True)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(runs)))
    return runs / (time.perf_counter() - t0)


def sandbox_rate(runs: int, workers: int) -> float:
    verifier = CodeVerifier(max_concurrent=workers)
    record = Record.create(response=SOLUTION, data={"tests": TESTS})

    async def go() -> None:
        verdicts = await asyncio.gather(*(verifier.verify(record) for _ in range(runs)))
        bad = [v.reason for v in verdicts if not v.passed]
        if bad:
            raise SystemExit(f"a sandboxed run failed: {bad[0]}")

    t0 = time.perf_counter()
    asyncio.run(go())
    return runs / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=60, help="runs per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    args = ap.parse_args()
    layers = probe_layers()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}")
    print("layers: " + ", ".join(f"{k}={'ok' if v is None else 'MISSING'}" for k, v in layers.items() if k != "landlock_abi")
          + f", landlock ABI {layers['landlock_abi']}")
    sandbox_rate(4, 1)  # warm up (probe, imports)
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{'concurrency':<12} {'bare runs/s':>12} {'sandbox runs/s':>15} {'sandbox/bare':>13} {'ms per sandboxed run':>21}")
    ratios = []
    for workers in (1, 2):
        bare, boxed = [], []
        for _ in range(args.rounds):
            bare.append(bare_rate(args.runs, workers))
            boxed.append(sandbox_rate(args.runs, workers))
        b, s = statistics.median(bare), statistics.median(boxed)
        ratios.append(s / b)
        print(f"{workers:<12} {b:>12.1f} {s:>15.1f} {s / b:>13.2f} {1000 / s * workers:>21.1f}")
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"goal (sandbox/bare >= 0.8 at each concurrency): {'met' if min(ratios) >= 0.8 else 'NOT met'}")


if __name__ == "__main__":
    main()

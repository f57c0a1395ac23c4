"""Measure `import synthkit`: wall time against a bare interpreter, and which heavy modules load.

Run: .venv/bin/python bench/import_time.py [--runs 20]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time

HEAVY = ("litellm", "numpy", "matplotlib", "ray", "aiohttp", "sympy", "math_verify", "rensa", "jinja2", "tenacity", "rich")


def wall(code: str, runs: int) -> float:
    """Median wall time of a fresh interpreter running ``code``."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def self_time() -> float:
    """The import's own time as reported by -X importtime (microseconds -> seconds)."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import synthkit"], capture_output=True, text=True).stderr
    line = [x for x in err.splitlines() if x.rstrip().endswith("| synthkit")][-1]
    return int(line.split("|")[1]) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    base = wall("pass", args.runs)
    sk = wall("import synthkit", args.runs)
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, synthkit; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    cumulative = statistics.median(self_time() for _ in range(5))
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"bare interpreter start: {base * 1000:.0f} ms (median of {args.runs})")
    print(f"interpreter + import synthkit: {sk * 1000:.0f} ms -> import cost {1000 * (sk - base):.0f} ms")
    print(f"-X importtime cumulative for synthkit: {cumulative * 1000:.0f} ms (median of 5)")
    print(f"heavy modules loaded by import synthkit: {loaded or 'none'}")
    ok = cumulative < 0.3 and not loaded
    print("PASS" if ok else "FAIL", "(goal: < 300 ms, no heavy module)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

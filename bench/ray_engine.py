"""Filter and dedup throughput: the local engine against the ray engine on one machine.

Builds N records (default 200,000) of 40-80 words, then times, in one process, the default
heuristic filters and `exact-dedup` + `near-dedup` on each engine. Ray starts once before the
timings (its start-up, a few seconds, is printed apart). Prints one JSON line per run.

    python bench/ray_engine.py [N]
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import synthkit as sk
from synthkit.filters.heuristics import DEFAULT_FILTERS


def corpus(path: Path, n: int) -> None:
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(5000)]
    base = [" ".join(rng.choice(vocab) for _ in range(rng.randrange(40, 80))) for _ in range(n // 2)]
    with path.open("w") as fh:
        for i in range(n):
            text = base[rng.randrange(len(base))]
            fh.write(json.dumps({"text": text, "i": i}) + "\n")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    from synthkit_ray.engine import RayEngine, ensure_ray

    tmp = Path(tempfile.mkdtemp())
    src = tmp / "in.jsonl"
    corpus(src, n)
    t0 = time.perf_counter()
    ensure_ray()
    print(json.dumps({"ray_start_s": round(time.perf_counter() - t0, 2), "cpus": os.cpu_count()}), flush=True)
    jobs = {
        "filters": lambda p: [p.filter(name) for name in DEFAULT_FILTERS],
        "exact+near dedup": lambda p: [p.filter("exact-dedup"), p.filter("near-dedup", threshold=0.8)],
    }
    for job, add in jobs.items():
        outs = {}
        for engine in ("local", RayEngine(block_size=5000)):
            name = getattr(engine, "name", engine)
            pipe = sk.Pipeline(src)
            add(pipe)
            out = tmp / f"{name}.jsonl"
            t = time.perf_counter()
            s = pipe.run(out, engine=engine)
            dt = time.perf_counter() - t
            outs[name] = out.read_bytes()
            print(json.dumps({"job": job, "engine": name, "records": n, "kept": s.kept, "seconds": round(dt, 2),
                              "records_per_s": round(n / dt)}), flush=True)
        print(json.dumps({"job": job, "identical_output": outs["local"] == outs["ray"]}), flush=True)


if __name__ == "__main__":
    main()

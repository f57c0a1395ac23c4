"""`synthkit view` on a large run: index build rate, time to the first page and to a filtered page, peak memory.

Writes N records (default 1M) shaped like a verified math run (prompt, cot response, answer,
lineage with a verdict and usage; about 630 bytes a line): 90 % kept in out.jsonl, 10 % in
rejects.jsonl with a ``final answer X != expected Y`` reason. Then, in the same run:

* baseline: reading every line with ``orjson.loads`` and nothing else (the floor of any index);
* first open: ``synthkit view out.jsonl --rejects rejects.jsonl --port 0 --no-browser`` as a subprocess,
  timed until the records page answers (index built from scratch), and its peak RSS;
* later open: the same command again, timed until the first page answers (index reused);
* the build alone, in this process: with its default workers and with ``workers=0`` (parsed where
  SQLite is written), each timed and its CPU seconds counted (this process and its workers), a
  figure the load of other jobs does not change much: what the second core buys, and what a quiet
  machine would take;
* pages of the running server: the first page, a page filtered by a reject reason (and its page 2),
  a selective search and one every record matches, a facet asked for,
  a record page, each the best of 3.

    .venv/bin/python bench/viewer.py                 # 1M records
    .venv/bin/python bench/viewer.py --records 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def make(n: int, out: Path, rejects: Path) -> None:
    rnd = random.Random(0)
    fams = ["arith", "algebra", "geometry", "probability", "sequences"]
    with open(out, "w") as fo, open(rejects, "w") as fr:
        for i in range(n):
            a, b = rnd.randint(1, 999), rnd.randint(1, 999)
            rec = {
                "id": f"{i:016x}", "prompt": f"What is {a} + {b}? Think step by step.",
                "response": f"Step 1: add {a} and {b}.\nStep 2: the sum is {a + b}.\nFinal answer: {a + b}",
                "answer": str(a + b), "family": rnd.choice(fams), "stratum": rnd.choice(fams),
                "lineage": {
                    "origin": "synthetic", "teacher": "openai", "model": rnd.choice(["gpt-4o-mini", "gpt-4.1"]), "template": "cot",
                    "template_hash": "ab12cd34", "params": {"temperature": 0.7}, "seed": 7, "parents": [f"p{i:015x}"], "generation": 1,
                    "verdicts": [{"name": "math", "passed": True, "reason": "final answer matches"}], "finish_reason": "stop",
                    "usage": {"prompt_tokens": 40, "completion_tokens": 30, "cost_usd": 0.00002},
                },
            }
            if i % 10 == 0:
                reason = f"final answer {a + b + 1} != expected {a + b}"
                rec["lineage"]["verdicts"] = [{"name": "math", "passed": False, "reason": reason}]
                rec["reject"] = {"status": "dropped", "step": "math", "reason": reason, "kind": "", "attempts": 1}
                fr.write(json.dumps(rec) + "\n")
            else:
                fo.write(json.dumps(rec) + "\n")


def get(url: str) -> float:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as resp:  # noqa: S310 - a loopback URL of our own server
        resp.read()
        assert resp.status == 200, resp.status
    return time.perf_counter() - t


def open_viewer(out: Path, rejects: Path) -> tuple[subprocess.Popen, str, float]:
    """Start the viewer; return it, its URL and the seconds until its records page answered."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthkit", "view", str(out), "--rejects", str(rejects), "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    url = proc.stdout.readline().split()[2]
    get(url + "run/records")
    return proc, url, time.perf_counter() - t


def cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its finished children (the index's workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def stop(proc: subprocess.Popen) -> int:
    """Stop the viewer; return its peak RSS in MB (from wait4)."""
    proc.terminate()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_maxrss // 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=os.environ.get("SYNTHKIT_BENCH_DIR")) as d:
        out, rejects = Path(d) / "out.jsonl", Path(d) / "rejects.jsonl"
        make(args.records, out, rejects)
        size = (out.stat().st_size + rejects.stat().st_size) / 2**20
        import orjson

        t = time.perf_counter()
        for path in (out, rejects):
            with open(path, "rb") as fh:
                for line in fh:
                    orjson.loads(line)
        baseline = time.perf_counter() - t
        proc, url, first = open_viewer(out, rejects)
        pages = {}
        reason = "final+answer+%23+%21%3D+expected+%23"
        for name, path in (
            ("first page", "run/records"),
            ("filtered by reason", f"run/records?reason={reason}"),
            ("filtered, page 2", None),
            ("search (selective)", "run/records?_search=927"),
            ("search (every record)", "run/records?_search=sum"),
            ("facet on demand", "run/records?_facet=stratum"),
            ("record page", "-/synthkit/record/000000000000000a"),
        ):
            if path is None:
                with urllib.request.urlopen(url + f"run/records.json?reason={reason}&_shape=objects") as resp:  # noqa: S310
                    nxt = json.loads(resp.read())["next"]
                path = f"run/records?reason={reason}&_next={nxt}"
            pages[name] = min(get(url + path) for _ in range(3))
        peak_first = stop(proc)
        proc, url, later = open_viewer(out, rejects)
        peak_later = stop(proc)
        index_mb = (out.with_name("out.view.sqlite")).stat().st_size / 2**20
        from synthkit.view.index import build_index

        builds = {}
        for name, workers in (("default", None), ("one_core", 0)):
            target = Path(d) / f"{name}.sqlite"
            cpu, t = cpu_seconds(), time.perf_counter()
            build_index([out, rejects], path=target, workers=workers)
            builds[name] = (time.perf_counter() - t, cpu_seconds() - cpu)
            target.unlink()
    result = {
        "records": args.records, "input_mb": round(size), "index_mb": round(index_mb),
        "json_read_s": round(baseline, 2), "first_open_s": round(first, 2),
        "index_rate_per_s": round(args.records / first), "first_open_over_json_read": round(first / baseline, 2),
        "later_open_s": round(later, 2),
        **{f"build_{k}_s": round(v[0], 2) for k, v in builds.items()},
        **{f"build_{k}_cpu_s": round(v[1], 2) for k, v in builds.items()},
        "build_one_core_rate_per_s": round(args.records / builds["one_core"][0]), "pages_s": {k: round(v, 3) for k, v in pages.items()},
        "peak_rss_mb_first_open": peak_first, "peak_rss_mb_later_open": peak_later,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_before": [round(x, 2) for x in load], "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for k, v in result.items():
        print(f"{k:28} {v}")


if __name__ == "__main__":
    main()

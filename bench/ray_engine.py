"""The ray engine against the local one: filters and dedup, at 1, 2 and 4 workers, with every process's peak memory.

Writes N JSONL records (default 2,000,000) of 40 to 80 words (``--words``) drawn from 5,000 pseudo-words: half
the records repeat an earlier text (an exact duplicate), one in seven of those with one word
changed (a near duplicate). Then runs, as subprocesses on the same file, in the same run:

* ``synthkit filter IN -o OUT --rejects R`` (the default heuristic filters) and
  ``synthkit dedup IN -o OUT --rejects R --exact --near 0.7``, each on the local engine (the
  baseline) and on ``--engine ray`` with a new local Ray of 1, 2 and 4 CPUs (``num_cpus``: that
  many tasks at once; Ray's own processes come on top);
* the same ray command on 1,000 records, whose time is Ray's start and stop;
* ``synthkit dedup IN -o OUT --near 0.7`` on the local engine against the bare rensa script of
  ``bench/dedup.py`` (job ``near``, no ray; no rejects file, as the bare script writes only what it keeps).

One invocation prints the whole table (``--markdown``: as docs/benchmarks.md has it), every
figure also as a ratio to the bare rensa script of the same run, with the load average at the
start and the end.

While a command runs, its process tree is sampled every 0.2 s from ``/proc``: the peak resident
memory (``VmHWM``, which counts the pages of Ray's shared object store a process touched) and the
peak private memory (``RssAnon``) of the driver (the ``synthkit`` process) and of every Ray
process, and their CPU time. Output files are compared with the local engine's by SHA-256.

    .venv/bin/python bench/ray_engine.py                            # 2,000,000 records, 1/2/4 workers
    .venv/bin/python bench/ray_engine.py --records 100000 --workers 2 --json --out ray.json
    .venv/bin/python bench/ray_engine.py --records 2000000 --workers 2 --markdown   # the docs table, in one run
    .venv/bin/python bench/ray_engine.py --records 2000000 --jobs near --markdown   # only local near dedup against bare rensa
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dedup import BARE_RENSA  # noqa: E402 - the same bare script as bench/dedup.py

PY = sys.executable
SYNTHKIT = str(Path(PY).with_name("synthkit"))
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def corpus(path: Path, n: int, seed: int = 0, words: tuple[int, int] = (40, 80)) -> None:
    """Write ``n`` records: half new texts, half repeats of earlier ones (a seventh of those with a word changed)."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    pool: list[str] = []
    with path.open("w") as fh:
        for i in range(n):
            if pool and rng.random() < 0.5:
                text = rng.choice(pool)
                if rng.random() < 1 / 7:
                    ws = text.split()
                    ws[rng.randrange(len(ws))] = rng.choice(vocab)
                    text = " ".join(ws)
            else:
                text = " ".join(rng.choice(vocab) for _ in range(rng.randrange(*words)))
                if len(pool) < 200_000:
                    pool.append(text)
                else:
                    pool[rng.randrange(len(pool))] = text
            fh.write(json.dumps({"id": f"{i:012x}", "text": text}) + "\n")  # hex ids: the summary masks them in reasons


# -- sampling a process tree -------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _tree(root: int) -> list[int]:
    kids, out, todo = _children(), [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def _read(pid: int) -> dict | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            status = dict(line.split(":", 1) for line in fh if ":" in line)
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return None
    kb = lambda key: int(status.get(key, "0 kB").split()[0]) / 1024  # noqa: E731
    return {
        "name": cmd.split("/")[-1][:40],
        "hwm_mb": kb("VmHWM"),
        "anon_mb": kb("RssAnon"),
        "cpu_s": (int(fields[11]) + int(fields[12])) / TICK,
    }


class Sampler(threading.Thread):
    """Samples the memory and CPU of a process and all its descendants until it exits."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.procs: dict[int, dict] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for pid in _tree(self.pid):
                info = _read(pid)
                if info is None:
                    continue
                seen = self.procs.setdefault(pid, {"names": set(), "hwm_mb": 0.0, "anon_mb": 0.0, "cpu_s": 0.0})
                if not info["name"].startswith("ray::IDLE"):
                    seen["names"].add(info["name"])
                seen["hwm_mb"] = max(seen["hwm_mb"], info["hwm_mb"])
                seen["anon_mb"] = max(seen["anon_mb"], info["anon_mb"])
                seen["cpu_s"] = max(seen["cpu_s"], info["cpu_s"])
            time.sleep(self.every)


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd``; return its wall time, exit code and, per process of its tree, peak memory and CPU."""
    t = time.perf_counter()
    log = tempfile.TemporaryFile()  # not a pipe: a child writing more than a pipe holds would block
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env)
    sampler = Sampler(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    sampler.done.set()
    sampler.join()
    log.seek(0)
    err = log.read().decode(errors="replace")
    log.close()
    code = os.waitstatus_to_exitcode(status)
    if code:
        msg = f"{' '.join(cmd)} exited {code}:\n{err[-2000:]}"
        raise RuntimeError(msg)
    procs = sampler.procs
    driver = procs.get(proc.pid, {"hwm_mb": 0, "anon_mb": 0, "cpu_s": 0})
    others = [dict(p, pid=pid, names=sorted(p["names"])) for pid, p in procs.items() if pid != proc.pid]
    workers = [p for p in others if any(n.startswith("ray::") for n in p["names"])]
    return {
        "wall_s": round(wall, 2),
        "driver_peak_rss_mb": round(max(driver["hwm_mb"], usage.ru_maxrss / 1024), 1),
        "driver_peak_private_mb": round(driver["anon_mb"], 1),
        "driver_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "workers": sorted(
            ({"role": ",".join(sorted({n.split("ray::")[1].split(".")[0] for n in p["names"] if n.startswith("ray::")})),
              "peak_rss_mb": round(p["hwm_mb"], 1), "peak_private_mb": round(p["anon_mb"], 1), "cpu_s": round(p["cpu_s"], 2)}
             for p in workers),
            key=lambda w: -w["peak_rss_mb"],
        ),
        "ray_system": sorted(
            ({"name": ",".join(p["names"])[:40], "peak_rss_mb": round(p["hwm_mb"], 1), "cpu_s": round(p["cpu_s"], 2)} for p in others if p not in workers),
            key=lambda w: -w["peak_rss_mb"],
        ),
        "stderr_tail": err.strip().splitlines()[-3:],
    }


def sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


JOBS = {
    "filters": ["filter"],
    "dedup": ["dedup", "--exact", "--near", "0.7"],
    "near": ["dedup", "--near", "0.7"],  # local only, against the bare rensa script of bench/dedup.py
}


def markdown(report: dict) -> str:
    """The table of docs/benchmarks.md: one row per run, times also as ratios to the bare rensa script's."""
    base = next((r for r in report["runs"] if r["engine"] == "bare rensa script"), None)
    head = (
        "| job | engine | wall s | × bare rensa (wall) | CPU s (all processes) | × bare rensa (CPU) | CPU s: driver | CPU s: task workers "
        "| CPU s: routers + shards | driver peak RSS (private) | each task worker | routers | shards | same bytes as local |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|"]
    for r in report["runs"]:
        tasks = [w for w in r["workers"] if "Router" not in w["role"] and "Shard" not in w["role"]]
        routers = [w for w in r["workers"] if "Router" in w["role"]]
        shards = [w for w in r["workers"] if "Shard" in w["role"]]
        cpu = r["driver_cpu_s"] + sum(w["cpu_s"] for w in r["workers"])
        ratio = lambda b, x: f"{b / x:.2f}" if base is not None and x else ""  # noqa: E731
        base_cpu = base["driver_cpu_s"] if base is not None else 0
        mem = lambda ws: "; ".join(f"{w['peak_rss_mb']:,.0f} MB ({w['peak_private_mb']:,.0f})" for w in ws)  # noqa: E731
        lines.append(
            f"| {r['job']} | {r['engine']} | {r['wall_s']:,.1f} | {ratio(base['wall_s'] if base else 0, r['wall_s'])} | {cpu:,.1f} "
            f"| {ratio(base_cpu, cpu)} | {r['driver_cpu_s']:,.1f} | {sum(w['cpu_s'] for w in tasks):,.1f} "
            f"| {sum(w['cpu_s'] for w in routers + shards):,.1f} | {r['driver_peak_rss_mb']:,.0f} MB ({r['driver_peak_private_mb']:,.0f}) "
            f"| {mem(tasks)} | {mem(routers)} | {mem(shards)} | {'yes' if r.get('same_output') else 'no' if 'same_output' in r else ''} |"
        )
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--workers", default="1,2,4", help="comma-separated num_cpus of the local Ray")
    ap.add_argument("--jobs", default="near,dedup,filters", help="comma-separated: near (local against bare rensa only), dedup, filters")
    ap.add_argument("--block-size", type=int, default=5000)
    ap.add_argument("--words", default="40,80", help="words per new text: LOW,HIGH (150,190 makes records of about 1 KB)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the results as the table of docs/benchmarks.md")
    ap.add_argument("--out", type=Path, help="also write the results as JSON to this file after every run (a stopped run keeps its figures)")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="synthkit-bench-ray-"))
    src, small = tmp / "in.jsonl", tmp / "small.jsonl"
    lo, hi = (int(x) for x in args.words.split(","))
    corpus(src, args.records, words=(lo, hi))
    corpus(small, 1000, words=(lo, hi))
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # each ray run starts its own local Ray
    report = {
        "records": args.records,
        "input_mb": round(src.stat().st_size / 2**20, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {round(os.sysconf('SC_PHYS_PAGES') * PAGE / 2**30)} GB, Python {platform.python_version()}",
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start": load_average(),
        "runs": [],
    }
    def save() -> None:
        if args.out is not None:
            args.out.write_text(json.dumps(report, indent=2))

    for job in args.jobs.split(","):
        base = JOBS[job]
        out, rej = tmp / f"{job}.local.jsonl", tmp / f"{job}.local.rej.jsonl"
        rejects = [] if job == "near" else ["--rejects", str(rej)]  # the bare rensa script writes no rejects either
        local = measure([SYNTHKIT, base[0], str(src), "-o", str(out), *rejects, *base[1:]], env)
        local_sha = (sha(out), sha(rej)) if rejects else None
        report["runs"].append({"job": job, "engine": "local", "kept": sum(1 for _ in out.open()), **local})
        save()
        print(json.dumps({"job": job, "engine": "local", "wall_s": local["wall_s"], "driver_cpu_s": local["driver_cpu_s"], "driver_peak_rss_mb": local["driver_peak_rss_mb"]}), file=sys.stderr, flush=True)
        if job == "near":
            script = tmp / "rensa_bare.py"
            script.write_text(BARE_RENSA)
            bare = measure([PY, str(script), str(src), str(tmp / "rensa.jsonl"), "0.7"], env)
            kept = sum(1 for _ in (tmp / "rensa.jsonl").open())
            report["runs"].append({"job": job, "engine": "bare rensa script", "kept": kept, **bare})
            save()
            print(json.dumps({"job": job, "engine": "bare rensa script", "wall_s": bare["wall_s"], "driver_cpu_s": bare["driver_cpu_s"], "driver_peak_rss_mb": bare["driver_peak_rss_mb"], "kept": kept}), file=sys.stderr, flush=True)
            out.unlink()
            continue
        for w in workers:
            opts = ["--engine", "ray", "--engine-option", f"num_cpus={w}", "--engine-option", f"block_size={args.block_size}"]
            start = measure([SYNTHKIT, base[0], str(small), "-o", str(tmp / "s.jsonl"), *base[1:], *opts], env)
            rout, rrej = tmp / f"{job}.ray{w}.jsonl", tmp / f"{job}.ray{w}.rej.jsonl"
            run = measure([SYNTHKIT, base[0], str(src), "-o", str(rout), "--rejects", str(rrej), *base[1:], *opts], env)
            same = (sha(rout), sha(rrej)) == local_sha
            rout.unlink()
            rrej.unlink()
            row = {"job": job, "engine": f"ray, {w} worker{'s' if w > 1 else ''}", "num_cpus": w, "ray_start_stop_s": start["wall_s"], "same_output": same, **run}
            report["runs"].append(row)
            save()
            print(json.dumps({k: row[k] for k in ("job", "engine", "wall_s", "ray_start_stop_s", "driver_peak_rss_mb", "same_output")}), file=sys.stderr, flush=True)
        out.unlink()
        rej.unlink()
    shutil.rmtree(tmp, ignore_errors=True)
    report["ended"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    report["load_average_end"] = load_average()
    save()
    if args.markdown:
        print(f"{args.records:,} records ({report['input_mb']} MB); {report['machine']}; {report['started']} to {report['ended']}, "
              f"load average (1, 5, 15 min) {report['load_average_start']} at the start, {report['load_average_end']} at the end\n")
        print(markdown(report))
        return
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.records:,} records ({report['input_mb']} MB); {report['machine']}")
    print(f"{'job':<8} {'engine':<18} {'wall s':>7} {'rec/s':>8} {'x local':>7} {'CPU s':>7} {'Ray start':>9} {'driver MB':>9} {'worker MB (max)':>15} {'same':>5}")
    local_wall = {}
    for r in report["runs"]:
        if r["engine"] == "local":
            local_wall[r["job"]] = r["wall_s"]
        wmax = max((w["peak_rss_mb"] for w in r["workers"]), default=0)
        cpu = r["driver_cpu_s"] + sum(w["cpu_s"] for w in r["workers"])
        print(
            f"{r['job']:<8} {r['engine']:<18} {r['wall_s']:>7.1f} {args.records / r['wall_s']:>8.0f} {local_wall[r['job']] / r['wall_s']:>7.2f} {cpu:>7.1f} "
            f"{r.get('ray_start_stop_s', ''):>9} {r['driver_peak_rss_mb']:>9.0f} {wmax:>15.0f} {str(r.get('same_output', '')):>5}"
        )

if __name__ == "__main__":
    main()

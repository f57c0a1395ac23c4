"""Streaming memory: peak RSS of `synthkit filter`, `dedup --exact` and `export` hardly grows with the input.

A small version of bench/filters_memory.py (which runs a million records).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

SYNTHKIT = str(Path(sys.executable).with_name("synthkit"))


def write_records(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    vocab = [f"{a}{b}{c}" for a in "bcdfghklmnprst" for b in "aeiou" for c in "lmnrst"]
    texts: list[str] = []
    with path.open("w") as fh:
        for i in range(n):
            if texts and rng.random() < 0.2:
                text = rng.choice(texts).upper() + "!"
            else:
                text = " ".join(rng.choice(vocab) for _ in range(rng.randint(8, 20))).capitalize() + "."
                texts.append(text)
            fh.write(json.dumps({"id": f"r{i}", "text": text, "prompt": f"Say {i % 97}", "response": text}) + "\n")


# A small launcher runs synthkit and reports its peak RSS: a child forked straight from pytest
# would report pytest's RSS at fork time as its own peak (Linux keeps the high-water mark across exec).
LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_mb(args: list[str]) -> float:
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, SYNTHKIT, *args], capture_output=True, text=True, check=True, timeout=120)
    code, maxrss_kb = map(int, proc.stdout.split())
    assert code == 0, proc.stderr
    return maxrss_kb / 1024


def test_peak_rss_does_not_grow_with_input(tmp_path):
    """10x more records raises peak RSS by under 25 MB for filter, dedup --exact and export, all far under 500 MB."""
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    write_records(small, 3_000)
    write_records(large, 30_000)
    rss = {}
    for name, src in (("small", small), ("large", large)):
        rss[("filter", name)] = peak_rss_mb(["filter", str(src), "-o", str(tmp_path / "f.jsonl"), "--rejects", str(tmp_path / "r.jsonl")])
        rss[("dedup", name)] = peak_rss_mb(["dedup", str(src), "-o", str(tmp_path / "d.jsonl"), "--exact"])
        rss[("parquet", name)] = peak_rss_mb(["export", str(src), "-o", str(tmp_path / "x.parquet")])
        rss[("openai", name)] = peak_rss_mb(["export", str(src), "-o", str(tmp_path / "x.jsonl"), "--format", "openai"])
    assert rss[("filter", "large")] - rss[("filter", "small")] < 25, rss
    # the exact-dedup index holds one hash and one id per distinct text (24k here): a few MB
    assert rss[("dedup", "large")] - rss[("dedup", "small")] < 25, rss
    # export buffers one row group (4096 records) at a time, whatever the input size
    assert rss[("parquet", "large")] - rss[("parquet", "small")] < 25, rss
    assert rss[("openai", "large")] - rss[("openai", "small")] < 25, rss
    assert max(rss.values()) < 250, rss
    kept = sum(1 for _ in (tmp_path / "d.jsonl").open())
    assert 20_000 < kept < 30_000

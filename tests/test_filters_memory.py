"""Streaming memory: peak RSS of `synthkit filter` and `synthkit dedup --exact` hardly grows with the input.

A small version of bench/filters_memory.py (which runs a million records).
"""

from __future__ import annotations

import json
import os
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
            fh.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")


def peak_rss_mb(args: list[str]) -> float:
    proc = subprocess.Popen([SYNTHKIT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode() if proc.stderr else ""
    return usage.ru_maxrss / 1024


def test_peak_rss_does_not_grow_with_input(tmp_path):
    """10x more records raises peak RSS by under 25 MB for filter, and dedup --exact stays far under 500 MB."""
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    write_records(small, 3_000)
    write_records(large, 30_000)
    rss = {}
    for name, src in (("small", small), ("large", large)):
        rss[("filter", name)] = peak_rss_mb(["filter", str(src), "-o", str(tmp_path / "f.jsonl"), "--rejects", str(tmp_path / "r.jsonl")])
        rss[("dedup", name)] = peak_rss_mb(["dedup", str(src), "-o", str(tmp_path / "d.jsonl"), "--exact"])
    assert rss[("filter", "large")] - rss[("filter", "small")] < 25, rss
    # the exact-dedup index holds one hash and one id per distinct text (24k here): a few MB
    assert rss[("dedup", "large")] - rss[("dedup", "small")] < 25, rss
    assert max(rss.values()) < 200, rss
    kept = sum(1 for _ in (tmp_path / "d.jsonl").open())
    assert 20_000 < kept < 30_000

"""Peak memory of ``synthkit filter``, ``dedup --exact`` and ``export`` on a million records.

Writes N JSONL records (ids given, 20 % exact duplicates after normalisation): short ones
(8 to 20 words of ``text``) by default, or with ``--kb`` about 1 KB each (a ``prompt`` and
a ``response`` of sentences, so the trainer exporters have something to export). Runs each
command as a subprocess and reads the subprocess's own peak RSS from ``wait4``. Runs a
tenth of the input as well, so the growth with input size shows.

    .venv/bin/python bench/filters_memory.py              # 1,000,000 records
    .venv/bin/python bench/filters_memory.py --kb          # 1,000,000 records of about 1 KB, with export
    .venv/bin/python bench/filters_memory.py --records 200000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
SYNTHKIT = str(Path(PY).with_name("synthkit"))


def write_records(path: Path, n: int, seed: int = 0, dup_frac: float = 0.2) -> None:
    """Write ``n`` short records; ``dup_frac`` of them repeat an earlier text with other case and punctuation."""
    rng = random.Random(seed)
    vocab = [f"{a}{b}{c}" for a in "bcdfghklmnprst" for b in "aeiou" for c in "lmnrst"]
    texts: list[str] = []
    with path.open("w") as fh:
        for i in range(n):
            if texts and rng.random() < dup_frac:
                text = rng.choice(texts).upper() + "!"
            else:
                text = " ".join(rng.choice(vocab) for _ in range(rng.randint(8, 20))).capitalize() + "."
                if len(texts) < 50000:
                    texts.append(text)
                else:
                    texts[rng.randrange(len(texts))] = text
            fh.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")


# A small launcher runs the command and reports its peak RSS: a child forked straight from a big
# parent would report the parent's RSS at fork time as its own peak (Linux keeps the high-water mark
# across exec).
LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; return (its peak RSS in MB, wall seconds)."""
    t = time.perf_counter()
    proc = subprocess.run([PY, "-c", LAUNCHER, *cmd], capture_output=True, text=True, check=True)
    code, maxrss_kb = map(int, proc.stdout.split())
    if code:
        msg = f"{' '.join(cmd)} failed ({code}): {proc.stderr}"
        raise RuntimeError(msg)
    return maxrss_kb / 1024, time.perf_counter() - t


def write_kb_records(path: Path, n: int, seed: int = 0, dup_frac: float = 0.2) -> None:
    """Write ``n`` records of about 1 KB: a prompt and a response of 15 random sentences (``dup_frac`` repeats)."""
    rng = random.Random(seed)
    vocab = [f"{a}{b}{c}" for a in "bcdfghklmnprst" for b in "aeiou" for c in "lmnrst"]
    sentences = [" ".join(rng.choice(vocab) for _ in range(rng.randint(10, 16))).capitalize() + "." for _ in range(20000)]
    earlier: list[tuple[str, str]] = []
    with path.open("w") as fh:
        for i in range(n):
            if earlier and rng.random() < dup_frac:
                prompt, response = rng.choice(earlier)
                response = response.upper()
            else:
                prompt = " ".join(rng.sample(sentences, 2)).rstrip(".") + "?"
                response = " ".join(rng.sample(sentences, 15))
                if len(earlier) < 50000:
                    earlier.append((prompt, response))
                else:
                    earlier[rng.randrange(len(earlier))] = (prompt, response)
            fh.write(json.dumps({"id": f"r{i}", "prompt": prompt, "response": response}) + "\n")


def measure(records: int, tmp: Path, kb: bool = False) -> dict[str, dict[str, float]]:
    src = tmp / f"in-{records}.jsonl"
    (write_kb_records if kb else write_records)(src, records)
    commands = {
        "synthkit filter": [SYNTHKIT, "filter", str(src), "-o", str(tmp / "f.jsonl"), "--rejects", str(tmp / "fr.jsonl")],
        "synthkit dedup --exact": [SYNTHKIT, "dedup", str(src), "-o", str(tmp / "d.jsonl"), "--exact", "--rejects", str(tmp / "dr.jsonl")],
        "synthkit export -o x.parquet": [SYNTHKIT, "export", str(src), "-o", str(tmp / "x.parquet")],
        "synthkit export -o x.jsonl --format openai": [SYNTHKIT, "export", str(src), "-o", str(tmp / "x.jsonl"), "--format", "openai"],
        "python -c 'import synthkit' (baseline)": [PY, "-c", "import synthkit.pipeline, synthkit.filters.dedup, numpy"],
    }
    out = {}
    for name, cmd in commands.items():
        rss, secs = peak_rss_mb(cmd)
        out[name] = {"peak_rss_mb": round(rss, 1), "seconds": round(secs, 2), "input_mb": round(src.stat().st_size / 2**20, 1)}
        for f in tmp.glob("[fdx]*.*"):
            f.unlink()  # outputs of a million 1 KB records take gigabytes
    src.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--kb", action="store_true", help="records of about 1 KB (prompt and response) instead of short texts")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthkit-bench-mem-"))
    sizes = [args.records // 10, args.records]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "records": "about 1 KB (prompt + response)" if args.kb else "short (8 to 20 words)",
        "runs": {str(n): measure(n, tmp, args.kb) for n in sizes},
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(report["machine"], "-", report["records"], "records")
    print(f"{'records':>9} {'command':<44} {'input MB':>9} {'peak RSS MB':>12} {'seconds':>8}")
    for n, rows in report["runs"].items():
        for name, r in rows.items():
            print(f"{int(n):>9} {name:<44} {r['input_mb']:>9} {r['peak_rss_mb']:>12} {r['seconds']:>8}")


if __name__ == "__main__":
    main()

"""examples/math_rejection_sampling.py runs offline as written and accounts for every sample."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "math_rejection_sampling.py"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_recipe_samples_verifies_keeps_pairs_and_exports(tmp_path):
    """The recipe's files agree: kept + not kept == samples == 2 * pairs + unpaired; SFT and DPO rows match them."""
    proc = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=300)
    out = tmp_path / "out"
    samples, kept, not_kept = read_jsonl(out / "samples.jsonl"), read_jsonl(out / "kept.jsonl"), read_jsonl(out / "not-kept.jsonl")
    pairs, unpaired, rates = read_jsonl(out / "pairs.jsonl"), read_jsonl(out / "unpaired.jsonl"), read_jsonl(out / "pass-rates.jsonl")
    assert len(samples) == 800 and len(rates) == 100
    assert len(kept) + len(not_kept) == 800 == 2 * len(pairs) + len(unpaired)
    assert sum(r["outcome"] == "kept" for r in rates) == len(kept)
    assert {r["outcome"] for r in rates} >= {"kept", "too easy"}  # the prompts every sample solves teach nothing
    sft, dpo = read_jsonl(out / "sft.jsonl"), read_jsonl(out / "dpo.jsonl")
    assert len(sft) == len(kept) and len(dpo) == len(pairs)
    assert all(row["messages"][-1]["content"].startswith("<think>\n") for row in sft)
    assert all(row["chosen"][0]["content"] == p["chosen"]["response"] for row, p in zip(dpo, pairs))
    assert re.search(r"^800 inputs -> \d+ kept, \d+ dropped, 0 failed", proc.stdout, re.MULTILINE)

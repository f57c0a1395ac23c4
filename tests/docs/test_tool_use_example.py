"""examples/tool_use.py runs offline: trajectories with two tool calls, verified answers kept, the guess rejected, exports written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_tool_use_recipe_runs_offline(tmp_path):
    """Four verified trajectories are kept, the one that skipped the calculator is rejected with its reason, each export has four rows."""
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "tool_use.py")], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120)
    assert proc.stdout.startswith("5 inputs -> 4 kept, 1 dropped, 0 failed"), proc.stdout
    assert "openai 4 rows" in proc.stdout and "sharegpt 4 rows" in proc.stdout and "trl 4 rows" in proc.stdout
    out = tmp_path / "out"
    kept = [json.loads(line) for line in (out / "tool_use.jsonl").read_text().splitlines()]
    for rec in kept:
        calls = [c["function"]["name"] for m in rec["messages"] if m["role"] == "assistant" for c in m["tool_calls"]]
        assert calls == ["lookup", "calculator"]
        assert [v["name"] for v in rec["lineage"]["verdicts"]] == ["math", "tool-result"] and all(v["passed"] for v in rec["lineage"]["verdicts"])
    (reject,) = [json.loads(line) for line in (out / "tool_use.rejects.jsonl").read_text().splitlines()]
    assert "7 melons" in reject["messages"][0]["content"] and reject["reject"]["reason"] == "expected 22.4, got 21: not equivalent"

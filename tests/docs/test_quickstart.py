"""The quickstart runs as written, and the README shows exactly its code and output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "quickstart.py"


def _mask(text: str) -> str:
    return re.sub(r"\(\d+\.\d s\)", "(… s)", text).strip()


def test_quickstart_runs_offline_and_accounts_for_everything(tmp_path):
    """examples/quickstart.py runs in a fresh process; kept lines are verified, unique and carry lineage."""
    proc = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, capture_output=True, text=True, check=True)
    first = proc.stdout.splitlines()[0]
    m = re.match(r"(\d+) inputs -> (\d+) kept, (\d+) dropped, (\d+) failed", first)
    assert m, proc.stdout
    inputs, kept, dropped, failed = map(int, m.groups())
    assert inputs == 400 and kept + dropped + failed == inputs and failed == 0
    assert "final-answer" in proc.stdout and "exact-dedup" in proc.stdout
    rows = [json.loads(x) for x in (tmp_path / "out" / "quickstart.jsonl").read_text().splitlines()]
    assert len(rows) == kept
    assert len({r["response"] for r in rows}) == kept
    for r in rows:
        lin = r["lineage"]
        assert lin["teacher"] == "procedural" and lin["template"] == "cot" and lin["generation"] >= 1
        assert [v["name"] for v in lin["verdicts"]] == ["final-answer", "exact-dedup"]
        assert all(v["passed"] for v in lin["verdicts"])
    rejects = [json.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == dropped and all(x["reject"]["reason"] for x in rejects)
    readme = (ROOT / "README.md").read_text()
    assert _mask(proc.stdout) in _mask(readme), "README output block is stale: paste the quickstart's output"


def test_readme_and_docs_show_the_quickstart_as_written():
    """The README's and docs/index.md's quickstart code is byte-for-byte examples/quickstart.py (10 lines or fewer)."""
    code = EXAMPLE.read_text().strip()
    assert len(code.splitlines()) <= 10
    for page in (ROOT / "README.md", ROOT / "docs" / "index.md"):
        blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
        assert code in [b.strip() for b in blocks], page.name


def test_concepts_examples_run():
    """The code blocks in docs/concepts.md run as written."""
    text = (ROOT / "docs" / "concepts.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        exec(compile(block, "docs/concepts.md", "exec"), {})  # noqa: S102

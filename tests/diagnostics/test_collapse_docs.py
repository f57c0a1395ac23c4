"""Code shown in docs/collapse.md runs as written: the Python blocks in order, and the synthkit command lines."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.diagnostics.test_diagnostics import corpora

PAGE = Path(__file__).resolve().parents[2] / "docs" / "collapse.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", PAGE.read_text(), flags=re.S)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder holding the files the page talks about: real text, a collapsed synthetic set, two generations."""
    c = corpora()
    files = {
        "real.jsonl": c["reference"],
        "synthetic.jsonl": c["collapsed"],
        "gen1.jsonl": c["healthy"][:400],
        "gen2.jsonl": c["collapsed"][:400],
    }
    for name, texts in files.items():
        (tmp_path / name).write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_python_examples_run(workdir, capsys):
    """Every ```python block of docs/collapse.md runs, in order, and its assertions hold."""
    code = blocks("python")
    assert len(code) == 3
    ns: dict = {}
    for i, block in enumerate(code):
        exec(compile(block, f"docs/collapse.md[python {i}]", "exec"), ns)  # noqa: S102
    out = capsys.readouterr().out
    assert "asked 20.0%" in out and "collapse warnings:" in out and "rarest stratum" in out
    assert (workdir / "train.jsonl").exists() and (workdir / "report.html").exists()


def test_command_lines_run(workdir):
    """Every `synthkit` command on the page runs (the study itself is run by test_collapse.py)."""
    lines = [ln for b in blocks("bash") for ln in b.splitlines() if ln.startswith("synthkit ")]
    assert len(lines) == 5
    for line in lines:
        args = shlex.split(line)
        if args[1] == "collapse-study":
            continue
        p = subprocess.run([sys.executable, "-m", "synthkit", *args[1:]], capture_output=True, text=True, timeout=120)
        if args[1] == "report":  # synthetic.jsonl here is the mode-collapsed set: the CI gate fires
            assert p.returncode == 3 and "collapse warning(s)" in p.stderr, p.stderr
        else:
            assert p.returncode == 0, (line, p.stderr)
            assert "wrote" in p.stderr

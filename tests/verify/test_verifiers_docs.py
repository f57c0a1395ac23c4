"""The code in docs/verifiers.md and docs/templates.md runs as written and prints what the comments say."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(name: str) -> list[str]:
    """Return the ```python blocks of a docs page, in order."""
    return re.findall(r"```python\n(.*?)```\n", (DOCS / name).read_text(), flags=re.S)


def console_lines(name: str, command: str) -> list[str]:
    """Return the lines of the ```console blocks of a page that start with ``command``."""
    blocks = re.findall(r"```console\n(.*?)```", (DOCS / name).read_text(), flags=re.S)
    return [line for b in blocks for line in b.splitlines() if line.startswith(command)]


def expected_prints(block: str) -> list[str]:
    """Return what the prints promise: ``print(...)  # comment`` (up to '; ', or the bare count before ': '),
    and the ``# ...`` lines right under a print without its own comment."""
    out = []
    after_print = False
    for line in block.splitlines():
        m = re.match(r"\s*print\(.*\)\s+# (.+)$", line)
        if m:
            text = m.group(1).split("; ")[0]
            out.append(text.split(":")[0] if re.match(r"^\d+: ", text) else text)
            after_print = False
        elif re.match(r"\s*print\(.*\)\s*$", line):
            after_print = True
        elif after_print and line.startswith("# "):
            out.append(line[2:])
        else:
            after_print = False
    return out


def run_page(name: str) -> tuple[dict, str]:
    """Run every python block of a page in one namespace; return it and the captured output."""
    ns: dict = {"__name__": "__docs__"}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        for block in python_blocks(name):
            exec(compile(block, f"docs/{name}", "exec"), ns)  # noqa: S102
    return ns, buf.getvalue()


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty folder, so the examples' files land there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_verifiers_page_runs_as_written(in_tmp):
    """Every example of docs/verifiers.md runs, and each commented print shows what the comment says."""
    ns, out = run_page("verifiers.md")
    for block in python_blocks("verifiers.md"):
        for expected in expected_prints(block):
            assert expected in out, (expected, out)
    assert "expected \\frac{1}{3}, got 0.33: not equivalent" in out
    assert "1/2 tests failed; first: test 2 `assert square(3) == 9` raised AssertionError" in out
    rejects = [json.loads(x) for x in (in_tmp / "bad-json.jsonl").read_text().splitlines()]
    assert rejects[0]["reject"]["reason"] == "response does not match the schema: at $.age: 'old' is not of type 'integer'"
    judged = json.loads((in_tmp / "judged.jsonl").read_text())
    assert judged["reject"]["reason"] == "judge score 6/10 < 7: Correct, but the units are missing."
    assert ns["no_apology"].name == "regex" and ns["only_digits"].mode == "fullmatch"


def test_verifiers_page_commands_run(in_tmp):
    """The `synthkit verify` command lines of docs/verifiers.md run on the files the examples wrote."""
    run_page("verifiers.md")
    lines = console_lines("verifiers.md", "synthkit verify")
    assert len(lines) == 2
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for line in lines:
        proc = subprocess.run(shlex.split(line), capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        rejects = [json.loads(x) for x in (in_tmp / "rejects.jsonl").read_text().splitlines()]
        assert rejects and all(r["reject"]["reason"] for r in rejects)


def test_templates_page_runs_as_written(in_tmp):
    """Every example of docs/templates.md runs, and each commented print shows what the comment says."""
    ns, out = run_page("templates.md")
    for block in python_blocks("templates.md"):
        for expected in expected_prints(block):
            assert expected in out, (expected, out)

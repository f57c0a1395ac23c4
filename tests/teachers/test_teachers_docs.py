"""Code shown in docs/teachers.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import synthkit as sk

DOC = Path(__file__).resolve().parents[2] / "docs" / "teachers.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_switching_teacher_is_one_line(monkeypatch):
    """The one-line switches build an openai teacher (OpenAI or local base URL) and a litellm teacher."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-docs")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)  # the default URL is what this checks (a docs page sets it)
    ns: dict = {}
    block = python_blocks()[0]
    lines = [ln for ln in block.splitlines() if ln.startswith("teacher = ")]
    assert len(lines) == 3
    readme = (DOC.parents[1] / "README.md").read_text()
    assert all(ln in readme for ln in lines), "README's one-line switch must match docs/teachers.md"
    built = []
    for ln in lines:
        exec(compile("import synthkit as sk\n" + ln, str(DOC), "exec"), ns)  # noqa: S102
        built.append(ns["teacher"])
    assert [t.name for t in built] == ["openai", "openai", "litellm"]
    assert built[0].base_url == "https://api.openai.com/v1" and built[1].base_url == "http://127.0.0.1:8000/v1"
    assert built[2].model == "anthropic/claude-3-5-haiku-20241022"


def test_fake_server_example_runs(tmp_path, monkeypatch, capsys):
    """The complete example runs offline against the fake server and writes 20 records."""
    monkeypatch.chdir(tmp_path)
    exec(compile(python_blocks()[1], str(DOC), "exec"), {})  # noqa: S102
    out = capsys.readouterr().out
    assert "20 inputs -> 20 kept, 0 dropped, 0 failed" in out
    rows = list(sk.iter_records(tmp_path / "out.jsonl"))
    assert len(rows) == 20 and rows[0].response == "echo: What is 0 + 0?"
    assert (tmp_path / "run.db").exists()

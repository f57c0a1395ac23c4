"""docs/filters.md runs as written: its Python blocks execute and its console blocks print what is shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "filters.md"
BIN = str(Path(sys.executable).parent)


def blocks() -> list[tuple[str, str]]:
    """Return the ```python and ```console blocks of the page, in order."""
    return re.findall(r"```(python|console)\n(.*?)```", DOC.read_text(), flags=re.S)


def mask(text: str) -> str:
    return re.sub(r"\(\d+\.\d s\)", "(… s)", text).strip()


def test_filters_page_examples_run(tmp_path, monkeypatch):
    """Each Python block runs in order in one namespace, and each console command prints the output shown."""
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
    namespace: dict = {"__name__": "docs_filters"}
    ran = {"python": 0, "console": 0}
    for kind, body in blocks():
        ran[kind] += 1
        if kind == "python":
            exec(compile(body, f"{DOC.name} python block {ran['python']}", "exec"), namespace)  # noqa: S102
            continue
        commands = re.split(r"^\$ ", body, flags=re.M)[1:]
        for chunk in commands:
            cmd, _, expected = chunk.partition("\n")
            proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, env=env, timeout=120)  # noqa: S602
            assert proc.returncode == 0, f"{cmd}\n{proc.stderr}"
            assert mask(proc.stdout + proc.stderr) == mask(expected), f"$ {cmd}"
    assert ran["python"] >= 7 and ran["console"] >= 4

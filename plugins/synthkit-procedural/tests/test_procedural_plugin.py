"""The plugin as users meet it: installed, discovered through its entry point, documented."""

from __future__ import annotations

import importlib.metadata as md
import re
from pathlib import Path

import pytest
import synthkit as sk
from synthkit.plugins import load_plugins

import synthkit_procedural
from synthkit_procedural import FAMILIES, FinalAnswerVerifier, ProceduralTeacher

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
INSTALL_HINT = "install the plugin first: .venv/bin/pip install -e plugins/synthkit-procedural"


def python_blocks(text):
    """Return the ```python blocks of a markdown text."""
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_entry_point_is_installed():
    """The installed distribution declares the `procedural` entry point in the `synthkit` group."""
    eps = {ep.name: ep for ep in md.entry_points(group="synthkit")}
    assert "procedural" in eps, INSTALL_HINT
    assert eps["procedural"].value == "synthkit_procedural.plugin"
    assert eps["procedural"].dist.name == "synthkit-procedural"


def test_plugin_is_discovered_through_its_entry_point():
    """A fresh plugin manager finds the teacher and verifier, credited to the plugin and its package."""
    plugins = load_plugins(only="procedural")
    teachers, verifiers = plugins.registries["teachers"], plugins.registries["verifiers"]
    assert teachers.entry("procedural").plugin == "procedural", INSTALL_HINT
    assert verifiers.entry("final-answer").plugin == "procedural"
    (info,) = [i for i in plugins.infos() if i.name == "procedural"]
    assert (info.package, info.version) == ("synthkit-procedural", synthkit_procedural.__version__)
    assert info.parts["teachers"] == ["procedural"] and info.parts["verifiers"] == ["final-answer"]
    teacher = teachers.get("procedural", error_rate=0.25, seed=3)
    assert isinstance(teacher, ProceduralTeacher) and (teacher.error_rate, teacher.seed) == (0.25, 3)
    assert isinstance(verifiers.get("final-answer"), FinalAnswerVerifier)


def test_plugin_can_be_switched_off():
    """SYNTHKIT_LOAD_PLUGINS without `procedural` leaves its parts out."""
    plugins = load_plugins(only="some-other-plugin")
    assert "procedural" not in plugins.registries["teachers"].names()


def test_pyproject_declares_what_the_readme_shows():
    """The README's entry-point snippet is the one pyproject.toml declares."""
    table = '[project.entry-points.synthkit]\nprocedural = "synthkit_procedural.plugin"\n'
    assert table in (ROOT / "pyproject.toml").read_text()
    assert table in README


def test_readme_shows_plugin_py_verbatim():
    """The plugin module printed in the README is the real one, character for character."""
    source = (ROOT / "synthkit_procedural" / "plugin.py").read_text()
    assert source in python_blocks(README)


def test_readme_examples_run(tmp_path, monkeypatch):
    """The README's usage example and its example family run as written."""
    monkeypatch.chdir(tmp_path)
    source = (ROOT / "synthkit_procedural" / "plugin.py").read_text()
    blocks = [b for b in python_blocks(README) if b != source]
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "out" / "procedural.jsonl").stat().st_size > 0


def test_readme_family_table_is_true():
    """Each example problem in the README's table is read by its family alone and has the answer shown."""
    rows = re.findall(r"^\| `([a-z-]+)` \| (.+?) \| `(.+?)` \|$", README, flags=re.MULTILINE)
    assert sorted(name for name, _, _ in rows) == sorted(FAMILIES)
    for name, example, answer in rows:
        solved = {f: FAMILIES[f].solve(example) for f in FAMILIES}
        assert [f for f, s in solved.items() if s is not None] == [name]
        assert solved[name].answer == answer


@pytest.mark.parametrize("error_rate", [0.0, 0.2])
def test_pipeline_keeps_right_answers_and_drops_the_mistakes(tmp_path, error_rate):
    """Through the core pipeline by name, kept + dropped = inputs and every drop is a wrong final answer."""
    teacher = sk.get_teacher("procedural", error_rate=error_rate)
    summary = (
        sk.Pipeline(teacher.problems(300, seed=2, difficulty=range(1, 6)), seed=2, concurrency=8)
        .generate(teacher, template="cot")
        .verify("final-answer")
        .run(sink=tmp_path / "out.jsonl", rejects=tmp_path / "rejects.jsonl")
    )
    assert summary.inputs == 300 and summary.n_failed == 0 and summary.kept + summary.n_dropped == 300
    expected = range(0, 1) if error_rate == 0 else range(30, 91)  # 60 expected at 20%
    assert summary.n_dropped in expected
    kept = list(sk.iter_records(tmp_path / "out.jsonl"))
    assert all(r.lineage.verdicts[-1].passed and r.lineage.teacher == "procedural" for r in kept)
    for rejected in (tmp_path / "rejects.jsonl").read_text().splitlines():
        assert '"reason":"final answer \'' in rejected and "' != expected '" in rejected
